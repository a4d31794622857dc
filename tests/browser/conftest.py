"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server.

The app runs in a thread on 127.0.0.1 with werkzeug's own server, on a fresh SQLite file seeded
with a known year (tests/seed_records.py) and two console accounts. Set LEGALBOT_SCREENSHOTS to
a folder to keep phone-width screenshots of the pages for a look.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bot import create_app
from bot.app.console.auth import add_user
from tests.fake_wechat import POLL_SECONDS
from tests.seed_records import seed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
PASSWORD = "browser test password"

pytestmark = pytest.mark.browser


@pytest.fixture
def live(config):
    """The app served on a free port; yields (base URL, app)."""
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def seeded(live, db, config):
    ids = seed(db, config)
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    add_user(db, "qin", PASSWORD, "adviser", time.time(), adviser_name="覃律师")   # 古坡村
    return ids


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):   # CI must run the browser tests, never skip them
            pytest.fail(f"{CHROMIUM} is not installed: .ci/run should have installed it")
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh phone-sized browser context (its own cookies) per test."""
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, accept_downloads=True,
                                   locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


def screenshot(page, name: str) -> None:
    folder = os.environ.get("LEGALBOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")


def villager_says(page, text: str) -> str:
    """Type ``text`` in the simulator, send it, and return the bot's next reply bubble."""
    before = page.locator(".bubble.bot").count()
    page.fill("#message", text)
    page.click("#send")
    reply = page.locator(".bubble.bot").nth(before)
    reply.wait_for()
    return reply.inner_text()
