"""Which questions go to a person, and what goes with them.

The FAQ is read for every question (bot.retrieval.matcher, without its escalation rules), then:

- a matter for a person (knowledge/dict/triggers.toml [escalate.*]: court papers, enforcement,
  detention and charges, serious injury or death, the state taking land, village funds, large
  frauds, tangles of parties) is handed over. When the FAQ holds the general rules for it (an
  entry with ``needs_person = true`` that the question is about), that answer goes first;
- an answer from an entry with ``needs_person = true`` to a question that holds no such matter
  is given with the hand-over offered in one tap (handlers/text.py): the entry's topic is one a
  person usually has to look at, but the question may only be asking what the rules are.

Everything else is the matcher's own decision. The handler (handlers/text.py) writes the reply
and opens the ticket; `legalbot ask --json` reports the same decision.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any

from bot.retrieval import categories
from bot.retrieval.triggers import Triggers, once

FAQ_VIEW = "_faq_view"


def faq_matcher(matcher: Any) -> Any:
    """The matcher reading the FAQ only: the same index, its trigger lexicons without the
    escalation rules (urgent and small talk stay). Made once per matcher and kept on it, so it
    lives exactly as long as the matcher (a module-level table would keep every matcher a
    process ever built, knowledge base, index and all)."""
    view = matcher.__dict__.get(FAQ_VIEW)
    if view is None:
        view = copy.copy(matcher)
        view.triggers = matcher.triggers.without_escalation()
        matcher.__dict__[FAQ_VIEW] = view
    return view


def decide(services: Any, question: str, normalized: str) -> Any:
    """The decision for a question: the FAQ's, or a hand-over (with the general answer when
    the FAQ has one for a serious matter). Made once per message (``triggers.reading_once``):
    a message sent just after a hand-over is read by the hand-over's handler ("is it a new
    question the FAQ answers?") and, when it is, by the question handler again."""
    matcher = services.matcher
    return once("decision", matcher, (question, normalized),
                lambda: deciding(services, matcher, question, normalized))


def deciding(services: Any, matcher: Any, question: str, normalized: str) -> Any:
    faq = faq_matcher(matcher).decide(question, normalized)
    if faq.action in ("urgent", "chitchat"):
        return faq
    triggers: Triggers = matcher.triggers
    reason = triggers.escalate_reason(normalized)
    if reason is None:
        return faq
    entry = general_help(services.knowledge, faq, serious=True)
    return escalated(services, faq, reason, entry, triggers.category_of(reason))


def needs_person(entry: Any) -> bool:
    return bool(getattr(entry, "needs_person", False))


def offers_person(kb: Any, decision: Any) -> bool:
    """An answer from an entry whose matters usually need a person: the hand-over is offered."""
    entry = kb.by_id.get(decision.faq_id) if decision.action == "answer" else None
    return entry is not None and needs_person(entry)


def general_help(kb: Any, faq: Any, serious: bool) -> Any | None:
    """For a matter already known to be serious, the needs_person entry whose general answer
    goes with the hand-over: the one answered, or the top one of the choices offered."""
    if not serious:
        return None
    if faq.action == "answer":
        entry = kb.by_id.get(faq.faq_id)
        return entry if entry is not None and needs_person(entry) else None
    if faq.action == "clarify" and faq.candidates:
        entry = kb.by_id.get(faq.candidates[0].faq_id)
        return entry if entry is not None and needs_person(entry) else None
    return None


def escalated(services: Any, faq: Any, reason: str, entry: Any | None, rule_category: str | None) -> Any:
    """The FAQ's decision turned into a hand-over, keeping what the matcher found."""
    if entry is not None:
        return dataclasses.replace(faq, action="escalate", faq_id=entry.id, category=entry.category,
                                   citations=list(entry.citations), reason=reason)
    category = categories.infer(services, faq.question, faq.candidates, rule_category)
    return dataclasses.replace(faq, action="escalate", faq_id=None, citations=[],
                               category=category or rule_category, reason=reason)


def fallback_category(services: Any, faq: Any) -> str | None:
    """A category for a question the FAQ could not answer, from its words."""
    return categories.infer(services, faq.question, faq.candidates)


def is_legal_question(decision: Any) -> bool:
    """Whether a question the FAQ could not answer is one an adviser could take: it holds a
    legal word and is inside the service's fields (bot.retrieval.decision's reasons say when not)."""
    return not (decision.reason or "").startswith(("no legal word", "outside the service"))
