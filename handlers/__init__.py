"""The bot's behaviour, one module per kind of incoming thing.

Each module exposes ``register(registry)`` and registers small handlers with ``add``; the first
handler that returns a reply wins. ``create_app`` loads the modules listed in
``DEFAULT_HANDLERS``, in any order: the order they run in is ``PRIORITIES`` below, the one table
of it (lower runs first; two at one number run by name). Keep gaps so a new handler can slot in.
"""
from __future__ import annotations

from typing import Iterable

from bot.conversation.dispatch import Handler, Registry

DEFAULT_HANDLERS: list[str] = [
    "handlers.events", "handlers.media", "handlers.voice", "handlers.more", "handlers.unknown",
    "handlers.binding", "handlers.adviser", "handlers.village", "handlers.my_tickets",
    "handlers.lookup", "handlers.urgent", "handlers.clarify", "handlers.chitchat", "handlers.text",
    "handlers.handover", "handlers.stray", "handlers.mediation", "handlers.publicity",
]

PRIORITIES: dict[str, int] = {
    "adviser": 8,                # bound advisers' commands (their answers may quote danger words)
    "mediation.command": 9,      # mediators' commands (a session note may say 打架 or 拿刀)
    "urgent": 10,                # someone in danger: the numbers before anything else
    "urgent.menu": 11,           # the 紧急求助 button, the same path
    "binding": 15,               # 绑定 123456
    "unreadable": 25,            # text with nothing to read (empty, emoji, sticker)
    "mediation.village": 29,     # the village, asked after "调解"
    "more": 30,                  # 更多
    "village_change": 30,        # 改村 (typed or the menu)
    "village_choice": 31,        # the village number after the question
    "clarify": 32,               # a number or 都不是 after numbered choices
    "handover.offer": 33,        # "1" taking up the adviser offered
    "handover.request": 34,      # 转人工 and its kin
    "mediation.accept": 36,      # "调解" taking up the offer
    "mediation.contact": 37,     # the applicant's phone and the other side
    "law_lookup": 40,            # 查法条
    "handover.command": 44,      # 补充 / 取消
    "my_tickets": 45,            # 我的咨询 (typed or the menu)
    "mediation.mine": 46,        # 我的调解
    "publicity.ask": 47,         # 普法 typed
    "publicity.menu": 49,        # the 普法 button
    "events.subscribe": 50,
    "events.unsubscribe": 51,
    "events.menu": 52,           # every other menu click
    "publicity.job": 53,         # a 群发's job report
    "events.other": 59,          # VIEW, SCAN, LOCATION …: success
    "media": 60,                 # images, video, location, links, files
    "voice": 65,
    "chitchat": 70,
    "handover.story": 71,        # the story of a hand-over that asked for it
    "handover.more": 72,         # additions to a ticket just opened
    "stray": 75,                 # numbers and quit words answering nothing
    "text": 80,                  # questions → FAQ and escalation
    "unknown": 1000,             # the catch-all
}


def add(registry: Registry, name: str, handler: Handler, types: Iterable[str] = ()) -> None:
    """Register ``handler`` at its place in ``PRIORITIES`` (a name missing there is a KeyError
    at start-up, not a handler that silently runs in the wrong order)."""
    registry.register(name, PRIORITIES[name], handler, types)
