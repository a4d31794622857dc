"""The reply pipeline: from one incoming message to the reply a villager reads, and its records.

    claim (dedupe) → dispatch to the handlers → ask the village once → adviser answers waiting
    ride along → cut to WeChat's size ("更多") → render XML → record message and consultation

The webhook (bot/app/webhook.py) checks, decrypts and parses, then calls ``answer_once``;
`legalbot chat` sends its lines through the same function, and `legalbot ask` makes a dry run
of it (``DryRun``) against a throwaway database, so all three decide alike.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from dataclasses import dataclass
from typing import Any

from bot.conversation import records, replies
from bot.core import choices, per_message, users
from bot.core.store import transaction
from bot.conversation.answer_notes import NotesPlan, plan_notes, with_notes
from bot.escalation.delivery import attach_pending_answers
from bot.conversation.dispatch import Context, Incoming, Reply

log = logging.getLogger(__name__)

APOLOGY = "抱歉，系统刚才出了点小问题，请过一会儿再发一次；着急的话请回复“转人工”。"
ASK_VILLAGE_LEAD = "顺便问一下，"
ASK_VILLAGE_TAIL = "\n不方便说也可以不回。"


@dataclass
class Answered:
    """One message answered: what the handlers decided and the reply XML sent ('' = no reply)."""

    reply: Reply | None
    reply_xml: str


def answer_once(app_services, db, incoming: Incoming, started: float) -> str:
    """The plaintext reply XML for a message, computed once however often WeChat retries."""
    return respond(app_services, db, incoming, started).reply_xml


def respond(app_services, db, incoming: Incoming, started: float) -> Answered:
    """Claim the message, answer it and record it; a retry gets the first attempt's reply."""
    key = records.dedupe_key(incoming)
    with per_message.scope():        # the villager's row (read by the claim) and the lexicons'
        claim = records.claim(db, key, incoming, time.time())       # findings: once a message
        if not claim.mine:
            stored = claim.reply_xml if claim.reply_xml is not None else records.wait_for_reply(db, key)
            return Answered(None, stored or "")
        ctx = Context(services=app_services, db=db, now=time.time(), message_id=claim.message_id)
        reply = dispatch_safely(ctx, incoming)
        ahead = Ahead.of(ctx, incoming, reply)           # what no row read under the lock decides
        with transaction(db), users.holding(db, incoming.openid):   # one write turn from the notes
            reply = prepare(ctx, incoming, reply, ahead.notes)      # to the records, one write of the row
            reply_xml = render(incoming, reply, ctx.now, ahead.frame)
            latency = (time.monotonic() - started) * 1000
            records.finish(db, claim.message_id, incoming, reply, reply_xml, latency, ctx.now, ahead.record)
    return Answered(reply, reply_xml)


@dataclass(frozen=True)
class Ahead:
    """What the reply's write turn needs that no row read under its lock decides, made before
    the lock is taken: every worker queues for that lock (bot.core.store.WriteQueue), so what runs
    under it is time the other worker waits. The notes' plan (the dispute's kind, the 普法 line),
    the reply XML around its content, the consultation's JSON lists."""

    notes: NotesPlan
    frame: tuple[str, str] | None
    record: tuple[str, str] | None

    @classmethod
    def of(cls, ctx: Context, incoming: Incoming, reply: Reply) -> "Ahead":
        frame = replies.text_frame(incoming.openid, account_of(incoming), int(ctx.now)) if reply.text is not None else None
        record = records.encoded_lists(reply.consultation) if reply.consultation is not None else None
        return cls(plan_notes(ctx, incoming, reply), frame, record)


def converse(ctx: Context, incoming: Incoming) -> Reply:
    """Dispatch to the handlers and prepare the text a villager is sent (``respond`` does the
    same and records the message in the same write turn)."""
    reply = dispatch_safely(ctx, incoming)
    with transaction(ctx.db):
        return prepare(ctx, incoming, reply)


def prepare(ctx: Context, incoming: Incoming, reply: Reply, notes: NotesPlan | None = None) -> Reply:
    """The reply a villager is sent: the handlers' reply with its text completed (a copy; the
    handlers' reply is left as it was).

    Under an answer go the 人民调解 offer and the 普法 day's line (bot/conversation/answer_notes.py); after
    the first answered question the village is asked, once; adviser answers waiting for
    this user ride along; a reply longer than WeChat's limit is cut and the rest kept for "更多".
    The caller holds one write transaction around it: these steps write up to four small rows
    (the offer, the line shown, the village asked, the rest for "更多"), which as statements of
    their own were four more turns on the write lock for every answered message. ``notes`` is
    the notes' plan (``plan_notes``), when made before that transaction.
    """
    if reply.text is None:
        return reply
    text = with_notes(ctx, incoming, reply, notes)   # the 人民调解 offer, the 普法 day (answer_notes.py)
    text += village_question(ctx, incoming.openid, reply)
    text = attach_pending(ctx, incoming.openid, text)
    return dataclasses.replace(reply, text=replies.fit_for_user(
        ctx.db, incoming.openid, text, ctx.config.reply.max_bytes, ctx.config.reply.more_keyword, ctx.now))


def dispatch_safely(ctx: Context, incoming: Incoming) -> Reply:
    """The handlers' reply; an offer of the last reply that this one did not take lapses."""
    offered = choices.open_offer(ctx.db, incoming.openid, ctx.now)
    try:
        reply = ctx.services.registry.dispatch(incoming, ctx)
    except Exception:  # noqa: BLE001 - a broken handler must not leave the villager unanswered
        log.exception("handler failed for %s %s", incoming.msg_type, incoming.openid)
        silent = incoming.msg_type == "event" and incoming.event not in ("click", "subscribe")
        return Reply(text=None if silent else APOLOGY, handler="error")
    choices.lapse_offer(ctx, incoming.openid, offered, reply)
    return reply


def village_question(ctx: Context, openid: str, reply: Reply) -> str:
    """Answer first, then ask: after a villager's first answered question, ask (once) which
    village they live in, so their questions count for their village and a later hand-over
    needs no question. Never when another question is pending (a number must mean one thing).
    The paragraph to add under the answer, or ''."""
    consultation = reply.consultation
    if consultation is None or consultation.action != "answer" or not ctx.config.villages:
        return ""
    user = users.get_user(ctx.db, openid)
    if user and (user["village"] or user.get("village_asked_at")):
        return ""
    if users.get_pending(ctx.db, openid, ctx.now) is not None:
        return ""
    from bot.conversation.handover import ask_village
    return "\n\n" + ask_village(ctx, openid, None, ASK_VILLAGE_LEAD) + ASK_VILLAGE_TAIL


def attach_pending(ctx: Context, openid: str, text: str) -> str:
    """Prepend adviser answers waiting for this villager (see bot.escalation.delivery)."""
    try:
        return attach_pending_answers(ctx, openid, text)
    except Exception:  # noqa: BLE001 - a delivery fault must not cost the villager this reply
        log.exception("attaching pending answers failed for %s", openid)
        return text


def render(incoming: Incoming, reply: Reply, now: float, frame: tuple[str, str] | None = None) -> str:
    """Plaintext reply XML, or '' for "no reply" (sent as ``success``); ``frame`` is the XML
    around the content (``replies.text_frame``), when made before."""
    if reply.text is None:
        return ""
    head, tail = frame or replies.text_frame(incoming.openid, account_of(incoming), int(now))
    return head + replies.cdata(reply.text) + tail


def account_of(incoming: Incoming) -> str:
    """Our account's id (the message's ToUserName), the sender of the reply."""
    to = (incoming.raw or {}).get("ToUserName")
    return to.strip() if isinstance(to, str) and to.strip() else "legalbot"


# ---- `legalbot ask`: a dry run of the same path ---------------------------------------------

# What `ask --json` reports for a reply that decided no question (DESIGN.md's six actions):
# a command or a menu tap is "chitchat" (a service reply, not a legal decision); the catch-all
# "cannot read this" is "fallback". Law lookups (查法条) carry their own decision: an answer
# citing the article.
SERVICE_ACTION = "chitchat"
FALLBACK_HANDLERS = {"unknown", "error"}


class DryRun:
    """Messages from new users, answered exactly as the webhook would, recorded only in a
    throwaway in-memory database (the real one is never opened)."""

    def __init__(self, services: Any):
        from bot.core.store import connect
        self.services = services
        self.db = connect(":memory:")
        self.numbers = itertools.count(1)

    def ask(self, text: str) -> dict[str, Any]:
        """DESIGN.md's `ask --json` object for ``text`` sent by a user never seen before."""
        number = next(self.numbers)
        incoming = Incoming(openid=f"oAskDryRun{number:07d}", msg_type="text", text=text,
                            msg_id=f"ask-{number}", create_time=int(time.time()), channel="cli")
        answered = respond(self.services, self.db, incoming, time.monotonic())
        return outcome(answered.reply, reply_text(answered.reply))

    def close(self) -> None:
        self.db.conn.close()


def reply_text(reply: Reply | None) -> str:
    return (reply.text or "") if reply is not None else ""


def outcome(reply: Reply | None, text: str) -> dict[str, Any]:
    """The decision behind a reply as DESIGN.md's JSON object."""
    decision = reply.decision if reply is not None else None
    if decision is not None:
        return decision_json(decision, text)
    consultation = reply.consultation if reply is not None else None
    if consultation is not None:
        return ask_object(consultation.action, consultation.faq_id, consultation.score, consultation.citations,
                          [], consultation.category, text, consultation.reason or (reply.handler if reply else ""))
    handler = reply.handler if reply is not None else ""
    action = "fallback" if handler in FALLBACK_HANDLERS else SERVICE_ACTION
    return ask_object(action, None, 0.0, [], [], None, text, handler)


def decision_json(decision: Any, text: str) -> dict[str, Any]:
    return ask_object(decision.action, decision.faq_id, decision.score, decision.citations,
                      [c.as_json() for c in decision.candidates], decision.category, text, decision.reason)


def ask_object(action: str, faq_id: str | None, score: float | None, citations: Any,
               candidates: list[dict[str, Any]], category: str | None, reply: str, reason: str) -> dict[str, Any]:
    """DESIGN.md's `ask --json` keys, in their order, whatever decided the reply."""
    return {"action": action, "faq_id": faq_id, "score": round(score or 0.0, 3), "citations": list(citations),
            "candidates": candidates, "category": category, "reply": reply, "reason": reason}
