"""The webhook's own WSGI entry: a POST to /wechat answered without Flask's request machinery.

Every message WeChat sends is a POST to /wechat, and Flask's part of answering one — the request
and app contexts, the ``Request``, the URL match, the hooks' dispatch through context-bound
proxies (``g``, ``current_app``), the ``Response`` object — cost about 90 µs of the bot's 1.7 ms
a message (bench/profile_request.py): a twentieth of its throughput. This entry sits in front of
``app.wsgi_app``. For a POST to /wechat it does what Flask's hooks for the bot's app do, in
Flask's order — the live knowledge base's ``begin_request`` (poll, then pin the snapshot), the
webhook, ``unpin``, then the connection's rollback if a transaction was left open (``close_db``)
— reads the request straight from the WSGI environ with werkzeug's own functions (the same query
fields, length and body stream Flask's request gives), calls the same ``webhook.answer_post`` as
the Flask route and writes its answer with the headers werkzeug would send. Nothing below the
webhook uses Flask (the conversation, the handlers and the store take the services and the
connection as arguments).

It serves a request only while every hook the app has is one whose work it does itself
(``KNOWN_HOOKS``: the three above, and the console's security headers, which leave /wechat
alone) and nobody listens to Flask's request or app-context signals. Any other hook, for the app
or the webhook's blueprint (an extension's, a test's), or a receiver of those signals, sends the
request through Flask as before, so a hook is never skipped. Everything else (GET /wechat, the
console, the simulator) goes through Flask.
"""
from __future__ import annotations

import functools
import operator
import time
from typing import Callable, Iterable

from flask import Flask
from flask.signals import (appcontext_popped, appcontext_pushed, appcontext_tearing_down,
                           got_request_exception, request_finished, request_started)
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.utils import get_content_type
from werkzeug.wsgi import get_content_length, get_input_stream

from bot.app import webhook
from bot.app.services import Services

PATH = "/wechat"
BLUEPRINT = "webhook"

# The hooks whose work this entry does itself, by (module, qualified name). The live knowledge
# base's two hooks are one call each, to the methods the entry calls (``LiveKnowledge.begin_request``
# and ``unpin``), so the two paths cannot drift apart; ``close_db``'s rollback of a transaction left
# open is two lines, repeated in ``answer``; the console's header hook returns /wechat untouched.
KNOWN_HOOKS = {
    ("bot.learning.livekb", "watch_knowledge.<locals>.poll_and_pin"),   # live.begin_request
    ("bot.learning.livekb", "watch_knowledge.<locals>.unpin"),          # live.unpin
    ("bot.app.console", "blueprint_headers.<locals>.secure"),           # skips /wechat
    ("bot", "close_db"),                                                 # rollback left open
}
SIGNALS = (request_started, request_finished, got_request_exception, appcontext_pushed,
           appcontext_popped, appcontext_tearing_down)


def install(app: Flask) -> None:
    """Put the webhook's entry in front of the app's WSGI callable (once per app)."""
    if getattr(app, "webhook_entry", False):
        return
    through_flask = app.wsgi_app

    def entry(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == PATH:
            services = serving(app)
            if services is not None:
                return answer(app, services, environ, start_response)
        return through_flask(environ, start_response)

    app.wsgi_app = entry
    app.webhook_entry = True


def hooks(app: Flask, registry: dict) -> list[Callable]:
    """The app's and the webhook blueprint's functions in one of Flask's hook registries."""
    return [*registry.get(None, ()), *registry.get(BLUEPRINT, ())]


def known(hook: Callable) -> bool:
    return (getattr(hook, "__module__", ""), getattr(hook, "__qualname__", "")) in KNOWN_HOOKS


def serving(app: Flask) -> Services | None:
    """The bot's services when this entry may answer /wechat (every hook known, no signal
    listened to), else None. Asked per request: a hook may be added after the app is built.

    The hooks found all known are kept as they were then (copies, ``app.webhook_checked``); while
    the app's registries and extensions still equal them — one comparison in C — they are not
    looked at one by one again."""
    if any(map(RECEIVERS, SIGNALS)):
        return None
    state = hook_state(app)
    checked = getattr(app, "webhook_checked", None)
    if checked is not None and checked[0] == state:
        return checked[1]
    services = checked_services(app)
    app.webhook_checked = (copied(state), services) if services is not None else None
    return services


RECEIVERS = operator.attrgetter("receivers")


def hook_state(app: Flask) -> tuple:
    """Everything ``checked_services`` looks at: the hook registries and the extensions."""
    return (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs,
            app.teardown_appcontext_funcs, app.url_value_preprocessors, app.extensions)


def copied(state: tuple) -> tuple:
    """``state`` as it is now: each registry's lists and the extensions copied, so that a hook
    added later, in place, makes the state differ from the copy."""
    return tuple(list(part) if isinstance(part, list)
                 else {key: list(value) if isinstance(value, list) else value for key, value in part.items()}
                 for part in state)


def checked_services(app: Flask) -> Services | None:
    """``serving``'s answer, every hook looked at."""
    registries = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    if not all(known(h) for registry in registries for h in hooks(app, registry)):
        return None
    if not all(known(h) for h in app.teardown_appcontext_funcs) or any(hooks(app, app.url_value_preprocessors)):
        return None
    return next((ext for ext in app.extensions.values() if isinstance(ext, Services)), None)


def serves(app: Flask) -> bool:
    return serving(app) is not None


def answer(app: Flask, services: Services, environ: dict, start_response: Callable) -> Iterable[bytes]:
    """What Flask does for the bot's app, in its order: the knowledge pinned, the webhook, the
    knowledge unpinned, a transaction left open rolled back."""
    started = time.monotonic()
    opened: list = []

    def db():          # the thread's connection, as get_db gives it (opened by the first to ask)
        if not opened:
            opened.append(services.request_db())
        return opened[0]
    try:
        services.live.begin_request(db)
        status, text, mimetype = webhook.answer_post(inbound(environ, app), started, services, db)
    finally:
        services.live.unpin()
        if opened and opened[0].conn.in_transaction:
            opened[0].conn.rollback()
    body = text.encode("utf-8")
    line, content_type = response_head(status, mimetype)
    start_response(line, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


@functools.lru_cache(maxsize=32)
def response_head(status: int, mimetype: str) -> tuple[str, str]:
    """The status line and Content-Type werkzeug would send, made once per pair (a handful:
    200 with XML or text, and the refusals)."""
    return status_line(status), get_content_type(mimetype, "utf-8")


def inbound(environ: dict, app: Flask) -> webhook.Inbound:
    """The request as Flask's ``request`` would read it: ``args`` parsed as werkzeug parses the
    query string (a plain dict: ``MultiDict.get`` of a name not given raises and catches a
    KeyError inside, 3 µs), the declared length and the guarded body stream from werkzeug's own
    functions."""
    args = webhook.query_fields(environ.get("QUERY_STRING", "").encode("latin1"))
    stream = get_input_stream(environ, max_content_length=app.config["MAX_CONTENT_LENGTH"])
    return webhook.Inbound(args, get_content_length(environ), stream, EnvironHeaders(environ))


def status_line(status: int) -> str:
    """werkzeug's status line for a code ("200 OK", "403 FORBIDDEN")."""
    return f"{status} {HTTP_STATUS_CODES.get(status, 'unknown').upper()}"
