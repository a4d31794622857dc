"""What is found while one message is answered, kept until its reply is ready and no longer.

Several handlers and the matcher ask the same questions of one message: is something pending
for this villager (their row), is it urgent, is it small talk. ``scope`` opens a memo for one
message (bot/conversation/pipeline.py holds it around the handlers and the records); ``once``
answers from it or finds and keeps the answer; ``drop`` forgets what a write made stale.
Outside a scope every call finds afresh, so nothing outlives a message.

What is read inside a write transaction is kept apart (``once_in_transaction``) and forgotten
when that transaction ends or one of its savepoints is undone (``transaction_ended``, called by
bot.core.store.transaction): a row read after a write that was then rolled back never was.
"""
from __future__ import annotations

from contextvars import ContextVar
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict | None] = ContextVar("legalbot_per_message", default=None)


class scope:
    """``with scope():`` one message's memo: what is found inside is found once. (A class, not a
    generator-based context manager: entered once a message, that machinery cost more than the
    memo.)"""

    __slots__ = ("token",)

    def __enter__(self) -> None:
        self.token = _memo.set({})

    def __exit__(self, *exc) -> bool:
        _memo.reset(self.token)
        return False


def peek(key: Hashable) -> object | None:
    """What is kept under ``key`` for this message, or None; nothing is found or kept."""
    memo = _memo.get()
    return memo.get(key) if memo else None


def active() -> bool:
    """Whether a message's scope is open (what is found is kept)."""
    return _memo.get() is not None


def once(key: Hashable, find: Callable[[], T]) -> T:
    """``find()``, or what it gave for ``key`` earlier in the same message."""
    memo = _memo.get()
    if memo is None:
        return find()
    if key not in memo:
        memo[key] = find()
    return memo[key]


# The reads kept inside write transactions: under this key of the message's memo, by connection.
IN_TRANSACTION = ("in-transaction",)


def once_in_transaction(conn: object, key: Hashable, find: Callable[[], T]) -> T:
    """``once``, for a read made inside ``conn``'s write transaction: kept, apart from the rest,
    until the transaction ends (``transaction_ended`` forgets all of it at once)."""
    memo = _memo.get()
    if memo is None:
        return find()
    kept = memo.setdefault(IN_TRANSACTION, {}).setdefault(id(conn), {})
    if key not in kept:
        kept[key] = find()
    return kept[key]


MISSING = object()    # nothing kept (a kept value may be None: a villager not seen before)


def kept_in_transaction(conn: object, key: Hashable) -> object:
    """What ``once_in_transaction`` keeps under ``key`` for ``conn``'s transaction, or MISSING;
    nothing is found or kept (the villager's row is asked for some ten times a message)."""
    memo = _memo.get()
    transactions = memo.get(IN_TRANSACTION) if memo else None
    kept = transactions.get(id(conn)) if transactions else None
    return kept.get(key, MISSING) if kept else MISSING


def transaction_ended(conn: object) -> None:
    """``conn``'s transaction committed or rolled back (or a savepoint in it was undone): what was
    read inside it is read afresh next time."""
    memo = _memo.get()
    if memo:
        transactions = memo.get(IN_TRANSACTION)
        if transactions:
            transactions.pop(id(conn), None)


def forget(key: Hashable) -> None:
    """A write changed what was kept under ``key``: forget it, for the message and inside every
    transaction's reads (a key names what was read, not the connection it was read through).
    By key, not by looking at every key kept: the villager's row is forgotten at each of its
    writes, three or four a message."""
    memo = _memo.get()
    if not memo:
        return
    memo.pop(key, None)
    for kept in memo.get(IN_TRANSACTION, {}).values():
        kept.pop(key, None)
