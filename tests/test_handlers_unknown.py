"""What the bot cannot read still gets a polite answer: unknown types, stickers, emoji, nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.retrieval.matcher import FALLBACK_TEXT
from handlers.unknown import unreadable_kind
from tests.support import text_xml
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"


def test_unknown_message_type_gets_a_polite_reply(wechat):
    response = wechat.post((FIXTURES / "msg_unknown_type.xml").read_text(encoding="utf-8"))
    assert response.status_code == 200 and "看不懂" in wechat.reply_text(response)


def test_sticker_gets_a_polite_reply(wechat):
    response = wechat.post((FIXTURES / "msg_sticker.xml").read_text(encoding="utf-8"))
    assert "表情" in wechat.reply_text(response)


@pytest.mark.parametrize("content", ["😀", "👍👍", "[微笑]", "/::)", "？？？", "🙏 。"])
def test_emoji_only_gets_a_polite_reply(wechat, content):
    assert "文字" in wechat.say(content)


def test_empty_message_gets_a_polite_reply(wechat):
    assert "没有收到文字" in wechat.say("")


def test_whitespace_only_message_gets_a_polite_reply(wechat):
    assert "没有收到文字" in wechat.say("   \n ")


@pytest.mark.parametrize("text, kind", [
    ("", "empty"), ("  ", "empty"), ("👍", "emoji"), ("[捂脸][捂脸]", "emoji"),
    ("【收到不支持的消息类型，暂无法显示】", "sticker"), ("借钱不还怎么办", None), ("2", None),
    ("👍 谢谢", None),
])
def test_unreadable_kind(text, kind):
    assert unreadable_kind(text) == kind


def test_a_question_outside_the_law_gets_the_fallback_with_no_article_and_no_ticket(wechat, db):
    """Land on Mars holds no word the law here knows: the bot says it cannot answer and how to
    ask again or reach a person (the matcher's fallback, nothing added), quotes no article, and
    neither opens nor offers a hand-over."""
    response = wechat.post(text_xml("火星上的地归谁"))
    assert response.status_code == 200 and wechat.reply_text(response) == FALLBACK_TEXT
    [row] = db.query("SELECT action, faq_id, citations, reason FROM consultations")
    assert (row["action"], row["faq_id"], json.loads(row["citations"])) == ("fallback", None, [])
    assert row["reason"] == "no legal word"
    assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM users WHERE pending IS NOT NULL").fetchone()[0] == 0
