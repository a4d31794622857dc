"""The 普法日历 in WeChat: the menu's 普法 button and "普法" show the day near (bot/community/publicity.py),
and WeChat's report that a 群发 finished (MASSSENDJOBFINISH) records how many it reached.

Neither a tap nor the job report is a consultation.
"""
from __future__ import annotations

import re

from bot.community import publicity
from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from handlers import add

ASK = re.compile(r"^\s*(普法|普法日历|今日普法|今天普法|普法日)\s*$")
MENU_ACTION = "publicity"


def wants_calendar(incoming: Incoming) -> bool:
    if incoming.msg_type == "event":
        return incoming.event == "click" and incoming.text == MENU_ACTION
    return bool(ASK.match(incoming.text or ""))


def calendar(incoming: Incoming, ctx: Context) -> Reply | None:
    if not wants_calendar(incoming):
        return None
    return Reply(text=publicity.publicity_text(ctx, incoming.openid), handler="publicity")


def count_of(raw: dict, name: str) -> int | None:
    value = (raw or {}).get(name)
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def mass_job_finished(incoming: Incoming, ctx: Context) -> Reply | None:
    """https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
    (事件推送群发结果): TotalCount followers, SentCount reached. No reply is expected."""
    if incoming.event != "masssendjobfinish":
        return None
    raw = incoming.raw or {}
    msg_id = str(raw.get("MsgID") or raw.get("MsgId") or "").strip()
    if msg_id:
        publicity.job_finished(ctx.db, msg_id, count_of(raw, "TotalCount"), count_of(raw, "SentCount"))
    return Reply(text=None, handler="publicity.job")


def register(registry: Registry) -> None:
    add(registry, "publicity.ask", calendar, types={"text"})
    add(registry, "publicity.menu", calendar, types={"event"})
    add(registry, "publicity.job", mass_job_finished, types={"event"})
