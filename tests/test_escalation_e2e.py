"""End to end: a villager's question reaches the village adviser's phone and the answer comes back.

Everything is real — the webhook (signed like WeChat, via WeChatSender), the handlers, SQLite,
the outbox worker — except WeChat's HTTP API, which is tests/fake_wechat.py on 127.0.0.1.
"""
from __future__ import annotations

import time

import pytest

from bot.escalation import advisers as adv
from bot.escalation import tickets
from bot.core import users
from bot.app import worker
from bot.core.config import load_config
from tests.conftest import test_overrides as overrides
from tests.support import text_xml

VILLAGER = "oVillagerE2E"
ADVISER = "oAdviserWeiE2E"                     # 韦律师, adviser of 大年村 in config.toml
QUESTION = "我收到法院传票了，下周开庭，怎么办"   # a court matter: the matcher escalates it
ANSWER = "先别慌。把传票和起诉状副本拍照发我，周三上午来村委会，我当面帮您准备答辩。"


@pytest.fixture
def config(tmp_path, fake_wechat):
    return load_config(overrides=overrides(tmp_path, wechat={
        "api_base": fake_wechat.base, "adviser_template_id": "TPL-NEW-CASE"}), environ={})


@pytest.fixture
def services(app):
    return app.extensions["legalbot"]


def voice_xml(openid: str, media_id: str = "MEDIA-1") -> str:
    return (f"<xml><ToUserName><![CDATA[gh_legalbot]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
            f"<MediaId><![CDATA[{media_id}]]></MediaId><Format><![CDATA[amr]]></Format>"
            f"<Recognition><![CDATA[]]></Recognition><MsgId>{time.time_ns()}</MsgId></xml>")


def bind_adviser_by_wechat(wechat, services, db) -> None:
    """Township staff print a code (`legalbot adviser bind-code 韦律师`); the adviser sends it."""
    adv.ensure_advisers(db, services.config, time.time())
    code = adv.new_bind_code(db, "韦律师", time.time(), 72)
    assert "绑定成功" in wechat.say(f"绑定 {code}", openid=ADVISER)


def ask_and_pick_village(wechat, db) -> int:
    asked = wechat.say(QUESTION, openid=VILLAGER)
    assert "您是哪个村的" in asked and "1 大年村" in asked
    told = wechat.say("1", openid=VILLAGER)
    [ticket] = tickets.list_tickets(db, openid=VILLAGER)
    assert f"#{ticket.id}" in told and "大年村" in told and "韦律师" in told
    return ticket.id


def test_the_advisers_answer_reaches_the_villager_by_customer_service_message(
        wechat, services, db, fake_wechat):
    bind_adviser_by_wechat(wechat, services, db)
    ticket_id = ask_and_pick_village(wechat, db)

    worker.run_once(services)
    [note] = fake_wechat.texts_to(ADVISER)
    assert f"#{ticket_id}（大年村）" in note and QUESTION in note
    assert tickets.get_ticket(db, ticket_id).status == "notified"

    assert QUESTION in wechat.say(f"详情 {ticket_id}", openid=ADVISER)
    assert "已记下" in wechat.say(f"答复 {ticket_id} {ANSWER}", openid=ADVISER)
    worker.run_once(services)

    assert fake_wechat.texts_to(VILLAGER) == [f"您的咨询 #{ticket_id} 法律顾问已答复：{ANSWER}"]
    ticket = tickets.get_ticket(db, ticket_id)
    assert (ticket.status, ticket.delivered_via, ticket.answer) == ("delivered", "cs", ANSWER)
    events = tickets.ticket_events(db, ticket_id)
    moves = [(e["from_status"], e["to_status"]) for e in events if e["kind"] == "status"]
    assert moves == [("draft", "open"), ("open", "notified"), ("notified", "answered"),
                     ("answered", "delivered")]
    [told] = [e for e in events if e["kind"] == "notified"]
    assert (told["adviser_id"], told["reason"], told["via"]) == (ticket.adviser_id, "new", "cs")
    linked = list(db.query("SELECT c.action FROM consultations c JOIN tickets t"
                           " ON t.consultation_id = c.id WHERE t.id = ?", [ticket_id]))
    assert [r["action"] for r in linked] == ["escalate"]
    assert "已答复" in wechat.say("我的咨询", openid=VILLAGER)


def test_outside_the_window_the_answer_comes_with_the_villagers_next_reply(
        wechat, services, db, fake_wechat):
    bind_adviser_by_wechat(wechat, services, db)
    ticket_id = ask_and_pick_village(wechat, db)
    worker.run_once(services)
    users.update_user(db, VILLAGER, time.time(), last_inbound_at=time.time() - 49 * 3600)

    wechat.say(f"答复 {ticket_id} {ANSWER}", openid=ADVISER)
    worker.run_once(services)
    assert fake_wechat.texts_to(VILLAGER) == []
    assert tickets.get_ticket(db, ticket_id).status == "answered"

    reply = wechat.say("你好", openid=VILLAGER)
    assert reply.startswith(f"您的咨询 #{ticket_id} 法律顾问已答复：{ANSWER}")
    assert tickets.get_ticket(db, ticket_id).delivered_via == "reply"
    assert f"#{ticket_id}" not in wechat.say("你好", openid=VILLAGER)    # delivered once
    worker.run_once(services)
    assert fake_wechat.texts_to(VILLAGER) == []


def test_a_retried_answer_message_answers_and_sends_once(wechat, services, db, fake_wechat):
    bind_adviser_by_wechat(wechat, services, db)
    ticket_id = ask_and_pick_village(wechat, db)
    xml = text_xml(f"答复 {ticket_id} {ANSWER}", openid=ADVISER)
    first = wechat.reply_text(wechat.post(xml))
    assert wechat.reply_text(wechat.post(xml)) == first            # WeChat's retry, same MsgId
    worker.run_once(services)
    worker.run_once(services)
    assert len(fake_wechat.texts_to(VILLAGER)) == 1
    answered = [e for e in tickets.ticket_events(db, ticket_id) if e["to_status"] == "answered"]
    assert len(answered) == 1


def test_a_voice_message_goes_to_the_adviser_who_can_listen_to_it(wechat, services, db, fake_wechat):
    bind_adviser_by_wechat(wechat, services, db)
    assert "您是哪个村的" in wechat.reply_text(wechat.post(voice_xml(VILLAGER)))
    wechat.say("1", openid=VILLAGER)
    [ticket] = tickets.list_tickets(db, openid=VILLAGER)
    assert ticket.media_id == "MEDIA-1"
    worker.run_once(services)
    worker.run_once(services)
    assert f"#{ticket.id}" in fake_wechat.texts_to(ADVISER)[0]
    assert fake_wechat.voices_to(ADVISER) == ["MEDIA-1"]      # the voice itself, to listen to


def test_a_voice_is_not_forwarded_twice_by_a_second_worker_pass(wechat, services, db, fake_wechat):
    bind_adviser_by_wechat(wechat, services, db)
    wechat.post(voice_xml(VILLAGER, media_id="MEDIA-2"))
    wechat.say("1", openid=VILLAGER)
    for _ in range(3):
        worker.run_once(services)
    assert fake_wechat.voices_to(ADVISER) == ["MEDIA-2"]


def test_an_answer_quoting_danger_words_is_an_answer_not_an_emergency(wechat, services, db,
                                                                       fake_wechat):
    bind_adviser_by_wechat(wechat, services, db)
    ticket_id = ask_and_pick_village(wechat, db)
    told = wechat.say(f"答复 {ticket_id} 如果他拿刀威胁您，马上打110报警。", openid=ADVISER)
    assert "已记下" in told
    assert tickets.get_ticket(db, ticket_id).status == "answered"
    assert tickets.list_tickets(db, openid=ADVISER) == []
