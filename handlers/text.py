"""Typed questions (and voice transcripts) → the FAQ and the escalation rules → the villager's reply.

bot.retrieval.triage decides (the matcher's FAQ decision, or a hand-over for a serious matter); here
the decision becomes a recorded ``Consultation``, numbered choices are remembered for
handlers/clarify.py, a legal question the bot cannot answer is offered to the adviser in one
tap ("回复1", taken by handlers/handover.py), as is the answer of an entry whose matters usually
need a person (``needs_person``), and a serious matter becomes a ticket — after the FAQ's general
answer when it has one.
"""
from __future__ import annotations

import dataclasses

from bot.retrieval import triage as escalation
from bot.conversation import handover
from bot.core import users
from bot.conversation.dispatch import Consultation, Context, Incoming, Registry, Reply
from bot.kb.knowledge import compose_reply
from bot.retrieval.matcher import Decision, reply_for
from handlers import add

STILL_NEEDS_PERSON = "这件事还要请法律顾问帮您看看。"


def remember_choices(ctx: Context, decision: Decision, openid: str) -> None:
    """Keep the offered entries so that "1", "2" or "3" sent back within the TTL selects one."""
    offered = users.ChoicesOffered(tuple(c.faq_id for c in decision.candidates), decision.question,
                                   ctx.message_id, decision.category)
    users.set_pending(ctx.db, openid, offered, ttl=ctx.config.matcher.clarify_ttl_seconds, now=ctx.now)


def escalation_reply(ctx: Context, incoming: Incoming, decision: Decision,
                     consultation: Consultation) -> Reply:
    """The general answer when the FAQ has one, then the hand-over; the consultation recorded
    is the one linked to the ticket."""
    told, consultation = handover.hand_over_now(ctx, incoming, consultation,
                                                reason=decision.reason)
    text = handover.HAND_OVER_LEAD + told
    if decision.faq_id is not None:
        kb = ctx.services.knowledge
        general = compose_reply(kb.by_id[decision.faq_id], kb, ctx.config)
        text = f"{general}\n\n{STILL_NEEDS_PERSON}{told}"
    return Reply(text=text, handler="text", consultation=consultation, decision=decision)


def reply_text(ctx: Context, incoming: Incoming, decision: Decision, consultation: Consultation) -> str:
    """What the villager is told for a decision other than a hand-over."""
    if offered_to_adviser(decision):
        return handover.offer(ctx, consultation, incoming.openid, handover.CANNOT_ANSWER)
    if decision.action == "clarify":
        remember_choices(ctx, decision, incoming.openid)
    services = ctx.services
    kb = services.knowledge           # the request's snapshot (pinned): read once
    text = reply_for(decision, kb, ctx.config, services.matcher.triggers)
    if escalation.offers_person(kb, decision):
        return f"{text}\n\n" + handover.offer(ctx, consultation, incoming.openid, handover.PERSON_OFFERED)
    return text


def offered_to_adviser(decision: Decision) -> bool:
    """A legal question the FAQ could not answer: the adviser is offered in one tap."""
    return decision.action == "fallback" and escalation.is_legal_question(decision)


def placed(ctx: Context, decision: Decision) -> Decision:
    """Such a question gets a category from its words, for the adviser and the counts (a copy:
    the decision ``escalation.decide`` returned is left as it was)."""
    if not offered_to_adviser(decision):
        return decision
    category = escalation.fallback_category(ctx.services, decision)
    return dataclasses.replace(decision, category=category)


def question(incoming: Incoming, ctx: Context) -> Reply | None:
    """Every text that no earlier handler took is a question."""
    if not (incoming.text or "").strip():
        return None
    decision = placed(ctx, escalation.decide(ctx.services, incoming.text, incoming.normalized))
    consultation = Consultation.of(decision, incoming.text)
    if decision.action == "escalate":
        return escalation_reply(ctx, incoming, decision, consultation)
    text = reply_text(ctx, incoming, decision, consultation)
    return Reply(text=text, handler="text", consultation=consultation, decision=decision)


def register(registry: Registry) -> None:
    add(registry, "text", question, types={"text"})
