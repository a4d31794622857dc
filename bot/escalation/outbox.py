"""The durable outbox: every call to WeChat's API is first a row, then a send.

Nothing slow happens inside a webhook request (WeChat drops a reply after 5 s), and a network
fault must lose nothing, so a handler only *enqueues*; `legalbot worker` drains the table.

- ``enqueue`` is idempotent per ``dedupe_key`` (a webhook retry enqueues nothing new).
- ``claim`` takes due rows under a lease inside one IMMEDIATE transaction, so two workers
  never hold the same row; a worker that dies mid-send leaves a lease that simply expires.
- A row that fails is retried with exponential backoff (config [outbox]) and its error kept;
  after ``max_attempts`` it is ``failed``. A job may instead ``Hold`` a row: a deliberate stop
  (e.g. the villager is outside WeChat's 48-hour window, so the answer waits for their next
  message) that is not retried.
- Each kind of row is sent by one job, registered next to its code with ``@job("kind")`` (as
  wechatpy registers its message classes) and called the one way: ``job(run, payload)``.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Callable

from bot.core.config import OutboxSettings
from bot.core.redact import without_secrets
from bot.core.store import transaction, write


class Hold(Exception):
    """Raised by a job: stop this row on purpose (status ``held``), with the reason recorded."""


@dataclass(frozen=True)
class JobRun:
    """What every job is given besides its row's payload."""

    services: Any                    # bot.app.services.Services (its config, the knowledge base)
    db: Any                          # sqlite_utils.Database
    client: Any                      # bot.escalation.wechat_api.WeChatClient (or the fake in tests)
    now: float
    lease: float                     # how long this worker holds the row (a job's own locks: no longer)


Job = Callable[[JobRun, dict[str, Any]], str]
JOBS: dict[str, Job] = {}


def job(kind: str) -> Callable[[Job], Job]:
    """Register the function that sends rows of ``kind``; a kind has one job."""
    def register(send: Job) -> Job:
        known = JOBS.get(kind)
        if known is not None and name_of(known) != name_of(send):   # a module imported again is no clash
            raise ValueError(f"outbox kind {kind!r} already sent by {name_of(known)}")
        JOBS[kind] = send
        return send
    return register


def name_of(send: Job) -> str:
    return f"{send.__module__}.{send.__qualname__}"


@dataclass
class OutboxRow:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    claim_token: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "OutboxRow":
        return cls(id=row["id"], kind=row["kind"], payload=json.loads(row["payload"]),
                   attempts=row["attempts"], claim_token=row["claim_token"])


def enqueue(db, kind: str, payload: dict[str, Any], now: float,
            dedupe_key: str | None = None, delay: float = 0) -> int | None:
    """Add a call to make; a second row with the same ``dedupe_key`` is ignored (returns None)."""
    cursor = write(
        db, "INSERT OR IGNORE INTO outbox (kind, dedupe_key, payload, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [kind, dedupe_key, json.dumps(payload, ensure_ascii=False), now + delay, now])
    return cursor.lastrowid if cursor.rowcount else None


def claim(db, now: float, lease_seconds: float, limit: int = 20) -> list[OutboxRow]:
    """Take up to ``limit`` due rows (or rows whose previous worker's lease ran out)."""
    token = secrets.token_hex(8)
    with transaction(db):
        ids = [r["id"] for r in db.query(
            "SELECT id FROM outbox WHERE (status = 'pending' AND next_attempt_at <= ?) "
            "OR (status = 'sending' AND locked_until < ?) ORDER BY next_attempt_at, id LIMIT ?",
            [now, now, limit])]
        for row_id in ids:
            db.execute("UPDATE outbox SET status = 'sending', locked_until = ?, claim_token = ?, "
                       "attempts = attempts + 1 WHERE id = ?", [now + lease_seconds, token, row_id])
    marks = ",".join("?" * len(ids))
    rows = db.query(f"SELECT * FROM outbox WHERE id IN ({marks}) ORDER BY id", ids) if ids else []
    return [OutboxRow.from_row(r) for r in rows]


def _finish(db, row: OutboxRow, sets: str, params: list[Any]) -> bool:
    """Update the row only if we still hold its lease (a slow worker must not undo another's)."""
    cursor = write(
        db, f"UPDATE outbox SET {sets}, locked_until = NULL WHERE id = ? AND claim_token = ? "
        "AND status = 'sending'", [*params, row.id, row.claim_token])
    return cursor.rowcount == 1


def mark_sent(db, row: OutboxRow, now: float) -> bool:
    return _finish(db, row, "status = 'sent', sent_at = ?, last_error = NULL", [now])


def mark_held(db, row: OutboxRow, reason: str, now: float) -> bool:
    return _finish(db, row, "status = 'held', sent_at = ?, last_error = ?", [now, without_secrets(reason)])


def backoff_seconds(attempts: int, settings: OutboxSettings) -> float:
    """base · 2^(attempts−1), capped: 5 s, 10 s, 20 s … up to an hour by default."""
    return min(settings.backoff_base_seconds * 2 ** max(attempts - 1, 0),
               settings.backoff_max_seconds)


def mark_failed(db, row: OutboxRow, error: str, now: float, settings: OutboxSettings) -> str:
    """Schedule a retry with backoff, or give up after ``max_attempts``; the error is kept
    (without query strings: an access token must never be stored)."""
    error = without_secrets(error)
    if row.attempts >= settings.max_attempts:
        _finish(db, row, "status = 'failed', last_error = ?", [error[:500]])
        return "failed"
    _finish(db, row, "status = 'pending', next_attempt_at = ?, last_error = ?",
            [now + backoff_seconds(row.attempts, settings), error[:500]])
    return "retry"


def retry_failed(db, now: float) -> int:
    """Put every row that failed for good back in the queue, its attempts reset; returns how
    many. For after a fault outside the bot is mended (the server's address added to WeChat's IP
    whitelist, 40164): `legalbot worker --retry-failed`. Held rows stay held: they stopped on
    purpose."""
    return write(db, "UPDATE outbox SET status = 'pending', next_attempt_at = ?, attempts = 0, "
                     "locked_until = NULL WHERE status = 'failed'", [now]).rowcount


def counts(db) -> dict[str, int]:
    return {r["status"]: r["n"] for r in db.query(
        "SELECT status, count(*) AS n FROM outbox GROUP BY status")}
