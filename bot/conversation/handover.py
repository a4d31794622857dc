"""A hand-over is a conversation: the villager asks for a person, tells the matter, names the
village once; the adviser gets a ticket that carries the villager's own words.

    转人工 (or the menu's 转法律顾问)  → "请用几句话说说是什么事"  → the story → the ticket
    转人工 我家的地被邻居占了…          → the ticket at once, from those words
    a question the bot cannot answer   → "回复1，转给您村的法律顾问" → 1 → the ticket
    a serious matter (court, detention…) → the ticket at once (after the general answer, if any)

A ticket waits as a draft (bot.escalation.tickets) while the story or the village is missing, so it is never
lost when the villager asks something else in between: "我的咨询" shows it, "补充" adds to it,
"取消" withdraws it, and naming the village (any time, also by "改村") sends it. Once a ticket is
open, what the villager writes in the next minutes is added to it.

The question, category and 参考法条 of a ticket come from the story, never from "转人工".
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

from bot.escalation import advisers as adv
from bot.retrieval import triage as escalation
from bot.escalation import tickets
from bot.core import users
from bot.core.config import Config, for_last_config
from bot.conversation.dispatch import Consultation, Context, Incoming
from bot.escalation.tickets import Ticket, TicketRequest

STORY_TTL = 3600        # a hand-over waits this long for the villager to tell the matter
VILLAGE_TTL = 3600      # a number is read as the village for this long after asking
MORE_TTL = 600          # after a ticket opens, messages within this time are added to it
MIN_STORY_CHARS = 4     # fewer characters than this are no story ("好", "嗯嗯")

ASK_STORY = "好的，我帮您转给村里的法律顾问。请用几句话说说是什么事：跟谁、出了什么事、想怎么办。"
ASK_STORY_AGAIN = "请用几句话说说是什么事，我好转给法律顾问。不想转了，回复“取消”。"
HAND_OVER_LEAD = "这件事需要法律顾问帮您看看。"
ADDED = "好的，已补充到咨询 #{id}，法律顾问会一起看。"
OFFER_TTL = 600         # "1" accepts an offered hand-over for this long
CANNOT_ANSWER = "这个问题我还答不上来。回复1，转给您村的法律顾问；也可以换个说法再问我。"
PERSON_OFFERED = "这类事情最好请法律顾问帮您看看：回复1，转给您村的法律顾问。"


# ---- what the villager is told -------------------------------------------------------------

def village_prompt(config: Config) -> str:
    lines = [f"{i} {name}" for i, name in enumerate(config.village_names, 1)]
    return "您是哪个村的？请回复数字：\n" + "\n".join(lines)


def answer_by(config: Config) -> str:
    """By when an answer is due: the adviser is chased after remind_after_hours."""
    days = max(1, math.ceil(config.escalation.remind_after_hours / 24))
    return f"一般{days}天内答复"


def opened(ctx: Context, ticket: Ticket) -> str:
    """Who will answer (bot.escalation.routing names only people actually reached), by when, and that more
    may be added."""
    told = tickets.opened_text(ctx, ticket)
    if ticket.urgent:
        return told
    return f"{told}{answer_by(ctx.config)}；还有要补充的，直接发给我。"


def offer(ctx: Context, consultation: Consultation, openid: str, text: str) -> str:
    """The adviser one reply ("1") away, for a question not answered or answered only in
    general; handlers/handover.py takes the "1". Returns ``text``, the offer's wording."""
    offered = users.PersonOffered(consultation.question, ctx.message_id, consultation.category)
    users.set_pending(ctx.db, openid, offered, OFFER_TTL, ctx.now)
    return text


def ask_village(ctx: Context, openid: str, ticket_id: int | None, lead: str = "") -> str:
    """Ask for the village; the number comes back to handlers/village.py. The question and
    when it was asked (asked unprompted only once) are one write."""
    users.set_pending(ctx.db, openid, users.VillageAsked(ticket_id), VILLAGE_TTL, ctx.now,
                      village_asked_at=ctx.now)
    return lead + prompt_for(ctx.config)


@for_last_config
def prompt_for(config: Config) -> str:
    """``village_prompt``, made once for the last config asked (a frozen config's villages do not
    change): a villager's first answered question asks it, inside the reply's write turn."""
    return village_prompt(config)


# ---- starting a hand-over -------------------------------------------------------------------

def known_village(db, config: Config, openid: str) -> str | None:
    village = users.get_village(db, openid)
    return village if village and config.village(village) else None


def request_of(incoming: Incoming, consultation: Consultation | None, *, urgent: bool,
               reason: str) -> TicketRequest:
    question = (consultation.question if consultation else "") or incoming.text or ""
    return TicketRequest(question=question,
                         category=consultation.category if consultation else None,
                         citations=list(consultation.citations) if consultation else [],
                         media_id=incoming.media_id or None, urgent=urgent, reason=reason)


def hand_over_now(ctx: Context, incoming: Incoming, consultation: Consultation | None, *,
                  urgent: bool = False, reason: str = "") -> tuple[str, Consultation | None]:
    """The matter is known: open the ticket (village known, or urgent: never wait), or keep it as
    a draft and ask the village. Returns who will answer and by when, or the village question
    (the caller puts its own lead in front), and the consultation linked to the ticket for the
    records: a copy, the caller's own is left as it was."""
    adv.ensure_advisers(ctx.db, ctx.config, ctx.now)
    request = request_of(incoming, consultation, urgent=urgent, reason=reason)
    village = known_village(ctx.db, ctx.config, incoming.openid)
    if village is None and ctx.config.villages and not urgent:
        ticket = tickets.write_ticket(ctx, incoming.openid, request, None, "village")
        return ask_village(ctx, incoming.openid, ticket.id), linked(consultation, ticket)
    ticket = tickets.open_ticket(ctx, incoming.openid, village, request)
    expect_more(ctx, incoming.openid, ticket.id)
    return opened(ctx, ticket), linked(consultation, ticket)


def hand_over_asked(ctx: Context, incoming: Incoming, asked: users.ChoicesOffered | users.PersonOffered,
                    reason: str) -> tuple[str, Consultation]:
    """A question asked a turn or two ago ("都不是", "1" after the offer) goes to a person now;
    ``asked`` is what was kept of it (question, category, the message that asked it), so the
    consultation of that message is completed rather than a second one counted."""
    consultation = Consultation(question=asked.question, action="escalate",
                                category=asked.category, reason=reason, follows=asked.message_id)
    told, linked_consultation = hand_over_now(ctx, incoming, consultation, reason=reason)
    return told, linked_consultation or consultation


def linked(consultation: Consultation | None, ticket: Ticket) -> Consultation | None:
    """``consultation`` with the ticket it opened (a copy), or None when there is none."""
    return None if consultation is None else dataclasses.replace(consultation, ticket_id=ticket.id)


def expect_more(ctx: Context, openid: str, ticket_id: int, asked: bool = False) -> None:
    """For the next minutes, what the villager writes is added to the ticket (``asked``: they
    said "补充", so the next message is an addition whatever it says)."""
    users.set_pending(ctx.db, openid, users.MoreExpected(ticket_id, asked), MORE_TTL, ctx.now)


def ask_for_story(ctx: Context, incoming: Incoming, reason: str) -> str:
    """转人工 without the matter: a draft that waits for the story, and the question for it."""
    ticket = tickets.write_ticket(ctx, incoming.openid, TicketRequest(reason=reason), None,
                                  "story")
    users.set_pending(ctx.db, incoming.openid, users.StoryAsked(ticket.id), STORY_TTL, ctx.now)
    return ASK_STORY


def story_decision(ctx: Context, story: str) -> Any:
    """What the FAQ and the escalation rules make of the story: its category and articles."""
    from bot.core.text import normalize
    decision = escalation.decide(ctx.services, story, normalize(story))
    category = decision.category or escalation.fallback_category(ctx.services, decision)
    return decision, category


def story_consultation(ctx: Context, story: str, reason: str, follows: int | None = None) -> tuple[Consultation, Any]:
    """The consultation of a hand-over told in the villager's own words."""
    decision, category = story_decision(ctx, story)
    cited = list(decision.citations) if decision.action in ("answer", "escalate") else []
    consultation = Consultation.of(decision, story, action="escalate", faq_id=None, category=category,
                                   citations=cited, reason=reason, follows=follows)
    return consultation, decision


def is_story(text: str) -> bool:
    return len("".join((text or "").split())) >= MIN_STORY_CHARS


def take_story(ctx: Context, incoming: Incoming, ticket: Ticket) -> tuple[str, Consultation, Any]:
    """The villager told the matter of a draft: it becomes the ticket's question, category and
    articles; the ticket goes out now if the village is known, else the village is asked."""
    users.clear_pending(ctx.db, incoming.openid, ctx.now)
    reason = ticket_reason(ctx.db, ticket) or "person: 转人工"
    consultation, decision = story_consultation(ctx, incoming.text.strip(), reason)
    request = TicketRequest(question=consultation.question, category=consultation.category,
                            citations=consultation.citations)
    village = known_village(ctx.db, ctx.config, incoming.openid)
    ticket = tickets.set_story(ctx.db, ticket, request, None if village else "village")
    consultation = linked(consultation, ticket)
    if village is None and ctx.config.villages:
        return ask_village(ctx, incoming.openid, ticket.id, "收到。"), consultation, decision
    ticket = tickets.release(ctx, ticket, village)
    expect_more(ctx, incoming.openid, ticket.id)
    return "收到。" + opened(ctx, ticket), consultation, decision


def ticket_reason(db, ticket: Ticket) -> str:
    row = db.execute("SELECT note FROM ticket_events WHERE ticket_id = ? AND kind = 'opened'",
                     [ticket.id]).fetchone()
    return row[0] if row and row[0] else ""


# ---- the village named, additions, withdrawals ----------------------------------------------

def village_named(ctx: Context, openid: str, village: str) -> list[Ticket]:
    """The villager named their village: every draft that waited for it goes out now."""
    waiting = [t for t in tickets.list_tickets(ctx.db, openid=openid, status=[tickets.S.DRAFT])
               if t.waiting_for == "village"]
    released = [tickets.release(ctx, t, village) for t in sorted(waiting, key=lambda t: t.id)]
    if released:
        expect_more(ctx, openid, released[-1].id)
    return released


def add(ctx: Context, ticket: Ticket, text: str) -> str:
    """The villager's 补充: kept with the ticket. A draft still waiting for its story gets it."""
    if ticket.status == tickets.S.DRAFT and ticket.waiting_for == "story":
        told, _, _ = take_story(ctx, Incoming(openid=ticket.openid, msg_type="text", text=text), ticket)
        return told
    tickets.add_to_ticket(ctx.db, ticket, text, ctx.now)
    return ADDED.format(id=ticket.id)


def cancel(ctx: Context, ticket: Ticket) -> str:
    if not tickets.cancel_ticket(ctx.db, ticket.id, ctx.now):
        return f"咨询 #{ticket.id} 已经答复了，不能取消。"
    users.clear_pending(ctx.db, ticket.openid, ctx.now)
    return f"好的，咨询 #{ticket.id} 已取消。还有问题，直接发给我就行。"
