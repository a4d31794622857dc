"""Typed questions (and voice transcripts) → the matcher → the villager's reply.

The handler is thin: ``Matcher.decide`` (bot/matcher.py) makes the decision, ``reply_for``
writes the text; here the decision becomes a recorded ``Consultation``, a numbered choice is
remembered for handlers/clarify.py, and a matter for a person becomes a ticket.
"""
from __future__ import annotations

import importlib.util

from bot import users
from bot.dispatch import Consultation, Context, Incoming, Registry, Reply
from bot.matcher import Decision, reply_for

NO_TICKETS = "请回复“转人工”或直接联系您村的法律顾问。"


def consultation_of(decision: Decision, question: str) -> Consultation:
    """What the records keep about a decision: action, entry, score, and the entries considered
    with their scores (their texts and articles are in the knowledge base, not copied per row)."""
    candidates = [{"faq_id": c["faq_id"], "score": c["score"]} for c in decision.candidates]
    return Consultation(question=question, action=decision.action, faq_id=decision.faq_id,
                        category=decision.category, score=round(decision.score, 3),
                        candidates=candidates, citations=list(decision.citations))


def hand_over(ctx: Context, incoming: Incoming, consultation: Consultation, *,
              urgent: bool = False, reason: str = "") -> str:
    """Open a ticket for the village adviser (bot.tickets) and return what to tell the villager."""
    if importlib.util.find_spec("bot.tickets") is None:
        return NO_TICKETS
    from bot.tickets import escalate
    return escalate(ctx, incoming, consultation, urgent=urgent, reason=reason)


def remember_choices(ctx: Context, incoming: Incoming, decision: Decision) -> None:
    """Keep the offered entries so that "1", "2" or "3" sent back within the TTL selects one."""
    data = {"faq_ids": [c["faq_id"] for c in decision.candidates], "question": decision.question}
    users.set_pending(ctx.db, incoming.openid, "clarify", data,
                      ttl=ctx.config.matcher.clarify_ttl_seconds, now=ctx.now)


def reply_text(ctx: Context, incoming: Incoming, decision: Decision, consultation: Consultation) -> str:
    services = ctx.services
    text = reply_for(decision, services.knowledge, ctx.config, services.matcher.triggers)
    if decision.action in ("escalate", "urgent"):
        told = hand_over(ctx, incoming, consultation, urgent=decision.action == "urgent",
                         reason=decision.reason)
        return f"{text}\n{told}" if decision.action == "urgent" else told
    if decision.action == "clarify":
        remember_choices(ctx, incoming, decision)
    return text


def question(incoming: Incoming, ctx: Context) -> Reply | None:
    """Every text that no earlier handler took is a question for the matcher."""
    if not (incoming.text or "").strip():
        return None
    decision = ctx.services.matcher.decide(incoming.text, incoming.normalized)
    consultation = consultation_of(decision, incoming.text)
    text = reply_text(ctx, incoming, decision, consultation)
    return Reply(text=text, handler="text", consultation=consultation)


def register(registry: Registry) -> None:
    registry.register("text", 80, question, types={"text"})
