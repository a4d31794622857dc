"""Someone in danger now (正在打我, 拿刀, 不想活了, 喝农药 …): emergency numbers at once.

Runs before everything else that reads text, so no menu, pending choice or adviser command
can delay the numbers. An urgent ticket is opened at once (the village is not asked first) and
bot.escalation.routing decides who is told: the village adviser and the backup if WeChat reaches them,
else the township's duty contact. The reply names only people actually told; when no adviser
could be, it says plainly what to do now. The menu's 紧急求助 button takes the same path.
"""
from __future__ import annotations

from bot.conversation import handover
from bot.escalation import tickets
from bot.conversation.dispatch import Consultation, Context, Incoming, Registry, Reply
from bot.retrieval.matcher import URGENT_TEXT
from bot.escalation.routing import advisers_reached
from handlers import add

MENU_ACTION = "emergency"
MENU_QUESTION = "（点了菜单：紧急求助）"
MENU_ASK = "方便的话，打字告诉我们发生了什么、您在哪里。"


def urgent(incoming: Incoming, ctx: Context) -> Reply | None:
    reason = ctx.services.lexicons.triggers.urgent_reason(incoming.normalized)
    if reason is None:
        return None
    consultation = Consultation(question=incoming.text, action="urgent", score=1.0)
    told, consultation = handover.hand_over_now(ctx, incoming, consultation, urgent=True,
                                                reason=f"urgent: {reason}")
    return Reply(text=urgent_reply(ctx, consultation, told), handler="urgent",
                 consultation=consultation)


def emergency_menu(incoming: Incoming, ctx: Context) -> Reply | None:
    """The 紧急求助 button (a menu key whose reply is "emergency"): an urgent ticket, exactly as
    if the villager had typed it."""
    if incoming.event != "click" or ctx.config.menu_reply(incoming.event_key) != MENU_ACTION:
        return None
    consultation = Consultation(question=MENU_QUESTION, action="urgent")
    told, consultation = handover.hand_over_now(ctx, incoming, consultation, urgent=True,
                                                reason="menu: 紧急求助")
    return Reply(text=f"{urgent_reply(ctx, consultation, told)}\n{MENU_ASK}",
                 handler="urgent.menu", consultation=consultation)


def urgent_reply(ctx: Context, consultation: Consultation, told: str) -> str:
    """The emergency numbers, then who was told. When no adviser could be told, ``told`` itself
    says what to do now (every number to call), so it stands alone."""
    ticket = tickets.get_ticket(ctx.db, consultation.ticket_id) if consultation.ticket_id else None
    if ticket is not None and not advisers_reached(ctx.db, ctx.config, ticket, ctx.now):
        return told
    return f"{URGENT_TEXT}\n{told}"


def register(registry: Registry) -> None:
    add(registry, "urgent", urgent, types={"text"})
    add(registry, "urgent.menu", emergency_menu, types={"event"})
