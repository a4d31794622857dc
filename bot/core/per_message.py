"""What is found while one message is answered, kept until its reply is ready and no longer.

Several handlers and the matcher ask the same questions of one message: is something pending
for this villager (their row), is it urgent, is it small talk. ``scope`` opens a memo for one
message (bot/conversation/pipeline.py holds it around the handlers and the records); ``once``
answers from it or finds and keeps the answer; ``drop`` forgets what a write made stale.
Outside a scope every call finds afresh, so nothing outlives a message.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Hashable, Iterator, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict | None] = ContextVar("legalbot_per_message", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """One message's memo: what is found inside is found once."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def once(key: Hashable, find: Callable[[], T]) -> T:
    """``find()``, or what it gave for ``key`` earlier in the same message."""
    memo = _memo.get()
    if memo is None:
        return find()
    if key not in memo:
        memo[key] = find()
    return memo[key]


def drop(stale: Callable[[Hashable], bool]) -> None:
    """Forget every kept answer whose key ``stale`` accepts (a write changed what it read)."""
    memo = _memo.get()
    if memo:
        for key in [key for key in memo if stale(key)]:
            del memo[key]
