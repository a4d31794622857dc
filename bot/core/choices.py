"""Numbered choices a villager answers with a number: "1", "２", "第三个".

The entries offered are kept in the villager's pending state (kind "clarify", bot/core/users.py)
for ``[matcher] clarify_ttl_seconds``; handlers/clarify.py reads them back. Here so that the
menu's topics (handlers/events.py) and the 普法 days (bot/community/publicity.py) offer entries the same
way without importing a handler.

A number answers the reply that asked for it, not one further back: numbered choices and the
adviser offered in one tap ("回复1") lapse when the next message is something else
(``lapse_offer``, called by the pipeline around dispatch).
"""
from __future__ import annotations

from bot.core import users
from bot.core.messages import Context, Reply

# What a number (or "好") sent next answers: the choices and the adviser offered.
ONE_TURN = frozenset({"clarify", "offer"})
# Replies that leave such an offer open: a number out of range asked again ("clarify"), the
# rest of the reply that made the offer ("more"), and the apology asking to send it again.
KEEPS_OFFER = frozenset({"clarify", "more", "error"})


def offer_entries(ctx: Context, openid: str, faq_ids: list[str]) -> None:
    """Numbered examples offered with no question asked: a number sent back within the TTL
    answers that entry ("都不是" then only asks for the question)."""
    users.set_pending(ctx.db, openid, users.ChoicesOffered(tuple(faq_ids)),
                      ttl=ctx.config.matcher.clarify_ttl_seconds, now=ctx.now)


def open_offer(db, openid: str, now: float) -> users.Pending | None:
    """The choices or adviser offer the villager's last reply made, if still open."""
    pending = users.get_pending(db, openid, now)
    return pending if pending is not None and pending.kind in ONE_TURN else None


def lapse_offer(ctx: Context, openid: str, offered: users.Pending | None, reply: Reply) -> None:
    """After a message that did not answer ``offered`` (and made no offer of its own), a later
    "1" must not reach back to it: it would hand over a question asked two answers ago."""
    if offered is None or reply.text is None or reply.handler in KEEPS_OFFER:
        return
    if users.get_pending(ctx.db, openid, ctx.now) == offered:
        users.clear_pending(ctx.db, openid, ctx.now)
