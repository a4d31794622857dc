"""The running processes: the services wiring, the /wechat webhook, the simulator, the web
console and the outbox worker."""
from __future__ import annotations

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class SharedTemplateCode(BytecodeCache):
    """Compiled page templates, kept in memory for every app this process builds.

    Each Flask app has its own Jinja environment and compiles a template the first time it
    renders it (5 ms a page). One app per process pays that once either way; the test suite
    builds hundreds of apps with the same templates and paid it for each. Jinja checks a
    template's source checksum before reusing its code, so an edited template is compiled
    afresh. Every app from ``create_app`` sets up its environment the same way, and only those
    apps share this cache."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()
