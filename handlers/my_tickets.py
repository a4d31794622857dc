""""我的咨询" (or the menu's 我的咨询 button): where the villager's questions to advisers stand.

A hand-over still being told (the story or the village missing) is shown with what it waits
for, and every one not yet answered can be added to ("补充") or withdrawn ("取消").
"""
from __future__ import annotations

import re

from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from bot.escalation.tickets import my_tickets_text
from handlers import add

ASK = re.compile(r"^\s*(我的咨询|咨询进度|查进度)\s*$")
MENU_ACTION = "my_tickets"


def wants_my_tickets(incoming: Incoming) -> bool:
    if incoming.msg_type == "event":
        return incoming.event == "click" and (incoming.text == MENU_ACTION
                                              or incoming.event_key == "MY_TICKETS")
    return bool(ASK.match(incoming.text or ""))


def my_tickets(incoming: Incoming, ctx: Context) -> Reply | None:
    if not wants_my_tickets(incoming):
        return None
    return Reply(text=my_tickets_text(ctx.db, incoming.openid), handler="my_tickets")


def register(registry: Registry) -> None:
    add(registry, "my_tickets", my_tickets, types={"text", "event"})
