"""Who gets a ticket and who is told: the village adviser if WeChat reaches them, else the
司法所 at once; an urgent message nobody can receive goes to the duty contact, and the villager
is told the truth (tests/fake_wechat.py stands in for WeChat's API)."""
from __future__ import annotations

import json

import pytest

from bot.escalation import advisers as adv
from bot.escalation import tickets
from bot.core import users
from bot.app import worker
from bot.conversation.dispatch import Consultation, Incoming
from bot.app.services import Services
from bot.escalation.wechat_api import NoCredentials, WeChatClient
from tests.escalation_support import (ADVISER_OPENID, BACKUP_OPENID, START, VILLAGER, bind,
                                      context, hand_over, make_services, open_db)

DUTY = {"name": "乡值班室", "phone": "0772-7654321"}
DUTY_OPENID = "oDutyPhone"
HANDLERS = ["handlers.urgent", "handlers.events", "handlers.binding", "handlers.adviser"]


@pytest.fixture
def services(tmp_path, fake_wechat):
    return Services(make_services(tmp_path, fake_wechat, duty=DUTY).config, handler_modules=HANDLERS)


@pytest.fixture
def db(services):
    database = open_db(services)
    yield database
    database.conn.close()


def say(services, db, text, openid=VILLAGER, now=START, village="古坡村"):
    if village:
        users.set_village(db, openid, village, now)
    users.touch_inbound(db, openid, now)
    incoming = Incoming(openid=openid, msg_type="text", text=text)
    return services.registry.dispatch(incoming, context(services, db, now))


def escalate(services, db, village="古坡村", urgent=False, now=START):
    users.set_village(db, VILLAGER, village, now)
    consultation = Consultation(question="邻居占了我家宅基地怎么办", action="escalate")
    told, ticket_id = hand_over(context(services, db, now), Incoming(VILLAGER, "text", "x"),
                                consultation, urgent=urgent)
    return told, tickets.get_ticket(db, ticket_id)


def notified(db):
    return [adv.get_adviser(db, json.loads(r["payload"])["adviser_id"]).name
            for r in db.query("SELECT payload FROM outbox WHERE kind = 'notify_adviser' ORDER BY id")]


def run(services, db, now):
    client = WeChatClient(services.config, db, clock=lambda: now)
    return worker.run_once(services, now=now, db=db, client=client)


def test_an_unbound_village_adviser_passes_the_ticket_to_the_backup_at_once(services, db):
    told, ticket = escalate(services, db)
    assert adv.get_adviser(db, ticket.adviser_id).name == "大年司法所"
    assert notified(db) == ["大年司法所"]
    notes = [e["note"] for e in tickets.ticket_events(db, ticket.id)]
    assert "覃律师还没有绑定微信，直接转给大年司法所" in notes
    assert "已转给大年司法所（古坡村的法律顾问覃律师暂时联系不上）" in told


def test_a_bound_adviser_keeps_the_ticket_and_is_named(services, db):
    bind(db, "覃律师", "oAdviserQin")
    told, ticket = escalate(services, db)
    assert adv.get_adviser(db, ticket.adviser_id).name == "覃律师"
    assert notified(db) == ["覃律师"]
    assert "已转给古坡村的法律顾问覃律师，咨询编号" in told


def test_an_adviser_outside_the_window_without_a_template_is_passed_over(tmp_path, fake_wechat):
    services = make_services(tmp_path, fake_wechat, wechat={"adviser_template_id": ""})
    db = open_db(services)
    bind(db, "覃律师", "oAdviserQin", now=START - 50 * 3600)
    users.touch_inbound(db, "oAdviserQin", START - 50 * 3600)
    _, ticket = escalate(services, db)
    assert adv.get_adviser(db, ticket.adviser_id).is_backup
    assert any("超过48小时" in e["note"] for e in tickets.ticket_events(db, ticket.id))
    db.conn.close()


def test_urgent_reply_names_the_village_the_adviser_and_the_office(services, db):
    bind(db, "覃律师", "oAdviserQin")
    bind(db, "大年司法所", BACKUP_OPENID)
    reply = say(services, db, "老公喝醉了正在打我，我躲在厕所")
    assert "110" in reply.text
    assert "已通知古坡村的法律顾问覃律师和大年司法所" in reply.text
    assert "着急可以直接打电话 13800000002" in reply.text
    assert set(notified(db)) == {"覃律师", "大年司法所"}


def test_urgent_with_nobody_bound_says_what_to_do_now_and_notifies_the_duty_contact(services, db):
    reply = say(services, db, "老公喝醉了正在打我，我躲在厕所", village=None)
    for number in ("110", "120", "12338", "12356", DUTY["phone"]):
        assert number in reply.text
    assert "现在没能通知到法律顾问" in reply.text and "的法律顾问大年司法所" not in reply.text
    assert reply.text.count("110") == 1                   # said once, not twice
    assert notified(db) == [DUTY["name"]]


def test_a_bound_duty_contact_takes_an_urgent_ticket_nobody_else_can_get(services, db, fake_wechat):
    duty = bind(db, DUTY["name"], DUTY_OPENID)
    reply = say(services, db, "他拿刀要砍我")
    assert f"已通知{DUTY['name']}，请不要等" in reply.text and "12338" in reply.text
    ticket = tickets.list_tickets(db)[0]
    assert ticket.adviser_id == duty.id
    run(services, db, START + 1)
    [call] = fake_wechat.sent("/message/template/send")
    assert call.body["touser"] == DUTY_OPENID
    assert tickets.get_ticket(db, ticket.id).status == "notified"


def test_the_emergency_menu_opens_an_urgent_ticket(services, db):
    users.set_village(db, VILLAGER, "古坡村", START)
    click = Incoming(openid=VILLAGER, msg_type="event", event="click", event_key="EMERGENCY",
                     text="emergency")
    reply = services.registry.dispatch(click, context(services, db, START))
    [ticket] = tickets.list_tickets(db, openid=VILLAGER)
    assert ticket.urgent and ticket.village == "古坡村"
    assert reply.consultation.action == "urgent" and reply.consultation.ticket_id == ticket.id
    assert f"#{ticket.id}" in reply.text and "12338" in reply.text
    assert "我们会帮您联系法律顾问" not in reply.text


def test_the_worker_passes_a_ticket_on_when_its_adviser_cannot_be_reached(services, db, fake_wechat):
    bind(db, "覃律师", "oAdviserQin")
    bind(db, "大年司法所", BACKUP_OPENID)
    _, ticket = escalate(services, db)
    db.execute("UPDATE advisers SET openid = NULL WHERE name = '覃律师'")   # unbound since
    run(services, db, START + 1)
    moved = tickets.get_ticket(db, ticket.id)
    assert moved.status == "reassigned" and adv.get_adviser(db, moved.adviser_id).is_backup
    run(services, db, START + 2)
    assert [c.body["touser"] for c in fake_wechat.sent("/message/template/send")] == [BACKUP_OPENID]


def test_an_urgent_ticket_whose_office_cannot_be_reached_notifies_the_duty_contact(
        services, db, fake_wechat):
    bind(db, "大年司法所", BACKUP_OPENID)
    bind(db, DUTY["name"], DUTY_OPENID)
    say(services, db, "他又打我了，我好怕")
    db.execute("UPDATE advisers SET openid = NULL WHERE name = '大年司法所'")
    run(services, db, START + 1)
    run(services, db, START + 2)
    assert [c.body["touser"] for c in fake_wechat.sent("/message/template/send")] == [DUTY_OPENID]


def test_the_demo_account_holds_every_row_without_calling_wechat(tmp_path, fake_wechat):
    services = make_services(tmp_path, fake_wechat, wechat={"appid": "", "appsecret": ""})
    db = open_db(services)
    bind(db, "覃律师", "oAdviserQin")
    escalate(services, db)
    assert worker.run_once(services, now=START + 1, db=db) == {"held": 1}
    row = next(db.query("SELECT status, last_error FROM outbox"))
    assert row["status"] == "held" and row["last_error"].startswith("演示账号")
    assert fake_wechat.calls == []
    with pytest.raises(NoCredentials):
        WeChatClient(services.config, db).token()
    assert fake_wechat.calls == []
    db.conn.close()


def test_the_sweep_passes_on_a_waiting_ticket_whose_adviser_was_unbound_since(services, db):
    bind(db, "覃律师", "oAdviserQin")
    _, ticket = escalate(services, db)
    db.execute("UPDATE advisers SET openid = NULL WHERE name = '覃律师'")
    assert worker.sweep_deadlines(db, services.config, START + 5) == {"passed_on": 1}
    moved = tickets.get_ticket(db, ticket.id)
    assert moved.status == "reassigned" and adv.get_adviser(db, moved.adviser_id).is_backup
    assert worker.sweep_deadlines(db, services.config, START + 6) == {}
