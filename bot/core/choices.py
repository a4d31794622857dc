"""Numbered choices a villager answers with a number: "1", "２", "第三个".

The entries offered are kept in the villager's pending state (kind "clarify", bot/core/users.py)
for ``[matcher] clarify_ttl_seconds``; handlers/clarify.py reads them back. Here so that the
menu's topics (handlers/events.py) and the 普法 days (bot/community/publicity.py) offer entries the same
way without importing a handler.
"""
from __future__ import annotations

from bot.core import users
from bot.core.messages import Context


def offer_entries(ctx: Context, openid: str, faq_ids: list[str]) -> None:
    """Numbered examples offered with no question asked: a number sent back within the TTL
    answers that entry ("都不是" then only asks for the question)."""
    users.set_pending(ctx.db, openid, users.ChoicesOffered(tuple(faq_ids)),
                      ttl=ctx.config.matcher.clarify_ttl_seconds, now=ctx.now)
