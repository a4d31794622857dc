"""A number with no numbered list waiting for it, or a word for leaving ("退出", "exit"): a short
kind reply, and no consultation (they are not questions; staff count questions).

Numbers that answer something (choices, villages, the hand-over offer) are taken earlier by the
handlers that asked for them; this one sees only those that answer nothing.
"""
from __future__ import annotations

import re

from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from handlers import add

NUMBER = re.compile(r"^第?[0-9一二三四五六七八九十]{1,3}个?$")
QUIT = re.compile(r"^(退出|exit|quit|q|bye|结束|不问了|没事了|关闭)$", re.I)
NUMBER_REPLY = ("请直接打字说说您遇到的事，我来帮您查。想看大家常问的问题，"
                "点下面菜单的“常见问题”。")
QUIT_REPLY = "好的。以后有事，随时发消息给我。"


def stray(incoming: Incoming, ctx: Context) -> Reply | None:
    compact = incoming.normalized.replace(" ", "")
    if NUMBER.match(compact):
        return Reply(text=NUMBER_REPLY, handler="stray.number")
    if QUIT.match(compact):
        return Reply(text=QUIT_REPLY, handler="stray.quit")
    return None


def register(registry: Registry) -> None:
    add(registry, "stray", stray, types={"text"})
