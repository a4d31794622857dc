"""`legalbot serve` and `legalbot init-db`: running the webhook.

``serve`` uses gunicorn where it runs (POSIX), with the app factory ``bot:create_app()`` loaded
once in the master and forked into the workers; elsewhere Flask's own server. With
``[app] worker_thread = true`` the outbox worker runs as a thread beside it (handy for
``make run``; production runs `legalbot worker` as its own service). docs/deploy.md's unit runs
`legalbot serve` itself, so production gets exactly these gunicorn settings.
"""
from __future__ import annotations

import logging
import os

import click

from bot import create_app
from bot.core.config import DEMO_TOKEN, Config, ConfigError, load_config, refuse_unsafe_start, resolve_db_path
from bot.core.redact import redact_logging
from bot.app.services import Services
from bot.core.store import connect
from bot.app.worker import start_thread

log = logging.getLogger(__name__)


def gunicorn_available() -> bool:
    """gunicorn is a dependency, so it is always installed; it runs only on POSIX (it needs fork
    and fcntl), so Windows gets Flask's own server."""
    return os.name == "posix"


# The access log without query strings: /wechat's carry signature, timestamp and nonce, and one
# logged line was enough to sign any plaintext body. %(U)s is the path alone; no referer either.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'


def gunicorn_options(host: str, port: int, workers: int) -> dict:
    """Everything gunicorn is told (no gunicorn.conf.py to keep in step)."""
    return {"bind": f"{host}:{port}", "workers": workers, "preload_app": True,
            "timeout": 30, "graceful_timeout": 10, "accesslog": "-", "errorlog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "control_socket_disable": True}   # gunicorn ≥ 24 would write a socket to ~/.gunicorn


def run_gunicorn(host: str, port: int, workers: int) -> None:
    """Serve with gunicorn, configured in code by ``gunicorn_options``."""
    from gunicorn.app.base import BaseApplication

    class LegalbotServer(BaseApplication):
        def load_config(self) -> None:
            options = gunicorn_options(host, port, workers)
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self):
            return create_app()

    LegalbotServer().run()


def run_flask(host: str, port: int) -> None:
    create_app().run(host=host, port=port, threaded=True, use_reloader=False)


def start_worker_thread(config: Config) -> None:
    """The outbox worker beside the web server, when configured.

    It runs in gunicorn's master process (started before the workers are forked, it stays there),
    so there is one worker thread however many web workers serve.
    """
    if not config.app.worker_thread:
        return
    start_thread(Services(config))
    log.info("outbox worker thread started")


def try_it_text(config: Config, host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    lines = [f"legalbot: WeChat callback at {base}/wechat (database {resolve_db_path(config)})"]
    if config.wechat.token == DEMO_TOKEN:
        lines.append(f"  demo token {DEMO_TOKEN!r}: set WECHAT_TOKEN (and WECHAT_AES_KEY) for a real account")
    if config.simulator_enabled:
        lines.append(f"  try it: open {base}/simulator in a browser, or run `legalbot chat`")
    lines.append(f"  console: {base}/console/ (accounts: `legalbot console add-user NAME --role staff`)")
    return "\n".join(lines)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes.")
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the WeChat webhook (and, in development, the simulator and console)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    redact_logging()
    try:
        config = load_config()
        refuse_unsafe_start(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(try_it_text(config, host, port))
    start_worker_thread(config)
    if gunicorn_available():
        run_gunicorn(host, port, workers)
    else:
        run_flask(host, port)


@click.command("init-db")
def init_db_command() -> None:
    """Create the SQLite database and its tables (safe to run again)."""
    path = resolve_db_path(load_config())
    connect(path).conn.close()
    click.echo(f"database ready: {path}")


def register(main: click.Group) -> None:
    main.add_command(serve_command)
    main.add_command(init_db_command)
