""""更多" hands back the rest of a long answer; with nothing left it says so."""
from __future__ import annotations

from handlers.more import wants_more
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures


def test_more_with_nothing_waiting_says_all_was_sent(wechat):
    assert "全部发完" in wechat.say("更多")


def test_more_returns_the_stored_rest(wechat, db):
    db.execute("INSERT INTO users (openid, more_text) VALUES ('oVillager0001', '第二段内容。')")
    assert wechat.say("更多") == "第二段内容。"
    assert next(db.query("SELECT more_text FROM users"))["more_text"] is None


def test_more_is_recognised_with_punctuation():
    assert wants_more("更多。", "更多") and wants_more(" 更多内容 ", "更多")
    assert not wants_more("更多的钱", "更多")
