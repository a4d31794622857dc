"""The worker against a fake WeChat API: notifying advisers, delivering answers, tokens, deadlines."""
from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from bot.escalation import advisers as adv
from bot.escalation import delivery, outbox, tickets
from bot.core import users
from bot.app import worker
from bot.cli import main as cli
from bot.core.config import load_config
from bot.conversation.dispatch import Consultation, Incoming
from bot.app.services import Services
from bot.community.publicity import MenuCreate
from bot.escalation.wechat_api import WeChatClient
from tests.escalation_support import (ADVISER_OPENID, BACKUP_OPENID, START, VILLAGER, bind,
                                      context, hand_over, make_services, open_db)

HOUR = 3600


@pytest.fixture
def services(tmp_path, fake_wechat):
    return make_services(tmp_path, fake_wechat)


@pytest.fixture
def db(services):
    database = open_db(services)
    yield database
    database.conn.close()


def open_ticket(services, db, question="欠钱不还怎么办", now=START, urgent=False):
    users.set_village(db, VILLAGER, "大年村", now)
    users.touch_inbound(db, VILLAGER, now)
    consultation = Consultation(question=question, action="escalate")
    _, ticket_id = hand_over(context(services, db, now), Incoming(VILLAGER, "text", question),
                             consultation, urgent=urgent)
    return ticket_id


def run(services, db, now):
    return worker.run_once(services, now=now, db=db, client=WeChatClient(services.config, db,
                                                                        clock=lambda: now))


def answer(services, db, ticket_id, text="先找村调解委员会，带上借条。", now=START + 60):
    adviser = adv.adviser_by_openid(db, ADVISER_OPENID)
    return tickets.answer_ticket(services, db, ticket_id, adviser, text, now)


# ---- notifying the adviser ------------------------------------------------------------------

def test_an_adviser_inside_the_window_gets_a_customer_service_message(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    users.touch_inbound(db, ADVISER_OPENID, START)
    ticket_id = open_ticket(services, db)
    assert run(services, db, START + 1) == {"sent": 1}
    [text] = fake_wechat.texts_to(ADVISER_OPENID)
    assert f"新咨询 #{ticket_id}（大年村）" in text and f"答复 {ticket_id}" in text
    assert tickets.get_ticket(db, ticket_id).status == "notified"


def test_an_adviser_outside_the_window_gets_a_template_message(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    users.touch_inbound(db, ADVISER_OPENID, START - 49 * HOUR)
    ticket_id = open_ticket(services, db)
    run(services, db, START + 1)
    assert fake_wechat.sent() == []
    [call] = fake_wechat.sent("/message/template/send")
    assert call.body["template_id"] == "TPL-NEW-CASE" and call.body["touser"] == ADVISER_OPENID
    assert call.body["data"]["character_string2"]["value"] == f"#{ticket_id}"
    assert all(len(field["value"]) <= 20 for field in call.body["data"].values())


def test_45015_for_an_adviser_falls_back_to_a_template(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    users.touch_inbound(db, ADVISER_OPENID, START)
    ticket_id = open_ticket(services, db)
    fake_wechat.fail("/message/custom/send", 45015)
    run(services, db, START + 1)
    assert len(fake_wechat.sent("/message/template/send")) == 1
    assert tickets.get_ticket(db, ticket_id).status == "notified"


def test_an_unbound_backup_is_held_with_the_reason_and_nothing_is_sent(services, db, fake_wechat):
    open_ticket(services, db)              # 韦律师 unbound: straight to the backup, unbound too
    assert run(services, db, START + 1) == {"held": 1}
    row = next(db.query("SELECT * FROM outbox"))
    assert row["status"] == "held" and row["last_error"] == "大年司法所还没有绑定微信"
    assert fake_wechat.calls == []


def test_an_urgent_ticket_reaches_the_adviser_and_the_backup_in_one_pass(services, db, fake_wechat):
    for name, openid in (("韦律师", ADVISER_OPENID), ("大年司法所", BACKUP_OPENID)):
        bind(db, name, openid)
        users.touch_inbound(db, openid, START)
    open_ticket(services, db, question="他又打我了", urgent=True)
    run(services, db, START + 1)
    assert "【紧急】" in fake_wechat.texts_to(ADVISER_OPENID)[0]
    assert "【紧急】" in fake_wechat.texts_to(BACKUP_OPENID)[0]


# ---- tokens -----------------------------------------------------------------------------------

def test_a_rejected_token_is_refreshed_and_the_call_retried(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    users.touch_inbound(db, ADVISER_OPENID, START)
    client = WeChatClient(services.config, db, clock=lambda: START)
    client.token()
    fake_wechat.rotate_token()              # someone forced a refresh: our token is dead
    client.send_text(ADVISER_OPENID, "测试")
    forced = [c for c in fake_wechat.calls if c.path.endswith("stable_token")]
    assert [c.body["force_refresh"] for c in forced] == [False, True]
    assert fake_wechat.texts_to(ADVISER_OPENID) == ["测试"]


def test_processes_share_one_token_instead_of_invalidating_each_other(services, db, fake_wechat):
    other_db = services.open_db()
    first = WeChatClient(services.config, db, clock=lambda: START)
    second = WeChatClient(services.config, other_db, clock=lambda: START)
    first.send_text("oX", "一")
    second.send_text("oY", "二")
    first.send_text("oX", "三")
    assert len([c for c in fake_wechat.calls if c.path.endswith("stable_token")]) == 1
    assert len(fake_wechat.sent()) == 3
    other_db.conn.close()


def test_a_token_another_process_refreshed_is_used_not_rotated_again(services, db, fake_wechat):
    other_db = services.open_db()
    first = WeChatClient(services.config, db, clock=lambda: START)
    second = WeChatClient(services.config, other_db, clock=lambda: START)
    first.send_text("oX", "一")
    stale = first.token()
    fake_wechat.rotate_token()
    second.fetch_token(force_refresh=True)  # the other process already got the new token
    assert first.refresh_after(stale) == fake_wechat.token
    assert [c.body["force_refresh"] for c in fake_wechat.calls
            if c.path.endswith("stable_token")] == [False, True]
    other_db.conn.close()


# ---- delivering the answer ---------------------------------------------------------------------

def test_an_answer_inside_the_window_is_pushed_once(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    ticket_id = open_ticket(services, db)
    answer(services, db, ticket_id)
    run(services, db, START + 61)
    run(services, db, START + 3 * HOUR)
    assert fake_wechat.texts_to(VILLAGER) == [f"您的咨询 #{ticket_id} 法律顾问已答复：先找村调解委员会，带上借条。"]
    ticket = tickets.get_ticket(db, ticket_id)
    assert (ticket.status, ticket.delivered_via) == ("delivered", "cs")
    assert users.get_user(db, VILLAGER)["cs_sent_since_inbound"] == 1
    assert delivery.attach_pending_answers(context(services, db, START + 4 * HOUR), VILLAGER, "好") == "好"


def test_45015_keeps_the_answer_for_the_villagers_next_reply(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    ticket_id = open_ticket(services, db)
    answer(services, db, ticket_id)
    fake_wechat.fail("/message/custom/send", 45015)
    run(services, db, START + 61)
    row = next(db.query("SELECT * FROM outbox WHERE kind = 'deliver_answer'"))
    assert row["status"] == "held" and "下次发消息时带给他" in row["last_error"]
    assert tickets.get_ticket(db, ticket_id).status == "answered"
    reply = delivery.attach_pending_answers(context(services, db, START + 2 * HOUR), VILLAGER, "您好")
    assert reply == f"您的咨询 #{ticket_id} 法律顾问已答复：先找村调解委员会，带上借条。\n\n您好"
    assert tickets.get_ticket(db, ticket_id).delivered_via == "reply"
    assert delivery.attach_pending_answers(context(services, db, START + 3 * HOUR), VILLAGER, "您好") == "您好"


def test_45047_over_quota_holds_and_keeps_the_answer(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    ticket_id = open_ticket(services, db)
    answer(services, db, ticket_id)
    fake_wechat.fail("/message/custom/send", 45047)
    run(services, db, START + 61)
    assert tickets.get_ticket(db, ticket_id).status == "answered"
    assert f"#{ticket_id}" in delivery.attach_pending_answers(context(services, db, START + 99),
                                                             VILLAGER, "")


def test_outside_the_window_an_answer_is_not_pushed_at_all(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    ticket_id = open_ticket(services, db)
    answer(services, db, ticket_id, now=START + 50 * HOUR)
    run(services, db, START + 50 * HOUR + 1)
    assert fake_wechat.texts_to(VILLAGER) == []
    assert tickets.get_ticket(db, ticket_id).status == "answered"


def test_after_five_messages_the_answer_waits_for_the_next_reply(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    ticket_id = open_ticket(services, db)
    users.update_user(db, VILLAGER, START, cs_sent_since_inbound=5)
    answer(services, db, ticket_id)
    run(services, db, START + 61)
    assert fake_wechat.texts_to(VILLAGER) == []


def test_an_unverified_subscription_account_never_pushes(tmp_path, fake_wechat):
    services = make_services(tmp_path, fake_wechat, wechat={"account_type": "subscription_unverified"})
    db = open_db(services)
    bind(db, "韦律师", ADVISER_OPENID)
    users.touch_inbound(db, ADVISER_OPENID, START)
    ticket_id = open_ticket(services, db)
    answer(services, db, ticket_id)
    run(services, db, START + 61)
    assert fake_wechat.calls == []
    assert f"#{ticket_id}" in delivery.attach_pending_answers(context(services, db, START + 99),
                                                             VILLAGER, "好")
    db.conn.close()


def test_a_reply_does_not_carry_an_answer_a_worker_is_pushing(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    ticket_id = open_ticket(services, db)
    answer(services, db, ticket_id)
    assert delivery.lock_for_push(db, ticket_id, START + 61, lease=120) is not None
    assert delivery.attach_pending_answers(context(services, db, START + 62), VILLAGER, "好") == "好"
    assert delivery.attach_pending_answers(context(services, db, START + 200), VILLAGER, "好") != "好"


# ---- deadlines ---------------------------------------------------------------------------------

def test_an_unanswered_ticket_is_chased_then_handed_to_the_backup(services, db, fake_wechat):
    for name, openid in (("韦律师", ADVISER_OPENID), ("大年司法所", BACKUP_OPENID)):
        bind(db, name, openid)
    ticket_id = open_ticket(services, db)
    for openid in (ADVISER_OPENID, BACKUP_OPENID):
        users.touch_inbound(db, openid, START + 23 * HOUR)
    run(services, db, START + 1)
    assert run(services, db, START + 24 * HOUR + 1).get("reminded") == 1
    assert tickets.get_ticket(db, ticket_id).status == "overdue"
    assert "提醒：咨询" in fake_wechat.texts_to(ADVISER_OPENID)[-1]
    assert run(services, db, START + 30 * HOUR).get("reminded") is None       # once only
    users.touch_inbound(db, BACKUP_OPENID, START + 71 * HOUR)
    assert run(services, db, START + 72 * HOUR + 1).get("reassigned") == 1
    ticket = tickets.get_ticket(db, ticket_id)
    assert ticket.status == "reassigned" and adv.get_adviser(db, ticket.adviser_id).is_backup
    assert "转来的咨询" in fake_wechat.texts_to(BACKUP_OPENID)[-1]


# ---- the command line ----------------------------------------------------------------------------

def test_menu_push_creates_the_configured_menu(tmp_path, fake_wechat, monkeypatch):
    for name, value in {"LEGALBOT_DB": str(tmp_path / "cli.db"), "WECHAT_API_BASE": fake_wechat.base,
                        "WECHAT_APPID": "wxtest", "WECHAT_APPSECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["menu", "push"])
    assert result.exit_code == 0, result.output
    [call] = fake_wechat.sent("/menu/create")
    assert [b["name"] for b in call.body["button"]] == ["常见问题", "找人帮忙", "办事指南"]
    assert call.body["button"][1]["sub_button"][1] == {"type": "click", "name": "我的咨询",
                                                        "key": "MY_TICKETS"}


def test_worker_retry_failed_sends_a_row_that_had_given_up(tmp_path, fake_wechat, monkeypatch):
    for name, value in {"LEGALBOT_DB": str(tmp_path / "cli.db"), "WECHAT_API_BASE": fake_wechat.base,
                        "WECHAT_APPID": "wxtest", "WECHAT_APPSECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    db = Services(load_config()).open_db()
    row_id = outbox.enqueue(db, MenuCreate({"button": []}), START)
    db.execute("UPDATE outbox SET status = 'failed', attempts = 8, last_error = 'WeChat 40164'")
    db.conn.commit()
    result = CliRunner().invoke(cli, ["worker", "--once", "--retry-failed"])
    assert result.exit_code == 0, result.output
    assert len(fake_wechat.sent("/menu/create")) == 1
    assert next(db.query("SELECT status FROM outbox WHERE id = ?", [row_id]))["status"] == "sent"


def test_adviser_cli_adds_lists_and_prints_a_bind_code(tmp_path, monkeypatch):
    monkeypatch.setenv("LEGALBOT_DB", str(tmp_path / "cli.db"))
    runner = CliRunner()
    added = runner.invoke(cli, ["adviser", "add", "农律师", "--phone", "13900000000",
                                "--village", "大年村"])
    assert added.exit_code == 0 and "大年村" in added.output
    listed = runner.invoke(cli, ["adviser", "list", "--json"])
    assert '"name": "农律师"' in listed.output and '"name": "大年司法所"' in listed.output
    code = runner.invoke(cli, ["adviser", "bind-code", "农律师"]).output.split()[0]
    assert len(code) == 8 and code.isdigit()        # [binding] code_digits
    assert runner.invoke(cli, ["adviser", "bind-code", "没有这个人"]).exit_code != 0
    assert runner.invoke(cli, ["adviser", "add", "x", "--village", "火星村"]).exit_code != 0


def test_the_worker_thread_runs_a_pass_and_stops_when_told(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    users.touch_inbound(db, ADVISER_OPENID, time.time())
    open_ticket(services, db, now=time.time())
    thread, stop = worker.start_thread(services)
    stop.set()
    thread.join()
    assert len(fake_wechat.texts_to(ADVISER_OPENID)) == 1


def test_a_notification_recorded_before_a_crash_is_not_sent_again(services, db, fake_wechat):
    bind(db, "韦律师", ADVISER_OPENID)
    users.touch_inbound(db, ADVISER_OPENID, START)
    open_ticket(services, db)
    run(services, db, START + 1)
    db.execute("UPDATE outbox SET status = 'sending', locked_until = ?", [START + 2])  # died before mark_sent
    run(services, db, START + 10 * 60)
    assert len(fake_wechat.texts_to(ADVISER_OPENID)) == 1


def test_worker_once_drains_the_outbox_from_the_command_line(tmp_path, fake_wechat, monkeypatch):
    for name, value in {"LEGALBOT_DB": str(tmp_path / "cli.db"), "WECHAT_API_BASE": fake_wechat.base,
                        "WECHAT_APPID": "wxtest", "WECHAT_APPSECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    services = make_services(tmp_path, fake_wechat, app={"db_path": str(tmp_path / "cli.db")})
    db = open_db(services)
    bind(db, "韦律师", ADVISER_OPENID)
    users.touch_inbound(db, ADVISER_OPENID, time.time())
    open_ticket(services, db, now=time.time())
    result = CliRunner().invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert '"sent": 1' in result.output and len(fake_wechat.texts_to(ADVISER_OPENID)) == 1
    db.conn.close()
