"""Following, unfollowing, menu taps and the events that need no answer (WeChat's own samples)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import event_xml
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
SILENT_EVENTS = ["event_view.xml", "event_scan.xml", "event_location.xml",
                 "event_template_send_job_finish.xml", "event_mass_send_job_finish.xml",
                 "event_subscribe_msg_popup.xml", "event_subscribe_msg_change.xml",
                 "event_subscribe_msg_sent.xml", "event_kf_close_session.xml",
                 "event_scancode_waitmsg.xml"]


def post_fixture(wechat, name: str):
    return wechat.post((FIXTURES / name).read_text(encoding="utf-8"))


def user(db, openid: str) -> dict:
    return next(db.query("SELECT * FROM users WHERE openid = ?", [openid]))


@pytest.mark.parametrize("name", ["event_subscribe.xml", "event_subscribe_scan_qrscene.xml"])
def test_following_gets_the_welcome(wechat, db, name):
    text = wechat.reply_text(post_fixture(wechat, name))
    assert "欢迎" in text and "转人工" in text and "12348" in text   # what, how to reach a person, disclaimer
    assert user(db, "FromUser")["subscribed"] == 1


def test_welcome_names_the_township_and_its_phone(wechat, config):
    text = wechat.reply_text(wechat.post(event_xml("subscribe")))
    assert config.local["township"] in text and config.backup.phone in text


def test_unfollowing_is_recorded_without_a_reply(wechat, db):
    response = post_fixture(wechat, "event_unsubscribe.xml")
    assert response.get_data(as_text=True) == "success"
    assert user(db, "FromUser")["subscribed"] == 0
    row = next(db.query("SELECT msg_type, event, handler FROM messages"))
    assert (row["msg_type"], row["event"], row["handler"]) == ("event", "unsubscribe", "events.unsubscribe")


@pytest.mark.parametrize("name", SILENT_EVENTS)
def test_events_that_need_no_answer_get_success(wechat, name):
    response = post_fixture(wechat, name)
    assert (response.status_code, response.get_data(as_text=True)) == (200, "success")


def test_unconfigured_menu_key_gets_the_help(wechat):
    assert "使用说明" in wechat.reply_text(post_fixture(wechat, "event_click.xml"))


def test_topic_button_lists_questions_of_that_category(app, wechat):
    text = wechat.reply_text(wechat.post(event_xml("CLICK", key="TOPIC_MARRIAGE")))
    kb = app.extensions["legalbot"].knowledge
    first = kb.in_category("婚姻家庭")[0].questions[0]
    assert text.startswith("婚姻家庭") and first in text


def test_emergency_button_gives_the_hotlines(wechat):
    text = wechat.reply_text(wechat.post(event_xml("CLICK", key="EMERGENCY")))
    assert "110" in text and "120" in text and "12338" in text


def test_help_button_explains_more_and_numbers(wechat):
    text = wechat.reply_text(wechat.post(event_xml("CLICK", key="HELP")))
    assert "更多" in text and "数字" in text


def test_human_button_asks_what_the_matter_is_and_counts_no_consultation(wechat, db):
    text = wechat.reply_text(wechat.post(event_xml("CLICK", key="HUMAN", openid="oHuman")))
    assert "说说是什么事" in text
    assert db.execute("SELECT COUNT(*) FROM consultations").fetchone()[0] == 0
    assert next(db.query("SELECT status, waiting_for FROM tickets")) == {"status": "draft",
                                                                         "waiting_for": "story"}


def test_human_button_then_the_story_opens_the_ticket_with_the_story(wechat, db):
    db.execute("INSERT INTO users (openid, village) VALUES ('oHuman2', '古坡村')")
    wechat.post(event_xml("CLICK", key="HUMAN", openid="oHuman2"))
    text = wechat.say("邻居把我家的地占了两分 还在上面盖了猪圈", openid="oHuman2")
    ticket = next(db.query("SELECT id, village, question, status, consultation_id FROM tickets"))
    assert ticket["village"] == "古坡村" and f"#{ticket['id']}" in text and "覃律师" in text
    assert (ticket["question"], ticket["status"]) == ("邻居把我家的地占了两分 还在上面盖了猪圈", "open")
    consultation = next(db.query("SELECT id, question, action FROM consultations"))
    assert consultation == {"id": ticket["consultation_id"], "action": "escalate",
                            "question": "邻居把我家的地占了两分 还在上面盖了猪圈"}


def test_my_tickets_button_lists_the_villagers_tickets(wechat, db):
    db.execute("INSERT INTO tickets (openid, question, status, created_at)"
               " VALUES ('oMine', '邻居占了我的地', 'notified', 0)")
    text = wechat.reply_text(wechat.post(event_xml("CLICK", key="MY_TICKETS", openid="oMine")))
    assert "#1" in text and "邻居占了我的地" in text


def test_my_tickets_button_with_no_tickets_says_so(wechat):
    text = wechat.reply_text(wechat.post(event_xml("CLICK", key="MY_TICKETS", openid="oNone")))
    assert "还没有" in text
