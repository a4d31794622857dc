"""legalbot: the WeChat Official Account backend of a township's legal consultations."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask, g

from bot.config import Config, load_config
from bot.services import Services

EXTENSION = "legalbot"


def create_app(config: Config | Mapping[str, Any] | None = None, *, warm: bool = True) -> Flask:
    """The one wiring point: build the services, register the blueprints, return the app.

    ``config`` is a ready ``Config`` or a mapping of test overrides laid over the usual layers.
    """
    if not isinstance(config, Config):
        config = load_config(overrides=config)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = None  # the webhook enforces its own limit (413)
    services = Services(config)
    app.extensions[EXTENSION] = services
    register_blueprints(app, config)
    app.teardown_appcontext(close_db)
    if warm:
        services.warm()
    return app


def register_blueprints(app: Flask, config: Config) -> None:
    from bot.webhook import blueprint as webhook
    app.register_blueprint(webhook)
    try:
        from bot.console import init_console
    except ImportError:  # the console is optional while it is being built
        init_console = None
    if init_console:
        init_console(app, config)
    if not config.is_production:
        from bot.simulator import blueprint as simulator
        app.register_blueprint(simulator)


def services() -> Services:
    from flask import current_app
    return current_app.extensions[EXTENSION]


def get_db():
    """This request's database connection, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = services().open_db()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()
