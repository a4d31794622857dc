"""The running processes: the services wiring, the /wechat webhook, the simulator, the web
console and the outbox worker."""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Request
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.datastructures import MultiDict
import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" error handler args parse with
from werkzeug.utils import cached_property


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


def query_pairs(raw: bytes) -> list[tuple[str, str]]:
    """A query string's (name, value) pairs as werkzeug parses them, except that a byte that is
    not UTF-8 reads as U+FFFD instead of raising.

    A query string with nothing escaped (no ``%``, no ``+``: WeChat's signed fields) is split
    here as ``parse_qsl`` splits it — on ``&``, empty parts skipped, a part without ``=`` a name
    with an empty value — without its per-field unquoting calls, which leave such text as it is."""
    text = raw.decode("utf-8", "replace")
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")
    return [part.partition("=")[::2] for part in text.split("&") if part]    # (name, value)


class LenientRequest(Request):
    """Flask's request, except that a query-string byte that is not UTF-8 reads as U+FFFD.

    werkzeug decodes the query string strictly, so such a byte (sent raw, not %-escaped) made
    ``request.args`` raise and every page answer 500. Read leniently, the console's search
    simply finds nothing and the login still shows; the webhook reads its own query fields the
    same way (``webhook.query_fields``)."""

    @cached_property
    def args(self) -> MultiDict[str, str]:
        return self.parameter_storage_class(query_pairs(self.query_string))

    @cached_property
    def full_path(self) -> str:
        """The path and query, as the login's ``next`` carries them (werkzeug decodes strictly)."""
        return f"{self.path}?{self.query_string.decode('utf-8', 'replace')}"
