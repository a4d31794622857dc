"""Per-villager state kept in SQLite, so it survives restarts and is shared by every worker.

One pending question at a time, the last one the bot asked: a clarify choice ("回复数字"), the
hand-over offered ("回复1"), a village to pick, the story of a hand-over, additions to a ticket
just opened. It expires, so a "2" sent tomorrow is read as a new message, not as yesterday's
choice. (A hand-over itself is never only pending state: it is a ticket, bot.tickets.)
"""
from __future__ import annotations

import json
from typing import Any

from bot.store import fetch_one, write


def get_user(db, openid: str) -> dict[str, Any] | None:
    return fetch_one(db, "SELECT * FROM users WHERE openid = ?", [openid])


def update_user(db, openid: str, now: float, **fields: Any) -> None:
    """Set ``fields`` on the user's row, creating it if needed, in one statement."""
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    sets = ", ".join(f"{k} = excluded.{k}" for k in fields)
    write(db, f"INSERT INTO users (openid, first_seen, updated_at, {columns}) VALUES (?, ?, ?, {marks}) "
              f"ON CONFLICT(openid) DO UPDATE SET {sets}, updated_at = excluded.updated_at",
          [openid, now, now, *fields.values()])


def touch_inbound(db, openid: str, now: float) -> None:
    """The user just wrote: WeChat's 48-hour customer-service window starts again."""
    update_user(db, openid, now, last_inbound_at=now, cs_sent_since_inbound=0)


def set_pending(db, openid: str, kind: str, data: dict[str, Any], ttl: float, now: float) -> None:
    pending = {"kind": kind, "data": data, "expires": now + ttl}
    update_user(db, openid, now, pending=json.dumps(pending, ensure_ascii=False))


def get_pending(db, openid: str, now: float, kind: str | None = None) -> dict[str, Any] | None:
    """The user's pending question, if it has not expired (and is of ``kind``, if given)."""
    user = get_user(db, openid)
    if not user or not user["pending"]:
        return None
    pending = json.loads(user["pending"])
    if pending["expires"] < now or (kind and pending["kind"] != kind):
        return None
    return pending


def clear_pending(db, openid: str, now: float) -> None:
    update_user(db, openid, now, pending=None)


def get_village(db, openid: str) -> str | None:
    user = get_user(db, openid)
    return user["village"] if user else None


def set_village(db, openid: str, village: str, now: float) -> None:
    update_user(db, openid, now, village=village)


def mark_village_asked(db, openid: str, now: float) -> None:
    """The bot asked which village: it asks unprompted only once (a hand-over may ask again)."""
    update_user(db, openid, now, village_asked_at=now)
