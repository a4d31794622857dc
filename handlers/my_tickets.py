""""我的咨询" (or the menu's 我的咨询 button): where the villager's questions to advisers stand.

A hand-over still being told (the story or the village missing) is shown with what it waits
for, and every one not yet answered can be added to ("补充") or withdrawn ("取消").
"""
from __future__ import annotations

import re

from bot import tickets
from bot.dispatch import Context, Incoming, Registry, Reply

ASK = re.compile(r"^\s*(我的咨询|咨询进度|查进度)\s*$")
MENU_ACTION = "my_tickets"
SHOWN = 5
WAITS_FOR = {"story": "还没转出，等您说说是什么事：直接发给我就行",
             "village": "还没转出，还差您的村名：回复“改村”选一下"}
HOW_TO_CHANGE = "要补充，发“补充”加上您的话；不想问了，发“取消”。"


def wants_my_tickets(incoming: Incoming) -> bool:
    if incoming.msg_type == "event":
        return incoming.event == "click" and (incoming.text == MENU_ACTION
                                              or incoming.event_key == "MY_TICKETS")
    return bool(ASK.match(incoming.text or ""))


def ticket_line(ticket: tickets.Ticket) -> str:
    if ticket.status == tickets.S.DRAFT:
        status = WAITS_FOR.get(ticket.waiting_for or "", tickets.STATUS_LABELS["draft"])
    else:
        status = tickets.STATUS_LABELS.get(ticket.status, ticket.status)
    question = ticket.question if len(ticket.question) <= 20 else ticket.question[:20] + "…"
    line = f"#{ticket.id} {question or '（还没说是什么事）'}——{status}"
    if ticket.status in ("delivered", "closed") and ticket.answer:
        line += f"\n  答复：{ticket.answer}"
    return line


def my_tickets_text(db, openid: str) -> str:
    statuses = [tickets.S.DRAFT, *tickets.ANSWERABLE, "answered", "delivered", "closed", "cancelled"]
    mine = tickets.list_tickets(db, openid=openid, status=statuses)
    if not mine:
        return "您还没有转给法律顾问的咨询。有问题直接打字问我就行。"
    lines = [ticket_line(t) for t in mine[:SHOWN]]
    tail = [HOW_TO_CHANGE] if any(t.waiting for t in mine) else []
    return "\n".join(["您的咨询：", *lines, *tail])


def my_tickets(incoming: Incoming, ctx: Context) -> Reply | None:
    if not wants_my_tickets(incoming):
        return None
    return Reply(text=my_tickets_text(ctx.db, incoming.openid), handler="my_tickets")


def register(registry: Registry) -> None:
    registry.register("my_tickets", 45, my_tickets, types={"text", "event"})
