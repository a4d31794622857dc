"""Which village a villager lives in: asked the first time a question goes to an adviser.

The answer is a number from the list (or the village's name); "改村" asks again. When a
question was waiting for the village, its ticket is opened as soon as the village is known.
"""
from __future__ import annotations

import re

from bot import tickets, users
from bot.config import Config
from bot.dispatch import Context, Incoming, Registry, Reply

CHANGE = re.compile(r"^\s*(改村|换村|修改村|更改村)\s*$")


FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def chosen_village(text: str, config: Config) -> str | None:
    """'2', '２', '2 古坡村' or '古坡村' → the village; anything else → None."""
    text = (text or "").strip().translate(FULL_WIDTH_DIGITS)
    number = re.match(r"^(\d{1,2})\b", text)
    names = config.village_names
    if number and 1 <= int(number.group(1)) <= len(names):
        return names[int(number.group(1)) - 1]
    return next((name for name in names if text in (name, name.removesuffix("村"))), None)


def is_number(text: str) -> bool:
    return bool(re.match(r"^\s*[0-9０-９]{1,3}\s*$", text or ""))


def village_choice(incoming: Incoming, ctx: Context) -> Reply | None:
    village = chosen_village(incoming.text, ctx.config)
    if village is None and not is_number(incoming.text):
        return None                   # not an answer to the question: treat it as a new message
    pending = users.get_pending(ctx.db, incoming.openid, ctx.now, kind="village")
    if pending is None:
        return None
    if village is None:               # a number out of range: ask again, keep the question
        return Reply(text="没有这个序号。" + tickets.village_prompt(ctx.config), handler="village")
    users.clear_pending(ctx.db, incoming.openid, ctx.now)
    users.set_village(ctx.db, incoming.openid, village, ctx.now)
    return Reply(text=after_choice(ctx, incoming.openid, village, pending["data"]), handler="village")


def after_choice(ctx: Context, openid: str, village: str, data: dict) -> str:
    request = data.get("request")
    if not request:
        return f"好的，已记下您是{village}的。"
    ticket = tickets.open_pending_ticket(ctx, openid, village, request)
    return f"好的，已记下您是{village}的。" + tickets.opened_text(ctx, ticket)


def change_village(incoming: Incoming, ctx: Context) -> Reply | None:
    if not CHANGE.match(incoming.text or "") or not ctx.config.villages:
        return None
    current = tickets.known_village(ctx.db, ctx.config, incoming.openid)
    lead = f"现在记的是{current}。" if current else ""
    return Reply(text=lead + tickets.ask_village(ctx, incoming.openid, None), handler="village")


def register(registry: Registry) -> None:
    registry.register("village_change", 30, change_village, types={"text"})
    registry.register("village_choice", 31, village_choice, types={"text"})
