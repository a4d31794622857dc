"""Voice messages: WeChat's own transcript when there is one, otherwise the adviser listens.

WeChat is withdrawing the ``Recognition`` field (speech-to-text), so it is often empty
(https://developers.weixin.qq.com/community/develop/doc/0004642ac48a28f049ff2b15f51800).
No offline Chinese speech model is available, so a voice message without text becomes a ticket
carrying the MediaId; the adviser can download the audio (kept by WeChat for 3 days).
"""
from __future__ import annotations

import dataclasses

from bot.conversation.dispatch import Consultation, Context, Incoming, Registry, Reply
from handlers import add

HEARD = "您的语音收到了，我会交给法律顾问来听。"


def voice(incoming: Incoming, ctx: Context) -> Reply:
    """A transcript is answered like a typed question; silence goes to the adviser."""
    if incoming.text.strip():
        return as_text_question(incoming, ctx)
    return to_adviser(incoming, ctx)


def as_text_question(incoming: Incoming, ctx: Context) -> Reply:
    """Offer the transcript to the whole registry as text; the record says it came by voice."""
    question = dataclasses.replace(incoming, msg_type="text", text=incoming.text.strip(), channel="voice")
    return dataclasses.replace(ctx.services.registry.dispatch(question, ctx), channel="voice")


def to_adviser(incoming: Incoming, ctx: Context) -> Reply:
    """Open a ticket the adviser can listen to (the ticket keeps the MediaId)."""
    from bot.conversation.handover import hand_over_now
    voiced = dataclasses.replace(incoming, channel="voice")
    consultation = Consultation(question="[语音留言]", action="escalate", reason="voice without text")
    told, consultation = hand_over_now(ctx, voiced, consultation, reason="语音留言，没有文字，请听录音")
    return Reply(text=HEARD + told, handler="voice", consultation=consultation, channel="voice")


def register(registry: Registry) -> None:
    add(registry, "voice", voice, types={"voice"})
