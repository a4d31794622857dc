"""Per-villager state kept in SQLite, so it survives restarts and is shared by every worker.

One pending question at a time, the last one the bot asked: a clarify choice ("回复数字"), the
hand-over offered ("回复1"), a village to pick, the story of a hand-over, additions to a ticket
just opened. It expires, so a "2" sent tomorrow is read as a new message, not as yesterday's
choice. (A hand-over itself is never only pending state: it is a ticket, bot.escalation.tickets.)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, ClassVar

from bot.core import per_message
from bot.core.store import fetch_one, json_text, reference_schema, write, write_queue, write_returning

# The rows read while one message is answered (bot/core/per_message.py), by (connection, openid).
read_once = per_message.scope   # the pipeline's per-message scope, under the name its readers know


def get_user(db, openid: str) -> dict[str, Any] | None:
    """The villager's row, read once while a message is answered (seven handlers ask whether
    something is pending for every message). Inside a write transaction it is read afresh the
    first time (under the write lock: another worker may have changed it since) and then kept
    until the transaction ends, not beyond: a rollback must not leave a row that never was.

    A row already kept for the message is returned first thing (asked some ten times a message)."""
    key = ("user", openid)
    if db.conn.in_transaction:
        row = per_message.kept_in_transaction(db.conn, key)
    else:
        rows = per_message.peek(key)
        row = rows.get(id(db), per_message.MISSING) if rows else per_message.MISSING
    if row is not per_message.MISSING:
        return row
    return kept_row(db, openid, lambda: read_row(db, openid))


def read_row(db, openid: str) -> dict[str, Any] | None:
    """The villager's row as stored now (None for a villager not seen before)."""
    return fetch_one(db, "SELECT * FROM users WHERE openid = ?", [openid])


def read_ahead(db, openid: str) -> None:
    """Inside a write transaction that leaves the users table alone (the message's claim): read
    the villager's row and keep it for the rest of the message, as a first ``get_user`` after
    the commit would have read it (nothing of this message changes it in between; another
    worker's change may land before or after either read alike)."""
    rows_kept(openid)[id(db)] = read_row(db, openid)


def rows_kept(openid: str) -> dict[int, dict[str, Any] | None]:
    """The villager's row as read outside a transaction, by connection, for this message."""
    return per_message.once(("user", openid), dict)


def kept_row(db, openid: str, find: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    """The row kept for ``db`` (in its transaction's memo while one is open), else ``find()``'s,
    kept: ``get_user`` and ``keep`` share the one place that names where a row is kept."""
    if db.conn.in_transaction:
        return per_message.once_in_transaction(db.conn, ("user", openid), find)
    if not per_message.active():
        return find()
    rows = rows_kept(openid)
    if id(db) not in rows:
        rows[id(db)] = find()
    return rows[id(db)]


def forget(db, openid: str) -> None:
    """The row changed: the next ``get_user`` reads it again, through any connection (a row
    kept for another connection to the same file is as stale as this one's)."""
    per_message.forget(("user", openid))


def keep(db, openid: str, row: dict[str, Any] | None) -> None:
    """The row as this connection just wrote it: the next ``get_user`` through it needs no read."""
    kept_row(db, openid, lambda: row)


def update_user(db, openid: str, now: float, **fields: Any) -> None:
    """Set ``fields`` on the user's row, creating it if needed, in one statement; the row as
    written comes back from the same statement and is kept for this message. While the row's
    changes are held (``holding``) they are kept and written with the others instead."""
    held = held_changes(db, openid)
    if held is not None:
        if write_queue(db).depth == held.depth:
            hold(db, openid, held, now, fields)
            return
        write_held(db, openid)          # inside a nested transaction: written at once, in order
    upsert(db, openid, now, fields)


def upsert(db, openid: str, now: float, fields: dict[str, Any], read_back: bool = True) -> None:
    """The one statement that writes the row, whether or not changes to it are held. The row as
    written comes back and is kept, unless the caller knows nothing reads it again (``read_back``
    false: the reply's last write, just before its commit; a later ``get_user`` reads it)."""
    forget(db, openid)
    params = [openid, now, now, *fields.values()]
    if not read_back:
        write(db, upsert_sql(tuple(fields), False), params)
        return
    keep(db, openid, write_returning(db, upsert_sql(tuple(fields), True), params))


@lru_cache(maxsize=64)
def upsert_sql(columns: tuple[str, ...], returning: bool) -> str:
    """The UPSERT of these columns (a few sets of them recur: made once each), returning the row
    as written or not."""
    sets = ", ".join(f"{k} = excluded.{k}" for k in columns)
    return (f"INSERT INTO users (openid, first_seen, updated_at, {', '.join(columns)}) VALUES"
            f" (?, ?, ?, {', '.join('?' for _ in columns)}) ON CONFLICT(openid) DO UPDATE SET {sets},"
            " updated_at = excluded.updated_at" + (" RETURNING *" if returning else ""))


# ---- one write for the reply's changes to the villager's row -----------------------------------

@dataclass
class Held:
    """Changes to one villager's row held back inside a write transaction: ``depth`` is the write
    queue's depth there (a nested transaction, which may be undone alone, writes at once)."""

    depth: int
    now: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)


class holding:
    """Inside the caller's write transaction and a message's scope: ``update_user`` for ``openid``
    changes the kept row (``get_user`` sees it) and holds the change; all of them are written as
    one statement by ``write_held`` or when the block ends. The reply pipeline holds the reply's
    changes — the 普法 line shown, the village asked, the rest kept for "更多", the customer-service
    window — which were three or four writes of one row a message. Without a scope or a
    transaction, or while another villager's row is held, nothing is held: every change is
    written at once, as always. (A class, not a generator-based context manager: entered every
    message, that machinery cost more than the holding.)"""

    __slots__ = ("db", "openid", "rows")

    def __init__(self, db, openid: str):
        self.db, self.openid, self.rows = db, openid, None

    def __enter__(self) -> None:
        db, openid = self.db, self.openid
        rows = held_rows(db)
        if not (db.conn.in_transaction and per_message.active()) or rows:
            return
        rows[openid] = Held(write_queue(db).depth)
        db.before_nested_transaction = lambda: write_held(db, openid)
        self.rows = rows

    def __exit__(self, kind, exc, tb) -> bool:
        if self.rows is None:
            return False
        try:
            if kind is None:
                write_held(self.db, self.openid)
        finally:
            self.rows.pop(self.openid, None)
            self.db.before_nested_transaction = None
        return False


def held_rows(db) -> dict[str, Held]:
    rows = getattr(db, "held_user_rows", None)
    if rows is None:
        rows = db.held_user_rows = {}
    return rows


def held_changes(db, openid: str) -> Held | None:
    rows = getattr(db, "held_user_rows", None)
    return rows.get(openid) if rows else None


def hold(db, openid: str, held: Held, now: float, fields: dict[str, Any]) -> None:
    """Keep the change, and the row as it will be once written."""
    row = get_user(db, openid)
    row = dict(row) if row is not None else blank_row(openid, now)
    row.update(fields, updated_at=now)
    held.fields.update(fields)
    held.now = now
    forget(db, openid)
    keep(db, openid, row)


def write_held(db, openid: str, read_back: bool = True) -> None:
    """Write the changes held for ``openid`` now, in one statement (the row written is kept,
    unless ``read_back`` is false: see ``upsert``)."""
    held = held_changes(db, openid)
    if held is None or not held.fields:
        return
    fields, held.fields = held.fields, {}
    upsert(db, openid, held.now, fields, read_back)


@lru_cache(maxsize=1)
def blank_columns() -> tuple[tuple[str, Any], ...]:
    """The users table's columns and their defaults, from the schema itself (a row just made)."""
    reference = reference_schema()
    cursor = reference.execute("INSERT INTO users (openid) VALUES ('') RETURNING *")
    row = cursor.fetchone()
    return tuple(zip((c[0] for c in cursor.description), row))


def blank_row(openid: str, now: float) -> dict[str, Any]:
    """The row ``update_user`` makes for a villager not seen before, before its fields are set."""
    return {**dict(blank_columns()), "openid": openid, "first_seen": now, "updated_at": now}


def touch_inbound(db, openid: str, now: float) -> None:
    """The user just wrote: WeChat's 48-hour customer-service window starts again."""
    update_user(db, openid, now, last_inbound_at=now, cs_sent_since_inbound=0)


# ---- what the bot waits for: one dataclass per kind -------------------------------------------

@dataclass(frozen=True)
class ChoicesOffered:
    """Numbered entries offered (handlers/clarify.py): a number picks one, "都不是" hands the
    question over. ``question`` is None for a menu's examples, where nothing was asked yet."""

    KIND: ClassVar[str] = "clarify"
    faq_ids: tuple[str, ...]
    question: str | None = None
    message_id: int | None = None     # the message that asked it: its consultation is completed
    category: str | None = None


@dataclass(frozen=True)
class PersonOffered:
    """The adviser offered in one tap ("回复1", handlers/handover.py) for a question asked."""

    KIND: ClassVar[str] = "offer"
    question: str
    message_id: int | None = None
    category: str | None = None


@dataclass(frozen=True)
class VillageAsked:
    """Which village the villager lives in (handlers/village.py); the ticket that waits for it."""

    KIND: ClassVar[str] = "village"
    ticket_id: int | None = None


@dataclass(frozen=True)
class StoryAsked:
    """The matter of a hand-over asked for after "转人工" (its draft ticket)."""

    KIND: ClassVar[str] = "story"
    ticket_id: int


@dataclass(frozen=True)
class MoreExpected:
    """What the villager writes next is added to a ticket just opened (``asked``: they said 补充)."""

    KIND: ClassVar[str] = "more"
    ticket_id: int
    asked: bool = False


@dataclass(frozen=True)
class MediationVillageAsked:
    """The village asked for before a mediation case is opened (handlers/mediation.py)."""

    KIND: ClassVar[str] = "mediation_village"


@dataclass(frozen=True)
class MediationContactAsked:
    """A phone number or the other party's name asked for a mediation case."""

    KIND: ClassVar[str] = "mediation_contact"
    case_id: int


Waiting = (ChoicesOffered | PersonOffered | VillageAsked | StoryAsked | MoreExpected
           | MediationVillageAsked | MediationContactAsked)
KINDS: dict[str, type] = {cls.KIND: cls for cls in (ChoicesOffered, PersonOffered, VillageAsked, StoryAsked,
                                                   MoreExpected, MediationVillageAsked, MediationContactAsked)}


def waiting_from(kind: str, data: dict[str, Any]) -> Waiting:
    """A stored kind and its data as the typed object (JSON lists become tuples); ValueError for
    a kind or a field this version does not know."""
    cls = KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown pending kind {kind!r}")
    try:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
    except TypeError as exc:
        raise ValueError(f"pending {kind!r}: {exc}") from exc


@dataclass(frozen=True)
class Pending:
    """The question the bot last asked this villager: what it waits for (``data``, typed by
    kind) and until when (epoch seconds). Stored as JSON ``{"kind", "data", "expires"}``, read
    and written only here."""

    data: Waiting
    expires: float = 0.0

    @property
    def kind(self) -> str:
        return self.data.KIND

    def as_json(self) -> str:
        """The kinds' fields are plain values and tuples of them, so the instance's own dict is
        what ``dataclasses.asdict`` would build, at a third of the cost (asked every message
        that ends in a question)."""
        return json_text({"kind": self.kind, "data": vars(self.data), "expires": self.expires})

    @classmethod
    def from_json(cls, text: str) -> "Pending":
        stored = json.loads(text)
        return cls(waiting_from(stored["kind"], stored.get("data") or {}), float(stored["expires"]))

    def waits_for(self, now: float, kind: str | None = None) -> bool:
        """Not expired, and of ``kind`` when one is asked for."""
        return self.expires >= now and (not kind or self.kind == kind)


def set_pending(db, openid: str, data: Waiting, ttl: float, now: float, **also: Any) -> None:
    """Keep the question the bot just asked (``also``: other fields written in the same statement)."""
    update_user(db, openid, now, pending=Pending(data, now + ttl).as_json(), **also)


def get_pending(db, openid: str, now: float, kind: str | None = None) -> Pending | None:
    """The user's pending question, if it has not expired (and is of ``kind``, if given)."""
    user = get_user(db, openid)
    if not user or not user["pending"]:
        return None
    pending = parsed_pending(user["pending"])
    return pending if pending is not None and pending.waits_for(now, kind) else None


def parsed_pending(text: str) -> Pending | None:
    """The stored JSON as a ``Pending`` (frozen, so it can be shared), parsed once per message:
    six handlers ask what is pending for a villager who has something pending."""
    return per_message.once(("pending", text), lambda: pending_of(text))


def pending_of(text: str) -> Pending | None:
    try:
        return Pending.from_json(text)
    except (ValueError, KeyError):    # written by another version: nothing the bot now waits for
        return None


def clear_pending(db, openid: str, now: float) -> None:
    update_user(db, openid, now, pending=None)


def get_village(db, openid: str) -> str | None:
    user = get_user(db, openid)
    return user["village"] if user else None


def set_village(db, openid: str, village: str, now: float) -> None:
    update_user(db, openid, now, village=village)
