"""The 普法 page in real headless Chromium, as staff use it: a 群发 saved, previewed to the 司法所's
own WeChat, then sent — WeChat's API (tests/fake_wechat.py) gets the preview first and the 群发 once
— and an offline event recorded; the page's report line counts both."""
from __future__ import annotations

import time

import pytest

from bot.escalation import advisers as adv
from bot.app import worker
from bot.core.config import load_config
from bot.app.console.auth import add_user
from tests.browser.conftest import PASSWORD, log_in, screenshot
from tests.conftest import shipped_publicity
from tests.conftest import test_overrides as overrides_for

pytestmark = pytest.mark.browser

STAFF_PHONE = "oSifasuoPhone01"


@pytest.fixture
def config(tmp_path, fake_wechat):
    return load_config(overrides=overrides_for(tmp_path, wechat={"api_base": fake_wechat.base},
                                               publicity=shipped_publicity()), environ={})


@pytest.fixture
def staff(live, db, config):
    adv.ensure_advisers(db, config, time.time())
    adv.bind(db, adv.new_bind_code(db, "大年司法所", time.time()), STAFF_PHONE, time.time())
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    return live


def test_staff_preview_a_mass_message_then_send_it_once_and_record_an_event(page, staff, db, fake_wechat):
    base, app = staff
    log_in(page, base, "sifasuo")
    page.click("nav >> text=普法")
    page.fill("#mass-form textarea[name=text]", "12月4日是国家宪法日。有法律问题，直接发消息问我们。")
    page.click("#mass-form button")
    assert "请先预览" in page.inner_text(".flash")
    assert page.locator("#mass-list .send-form").count() == 0          # no send before a preview
    page.click("#mass-list .preview-form button")
    assert "大年司法所绑定的微信" in page.inner_text(".flash")
    worker.run_once(app.extensions["legalbot"])
    page.reload()
    assert page.inner_text("#mass-status-1") == "已预览，可以群发"
    page.click("#mass-list .send-form button")
    assert "已开始群发" in page.inner_text(".flash")
    worker.run_once(app.extensions["legalbot"])
    worker.run_once(app.extensions["legalbot"])
    page.reload()
    assert page.inner_text("#mass-status-1") == "已群发"
    calls = [c for c in fake_wechat.calls if "/message/mass/" in c.path]
    assert [c.path.rsplit("/", 1)[1] for c in calls] == ["preview", "sendall"]
    assert calls[0].body["touser"] == STAFF_PHONE

    page.fill("#event-form input[name=title]", "宪法进村入户宣传")
    page.fill("#event-form input[name=place]", "古坡村文化室")
    page.fill("#event-form input[name=people]", "120")
    page.fill("#event-form input[name=leaflets]", "300")
    page.fill("#event-form input[name=consultations]", "15")
    page.click("#event-form button")
    line = page.inner_text("#publicity-line")
    assert line.startswith("组织开展各类法治宣传活动2场次（线下活动1场，公众号群发1次），发放宣传资料300份")
    assert "受众人数120人次" in line
    screenshot(page, "publicity-console")
