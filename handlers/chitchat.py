"""Greetings, thanks, "你是谁", "帮助": a short friendly reply with examples of what to ask.

Only a message made of nothing but small talk is taken ("你好，彩礼能要回来吗" is a question).
"""
from __future__ import annotations

from bot.conversation.dispatch import Consultation, Context, Incoming, Registry, Reply
from bot.retrieval.matcher import chitchat_text
from handlers import add


def chitchat(incoming: Incoming, ctx: Context) -> Reply | None:
    triggers = ctx.services.lexicons.triggers
    normalized = incoming.normalized
    chat = triggers.chitchat_kind(normalized) if normalized else None
    if chat is None:
        return None
    text = chitchat_text(chat.kind, triggers, dict(ctx.config.local))
    consultation = Consultation(question=incoming.text, action="chitchat")
    return Reply(text=text, handler="chitchat", consultation=consultation)


def register(registry: Registry) -> None:
    add(registry, "chitchat", chitchat, types={"text"})
