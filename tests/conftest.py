"""Shared fixtures: an app on a fresh SQLite file with the official test vector's credentials."""
from __future__ import annotations

import pytest

from bot import create_app
from bot.config import load_config
from tests.support import VECTOR_AES_KEY, VECTOR_APPID, VECTOR_TOKEN, WeChatSender


def test_overrides(tmp_path, **extra) -> dict:
    base = {
        "app": {"db_path": str(tmp_path / "legalbot.db"), "worker_thread": False},
        # compatible: most tests post plaintext (readable replies) with a key configured; the
        # default with a key, safe mode, is pinned by tests/test_hardening_webhook.py
        "wechat": {"token": VECTOR_TOKEN, "appid": VECTOR_APPID, "aes_key": VECTOR_AES_KEY,
                   "appsecret": "test-secret", "api_base": "http://127.0.0.1:9",
                   "message_mode": "compatible"},
        "console": {"secret_key": "test-secret-key-0123456789abcdef"},
        # No 普法日历 by default: its line under answers depends on the day the tests run.
        # tests/test_publicity.py pins the calendar with the shipped days (shipped_publicity).
        "publicity": {"days": []},
    }
    for section, values in extra.items():
        base.setdefault(section, {}).update(values)
    return base


def shipped_publicity() -> dict:
    """config.toml's [publicity] table, for tests of the calendar itself."""
    import tomllib
    from bot.config import DEFAULT_CONFIG_PATH
    return tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))["publicity"]


@pytest.fixture
def config(tmp_path):
    return load_config(overrides=test_overrides(tmp_path), environ={})


@pytest.fixture
def app(config):
    app = create_app(config)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def wechat(client):
    """Plaintext-mode sender; set ``.mode = "safe"`` or "compatible" to encrypt."""
    return WeChatSender(client)


@pytest.fixture
def db(app):
    database = app.extensions["legalbot"].open_db()
    yield database
    database.conn.close()


@pytest.fixture
def fake_wechat():
    """WeChat's HTTP API, faked on 127.0.0.1 (tests/fake_wechat.py); stopped after the test."""
    from tests.fake_wechat import FakeWeChat
    server = FakeWeChat().start()
    yield server
    server.stop()
