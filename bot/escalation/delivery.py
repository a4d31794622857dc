"""Getting the adviser's answer into the villager's WeChat.

WeChat lets an account push customer-service messages only within 48 hours of the user's last
message, at most 5 of them, and only on a verified account:
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
So an answer is pushed when the window is open; otherwise it is kept and put in front of the
next reply the villager gets ("您的咨询 #12 法律顾问已答复：…"). On an unverified subscription
account (config.wechat.can_push false) nothing is ever pushed.

The ticket's status is the truth about delivery: a push first takes a short lock on the ticket
(``delivery_lock_until``) and a reply only carries answers that are not locked, so the same
answer never arrives both ways.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bot.core import users
from bot.core.config import Config
from bot.core.messages import Context
from bot.escalation.outbox import Hold, JobRun, enqueue, job
from bot.core.store import transaction, write
from bot.escalation.wechat_api import WeChatError

OUT_OF_WINDOW = {45015, 45047}      # outside the 48 h window; over the 5-message quota


def in_cs_window(db, config: Config, openid: str, now: float) -> bool:
    """True when WeChat would accept a customer-service message to ``openid`` now."""
    user = users.get_user(db, openid)
    if not config.wechat.can_push or not user or not user["last_inbound_at"]:
        return False
    fresh = now - user["last_inbound_at"] < config.escalation.cs_window_hours * 3600
    return fresh and user["cs_sent_since_inbound"] < config.escalation.cs_max_messages


def count_cs_sent(db, openid: str) -> None:
    users.forget(db, openid)
    write(
        db, "UPDATE users SET cs_sent_since_inbound = cs_sent_since_inbound + 1 WHERE openid = ?",
        [openid])


def send_custom_or_none(db, client, openid: str, text: str, now: float) -> bool:
    """Send a customer-service text; False (not an error) when WeChat says the window is shut."""
    try:
        client.send_text(openid, text)
    except WeChatError as exc:
        if exc.errcode in OUT_OF_WINDOW:
            return False
        raise
    count_cs_sent(db, openid)
    return True


def answer_text(ticket_id: int, answer: str) -> str:
    return f"您的咨询 #{ticket_id} 法律顾问已答复：{answer}"


@dataclass(frozen=True)
class DeliverAnswer:
    """Outbox payload: push the adviser's answer of ``ticket_id`` to the villager."""

    KIND: ClassVar[str] = "deliver_answer"
    ticket_id: int


def queue_delivery(db, config: Config, ticket_id: int, openid: str, now: float) -> bool:
    """Push the answer now if WeChat allows it; otherwise it waits for the villager's next message."""
    if not in_cs_window(db, config, openid, now):
        return False
    enqueue(db, DeliverAnswer(ticket_id), now, dedupe_key=f"deliver:{ticket_id}")
    return True


# ---- the next reply carries what is waiting (called by the webhook for villagers) ---------

def attach_pending_answers(ctx: Context, openid: str, text: str | None) -> str:
    """Put answers waiting for this villager in front of ``text`` and mark them delivered."""
    answers = take_waiting_answers(ctx.db, openid, ctx.now)
    if not answers:
        return text or ""
    parts = [answer_text(row["id"], row["answer"]) for row in answers]
    return "\n\n".join([*parts, text] if text else parts)


VIA_NOTES = {"reply": "随村民下一条消息的回复送达", "simulator": "模拟器收到（代替客服消息）"}


def take_waiting_answers(db, openid: str, now: float, via: str = "reply") -> list[dict[str, Any]]:
    """Answered, unlocked tickets of ``openid``, marked delivered in the same transaction.

    Almost every message finds nothing waiting: a plain read answers that without taking the
    write lock, so ordinary replies do not queue behind each other. ``via`` is "reply" (with
    the villager's next reply) or "simulator" (the development simulator fetched it).
    """
    if not has_waiting_answers(db, openid, now):
        return []
    with transaction(db):
        rows = list(db.query(
            "SELECT id, answer FROM tickets WHERE openid = ? AND status = 'answered' AND "
            "(delivery_lock_until IS NULL OR delivery_lock_until < ?) ORDER BY id", [openid, now]))
        for row in rows:
            mark_delivered(db, row["id"], now, via, VIA_NOTES[via])
    return rows


def mark_delivered(db, ticket_id: int, now: float, via: str, note: str, **fields: Any) -> bool:
    """answered → delivered, through the tickets' one state machine (bot.escalation.tickets.TRANSITIONS)."""
    from bot.escalation.tickets import transition
    return transition(db, ticket_id, "delivered", now, actor="system", note=note,
                      expect=["answered"], delivered_at=now, delivered_via=via, **fields)


def has_waiting_answers(db, openid: str, now: float) -> bool:
    """Asked for every reply: straight to the connection (sqlite-utils' ``execute`` is one more call)."""
    return bool(db.conn.execute(
        "SELECT 1 FROM tickets WHERE openid = ? AND status = 'answered' AND "
        "(delivery_lock_until IS NULL OR delivery_lock_until < ?) LIMIT 1", [openid, now]).fetchone())


# ---- the push (an outbox job run by the worker) -------------------------------------------

def lock_for_push(db, ticket_id: int, now: float, lease: float) -> dict[str, Any] | None:
    """Take the ticket for a push, if it is still waiting; the lock expires if we die."""
    with transaction(db):
        changed = db.execute(
            "UPDATE tickets SET delivery_lock_until = ? WHERE id = ? AND status = 'answered' "
            "AND (delivery_lock_until IS NULL OR delivery_lock_until < ?)",
            [now + lease, ticket_id, now]).rowcount
    rows = db.query("SELECT * FROM tickets WHERE id = ?", [ticket_id]) if changed else []
    return next(iter(rows), None)


def unlock(db, ticket_id: int) -> None:
    write(db, "UPDATE tickets SET delivery_lock_until = NULL WHERE id = ?", [ticket_id])


def mark_pushed(db, ticket_id: int, now: float) -> None:
    mark_delivered(db, ticket_id, now, "cs", "客服消息送达", delivery_lock_until=None)


@job(DeliverAnswer)
def push_answer(run: JobRun, payload: DeliverAnswer) -> str:
    """Outbox job: send the answer by customer-service message, or keep it for the next reply
    (the ticket's push lock lasts as long as the row's lease)."""
    services, db, client, now, lease = run.services, run.db, run.client, run.now, run.lease
    ticket = lock_for_push(db, payload.ticket_id, now, lease)
    if ticket is None:
        raise Hold("答复已经送达（或正在送达）")
    try:
        sent = in_cs_window(db, services.config, ticket["openid"], now) and send_custom_or_none(
            db, client, ticket["openid"], answer_text(ticket["id"], ticket["answer"]), now)
    except BaseException:
        unlock(db, ticket["id"])
        raise
    if not sent:
        unlock(db, ticket["id"])
        raise Hold("村民超过48小时没发消息（或已收满5条），答复等他下次发消息时带给他")
    mark_pushed(db, ticket["id"], now)
    return "sent"
