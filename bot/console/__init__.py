"""The web console for township staff and village legal advisers, at /console.

``init_console(app, config)`` is called by ``bot.create_app``. The session cookie is HttpOnly,
SameSite=Lax, and Secure in production (the console is served over HTTPS behind nginx there).
Without LEGALBOT_SECRET_KEY, production leaves the console switched off rather than signing
sessions with a guessable key; the webhook keeps working either way.
"""
from __future__ import annotations

import logging
import hashlib
from datetime import timedelta

from flask import Flask

from bot.config import Config

log = logging.getLogger(__name__)
MIN_SECRET_LENGTH = 32


def session_secret(config: Config) -> str | None:
    """The configured key; in development a random one per process (logins end at restart)."""
    key = config.console.secret_key
    if len(key) >= MIN_SECRET_LENGTH:
        return key
    if config.is_production:
        log.error("LEGALBOT_SECRET_KEY is missing or shorter than %d characters: "
                  "the web console is disabled", MIN_SECRET_LENGTH)
        return None
    return key or development_secret(config)


def development_secret(config: Config) -> str:
    """A stable development key, so several workers of `make run` share logins. Never production."""
    return hashlib.sha256(f"legalbot-development:{config.app.db_path}".encode()).hexdigest()


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


def init_console(app: Flask, config: Config) -> None:
    """Configure secure sessions and register the console's pages."""
    secret = session_secret(config)
    if secret is None:
        return
    from bot.console.views import blueprint
    app.secret_key = secret
    app.config.update(
        SESSION_COOKIE_NAME="legalbot_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.console.session_hours),
    )
    app.register_blueprint(blueprint)
    blueprint_headers(app, config)


def blueprint_headers(app: Flask, config: Config) -> None:
    """Every page outside the webhook (whose replies WeChat reads, not a browser) gets them."""
    @app.after_request
    def secure(response):
        from flask import request
        if request.path.startswith("/wechat"):
            return response
        return add_security_headers(response, config.is_production)
