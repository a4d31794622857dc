"""The running processes: the services wiring, the /wechat webhook, the simulator, the web
console and the outbox worker."""
