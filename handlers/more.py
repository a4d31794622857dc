""""更多": the next part of an answer that was too long for one WeChat reply.

The webhook cuts replies at 2048 bytes and keeps the rest in ``users.more_text``; this handler
hands it back, and the webhook cuts it again if it is still too long.
"""
from __future__ import annotations

from bot.core import users
from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from handlers import add

NOTHING_MORE = "上一条回答已经全部发完了。还有别的问题，直接打字告诉我就行。"


def wants_more(text: str, keyword: str) -> bool:
    return text.strip().strip("。.!！") in (keyword, f"{keyword}内容", "more", "More")


def more(incoming: Incoming, ctx: Context) -> Reply | None:
    if not wants_more(incoming.text, ctx.config.reply.more_keyword):
        return None
    user = users.get_user(ctx.db, incoming.openid)
    rest = user["more_text"] if user else None
    return Reply(text=rest or NOTHING_MORE, handler="more")


def register(registry: Registry) -> None:
    add(registry, "more", more, types={"text"})
