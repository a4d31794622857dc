"""Someone in danger now (正在打我, 拿刀, 不想活了, 喝农药 …): emergency numbers at once.

Runs before everything else that reads text, so no menu, pending choice or adviser command
can delay the numbers; an urgent ticket goes to the village adviser (and the backup).
"""
from __future__ import annotations

from bot.dispatch import Consultation, Context, Incoming, Registry, Reply
from bot.matcher import URGENT_TEXT
from bot.triggers import load_triggers
from handlers.text import hand_over


def urgent(incoming: Incoming, ctx: Context) -> Reply | None:
    reason = load_triggers().urgent_reason(incoming.normalized)
    if reason is None:
        return None
    consultation = Consultation(question=incoming.text, action="urgent", score=1.0)
    told = hand_over(ctx, incoming, consultation, urgent=True, reason=f"urgent: {reason}")
    return Reply(text=f"{URGENT_TEXT}\n{told}", handler="urgent", consultation=consultation)


def register(registry: Registry) -> None:
    registry.register("urgent", 10, urgent, types={"text"})
