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
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.conversation import mediation_offers
from bot.community import publicity
from bot.core import users
from bot.conversation.dispatch import Context, Incoming, Reply
from bot.retrieval.disputes import Kind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotesPlan:
    """What goes under an answer as far as no stored row decides it: the kind of dispute (for
    the 人民调解 offer) and the 普法 day's line. Worked out before the reply's write turn
    (``plan_notes``), so that the turn, which holds the write lock every worker queues for, runs
    only what depends on the rows read under it (a mediation case open, the line already shown)."""

    applies: bool = False          # an answer or a hand-over: notes may go under it
    kind: Kind | None = None       # the dispute the answered question describes
    line: str | None = None        # today's 普法 line for the entry (answers only)


NO_NOTES = NotesPlan()


def plan_notes(ctx: Context, incoming: Incoming, reply: Reply) -> NotesPlan:
    """The notes' plan for ``reply`` (a fault is logged: the answer then goes out without notes)."""
    consultation = reply.consultation
    if reply.text is None or consultation is None or consultation.action not in ("answer", "escalate"):
        return NO_NOTES
    try:
        kind = mediation_offers.dispute_kind(ctx, consultation)
        line = todays_line(ctx.config, ctx.now, consultation.faq_id) if consultation.action == "answer" else None
    except Exception:  # noqa: BLE001 - an offer or a calendar line is never worth an answer
        log.exception("notes under the answer failed for %s", incoming.openid)
        return NO_NOTES
    return NotesPlan(applies=True, kind=kind, line=line)


def notes_for(ctx: Context, incoming: Incoming, reply: Reply, plan: NotesPlan) -> list[str]:
    if not plan.applies:
        return []
    notes = [mediation_offers.offer(ctx, incoming, reply.consultation, plan.kind)]
    if plan.line is not None:
        notes.append(publicity_note(ctx, incoming.openid, plan.line))
    return [note for note in notes if note]


def publicity_note(ctx: Context, openid: str, line: str) -> str | None:
    """The 普法 line, unless this villager was already shown the very same line."""
    user = users.get_user(ctx.db, openid) if line else None
    if user is not None and user.get("publicity_noted") == line:
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


def with_notes(ctx: Context, incoming: Incoming, reply: Reply, plan: NotesPlan | None = None) -> str | None:
    """The reply's text with the notes under it (the reply itself is left as it was); ``plan``
    is ``plan_notes``'s for this reply, worked out here when not given."""
    if reply.text is None:
        return None
    plan = plan_notes(ctx, incoming, reply) if plan is None else plan
    try:
        notes = notes_for(ctx, incoming, reply, plan)
    except Exception:  # noqa: BLE001 - an offer or a calendar line is never worth an answer
        log.exception("notes under the answer failed for %s", incoming.openid)
        return reply.text
    return reply.text + "\n\n" + "\n".join(notes) if notes else reply.text
