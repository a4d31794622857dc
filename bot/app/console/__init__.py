"""The web console for township staff and village legal advisers, at /console.

``init_console(app, config)`` is called by ``bot.create_app``. The session cookie is HttpOnly,
SameSite=Lax, and Secure in production (the console is served over HTTPS behind nginx there).
Without LEGALBOT_SECRET_KEY, production leaves the console switched off rather than signing
sessions with a guessable key; the webhook keeps working either way.
"""
from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from bot.core.config import Config, resolve_db_path

log = logging.getLogger(__name__)
MIN_SECRET_LENGTH = 32


def session_secret(config: Config) -> str | None:
    """The configured key; in development a random one kept in the instance folder."""
    key = config.console.secret_key
    if len(key) >= MIN_SECRET_LENGTH:
        return key
    if config.is_production:
        log.error("LEGALBOT_SECRET_KEY is missing or shorter than %d characters: "
                  "the web console is disabled", MIN_SECRET_LENGTH)
        return None
    return key or development_secret(config)


DEVELOPMENT_KEY_FILE = "console-secret-key"


def development_secret(config: Config) -> str:
    """A random development key, made once and kept beside the database (the instance folder,
    mode 600), so several workers of `make run` share logins and a restart keeps them. Nothing
    about it can be derived from the configuration. Never used in production."""
    db_path = resolve_db_path(config)
    if str(db_path) == ":memory:":
        return secrets.token_hex(32)
    path = db_path.parent / DEVELOPMENT_KEY_FILE
    if not path.exists():
        create_key_file(path)
    return path.read_text(encoding="ascii").strip()


def create_key_file(path: Path) -> None:
    """Write a new key atomically: written aside, then linked into place; a worker that loses
    the race to another reads the winner's key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(aside)


# Sent with every console and simulator page: no framing, no sniffing, scripts only from us.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'"),
}


def add_security_headers(response, production: bool):
    """Secure headers for human-facing pages; private pages are never cached."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if production:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class ConsoleSessions(SecureCookieSessionInterface):
    """Sessions for the console's pages only. The webhook never reads one, so a /wechat request
    neither parses nor re-signs the console's cookie (Flask gives it a null session instead)."""

    def open_session(self, app: Flask, request):
        if request.path.startswith("/wechat"):
            return None
        return super().open_session(app, request)


def init_console(app: Flask, config: Config) -> None:
    """Configure secure sessions and register the console's pages."""
    secret = session_secret(config)
    if secret is None:
        return
    from bot.app.console.views import blueprint
    import bot.app.console.mediation_views  # noqa: F401 - adds the 调解台账 and 普法 pages to the blueprint
    app.secret_key = secret
    app.session_interface = ConsoleSessions()
    app.config.update(
        SESSION_COOKIE_NAME="legalbot_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.console.session_hours),
    )
    app.register_blueprint(blueprint)
    from bot.app.console.learning import blueprint as learning
    app.register_blueprint(learning)
    blueprint_headers(app, config)


def blueprint_headers(app: Flask, config: Config) -> None:
    """Every page outside the webhook (whose replies WeChat reads, not a browser) gets them."""
    @app.after_request
    def secure(response):
        from flask import request
        if request.path.startswith("/wechat"):
            return response
        return add_security_headers(response, config.is_production)
