"""The webhook's own WSGI entry: a POST to /wechat answered without Flask's request machinery.

Every message WeChat sends is a POST to /wechat, and Flask's part of answering one — the request
context and its ``Request``, the URL match, the hooks' dispatch, the ``Response`` object — cost
about 75 µs of the bot's 1.7 ms a message (bench/profile_request.py): a twentieth of the bot's
throughput. This entry sits in front of ``app.wsgi_app``. For a POST to /wechat it pushes the
app context (``services()``, ``get_db()`` and the teardown that rolls back a transaction left
open work as under Flask), runs the app's request hooks, reads the request straight from the
WSGI environ with werkzeug's own functions (the same query fields, length and body stream
Flask's request gives) and calls the same ``webhook.answer_post`` as the Flask route, whose
answer it writes with the headers werkzeug would send.

It serves a request only while every request hook the app has is one it knows
(``KNOWN_HOOKS``): the live knowledge base's poll and pin before the request and unpin after
it (run here as Flask runs them), and the console's security headers (which leave /wechat
alone). Any other hook, for the app or the webhook's blueprint (an extension's, a test's), or
a receiver of Flask's request signals, sends the request through Flask as before, so a hook is
never skipped. Everything else (GET /wechat, the console, the simulator) goes through Flask.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable
from urllib.parse import parse_qsl

from flask import Flask
from flask.signals import got_request_exception, request_finished, request_started
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.utils import get_content_type
import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" error handler args are parsed with
from werkzeug.wsgi import get_content_length, get_input_stream

from bot.app import webhook

PATH = "/wechat"
BLUEPRINT = "webhook"

# (module, qualified name) of the request hooks this entry knows, and what it does with each.
RUN = "run"
SKIP = "skip"          # the hook leaves /wechat's responses alone
KNOWN_HOOKS: dict[tuple[str, str], str] = {
    ("bot.learning.livekb", "watch_knowledge.<locals>.poll_and_pin"): RUN,
    ("bot.learning.livekb", "watch_knowledge.<locals>.unpin"): RUN,
    ("bot.app.console", "blueprint_headers.<locals>.secure"): SKIP,
}


def install(app: Flask) -> None:
    """Put the webhook's entry in front of the app's WSGI callable (once per app)."""
    if getattr(app, "webhook_entry", False):
        return
    through_flask = app.wsgi_app

    def entry(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != PATH or not serves(app):
            return through_flask(environ, start_response)
        return answer(app, environ, start_response)

    app.wsgi_app = entry
    app.webhook_entry = True


def hooks(app: Flask, registry: dict) -> list[Callable]:
    """The app's and the webhook blueprint's functions in one of Flask's hook registries."""
    return [*registry.get(None, ()), *registry.get(BLUEPRINT, ())]


def known(hook: Callable) -> str | None:
    return KNOWN_HOOKS.get((getattr(hook, "__module__", ""), getattr(hook, "__qualname__", "")))


def serves(app: Flask) -> bool:
    """Whether this entry may answer /wechat: every request hook is known, no request signal is
    listened to. Asked per request (a hook may be added after the app is built)."""
    registries = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    if any(known(h) is None for registry in registries for h in hooks(app, registry)):
        return False
    if any(hooks(app, app.url_value_preprocessors)):
        return False
    return not (request_started.receivers or request_finished.receivers or got_request_exception.receivers)


def answer(app: Flask, environ: dict, start_response: Callable) -> Iterable[bytes]:
    """Flask's order: before-request hooks, the view, teardown hooks, the app context's teardown."""
    started = time.monotonic()
    with app.app_context():
        error: BaseException | None = None
        try:
            before_request(app)
            status, text, mimetype = webhook.answer_post(inbound(environ, app), started)
        except BaseException as exc:     # as Flask: the teardown hooks see it, then it goes on
            error = exc
            raise
        finally:
            for hook in reversed(hooks(app, app.teardown_request_funcs)):
                hook(error)
    body = text.encode("utf-8")
    start_response(status_line(status), [("Content-Type", get_content_type(mimetype, "utf-8")),
                                         ("Content-Length", str(len(body)))])
    return [body]


def before_request(app: Flask) -> None:
    """The known before-request hooks, in Flask's order (none of them answers the request)."""
    for hook in hooks(app, app.before_request_funcs):
        if known(hook) == RUN:
            hook()


def inbound(environ: dict, app: Flask) -> webhook.Inbound:
    """The request as Flask's ``request`` would read it: ``args`` parsed as werkzeug parses the
    query string (a plain dict: ``MultiDict.get`` of a name not given raises and catches a
    KeyError inside, 3 µs), the declared length and the guarded body stream from werkzeug's own
    functions."""
    query = environ.get("QUERY_STRING", "").encode("latin1").decode()
    args: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote"):
        args.setdefault(name, value)      # a name given twice: its first value, as MultiDict.get
    stream = get_input_stream(environ, max_content_length=app.config["MAX_CONTENT_LENGTH"])
    return webhook.Inbound(args, get_content_length(environ), stream, EnvironHeaders(environ))


def status_line(status: int) -> str:
    """werkzeug's status line for a code ("200 OK", "403 FORBIDDEN")."""
    return f"{status} {HTTP_STATUS_CODES.get(status, 'unknown').upper()}"
