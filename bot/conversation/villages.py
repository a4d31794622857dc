"""The village a villager named: remembered, and every hand-over that waited for it goes out.

Both the answer to the village question (handlers/village.py) and the village named after
"调解" (handlers/mediation.py) end here, so neither handler imports the other.
"""
from __future__ import annotations

from bot.conversation import handover
from bot.core import users
from bot.core.messages import Context


def settle_village(ctx: Context, openid: str, village: str) -> str:
    """Keep ``village`` and release the drafts waiting for it; returns what to tell the villager
    (the village noted, then who will answer each released hand-over)."""
    users.set_village(ctx.db, openid, village, ctx.now)
    released = handover.village_named(ctx, openid, village)
    told = "".join(handover.opened(ctx, ticket) for ticket in released)
    return f"好的，记下了，您是{village}的。" + told
