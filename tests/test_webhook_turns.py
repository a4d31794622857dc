"""What one message costs the store and the lexicons: each thing done once per message.

A first answered question writes the message claim, then everything else — the village asked,
the notes under the answer, the consultation and the stored reply — in one write turn; the
urgent and small-talk lexicons read a message's text once although the handlers and the
matcher's first step both ask them. Nothing is kept from one message to the next.
"""
from __future__ import annotations

import time

import pytest

from bot.conversation import records
from bot.conversation.dispatch import Consultation, Incoming, Registry, Reply
from bot.core import users
from bot.retrieval import triage, triggers as triggers_module
from bot.retrieval.matcher import Matcher
from tests.support import text_xml
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures


def answered(incoming, ctx):
    """Stands in for the matcher: an answer from the knowledge base."""
    consultation = Consultation(question=incoming.text, action="answer", faq_id="debt.iou",
                                category="借贷", score=0.83)
    return Reply(text="借钱要写借条。", consultation=consultation)


def use_answer(app):
    app.extensions["legalbot"].registry.register("test.answered", 1, answered, types={"text"})


def write_turns(app) -> int:
    return app.extensions["legalbot"].request_db().write_queue.turns


def test_a_first_answered_question_is_claimed_then_written_in_one_turn(app, wechat, db):
    use_answer(app)
    before = write_turns(app)
    text = wechat.say("借钱不还怎么办", openid="oTurns1")
    assert "您是哪个村的" in text, "a first answered question asks the village"
    assert write_turns(app) - before == 2
    user = db.execute("SELECT pending, village_asked_at, last_inbound_at FROM users"
                      " WHERE openid = 'oTurns1'").fetchone()
    assert '"village"' in user[0] and user[1] is not None and user[2] is not None
    assert db.execute("SELECT count(*) FROM consultations WHERE openid = 'oTurns1'").fetchone()[0] == 1
    assert db.execute("SELECT state FROM messages WHERE openid = 'oTurns1'").fetchone()[0] == "done"


def test_the_village_question_is_not_kept_when_the_reply_cannot_be_stored(app, wechat, db, monkeypatch):
    """The notes and the record are one transaction: a failure storing the reply leaves no
    village question pending for an answer the villager never got (WeChat retries the message)."""
    use_answer(app)

    def broken(*_args, **_kw):
        raise RuntimeError("disk full")
    monkeypatch.setattr(records, "finish_message", broken)
    response = wechat.post(text_xml("借钱不还怎么办", openid="oTurns2"))
    assert response.status_code == 200
    user = db.execute("SELECT pending, village_asked_at FROM users WHERE openid = 'oTurns2'").fetchone()
    assert user is None or (user[0] is None and user[1] is None)
    assert db.execute("SELECT count(*) FROM consultations").fetchone()[0] == 0
    assert db.execute("SELECT state FROM messages WHERE openid = 'oTurns2'").fetchone()[0] == "processing"


@pytest.fixture
def reads(app, monkeypatch):
    """Counts the urgent lexicon's reads and the small-talk check's (which cuts what is left of
    a message into words when it cannot tell a question otherwise: its costly part)."""
    lexicons = app.extensions["legalbot"].lexicons
    counted = {"urgent": 0, "small_talk": 0}
    real_find, real_small_talk = triggers_module.Lexicon.find, triggers_module.Triggers.small_talk

    def find(self, text, *args, **kw):
        counted["urgent"] += self is lexicons.triggers.urgent
        return real_find(self, text, *args, **kw)

    def small_talk(self, *args, **kw):
        counted["small_talk"] += 1
        return real_small_talk(self, *args, **kw)
    monkeypatch.setattr(triggers_module.Lexicon, "find", find)
    monkeypatch.setattr(triggers_module.Triggers, "small_talk", small_talk)
    return counted


def test_the_urgent_and_small_talk_lexicons_read_a_question_once(app, wechat, reads):
    wechat.say("你好，借钱不还怎么办", openid="oTurns3")       # small talk, then a question
    assert (reads["urgent"], reads["small_talk"]) == (1, 1)


def test_nothing_read_is_kept_from_one_message_to_the_next(app, wechat, reads):
    wechat.say("你好，借钱不还怎么办", openid="oTurns4", msg_id=1)
    wechat.say("你好，借钱不还怎么办", openid="oTurns4", msg_id=2)
    assert (reads["urgent"], reads["small_talk"]) == (2, 2)


def test_outside_a_message_every_question_is_read_afresh(app):
    lexicon = app.extensions["legalbot"].lexicons.triggers
    assert lexicon.urgent_reason("他拿刀要砍我") is not None
    with triggers_module.reading_once():
        assert lexicon.urgent_reason("他拿刀要砍我") is not None
        assert lexicon.urgent_reason("借钱不还怎么办") is None
    assert lexicon.urgent_reason("借钱不还怎么办") is None


def test_a_handler_registered_after_messages_were_dispatched_is_offered_the_next_one():
    registry = Registry()
    registry.register("late", 50, lambda incoming, ctx: Reply(text="late"), types={"text"})
    incoming = type("Incoming", (), {"msg_type": "text"})()
    assert registry.dispatch(incoming, None).text == "late"
    registry.register("early", 10, lambda incoming, ctx: Reply(text="early"), types={"text"})
    assert registry.dispatch(incoming, None).text == "early"
    assert [e.name for e in registry.candidates(incoming)] == ["early", "late"]


def answered_outright(services) -> str:
    """A phrasing of the knowledge base that the FAQ answers outright (no hand-over, no choice)."""
    for entry in services.knowledge.entries:
        for question in entry.questions:
            normalized = Incoming(openid="o", msg_type="text", text=question).normalized
            if len(question) >= 6 and triage.decide(services, question, normalized).action == "answer":
                return question
    raise AssertionError("no phrasing is answered outright")


def test_a_question_sent_just_after_a_hand_over_is_decided_once(app, wechat, db, monkeypatch):
    """The hand-over's handler asks whether a message is a new question the FAQ answers; it is,
    so the question handler answers it — from the same decision, not from a second one."""
    services = app.extensions["legalbot"]
    question = answered_outright(services)
    ticket_id = db.execute("INSERT INTO tickets (openid, question, status, created_at)"
                           " VALUES ('oTurns5', '地被占了', 'open', 0)").lastrowid
    users.set_pending(db, "oTurns5", users.MoreExpected(ticket_id), 600, time.time())
    decisions = []
    real = Matcher.decide
    monkeypatch.setattr(Matcher, "decide", lambda self, *a, **kw: decisions.append(a) or real(self, *a, **kw))
    wechat.say(question, openid="oTurns5")
    assert len(decisions) == 1
    handled = db.execute("SELECT handler FROM messages WHERE openid = 'oTurns5'").fetchone()[0]
    assert handled == "text", "answered as a question, not added to the hand-over"


def test_answers_waiting_stay_waiting_when_their_delivery_fails_half_way(app, wechat, db, monkeypatch):
    """Waiting answers are marked delivered inside the reply's transaction: when marking the
    second fails, the first is not left marked delivered while neither went out."""
    from bot.escalation import delivery
    use_answer(app)
    for answer in ("先协商。", "再起诉。"):
        db.execute("INSERT INTO tickets (openid, question, status, answer, created_at)"
                   " VALUES ('oTurns6', '借钱', 'answered', ?, 0)", [answer])
    real, marked = delivery.mark_delivered, []

    def second_fails(*args, **kw):
        marked.append(args[1])
        if len(marked) == 2:
            raise RuntimeError("lost the connection")
        return real(*args, **kw)
    monkeypatch.setattr(delivery, "mark_delivered", second_fails)
    text = wechat.say("借钱不还怎么办", openid="oTurns6")
    assert text.startswith("借钱要写借条。") and "先协商" not in text
    statuses = [r[0] for r in db.execute("SELECT status FROM tickets WHERE openid = 'oTurns6'")]
    assert statuses == ["answered", "answered"]
    assert db.execute("SELECT state FROM messages WHERE openid = 'oTurns6'").fetchone()[0] == "done"
