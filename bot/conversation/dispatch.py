"""The handler registry: incoming things are offered to handlers in priority order.

The bot's own behaviour is written as handlers (handlers/*.py), each registered with a priority
by its module's ``register(registry)``; the first handler that returns a ``Reply`` wins. A
handler is thin: it decides whether the message is its business and calls pure functions.
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable

from bot.core.messages import Consultation, Context, Incoming, Reply

__all__ = ["Consultation", "Context", "Incoming", "Registration", "Registry", "Reply",
           "load_handlers"]

log = logging.getLogger(__name__)


Handler = Callable[[Incoming, Context], Reply | None]


@dataclass(order=True)
class Registration:
    priority: int
    name: str
    handler: Handler = field(compare=False)
    types: frozenset[str] = field(compare=False, default=frozenset())


class Registry:
    """Handlers by priority (lower runs first). ``types`` limits a handler to message types."""

    def __init__(self) -> None:
        self._entries: list[Registration] = []
        self._by_type: dict[str, list[Registration]] = {}

    def register(self, name: str, priority: int, handler: Handler,
                 types: Iterable[str] = ()) -> None:
        if any(e.name == name for e in self._entries):
            raise ValueError(f"handler {name!r} registered twice")
        self._entries.append(Registration(priority, name, handler, frozenset(types)))
        self._entries.sort()
        self._by_type.clear()

    def names(self) -> list[str]:
        return [e.name for e in self._entries]

    def candidates(self, incoming: Incoming) -> list[Registration]:
        """The handlers for this message type, in order: listed once per type, not filtered
        again for every message (34 handlers, most of them for text)."""
        found = self._by_type.get(incoming.msg_type)
        if found is None:
            found = self._by_type[incoming.msg_type] = [
                e for e in self._entries if not e.types or incoming.msg_type in e.types]
        return found

    def dispatch(self, incoming: Incoming, ctx: Context) -> Reply:
        for entry in self.candidates(incoming):
            reply = entry.handler(incoming, ctx)
            if reply is not None:
                return reply if reply.handler else dataclasses.replace(reply, handler=entry.name)
        return Reply(text=None, handler="none")


def load_handlers(modules: Iterable[str]) -> Registry:
    """Build a registry from handler modules, each exposing ``register(registry)``."""
    registry = Registry()
    for name in modules:
        importlib.import_module(name).register(registry)
    return registry
