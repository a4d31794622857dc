"""The simulator page in a real browser: it signs real WeChat XML and shows the bot's replies."""
from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_a_typed_question_gets_a_reply_bubble(page, live, db):
    base, _ = live
    page.goto(f"{base}/simulator")
    page.fill("#message", "借钱不还怎么办")
    page.click("#send")
    reply = page.wait_for_selector(".bubble.bot")
    assert reply.inner_text().strip()
    assert page.inner_text(".bubble.me") == "借钱不还怎么办"
    recorded = list(db.query("SELECT openid, content FROM messages WHERE openid LIKE 'oSimulator%'"))
    assert [r["content"] for r in recorded] == ["借钱不还怎么办"]
    screenshot(page, "simulator")


def test_a_menu_click_is_sent_as_a_wechat_event(page, live, db):
    base, _ = live
    page.goto(f"{base}/simulator")
    page.click("text=找人帮忙")
    page.click("text=紧急求助")
    reply = page.wait_for_selector(".bubble.bot")
    assert "110" in reply.inner_text()
    events = list(db.query("SELECT msg_type, event FROM messages WHERE openid LIKE 'oSimulator%'"))
    assert events == [{"msg_type": "event", "event": "click"}]


def test_changing_villager_says_which_one_in_chinese_and_keeps_the_id_for_the_developer(page, live, db):
    base, _ = live
    page.goto(f"{base}/simulator")
    page.click("#reset")
    note = page.locator(".bubble.system").last
    assert note.inner_text() == "（换了一个新村民：第2位）"      # the page's first villager was the 1st
    openid = note.get_attribute("title")
    assert openid.startswith("oSimulator") and openid not in page.inner_text("#chat")
    page.fill("#message", "借钱不还怎么办")
    page.click("#send")
    page.wait_for_selector(".bubble.bot")
    recorded = list(db.query("SELECT openid FROM messages WHERE content = '借钱不还怎么办'"))
    assert [r["openid"] for r in recorded] == [openid]
