"""Fixtures for the webhook and handler tests: a fresh app (own SQLite file, own registry) per
test, sharing one warmed knowledge base, matcher and law index across the session.

Loading those costs about a second per app; the webhook tests build well over a hundred apps,
and the knowledge is read-only, so it is loaded once. Import ``app`` into a test module to use it.
"""
from __future__ import annotations

import pytest

from bot import create_app
from bot.core.config import load_config
from bot.app.services import Services
from tests.conftest import test_overrides as overrides_for

SHARED = ("knowledge", "matcher", "law_index")


@pytest.fixture(scope="session")
def warm_services(tmp_path_factory) -> Services:
    config = load_config(overrides=overrides_for(tmp_path_factory.mktemp("warm")), environ={})
    return Services(config).warm()


@pytest.fixture
def app(config, warm_services):
    """Like conftest's ``app``, but reusing the session's loaded knowledge (same default config)."""
    app = create_app(config, warm=False)
    services = app.extensions["legalbot"]
    for name in SHARED:
        services.__dict__[name] = getattr(warm_services, name)   # fills the cached_property
    app.config["TESTING"] = True
    return app
