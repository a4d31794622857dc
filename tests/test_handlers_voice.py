"""Voice: WeChat's transcript is a question like any other; without one, the adviser listens."""
from __future__ import annotations

from pathlib import Path

from bot.conversation.dispatch import Consultation, Reply
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"


def post_fixture(wechat, name: str):
    return wechat.post((FIXTURES / name).read_text(encoding="utf-8"))


def echo_questions(app) -> list:
    """A stand-in matcher (text only) that records what it was asked."""
    asked = []

    def decide(incoming, ctx):
        asked.append(incoming)
        return Reply(text=f"答：{incoming.text}",
                     consultation=Consultation(question=incoming.text, action="fallback"))
    app.extensions["legalbot"].registry.register("test.matcher", 80, decide, types={"text"})
    return asked


def test_recognition_text_is_answered_as_a_text_question(app, wechat, db):
    asked = echo_questions(app)
    assert wechat.reply_text(post_fixture(wechat, "msg_voice_with_recognition.xml")) == "答：腾讯微信团队"
    assert asked[0].msg_type == "text" and asked[0].channel == "voice"
    row = next(db.query("SELECT channel, question FROM consultations"))
    assert (row["channel"], row["question"]) == ("voice", "腾讯微信团队")
    assert next(db.query("SELECT msg_type, content FROM messages"))["msg_type"] == "voice"


def test_empty_recognition_becomes_a_ticket_with_the_audio(wechat, db):
    db.execute("INSERT INTO users (openid, village) VALUES ('oDO796opXuEu2mWrn53BqlVW0u9I', '大年村')")
    text = wechat.reply_text(post_fixture(wechat, "msg_voice_empty_recognition.xml"))
    ticket = next(db.query("SELECT * FROM tickets"))
    assert ticket["media_id"].startswith("whQK88YniP8Q") and ticket["village"] == "大年村"
    assert "听" in text and f"#{ticket['id']}" in text
    row = next(db.query("SELECT id, channel, action FROM consultations"))
    assert (row["channel"], row["action"], row["id"]) == ("voice", "escalate", ticket["consultation_id"])


def test_voice_without_recognition_field_asks_the_village_then_keeps_the_audio(wechat, db):
    text = wechat.reply_text(post_fixture(wechat, "msg_voice.xml"))
    assert "听" in text and "哪个村" in text
    draft = next(db.query("SELECT status, waiting_for, media_id FROM tickets WHERE openid = 'fromUser'"))
    assert draft == {"status": "draft", "waiting_for": "village", "media_id": "media_id"}
    assert next(db.query("SELECT media_id FROM messages"))["media_id"] == "media_id"


def test_the_voice_handler_leaves_the_message_it_was_given_as_it_was(app):
    """The record learns "voice" from the reply (``Reply.channel``), not from the handler
    rewriting the caller's message."""
    from bot.conversation.dispatch import Context, Incoming
    from handlers.voice import voice
    echo_questions(app)
    services = app.extensions["legalbot"]
    incoming = Incoming(openid="oVoiceArgument01", msg_type="voice", text="借钱不还怎么办", channel="wechat")
    db = services.open_db()
    try:
        reply = voice(incoming, Context(services, db, 1_900_000_000.0))
    finally:
        db.conn.close()
    assert incoming.channel == "wechat" and incoming.msg_type == "voice"
    assert reply.channel == "voice" and reply.text == "答：借钱不还怎么办"
