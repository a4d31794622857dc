"""legalbot: the WeChat Official Account backend of a township's legal consultations."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask, g

from bot.core.config import Config, load_config, refuse_unsafe_start
from bot.learning.livekb import watch_knowledge
from bot.app import TEMPLATE_CODE, LenientRequest
from bot.app.services import Services

EXTENSION = "legalbot"


def create_app(config: Config | Mapping[str, Any] | None = None, *, warm: bool = True) -> Flask:
    """The one wiring point: build the services, register the blueprints, return the app.

    ``config`` is a ready ``Config`` or a mapping of test overrides laid over the usual layers.
    """
    if not isinstance(config, Config):
        config = load_config(overrides=config)
    refuse_unsafe_start(config)
    app = Flask(__name__)
    app.request_class = LenientRequest     # a raw non-UTF-8 query byte is not a 500
    app.config["MAX_CONTENT_LENGTH"] = None  # the webhook enforces its own limit (413)
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    trust_proxies(app, config.app.trusted_proxies, config.app.trusted_proxy_addresses)
    services = Services(config)
    app.extensions[EXTENSION] = services
    watch_knowledge(app, services)
    register_blueprints(app, config)
    app.teardown_appcontext(close_db)
    if warm:
        services.warm()
    return app


def trust_proxies(app: Flask, count: int, proxies: tuple = ("127.0.0.1", "::1")) -> None:
    """Behind nginx, the client's address and scheme are in X-Forwarded-For/-Proto — believed
    only when the request really came through the proxy (its peer is one of ``proxies``): a
    client reaching gunicorn directly could otherwise name any address it likes."""
    if count <= 0:
        return
    from werkzeug.middleware.proxy_fix import ProxyFix
    direct, proxied = app.wsgi_app, ProxyFix(app.wsgi_app, x_for=count, x_proto=count)

    def from_proxy_only(environ, start_response):
        through = proxied if environ.get("REMOTE_ADDR") in proxies else direct
        return through(environ, start_response)
    app.wsgi_app = from_proxy_only


def register_blueprints(app: Flask, config: Config) -> None:
    from bot.app.webhook import blueprint as webhook
    app.register_blueprint(webhook)
    from bot.app.console import init_console
    init_console(app, config)
    if config.simulator_enabled:
        from bot.app.simulator import blueprint as simulator
        app.register_blueprint(simulator)


def services() -> Services:
    from flask import current_app
    return current_app.extensions[EXTENSION]


def get_db():
    """This request's database connection: the serving thread's long-lived one."""
    if "db" not in g:
        g.db = services().request_db()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """End of request: forget the connection (the thread keeps it open for the next one).

    A transaction left open by a failed request is rolled back so it cannot hold the lock.
    """
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()
