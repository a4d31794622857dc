"""What goes under an answer besides the law: the 人民调解 offer and the 普法 day's line.

The reply pipeline (bot/conversation/pipeline.py) calls ``with_notes`` once per reply, before it asks for the
village and cuts the text to WeChat's size. A dispute between people answered from the FAQ gets
the offer of the village's 人民调解委员会 (bot/conversation/mediation_offers.py); while a legal-publicity day
is near, an answer ends with a line pointing to it (bot/community/publicity.py) — once: the same line is
not put under a villager's next answer again (it changes when the day comes nearer). Neither may cost the
villager their answer: a fault here is logged and the answer goes out as it was.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from bot.conversation import mediation_offers
from bot.community import publicity
from bot.core import users
from bot.conversation.dispatch import Context, Incoming, Reply

log = logging.getLogger(__name__)


def notes_for(ctx: Context, incoming: Incoming, reply: Reply) -> list[str]:
    consultation = reply.consultation
    if consultation is None or consultation.action not in ("answer", "escalate"):
        return []
    notes = [mediation_offers.offer(ctx, incoming, consultation)]
    if consultation.action == "answer":
        notes.append(publicity_note(ctx, incoming.openid, consultation.faq_id))
    return [note for note in notes if note]


def publicity_note(ctx: Context, openid: str, faq_id: str | None) -> str | None:
    """The 普法 line, unless this villager was already shown the very same line."""
    line = todays_line(ctx.config, ctx.now, faq_id)
    user = users.get_user(ctx.db, openid) if line else None
    if line is None or (user is not None and user.get("publicity_noted") == line):
        return None
    users.update_user(ctx.db, openid, ctx.now, publicity_noted=line)
    return line


_lines: tuple[Any, date, dict[str | None, str | None]] | None = None


def todays_line(config: Any, now: float, faq_id: str | None) -> str | None:
    """``publicity.line_for``, worked out once a day per entry for the last config asked: the line
    depends only on the calendar, the township's date and the entry (asked under every answer, it
    cost more than the note's own write)."""
    global _lines
    today = publicity.township_today(now)
    kept = _lines
    if kept is None or kept[0] is not config or kept[1] != today:
        kept = _lines = (config, today, {})
    if faq_id not in kept[2]:
        kept[2][faq_id] = publicity.line_for(config, now, faq_id)
    return kept[2][faq_id]


def with_notes(ctx: Context, incoming: Incoming, reply: Reply) -> str | None:
    """The reply's text with the notes under it (the reply itself is left as it was)."""
    if reply.text is None:
        return None
    try:
        notes = notes_for(ctx, incoming, reply)
    except Exception:  # noqa: BLE001 - an offer or a calendar line is never worth an answer
        log.exception("notes under the answer failed for %s", incoming.openid)
        return reply.text
    return reply.text + "\n\n" + "\n".join(notes) if notes else reply.text
