"""Every inbound message and every consultation is written down, with who, when, what and how long."""
from __future__ import annotations

import json

from bot.conversation.dispatch import Consultation, Reply
from bot.core.messages import Considered
from tests.support import event_xml, text_xml
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures


def decided(incoming, ctx):
    """Stands in for the matcher: a decision with everything the consultations table keeps."""
    consultation = Consultation(
        question=incoming.text, action="answer", faq_id="debt.iou", category="借贷", score=0.83,
        candidates=[Considered("debt.iou", 0.83)], citations=["民法典第667条"])
    return Reply(text="借钱要写借条。", consultation=consultation)


def use_decider(app):
    app.extensions["legalbot"].registry.register("test.decided", 1, decided, types={"text"})


def test_a_text_message_is_recorded_with_its_reply_and_latency(wechat, db):
    wechat.say("借钱不还怎么办", openid="oRecord1", msg_id=8001, create_time=1700000000)
    row = next(db.query("SELECT * FROM messages"))
    assert (row["openid"], row["msg_type"], row["content"]) == ("oRecord1", "text", "借钱不还怎么办")
    assert (row["dedupe_key"], row["created_at"], row["state"]) == ("msg:oRecord1:8001", 1700000000, "done")
    assert row["handler"] and row["latency_ms"] >= 0 and "<Content>" in row["reply_xml"]


def test_a_consultation_is_recorded_when_a_handler_decides(app, wechat, db):
    use_decider(app)
    db.execute("INSERT INTO users (openid, village) VALUES ('oRecord2', '古坡村')")
    wechat.say("借钱不还怎么办", openid="oRecord2")
    row = next(db.query("SELECT * FROM consultations"))
    assert (row["openid"], row["village"], row["channel"]) == ("oRecord2", "古坡村", "wechat")
    assert (row["action"], row["faq_id"], row["category"], row["score"]) == ("answer", "debt.iou", "借贷", 0.83)
    assert json.loads(row["citations"]) == ["民法典第667条"]
    assert json.loads(row["candidates"])[0]["faq_id"] == "debt.iou"
    assert row["reply"] == "借钱要写借条。" and row["question"] == "借钱不还怎么办"
    message_id = next(db.query("SELECT id FROM messages"))["id"]
    assert row["message_id"] == message_id and row["latency_ms"] >= 0


def test_a_reply_without_a_decision_writes_no_consultation(wechat, db):
    wechat.post(event_xml("subscribe"))
    assert db.execute("SELECT COUNT(*) FROM consultations").fetchone()[0] == 0


def test_a_message_reopens_the_customer_service_window(wechat, db):
    db.execute("INSERT INTO users (openid, cs_sent_since_inbound) VALUES ('oRecord3', 4)")
    wechat.say("你好", openid="oRecord3")
    user = next(db.query("SELECT * FROM users WHERE openid = 'oRecord3'"))
    assert user["last_inbound_at"] is not None and user["cs_sent_since_inbound"] == 0


def test_an_event_does_not_reopen_the_window(wechat, db):
    db.execute("INSERT INTO users (openid, last_inbound_at) VALUES ('oRecord4', 1000)")
    wechat.post(event_xml("VIEW", openid="oRecord4", key="https://example.org"))
    user = next(db.query("SELECT * FROM users WHERE openid = 'oRecord4'"))
    assert user["last_inbound_at"] == 1000


def test_an_event_from_a_stranger_stores_no_user(wechat, db):
    """Only what is needed: a menu link tapped by someone who never wrote leaves no profile."""
    wechat.post(event_xml("VIEW", openid="oRecord7", key="https://example.org"))
    assert db.execute("SELECT count(*) FROM users WHERE openid = 'oRecord7'").fetchone()[0] == 0


def test_a_waiting_adviser_answer_rides_along_with_the_next_reply(app, wechat, db):
    use_decider(app)
    db.execute("INSERT INTO users (openid, village) VALUES ('oRecord5', '古坡村')")
    db.execute("INSERT INTO tickets (openid, question, status, answer, created_at)"
               " VALUES ('oRecord5', '借钱', 'answered', '可以去法院起诉。', 0)")
    text = wechat.say("谢谢", openid="oRecord5")
    assert text.startswith("您的咨询 #1 法律顾问已答复：可以去法院起诉。")
    assert text.endswith("借钱要写借条。")
    assert next(db.query("SELECT status FROM tickets"))["status"] == "delivered"


def test_simulator_posts_are_recorded_as_such_in_development(app, wechat, db):
    use_decider(app)
    wechat.client.environ_base["HTTP_X_LEGALBOT_CHANNEL"] = "simulator"
    wechat.say("借钱不还怎么办", openid="oRecord6")
    assert next(db.query("SELECT channel FROM consultations"))["channel"] == "simulator"
