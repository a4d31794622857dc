"""Tickets: which village, opening, the adviser's commands, the villager's "我的咨询"."""
from __future__ import annotations

import dataclasses
import json

import pytest

from bot.escalation import advisers as adv
from bot.conversation import handover
from bot.escalation import delivery, tickets
from bot.core import users
from bot.core.config import Person
from bot.conversation.dispatch import Consultation, Incoming
from tests.escalation_support import (ADVISER_OPENID, BACKUP_OPENID, START, VILLAGER, bind,
                                      context, hand_over, make_services, open_db, say)


@pytest.fixture
def services(tmp_path):
    return make_services(tmp_path)


@pytest.fixture
def db(services):
    database = open_db(services)
    yield database
    database.conn.close()


def escalate(services, db, question="邻居占了我家宅基地怎么办", openid=VILLAGER, now=START, **kw):
    consultation = Consultation(question=question, action="escalate", category="土地与宅基地")
    incoming = Incoming(openid=openid, msg_type="text", text=question)
    return hand_over(context(services, db, now), incoming, consultation, **kw)


def outbox_rows(db, kind="notify_adviser"):
    return [json.loads(r["payload"]) for r in db.query(
        "SELECT payload FROM outbox WHERE kind = ? ORDER BY id", [kind])]


def test_first_escalation_asks_the_village_and_keeps_a_draft_nobody_is_told_of(services, db):
    told, ticket_id = escalate(services, db)
    assert "您是哪个村的" in told and "1 大年村" in told and "8 石门村" in told
    assert tickets.list_tickets(db) == []                       # drafts are not listed for staff
    [draft] = tickets.list_tickets(db, status=["draft"])
    assert (draft.question, draft.waiting_for, draft.adviser_id) == ("邻居占了我家宅基地怎么办", "village", None)
    assert ticket_id == draft.id
    assert users.get_pending(db, VILLAGER, START, kind="village").data == users.VillageAsked(draft.id)
    assert outbox_rows(db) == []


def test_the_village_number_opens_the_waiting_ticket_for_that_villages_adviser(services, db):
    bind(db, "覃律师", "oAdviserQin")      # reachable: bound, and a template is configured
    escalate(services, db)
    told = say(services, db, "2", now=START + 30)
    [ticket] = tickets.list_tickets(db)
    assert (ticket.village, ticket.status, ticket.question) == ("古坡村", "open", "邻居占了我家宅基地怎么办")
    assert adv.get_adviser(db, ticket.adviser_id).name == "覃律师"
    assert f"#{ticket.id}" in told and "古坡村" in told
    assert users.get_village(db, VILLAGER) == "古坡村"
    assert users.get_pending(db, VILLAGER, START + 30).kind == "more"    # what follows is added


def test_a_known_village_opens_the_ticket_at_once_with_a_number(services, db):
    users.set_village(db, VILLAGER, "大年村", START)
    told, ticket_id = escalate(services, db)
    ticket = tickets.get_ticket(db, ticket_id)
    assert f"#{ticket.id}" in told and "韦律师" in told and "天内答复" in told
    assert ticket.suggested                                     # from law search
    assert all(services.knowledge.statutes.get(c) is not None for c in ticket.suggested)
    [note] = outbox_rows(db)
    assert note == {"ticket_id": ticket.id, "adviser_id": ticket.adviser_id, "reason": "new"}


def test_only_the_villagers_words_about_the_matter_go_with_the_ticket(services, db):
    """Unrelated earlier messages stay out; what is added right after the hand-over goes in."""
    users.set_village(db, VILLAGER, "大年村", START)
    for i, text in enumerate(["你好", "离婚孩子归谁"]):
        db["messages"].insert({"dedupe_key": f"k{i}", "openid": VILLAGER, "msg_type": "text",
                               "content": text, "received_at": START - 60 + i})
    _, ticket_id = escalate(services, db)
    assert "已补充到咨询" in say(services, db, "他还在上面盖了猪圈", now=START + 20)
    ticket = tickets.get_ticket(db, ticket_id)
    assert ticket.context == ["他还在上面盖了猪圈"]
    added = [e for e in tickets.ticket_events(db, ticket.id) if e["kind"] == "added"]
    assert [(e["actor"], e["note"]) for e in added] == [("villager", "他还在上面盖了猪圈")]
    bind(db, "韦律师", ADVISER_OPENID)
    assert "村民补充：他还在上面盖了猪圈" in say(services, db, f"详情 {ticket.id}", openid=ADVISER_OPENID)


def test_an_urgent_ticket_is_announced_to_the_adviser_and_the_backup_at_once(services, db):
    bind(db, "韦律师", ADVISER_OPENID)
    bind(db, "大年司法所", BACKUP_OPENID)
    users.set_village(db, VILLAGER, "大年村", START)
    escalate(services, db, question="他又打我了", urgent=True)
    notified = {adv.get_adviser(db, p["adviser_id"]).name: p["reason"] for p in outbox_rows(db)}
    assert notified == {"韦律师": "urgent", "大年司法所": "urgent"}


def test_a_hand_over_returns_the_consultation_linked_and_leaves_the_callers_as_it_was(services, db):
    users.set_village(db, VILLAGER, "大年村", START)
    asked = Consultation(question="邻居占了我家宅基地怎么办", action="escalate")
    _, linked = handover.hand_over_now(context(services, db), Incoming(VILLAGER, "text", asked.question),
                                       asked)
    [ticket] = tickets.list_tickets(db)
    assert asked.ticket_id is None
    assert linked.ticket_id == ticket.id and linked.question == asked.question


def test_an_urgent_ticket_does_not_wait_for_the_village(services, db):
    told, ticket_id = escalate(services, db, question="他又打我了", urgent=True)
    ticket = tickets.get_ticket(db, ticket_id)
    assert ticket.urgent and adv.get_adviser(db, ticket.adviser_id).is_backup
    assert f"#{ticket.id}" in told


def test_a_number_out_of_range_asks_again_and_keeps_the_question(services, db):
    escalate(services, db)
    assert "没有这个序号" in say(services, db, "12")
    assert users.get_pending(db, VILLAGER, START, kind="village") is not None
    assert say(services, db, "大年村") and tickets.list_tickets(db)[0].village == "大年村"


def test_change_village_asks_again_and_remembers_the_new_one(services, db):
    users.set_village(db, VILLAGER, "大年村", START)
    told = say(services, db, "改村")
    assert "现在记的是大年村" in told and "1 大年村" in told
    assert "您是东岭村的" in say(services, db, "5")
    assert users.get_village(db, VILLAGER) == "东岭村" and tickets.list_tickets(db) == []


def test_a_binding_code_links_the_adviser_once(services, db):
    context(services, db)
    code = adv.new_bind_code(db, "韦律师", START, 72)
    assert "绑定成功" in say(services, db, f"绑定 {code}", openid=ADVISER_OPENID)
    assert adv.adviser_by_openid(db, ADVISER_OPENID).name == "韦律师"
    assert "不对或已过期" in say(services, db, f"绑定 {code}", openid="oSomeoneElse")


def test_an_expired_binding_code_is_refused(services, db):
    context(services, db)
    code = adv.new_bind_code(db, "韦律师", START, 72)
    later = START + 73 * 3600
    assert "不对或已过期" in say(services, db, f"绑定 {code}", openid=ADVISER_OPENID, now=later)
    assert adv.adviser_by_openid(db, ADVISER_OPENID) is None


def open_in(services, db, village, openid, question):
    users.set_village(db, openid, village, START)
    return escalate(services, db, question=question, openid=openid)[1]


def test_an_adviser_sees_and_answers_only_their_villages_tickets(services, db):
    mine = open_in(services, db, "大年村", "oA", "欠钱不还怎么办")
    other = open_in(services, db, "古坡村", "oB", "离婚孩子归谁")
    bind(db, "韦律师", ADVISER_OPENID)
    todo = say(services, db, "待办", openid=ADVISER_OPENID)
    assert f"#{mine}" in todo and f"#{other}" not in todo
    assert "欠钱不还怎么办" in say(services, db, f"详情 {mine}", openid=ADVISER_OPENID)
    assert "没有找到" in say(services, db, f"详情 {other}", openid=ADVISER_OPENID)
    assert "没有找到" in say(services, db, f"答复 {other} 去法院", openid=ADVISER_OPENID)
    assert tickets.get_ticket(db, other).status == "open"


def test_answering_records_the_answer_and_a_second_answer_is_refused(services, db):
    ticket_id = open_in(services, db, "大年村", "oA", "欠钱不还怎么办")
    bind(db, "韦律师", ADVISER_OPENID)
    assert "已记下" in say(services, db, f"答复 {ticket_id} 先找村调解委员会，带上借条。",
                          openid=ADVISER_OPENID, now=START + 100)
    ticket = tickets.get_ticket(db, ticket_id)
    assert (ticket.status, ticket.answer) == ("answered", "先找村调解委员会，带上借条。")
    assert "不能再答复" in say(services, db, f"答复 {ticket_id} 再说一句", openid=ADVISER_OPENID)
    assert tickets.get_ticket(db, ticket_id).answer == "先找村调解委员会，带上借条。"


def test_an_empty_answer_is_refused_with_the_format(services, db):
    ticket_id = open_in(services, db, "大年村", "oA", "欠钱不还怎么办")
    bind(db, "韦律师", ADVISER_OPENID)
    assert "格式" in say(services, db, f"答复 {ticket_id}", openid=ADVISER_OPENID)
    assert tickets.get_ticket(db, ticket_id).status == "open"


def test_handing_over_passes_the_ticket_to_the_backup_who_may_answer(services, db):
    ticket_id = open_in(services, db, "大年村", "oA", "欠钱不还怎么办")
    bind(db, "韦律师", ADVISER_OPENID)
    bind(db, "大年司法所", BACKUP_OPENID)
    assert "大年司法所" in say(services, db, f"转 {ticket_id}", openid=ADVISER_OPENID)
    ticket = tickets.get_ticket(db, ticket_id)
    assert ticket.status == "reassigned" and adv.get_adviser(db, ticket.adviser_id).is_backup
    assert outbox_rows(db)[-1]["reason"] == "reassign"
    assert "已记下" in say(services, db, f"答复 {ticket_id} 请来所里面谈", openid=BACKUP_OPENID)


def test_every_transition_is_logged_with_its_time_and_actor(services, db):
    adviser = bind(db, "韦律师", ADVISER_OPENID)
    ticket_id = open_in(services, db, "大年村", "oA", "欠钱不还怎么办")
    tickets.answer_ticket(services, db, ticket_id, adviser, "找调解委员会", START + 50)
    delivery.mark_delivered(db, ticket_id, START + 70, "reply", "随回复送达")
    tickets.close_ticket(db, ticket_id, None, START + 90, actor="staff")
    events = [(e["from_status"], e["to_status"], e["actor"], e["at"])
              for e in tickets.ticket_events(db, ticket_id)]
    assert events == [("open", "open", "villager", START), ("open", "answered", "韦律师", START + 50),
                      ("answered", "delivered", "system", START + 70), ("delivered", "closed", "staff", START + 90)]


def test_an_adviser_closes_a_ticket_once_the_answer_reached_the_villager(services, db):
    ticket_id = open_in(services, db, "大年村", "oA", "欠钱不还怎么办")
    bind(db, "韦律师", ADVISER_OPENID)
    say(services, db, f"答复 {ticket_id} 先找村调解委员会，带上借条。", openid=ADVISER_OPENID, now=START + 100)
    assert "还没送到" in say(services, db, f"结束 {ticket_id}", openid=ADVISER_OPENID, now=START + 110)
    assert tickets.get_ticket(db, ticket_id).status == "answered"
    delivery.mark_delivered(db, ticket_id, START + 120, "reply", "随回复送达")
    assert "结束 " in say(services, db, f"详情 {ticket_id}", openid=ADVISER_OPENID, now=START + 130)
    assert "已结束" in say(services, db, f"结束 {ticket_id}", openid=ADVISER_OPENID, now=START + 140)
    assert tickets.get_ticket(db, ticket_id).status == "closed"
    assert "已经结束" in say(services, db, f"结束 {ticket_id}", openid=ADVISER_OPENID, now=START + 150)
    assert "已结束" in tickets.my_tickets_text(db, "oA")


def test_a_ticket_not_yet_answered_or_of_another_village_cannot_be_closed(services, db):
    waiting = open_in(services, db, "大年村", "oA", "欠钱不还怎么办")
    other = open_in(services, db, "古坡村", "oB", "离婚孩子归谁")
    bind(db, "韦律师", ADVISER_OPENID)
    assert "还没答复" in say(services, db, f"结束 {waiting}", openid=ADVISER_OPENID)
    assert "没有找到" in say(services, db, f"结束 {other}", openid=ADVISER_OPENID)
    assert [tickets.get_ticket(db, t).status for t in (waiting, other)] == ["open", "open"]


def test_an_unbound_sender_of_adviser_commands_is_not_an_adviser(services, db):
    assert say(services, db, "待办", openid="oStranger") is None


def test_my_tickets_shows_the_villagers_tickets_and_their_status(services, db):
    assert "还没有" in say(services, db, "我的咨询")
    ticket_id = open_in(services, db, "大年村", VILLAGER, "欠钱不还怎么办")
    assert f"#{ticket_id} 欠钱不还怎么办——已转给法律顾问" in say(services, db, "我的咨询")


def test_the_my_tickets_menu_button_answers_too(services, db):
    ticket_id = open_in(services, db, "大年村", VILLAGER, "欠钱不还怎么办")
    click = Incoming(openid=VILLAGER, msg_type="event", event="click", event_key="MY_TICKETS",
                     text="my_tickets")
    reply = services.registry.dispatch(click, context(services, db))
    assert f"#{ticket_id}" in reply.text


def test_list_tickets_filters_by_village_and_status(services, db):
    a = open_in(services, db, "大年村", "oA", "问题一")
    b = open_in(services, db, "古坡村", "oB", "问题二")
    assert [t.id for t in tickets.list_tickets(db, villages=["古坡村"])] == [b]
    assert [t.id for t in tickets.list_tickets(db, status="open")] == [b, a]
    assert tickets.list_tickets(db, status=["answered"]) == []


def test_a_changed_phone_in_config_reaches_the_advisers_table(tmp_path, db):
    changed = make_services(tmp_path)
    changed.config = dataclasses.replace(changed.config, backup=Person("大年司法所", "0772-9999999"))
    adv.ensure_advisers(db, changed.config, START + 1)
    assert adv.backup_adviser(db).phone == "0772-9999999"
    assert adv.adviser_by_name(db, "韦律师").villages == ["大年村"]
