"""Reply rendering: valid XML whatever the text, and long answers cut at 2048 bytes with "更多"."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings, strategies as st
from wechatpy.parser import parse_message

from bot.conversation.dispatch import Reply
from bot.conversation.replies import more_hint, render_text, split_reply, strip_control, utf8_len
from tests.support import text_xml
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures

LONG_ANSWER = "".join(f"第{i}句：借钱不还的，可以先协商，再找村里调解，最后去法院起诉。" for i in range(120))


def answer_with(app, text: str) -> None:
    """Answer every question with ``text`` (after the "更多" handler, like the matcher)."""
    def fixed(incoming, ctx):
        return None if incoming.text == "更多" else Reply(text=text)
    app.extensions["legalbot"].registry.register("test.fixed", 1, fixed, types={"text"})


def test_reply_text_with_cdata_end_still_renders_valid_xml():
    xml = render_text("oUser", "gh_bot", "代码 a]]>b 和 ]]>]]>", 1700000000)
    assert ET.fromstring(xml).findtext("Content") == "代码 a]]>b 和 ]]>]]>"


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_reply_text_renders_xml_that_parses_back_to_the_text(text):
    xml = render_text("oUser", "gh_bot", text, 1700000000)
    assert parse_message(xml).type == "text"
    expected = strip_control(text).replace("\r\n", "\n").replace("\r", "\n")
    assert (ET.fromstring(xml).findtext("Content") or "") == expected


def test_short_text_is_not_split():
    assert split_reply("借钱要写借条。", 2048) == ("借钱要写借条。", None)


def test_long_text_is_cut_on_a_sentence_end_within_the_limit():
    first, rest = split_reply(LONG_ANSWER, 2048)
    assert utf8_len(first) <= 2048
    shown = first.split("\n\n（内容较长")[0]
    assert shown.endswith("。") and "回复“更多”" in first
    assert shown + rest == LONG_ANSWER


def test_text_without_sentence_ends_is_still_cut_within_the_limit():
    first, rest = split_reply("法" * 3000, 2048)
    assert utf8_len(first) <= 2048 and first.count("法") + len(rest) == 3000


@given(st.text(min_size=1, max_size=3000))
@settings(max_examples=100, deadline=None)
def test_split_never_exceeds_the_limit_and_loses_only_whitespace_at_the_cut(text):
    first, rest = split_reply(text, 600)
    assert utf8_len(first) <= 600
    if rest is not None:
        shown = first.removesuffix(more_hint("更多"))
        assert text.startswith(shown) and text.endswith(rest) and shown
        assert text[len(shown):len(text) - len(rest)].strip() == ""


def test_a_long_answer_arrives_in_parts_on_more(app, wechat):
    answer_with(app, LONG_ANSWER)
    parts = [wechat.say("借钱不还怎么办")]
    for _ in range(10):
        if "回复“更多”" not in parts[-1]:
            break
        parts.append(wechat.say("更多"))
    assert all(utf8_len(p) <= 2048 for p in parts) and len(parts) >= 3
    joined = "".join(p.split("\n\n（内容较长")[0] for p in parts)
    assert joined == LONG_ANSWER
    assert "全部发完" in wechat.say("更多")


def test_a_new_question_replaces_the_rest_of_the_old_answer(app, wechat, db):
    answer_with(app, LONG_ANSWER)
    wechat.say("借钱不还怎么办")
    db.execute("UPDATE users SET more_text = 'old' WHERE openid = 'oVillager0001'")
    app.extensions["legalbot"].registry.register(
        "test.short", 0, lambda incoming, ctx: Reply(text="短回答") if incoming.text == "新问题" else None)
    assert wechat.say("新问题") == "短回答"
    assert "全部发完" in wechat.say("更多")


def test_reply_with_cdata_end_reaches_the_villager_intact(app, wechat):
    answer_with(app, "注意：a]]>b")
    assert wechat.say("你好") == "注意：a]]>b"


def test_message_of_ten_thousand_characters_is_answered_as_a_question_within_wechats_limit(wechat, db):
    """Kept whole in the records, read by the question handler, answered in one reply that fits."""
    text = "我家的地" * 2500
    response = wechat.post(text_xml(text))
    reply = wechat.reply_text(response)
    assert response.status_code == 200 and reply and utf8_len(reply) <= 2048
    [message] = db.query("SELECT content, handler FROM messages")
    assert (message["content"], message["handler"]) == (text, "text")
    assert db.execute("SELECT COUNT(*) FROM consultations").fetchone()[0] == 1
