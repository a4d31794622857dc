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
- Each kind of row has a payload dataclass (its ``KIND`` names the row's kind) and is sent by one
  job, registered next to its code with ``@job(PayloadClass)`` (as wechatpy registers its message
  classes) and called the one way: ``job(run, payload)``. The payload is JSON in the table (the
  dataclass's fields as an object: rows queued before payloads were typed read back the same) and
  is checked against the dataclass when read back: a row whose payload does not fit fails at
  once, its reason kept, instead of crashing the job or being retried.
"""
from __future__ import annotations

import json
import secrets
import types
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any, Callable, Union, get_args, get_origin, get_type_hints

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


class BadPayload(ValueError):
    """A row's payload does not fit its kind's dataclass (a field missing or of the wrong type)."""


Job = Callable[[JobRun, Any], str]     # (run, the kind's payload dataclass) → "sent"


@dataclass(frozen=True)
class Registration:
    """A kind's payload dataclass and the job that sends it."""

    payload: type
    send: Job


JOBS: dict[str, Registration] = {}


def job(payload: type) -> Callable[[Job], Job]:
    """Register the function that sends rows of ``payload.KIND``; a kind has one job."""
    kind = payload.KIND

    def register(send: Job) -> Job:
        known = JOBS.get(kind)
        if known is not None and name_of(known.send) != name_of(send):   # a module imported again is no clash
            raise ValueError(f"outbox kind {kind!r} already sent by {name_of(known.send)}")
        JOBS[kind] = Registration(payload, send)
        return send
    return register


def name_of(send: Job) -> str:
    return f"{send.__module__}.{send.__qualname__}"


@dataclass
class OutboxRow:
    id: int
    kind: str
    payload: Any          # the stored JSON as read (an object for every row this code wrote)
    attempts: int
    claim_token: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "OutboxRow":
        return cls(id=row["id"], kind=row["kind"], payload=stored_json(row["payload"]),
                   attempts=row["attempts"], claim_token=row["claim_token"])


def stored_json(text: str | None) -> Any:
    """The payload column as JSON; None for text that is not JSON (the job then fails it)."""
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def enqueue(db, payload: Any, now: float, dedupe_key: str | None = None,
            delay: float = 0) -> int | None:
    """Add a call to make, of kind ``payload.KIND``; a second row with the same ``dedupe_key``
    is ignored (returns None)."""
    cursor = write(
        db, "INSERT OR IGNORE INTO outbox (kind, dedupe_key, payload, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [payload.KIND, dedupe_key, json.dumps(asdict(payload), ensure_ascii=False), now + delay, now])
    return cursor.lastrowid if cursor.rowcount else None


# ---- reading a payload back ----------------------------------------------------------------

def fits(value: Any, hint: Any) -> bool:
    """``value`` (read from JSON) is of the annotated type: int, float, str, bool, None, dict,
    list, Any and unions of them."""
    if hint is Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    if isinstance(hint, types.UnionType) or get_origin(hint) is Union:
        return any(fits(value, option) for option in get_args(hint))
    expected = get_origin(hint) or hint
    if expected in (int, float) and isinstance(value, bool):
        return False
    return isinstance(value, (int, float) if expected is float else expected)


def read_payload(payload: type, stored: Any) -> Any:
    """The row's stored JSON as ``payload``'s dataclass; BadPayload naming the field if it does
    not fit (keys the dataclass does not have are ignored)."""
    if not isinstance(stored, dict):
        raise BadPayload(f"{payload.KIND}: payload is not a JSON object")
    hints, values = get_type_hints(payload), {}
    for spec in fields(payload):
        if spec.name not in stored:
            if spec.default is MISSING and spec.default_factory is MISSING:
                raise BadPayload(f"{payload.KIND}: payload has no {spec.name!r}")
            continue
        if not fits(stored[spec.name], hints[spec.name]):
            raise BadPayload(f"{payload.KIND}: {spec.name!r} is {stored[spec.name]!r:.40}, "
                             f"not {getattr(hints[spec.name], '__name__', hints[spec.name])}")
        values[spec.name] = stored[spec.name]
    return payload(**values)


def run(row: "OutboxRow", job_run: JobRun) -> str:
    """Send one row: its kind's job with its payload read back (Hold for a kind no job sends)."""
    registration = JOBS.get(row.kind)
    if registration is None:
        raise Hold(f"unknown outbox kind {row.kind!r}")
    return registration.send(job_run, read_payload(registration.payload, row.payload))


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


def give_up(db, row: OutboxRow, error: str) -> str:
    """Fail the row for good, the error kept (``retry_failed`` can queue it again)."""
    _finish(db, row, "status = 'failed', last_error = ?", [without_secrets(error)[:500]])
    return "failed"


def mark_failed(db, row: OutboxRow, error: str, now: float, settings: OutboxSettings) -> str:
    """Schedule a retry with backoff, or give up after ``max_attempts``; the error is kept
    (without query strings: an access token must never be stored)."""
    error = without_secrets(error)
    if row.attempts >= settings.max_attempts:
        return give_up(db, row, error)
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
