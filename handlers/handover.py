"""The villager's side of a hand-over (bot/conversation/handover.py has the conversation itself):

- "转人工", "找律师", "法律顾问给我打个电话" …: with the matter in the same message the ticket
  opens from it at once; otherwise the bot asks for the story;
- "1" (or "好", "要") after "回复1，转给您村的法律顾问": the unanswered question goes over;
- the story the bot asked for, and what the villager adds in the minutes after a ticket opened;
- "补充 …" and "取消" at any time, for a hand-over not yet answered.

Requests and commands are not consultations: the story is (one row, the villager's words).
"""
from __future__ import annotations

import dataclasses
import re

from bot.retrieval import triage as escalation
from bot.conversation import handover
from bot.escalation import tickets
from bot.core import users
from bot.conversation.dispatch import Consultation, Context, Incoming, Registry, Reply
from bot.retrieval.matcher import Decision
from handlers import add

ACCEPT = re.compile(r"^(1|一|好|好的|要|是|是的|转|转吧|可以|行|嗯|嗯嗯|麻烦了|需要)$")
ADD = re.compile(r"^\s*补充\s*[:：,，]?\s*(.*)$", re.S)
CANCEL = re.compile(r"^\s*取消\s*#?(\d*)\s*$")
NOTHING_WAITING = "您现在没有等着答复的咨询。有问题直接打字问我就行。"
ASK_ADDITION = "好的，请把要补充的话发给我。"


def person_reason(ctx: Context, normalized: str) -> str | None:
    rule = ctx.services.matcher.triggers.escalate.get("person")
    found = rule.find(normalized) if rule else None
    return f"person: {found}" if found else None


def story_besides(ctx: Context, normalized: str) -> str:
    """What the message says besides asking for a person ("转人工 我家的地被占了" → the rest)."""
    rule = ctx.services.matcher.triggers.escalate.get("person")
    spans = sorted(span[:2] for part in rule.parts for span in part.spans(normalized))
    rest, at = [], 0
    for start, end in spans:
        rest.append(normalized[at:start])
        at = max(at, end)
    rest.append(normalized[at:])
    return " ".join("".join(rest).split())


def request_person(incoming: Incoming, ctx: Context) -> Reply | None:
    """转人工 and its kin: the ticket from the story in the same message, or ask for the story."""
    reason = person_reason(ctx, incoming.normalized)
    if reason is None:
        return None
    story = story_besides(ctx, incoming.normalized)
    if not handover.is_story(story):
        text = handover.ask_for_story(ctx, incoming, reason)
        return Reply(text=text, handler="handover", decision=Decision("escalate", reason=reason, score=1.0))
    consultation, decision = handover.story_consultation(ctx, story, reason)
    told, consultation = handover.hand_over_now(ctx, incoming, consultation, reason=reason)
    return Reply(text="好的。" + told, handler="handover", consultation=consultation,
                 decision=escalated(decision, consultation))


def escalated(decision: Decision, consultation: Consultation) -> Decision:
    """The decision `ask --json` reports for a story handed over (a copy: the matcher's own
    decision is left as it was)."""
    return dataclasses.replace(decision, action="escalate", reason=consultation.reason,
                               category=consultation.category, faq_id=None,
                               citations=list(consultation.citations))


def accept_offer(incoming: Incoming, ctx: Context) -> Reply | None:
    """"1" after "回复1，转给您村的法律顾问": the question that was not answered goes over."""
    if not ACCEPT.match(incoming.normalized.replace(" ", "")):
        return None
    pending = users.get_pending(ctx.db, incoming.openid, ctx.now, kind="offer")
    if pending is None:
        return None
    users.clear_pending(ctx.db, incoming.openid, ctx.now)
    told, consultation = handover.hand_over_asked(ctx, incoming, pending.data, "offer accepted")
    return Reply(text="好的。" + told, handler="handover", consultation=consultation)


def story(incoming: Incoming, ctx: Context) -> Reply | None:
    """The matter the bot asked for after "转人工"."""
    pending = users.get_pending(ctx.db, incoming.openid, ctx.now, kind="story")
    if pending is None:
        return None
    ticket = tickets.get_ticket(ctx.db, pending.data.ticket_id)
    if ticket is None or ticket.status != tickets.S.DRAFT:
        users.clear_pending(ctx.db, incoming.openid, ctx.now)
        return None
    if not handover.is_story(incoming.text):
        return Reply(text=handover.ASK_STORY_AGAIN, handler="handover.story")
    told, consultation, decision = handover.take_story(ctx, incoming, ticket)
    return Reply(text=told, handler="handover.story", consultation=consultation,
                 decision=escalated(decision, consultation))


def more(incoming: Incoming, ctx: Context) -> Reply | None:
    """What the villager writes in the minutes after a ticket opened belongs to it, unless it is
    a new question the FAQ answers outright (then it is answered, as any question)."""
    pending = users.get_pending(ctx.db, incoming.openid, ctx.now, kind="more")
    if pending is None or not handover.is_story(incoming.text):
        return None
    ticket = tickets.get_ticket(ctx.db, pending.data.ticket_id)
    asked = pending.data.asked                     # after "补充": always an addition
    if ticket is None or not ticket.waiting or (not asked and answered_outright(ctx, incoming)):
        return None
    return Reply(text=handover.add(ctx, ticket, incoming.text.strip()), handler="handover.more")


def answered_outright(ctx: Context, incoming: Incoming) -> bool:
    return escalation.decide(ctx.services, incoming.text, incoming.normalized).action == "answer"


def chosen_ticket(ctx: Context, openid: str, number: str) -> tickets.Ticket | None:
    waiting = tickets.waiting_tickets(ctx.db, openid)
    if number:
        return next((t for t in waiting if t.id == int(number)), None)
    return waiting[0] if waiting else None


def add_or_cancel(incoming: Incoming, ctx: Context) -> Reply | None:
    """"补充 …" adds to the latest hand-over not yet answered; "取消" (or "取消 5") withdraws it."""
    added, cancel = ADD.match(incoming.text or ""), CANCEL.match(incoming.text or "")
    if not added and not cancel:
        return None
    ticket = chosen_ticket(ctx, incoming.openid, cancel.group(1) if cancel else "")
    if ticket is None:
        return Reply(text=NOTHING_WAITING, handler="handover.command")
    if cancel:
        return Reply(text=handover.cancel(ctx, ticket), handler="handover.command")
    words = added.group(1).strip()
    if not words:
        handover.expect_more(ctx, incoming.openid, ticket.id, asked=True)
        return Reply(text=ASK_ADDITION, handler="handover.command")
    return Reply(text=handover.add(ctx, ticket, words), handler="handover.command")


def register(registry: Registry) -> None:
    add(registry, "handover.offer", accept_offer, types={"text"})
    add(registry, "handover.request", request_person, types={"text"})
    add(registry, "handover.command", add_or_cancel, types={"text"})
    add(registry, "handover.story", story, types={"text"})
    add(registry, "handover.more", more, types={"text"})
