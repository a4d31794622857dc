"""Message dedupe and the records of every message and consultation (sqlite-utils, SQLite).

WeChat retries a message up to three times when the reply is slow
(https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html):
messages are deduplicated by FromUserName + MsgId (a MsgId is unique per sender only), events by
FromUserName + CreateTime (+ Event). The first attempt claims the key with a UNIQUE insert; a
retry finds the row and gets the stored reply, so the villager is answered once and the record
is written once, across restarts and workers. A claim names the process holding it
(bot.core.liveness): a retry takes over at once from a worker that died mid-request.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from bot.core import liveness, replay, users
from bot.core.messages import Consultation, Incoming, Reply
from bot.core.store import fetch_one, json_text, transaction, write

# A retry waits this long for the first attempt's reply (WeChat gives up after 5 s).
RETRY_WAIT_SECONDS = 3.5
RETRY_POLL_SECONDS = 0.05
# A row still 'processing' after this long was abandoned: taken over even when it cannot be told
# whether its process died (another machine). A claim by a dead process is taken over at once.
STALE_PROCESSING_SECONDS = 10.0


@dataclass
class Claim:
    """The outcome of claiming a dedupe key: ours to answer, or someone else's reply."""

    message_id: int
    mine: bool
    reply_xml: str | None = None     # set when an earlier attempt already answered


def dedupe_key(incoming: Incoming) -> str:
    """FromUserName + MsgId for messages; FromUserName + CreateTime + Event for events (they
    have no MsgId). Another sender's message with the same MsgId is another message.

    The EventKey is part of an event's key too: two menu buttons tapped within one second are
    two events, while WeChat's retry of one carries the same key.
    """
    if incoming.msg_type != "event" and incoming.msg_id:
        return f"msg:{incoming.openid}:{incoming.msg_id}"
    kind = incoming.event or incoming.msg_type
    return f"evt:{incoming.openid}:{incoming.create_time}:{kind}:{incoming.event_key}"


def claim(db, key: str, incoming: Incoming, now: float) -> Claim:
    """Insert the message row, or find the one an earlier attempt inserted. The request's signed
    (timestamp, nonce) is remembered in the same transaction (bot.core.replay: raises Replayed).

    A message that is ours to answer also has its villager's row read in this transaction and
    kept for the message (``users.read_ahead``): the handlers ask for it first thing, and reading
    it here spares a read transaction of its own, in which SQLite would check the WAL and, when the
    other worker has written since, read its pages afresh."""
    with transaction(db):
        replay.remember_current(db, now)
        cursor = db.conn.execute(
            "INSERT OR IGNORE INTO messages (dedupe_key, openid, msg_type, event, content, media_id,"
            " created_at, received_at, state, claimed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'processing', ?)",
            [key, incoming.openid, incoming.msg_type, incoming.event or None, incoming.text or None,
             incoming.media_id or None, incoming.create_time, now, liveness.this_process()])
        if cursor.rowcount == 1:
            users.read_ahead(db, incoming.openid)
    if cursor.rowcount == 1:
        return Claim(cursor.lastrowid, mine=True)
    row = message_row(db, key)
    if row["state"] == "processing" and take_over_if_stale(db, row, now):
        return Claim(row["id"], mine=True)
    return Claim(row["id"], mine=False, reply_xml=row["reply_xml"] if row["state"] == "done" else None)


def message_row(db, key: str) -> dict:
    return fetch_one(db, "SELECT id, state, reply_xml, received_at, claimed_by FROM messages"
                         " WHERE dedupe_key = ?", [key])


def take_over_if_stale(db, row: dict, now: float) -> bool:
    """Claim a row whose process is dead (or, when that cannot be told, that is too old).

    The update is conditional on the claim being the one read, so only one retry wins.
    """
    abandoned = liveness.is_dead(row["claimed_by"]) or row["received_at"] < now - STALE_PROCESSING_SECONDS
    if not abandoned:
        return False
    cursor = write(
        db, "UPDATE messages SET received_at = ?, claimed_by = ? WHERE id = ? AND state = 'processing'"
        " AND received_at = ? AND claimed_by IS ?",
        [now, liveness.this_process(), row["id"], row["received_at"], row["claimed_by"]])
    return cursor.rowcount == 1


def wait_for_reply(db, key: str, timeout: float = RETRY_WAIT_SECONDS) -> str | None:
    """Poll briefly for the first attempt's reply; None if it is still not done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = message_row(db, key)
        if row["state"] == "done":
            return row["reply_xml"]
        time.sleep(RETRY_POLL_SECONDS)
    return None


def finish(db, message_id: int, incoming: Incoming, reply: Reply, reply_xml: str,
           latency_ms: float, now: float, encoded: tuple[str, str] | None = None) -> None:
    """Store the reply and its consultation in one transaction: a retry answered from the stored
    reply must never find the consultation missing (the township counts those).

    A message (not an event) also reopens WeChat's 48-hour customer-service window, in the same
    transaction: one commit per answered message besides the dedupe claim. The reply pipeline
    calls this inside its own write transaction (bot/conversation/pipeline.py), which it joins
    without a savepoint of its own: a failure here fails the whole reply, so there is no inner
    part to undo alone. Called on its own, it opens the transaction. ``encoded`` is
    ``encoded_lists``' for the consultation, when made before the transaction.

    The villager's row is written last of this message (nothing reads it back before the commit).
    """
    if not db.conn.in_transaction:
        with transaction(db):
            return finish(db, message_id, incoming, reply, reply_xml, latency_ms, now, encoded)
    if incoming.msg_type != "event":
        users.touch_inbound(db, incoming.openid, now)
    users.write_held(db, incoming.openid, read_back=False)   # the row's changes, in one statement,
    if reply.consultation is not None:      # before the consultation reads the village from it
        row = consultation_row(message_id, incoming, reply, latency_ms, now, encoded)
        save_consultation(db, row, reply.consultation)
    finish_message(db, message_id, reply_xml, reply.handler, latency_ms)


def finish_message(db, message_id: int, reply_xml: str, handler: str, latency_ms: float) -> None:
    """Store the plaintext reply XML ('' means ``success``) so retries get the same answer."""
    write(
        db, "UPDATE messages SET state = 'done', reply_xml = ?, handler = ?, latency_ms = ?"
        " WHERE id = ?", [reply_xml, handler, round(latency_ms, 2), message_id])


def encoded_lists(consultation: Consultation) -> tuple[str, str]:
    """The consultation's candidates and citations as its row stores them (JSON): the reply
    pipeline makes them before the reply's write turn."""
    return (json_text([k.as_record() for k in consultation.candidates]), json_text(consultation.citations))


def consultation_row(message_id: int | None, incoming: Incoming, reply: Reply,
                     latency_ms: float, now: float, encoded: tuple[str, str] | None = None) -> dict:
    """One consultation (the decision about a question) as a row; the village is added when it
    is written. ``encoded``: ``encoded_lists``' for it, if already made."""
    c = reply.consultation
    candidates, citations = encoded or encoded_lists(c)
    return {
        "message_id": message_id, "openid": incoming.openid,
        "asked_at": now, "channel": reply.channel or incoming.channel, "question": c.question, "action": c.action,
        "faq_id": c.faq_id, "category": c.category, "score": c.score,
        "candidates": candidates, "citations": citations,
        "reply": reply.text, "latency_ms": round(latency_ms, 2), "reason": c.reason or None,
    }


def save_consultation(db, row: dict, consultation: Consultation) -> int:
    """Insert the consultation, or update the one this turn continues; link its ticket."""
    consultation_id = continued(db, consultation.follows)
    if consultation_id is None:
        consultation_id = insert_consultation(db, row)
    else:
        update_consultation(db, consultation_id, row)
    if consultation.ticket_id is not None:
        db.execute("UPDATE tickets SET consultation_id = ? WHERE id = ? AND consultation_id IS NULL",
                   [consultation_id, consultation.ticket_id])
    return consultation_id


def continued(db, message_id: int | None) -> int | None:
    """The consultation asked by message ``message_id`` (the first turn of this question)."""
    if message_id is None:
        return None
    found = fetch_one(db, "SELECT id FROM consultations WHERE message_id = ?", [message_id])
    return found["id"] if found else None


def insert_consultation(db, row: dict) -> int:
    """Write the row with the villager's village as it stands in this same transaction."""
    return write(db, insert_sql(tuple(row)), [*row.values(), row["openid"]]).lastrowid


@functools.lru_cache(maxsize=8)
def insert_sql(columns: tuple[str, ...]) -> str:
    """The INSERT for a row of these columns (``consultation_row`` makes one set: made once)."""
    return (f"INSERT INTO consultations ({', '.join(columns)}, village) VALUES"
            f" ({', '.join('?' for _ in columns)}, (SELECT village FROM users WHERE openid = ?))")


UPDATED = ("action", "faq_id", "score", "reply", "reason")
KEPT_IF_EMPTY = ("category", "candidates", "citations")


def update_consultation(db, consultation_id: int, row: dict) -> None:
    """A later turn of the same question: its outcome replaces the earlier one (an empty category,
    list of candidates or citations keeps what the first turn found). The question, its time,
    channel and message stay those of the first turn."""
    sets = [f"{k} = ?" for k in UPDATED] + [f"{k} = COALESCE(NULLIF(?, '[]'), {k})" for k in KEPT_IF_EMPTY]
    values = [row[k] for k in UPDATED] + [row[k] for k in KEPT_IF_EMPTY]
    write(db, f"UPDATE consultations SET {', '.join(sets)}, village = COALESCE(village,"
              " (SELECT village FROM users WHERE openid = ?)) WHERE id = ?",
          [*values, row["openid"], consultation_id])
