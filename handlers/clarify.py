"""The answer to "您想问的是：1 … 2 … 3 … 回复数字即可": a number selects the offered entry.

The choices live in the villager's pending state (bot/users.py, kind "clarify") for
config.matcher.clarify_ttl_seconds; after that a "2" is an ordinary message again.
"都不是" hands the original question to the village adviser.
"""
from __future__ import annotations

import re

from bot import users
from bot.dispatch import Consultation, Context, Incoming, Registry, Reply
from bot.knowledge import compose_reply
from handlers.text import hand_over

NONE_OF_THEM = re.compile(r"^(都不是|都不对|不是|没有|没有我要问的|以上都不是|0)$")
OUT_OF_RANGE = "没有这个序号，请回复{choices}中的一个数字；都不是请回复“都不是”。"


def chosen_number(normalized: str) -> int | None:
    """"2", "２", "二", "第2个" (normalized) → 2; anything else → None."""
    found = re.fullmatch(r"第?(\d{1,2})个?", normalized.replace("二", "2").replace("一", "1")
                         .replace("三", "3"))
    return int(found.group(1)) if found else None


def selected(ctx: Context, incoming: Incoming, pending: dict, number: int) -> Reply:
    ids = pending["data"]["faq_ids"]
    if not 1 <= number <= len(ids):
        choices = "、".join(str(n) for n in range(1, len(ids) + 1))
        return Reply(text=OUT_OF_RANGE.format(choices=choices), handler="clarify")
    users.clear_pending(ctx.db, incoming.openid, ctx.now)
    kb = ctx.services.knowledge
    entry = kb.by_id[ids[number - 1]]
    consultation = Consultation(question=pending["data"].get("question") or incoming.text,
                                action="answer", faq_id=entry.id, category=entry.category,
                                citations=list(entry.citations))
    return Reply(text=compose_reply(entry, kb, ctx.config), handler="clarify", consultation=consultation)


def none_of_them(ctx: Context, incoming: Incoming, pending: dict) -> Reply:
    users.clear_pending(ctx.db, incoming.openid, ctx.now)
    consultation = Consultation(question=pending["data"].get("question") or incoming.text,
                                action="escalate")
    told = hand_over(ctx, incoming, consultation, reason="clarify: 都不是")
    return Reply(text=told, handler="clarify", consultation=consultation)


def clarify(incoming: Incoming, ctx: Context) -> Reply | None:
    """A number or "都不是" answers the choices offered; any other text is a new message."""
    none = NONE_OF_THEM.match(incoming.normalized)
    number = None if none else chosen_number(incoming.normalized)
    if not none and number is None:
        return None
    pending = users.get_pending(ctx.db, incoming.openid, ctx.now, kind="clarify")
    if pending is None:
        return None
    return none_of_them(ctx, incoming, pending) if none else selected(ctx, incoming, pending, number)


def register(registry: Registry) -> None:
    registry.register("clarify", 32, clarify, types={"text"})
