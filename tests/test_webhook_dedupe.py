"""WeChat retries a slow message up to three times: one record, and every attempt the same reply."""
from __future__ import annotations

import itertools
import threading
import time
import xml.etree.ElementTree as ET

from bot import create_app
from bot.conversation import records
from bot.conversation.dispatch import Reply
from tests.support import WeChatSender, event_xml, text_xml
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures


def numbered_answers(app) -> itertools.count:
    """A handler whose every call answers differently, so a repeated reply proves it was stored."""
    calls = itertools.count(1)
    app.extensions["legalbot"].registry.register(
        "test.numbered", 1, lambda incoming, ctx: Reply(text=f"第{next(calls)}次回答"), types={"text"})
    return calls


def count_messages(db) -> int:
    return db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]


def test_retry_returns_the_first_reply(app, wechat, db):
    numbered_answers(app)
    xml = text_xml("借钱不还怎么办", msg_id=9001)
    first, retry = wechat.post(xml), wechat.post(xml)
    assert wechat.reply_text(first) == wechat.reply_text(retry) == "第1次回答"
    assert count_messages(db) == 1


def test_retry_in_safe_mode_is_encrypted_afresh_with_the_same_reply(app, wechat):
    numbered_answers(app)
    wechat.mode = "safe"
    xml = text_xml("借钱不还怎么办", msg_id=9002)
    first, retry = wechat.post(xml), wechat.post(xml)
    assert first.get_data() != retry.get_data()          # new nonce, new ciphertext
    assert wechat.reply_xml(first) == wechat.reply_xml(retry)


def test_retry_after_a_restart_gets_the_stored_reply(app, config, wechat):
    numbered_answers(app)
    xml = text_xml("借钱不还怎么办", msg_id=9003)
    first = wechat.reply_text(wechat.post(xml))
    restarted = create_app(config)
    numbered_answers(restarted)
    retry = WeChatSender(restarted.test_client()).post(xml)
    assert wechat.reply_text(retry) == first == "第1次回答"


def test_retry_while_the_first_is_processing_waits_for_its_reply(app, config, monkeypatch):
    """Two workers (two apps on one database): the second attempt waits and gets the same reply."""
    entered, release, waiting = threading.Event(), threading.Event(), threading.Event()

    def slow(incoming, ctx):
        entered.set()
        release.wait(10)
        return Reply(text="慢慢想好的回答")
    app.extensions["legalbot"].registry.register("test.slow", 1, slow, types={"text"})
    other_worker = create_app(config)
    original_wait = records.wait_for_reply

    def signalling_wait(*args, **kwargs):
        waiting.set()
        return original_wait(*args, **kwargs)
    monkeypatch.setattr(records, "wait_for_reply", signalling_wait)

    xml, results = text_xml("宅基地被占了", msg_id=9004), {}
    first = threading.Thread(target=lambda: results.update(first=WeChatSender(app.test_client()).post(xml)))
    first.start()
    assert entered.wait(10)
    second = threading.Thread(
        target=lambda: results.update(second=WeChatSender(other_worker.test_client()).post(xml)))
    second.start()
    assert waiting.wait(10)
    release.set()
    first.join(10), second.join(10)
    texts = {name: WeChatSender(None).reply_text(r) for name, r in results.items()}
    assert texts == {"first": "慢慢想好的回答", "second": "慢慢想好的回答"}


def test_an_abandoned_processing_row_is_taken_over(app, wechat, db):
    numbered_answers(app)
    db.execute("INSERT INTO messages (dedupe_key, openid, msg_type, received_at, state)"
               " VALUES ('msg:oVillager0001:9005', 'oVillager0001', 'text', ?, 'processing')", [time.time() - 60])
    response = wechat.post(text_xml("还在吗", msg_id=9005))
    assert wechat.reply_text(response) == "第1次回答"
    assert count_messages(db) == 1


def test_event_retry_is_deduplicated_by_user_time_and_event(wechat, db):
    xml = event_xml("subscribe", openid="oNewcomer", create_time=1700000000)
    first, retry = wechat.post(xml), wechat.post(xml)
    assert wechat.reply_text(first) == wechat.reply_text(retry)
    assert "欢迎" in wechat.reply_text(first)
    assert count_messages(db) == 1


def test_two_menu_taps_in_one_second_are_two_events(wechat, db):
    help_reply = wechat.reply_text(wechat.post(event_xml("CLICK", key="HELP", create_time=1700000000)))
    sos_reply = wechat.reply_text(wechat.post(event_xml("CLICK", key="EMERGENCY", create_time=1700000000)))
    assert "使用说明" in help_reply and "110" in sos_reply
    assert count_messages(db) == 2


def test_same_msgid_from_the_official_format_gives_one_record(wechat, db):
    xml = text_xml("你好", msg_id=9006)
    for _ in range(3):
        assert wechat.post(xml).status_code == 200
    assert count_messages(db) == 1
    row = next(db.query("SELECT state, reply_xml FROM messages"))
    assert row["state"] == "done" and ET.fromstring(row["reply_xml"]).findtext("Content")
