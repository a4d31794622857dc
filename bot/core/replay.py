"""Nonce memory for /wechat: a signed query string is good for one body.

A plaintext request's ``signature`` is sha1(token, timestamp, nonce): it says nothing about the
body, so one query string copied from an access log would sign any message for the five minutes
the timestamp is accepted. Each (timestamp, nonce) is remembered for that window with a digest
of the body it came with; the same pair with another body is refused. The same pair with the
same body is let through: that is WeChat's own retry (or a replay that the dedupe answers with
the reply already sent), never a new message.

The memory is a table, so every gunicorn worker and a restarted server share it. The webhook
names the request's pair (``expecting``) and ``records.claim`` writes it in the same
transaction as the message's claim: one commit per message, as before.
"""
from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass

# Forget old pairs every this many remembered requests (one cheap DELETE on an index).
FORGET_EVERY = 64


class Replayed(Exception):
    """This (timestamp, nonce) came before with another body."""


@dataclass(frozen=True)
class Signed:
    timestamp: str
    nonce: str
    body_sha: str
    window_seconds: float


_current: ContextVar[Signed | None] = ContextVar("legalbot_signed_request", default=None)


def digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", errors="replace")).hexdigest()


class expecting:
    """``with expecting(...):`` while answering this request, its pair is remembered by the
    claim (``remember_current``). A class: a generator-based context manager cost more."""

    __slots__ = ("signed", "token")

    def __init__(self, timestamp: str, nonce: str, body: str, window_seconds: float):
        self.signed = Signed(timestamp, nonce, digest(body), window_seconds)

    def __enter__(self) -> None:
        self.token = _current.set(self.signed)

    def __exit__(self, *exc) -> bool:
        _current.reset(self.token)
        return False


def remember_current(db, now: float) -> None:
    """Inside a write transaction: remember the current request's pair, or raise Replayed.

    A timestamp is accepted from ``window_seconds`` before our clock to as long after, so a pair
    is kept for twice the window after it was first seen. Outside a request (the command line)
    there is nothing to remember.
    """
    signed = _current.get()
    if signed is None:
        return
    cursor = db.conn.execute("INSERT OR IGNORE INTO request_nonces (timestamp, nonce, body_sha, seen_at)"
                             " VALUES (?, ?, ?, ?)", [signed.timestamp, signed.nonce, signed.body_sha, now])
    if cursor.rowcount == 1:
        if cursor.lastrowid % FORGET_EVERY == 0:
            db.execute("DELETE FROM request_nonces WHERE seen_at < ?", [now - 2 * signed.window_seconds])
        return
    seen = db.execute("SELECT body_sha FROM request_nonces WHERE timestamp = ? AND nonce = ?",
                      [signed.timestamp, signed.nonce]).fetchone()
    if seen is not None and seen[0] != signed.body_sha:
        raise Replayed()
