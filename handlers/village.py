"""Which village a villager lives in: asked once after the first answered question, and at a
hand-over when it is still unknown; "改村" (typed or from the menu) asks again.

The answer is a number from the list, or the village's name — a name alone is taken whenever it
comes (a villager who asked something else first may answer the question later). Every hand-over
that waited for the village (a draft ticket, bot/conversation/handover.py) goes out as soon as it
is known (bot/conversation/villages.py).
"""
from __future__ import annotations

import re
from functools import lru_cache

from bot.conversation import handover
from bot.core import users
from bot.conversation.villages import settle_village
from bot.core.config import Config
from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from handlers import add

CHANGE = re.compile(r"^\s*(改村|换村|修改村|更改村|改一下村)\s*$")
MENU_ACTION = "change_village"
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
FULL_WIDTH_DIGIT_SET = frozenset("０１２３４５６７８９")
LEADING_NUMBER = re.compile(r"^(\d{1,2})\b")
NUMBER_ONLY = re.compile(r"^\s*[0-9０-９]{1,3}\s*$")    # read for every text message


def chosen_village(text: str, config: Config) -> str | None:
    """'2', '２', '2 古坡村' or '古坡村' → the village; anything else → None. Read for every text
    message: the digits are made half-width only when a full-width one is there."""
    text = (text or "").strip()
    if not FULL_WIDTH_DIGIT_SET.isdisjoint(text):
        text = text.translate(FULL_WIDTH_DIGITS)
    number = LEADING_NUMBER.match(text)
    names = tuple(config.village_names)
    if number and 1 <= int(number.group(1)) <= len(names):
        return names[int(number.group(1)) - 1]
    return villages_by_word(names).get(text)


@lru_cache(maxsize=8)
def villages_by_word(names: tuple[str, ...]) -> dict[str, str]:
    """Each village by its name and by its name without 村, the first in the list when two share
    a word (one look-up instead of trying every village for every message)."""
    table: dict[str, str] = {}
    for name in names:
        table.setdefault(name, name)
        table.setdefault(name.removesuffix("村"), name)
    return table


def is_number(text: str) -> bool:
    return bool(NUMBER_ONLY.match(text or ""))


def village_choice(incoming: Incoming, ctx: Context) -> Reply | None:
    """A number after the village question, or a village's name at any time."""
    village = chosen_village(incoming.text, ctx.config)
    if village is None and not is_number(incoming.text):
        return None                   # not an answer to the question: treat it as a new message
    pending = users.get_pending(ctx.db, incoming.openid, ctx.now, kind="village")
    if pending is None and (village is None or is_number(incoming.text)):
        return None
    if village is None:               # a number out of range: ask again, keep the question
        return Reply(text="没有这个序号。" + handover.village_prompt(ctx.config), handler="village")
    if pending is not None:
        users.clear_pending(ctx.db, incoming.openid, ctx.now)
    return Reply(text=settle_village(ctx, incoming.openid, village), handler="village")


def change_village(incoming: Incoming, ctx: Context) -> Reply | None:
    if not ctx.config.villages or not wants_change(incoming):
        return None
    current = handover.known_village(ctx.db, ctx.config, incoming.openid)
    lead = f"现在记的是{current}。" if current else ""
    return Reply(text=handover.ask_village(ctx, incoming.openid, None, lead), handler="village")


def wants_change(incoming: Incoming) -> bool:
    if incoming.msg_type == "event":
        return incoming.event == "click" and incoming.text == MENU_ACTION
    return bool(CHANGE.match(incoming.text or ""))


def register(registry: Registry) -> None:
    add(registry, "village_change", change_village, types={"text", "event"})
    add(registry, "village_choice", village_choice, types={"text"})
