"""Commands from a bound adviser's phone: "待办", "详情 12", "答复 12 内容…", "转 12",
"结束 12" (once the answer reached the villager).

Only an openid bound with "绑定 123456" is an adviser; anyone else's "待办" is an ordinary
message. An adviser acts only on tickets of their own villages (the backup on all of them).
The web console calls the same functions in bot.escalation.tickets.
"""
from __future__ import annotations

import re
from typing import Callable

from bot.escalation import advisers as adv
from bot.escalation import tickets
from bot.escalation.advisers import Adviser
from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from bot.conversation.replies import capped_list, one_line
from bot.escalation.tickets import Ticket, TicketError
from handlers import add

TODO = re.compile(r"^\s*(待办|待答复|我的待办)\s*$")
DETAIL = re.compile(r"^\s*详情\s*#?(\d+)\s*$")
ANSWER = re.compile(r"^\s*答复\s*#?(\d+)\s*[:：,，]?\s*(.*)$", re.S)
HANDOVER = re.compile(r"^\s*转\s*#?(\d+)\s*$")
CLOSE = re.compile(r"^\s*(?:结束|办结)\s*#?(\d+)\s*$")
TODO_LIMIT = 10


def todo_text(ctx: Context, adviser: Adviser, _match) -> str:
    waiting = tickets.adviser_todo(ctx.db, adviser)
    if not waiting:
        return "目前没有待答复的咨询。"
    lines = [f"#{t.id} {t.village or ''} {hours_ago(ctx, t)}：{short(t.question)}" for t in waiting]
    return capped_list(f"待答复 {len(waiting)} 条：", lines, TODO_LIMIT, "条", "回复“详情 编号”看全文。")


def hours_ago(ctx: Context, ticket: Ticket) -> str:
    hours = int((ctx.now - ticket.created_at) // 3600)
    return f"{hours}小时前" if hours else "刚刚"


def short(text: str, limit: int = 24) -> str:
    return one_line(text, limit, "（语音）")


def detail_text(ctx: Context, adviser: Adviser, match) -> str:
    ticket = tickets.actionable_ticket(ctx.db, int(match.group(1)), adviser)
    lines = [f"咨询 #{ticket.id}（{ticket.village or '未填村'}，"
             f"{tickets.STATUS_LABELS.get(ticket.status, ticket.status)}）",
             f"问题：{ticket.question or '（语音留言，请到后台收听）'}"]
    if ticket.context:
        lines.append("村民补充：" + " / ".join(ticket.context))
    if ticket.category:
        lines.append(f"类别：{ticket.category}")
    if ticket.suggested:
        lines.append("参考法条：" + "、".join(ticket.suggested))
    if ticket.answer:
        lines.append(f"答复：{ticket.answer}")
    lines.append(next_step(ticket))
    return "\n".join(lines)


def next_step(ticket: Ticket) -> str:
    if ticket.status in tickets.CLOSABLE:
        return f"答复已送到村民。事情办完了请发：结束 {ticket.id}"
    return f"答复请发：答复 {ticket.id} 您的答复；交司法所请发：转 {ticket.id}"


def answer_text(ctx: Context, adviser: Adviser, match) -> str:
    ticket = tickets.answer_ticket(ctx, ctx.db, int(match.group(1)), adviser, match.group(2), ctx.now)
    how = ("会马上发给村民" if ctx.config.wechat.can_push
           else "村民下次发消息时会收到")
    return f"已记下您对咨询 #{ticket.id} 的答复，{how}。谢谢！"


def handover_text(ctx: Context, adviser: Adviser, match) -> str:
    ticket = tickets.reassign_ticket(ctx.db, int(match.group(1)), adviser, ctx.now,
                                     actor=adviser.name, note="adviser handed over")
    backup = adv.get_adviser(ctx.db, ticket.adviser_id)
    return f"咨询 #{ticket.id} 已转给{backup.name if backup else '司法所'}。"


def close_text(ctx: Context, adviser: Adviser, match) -> str:
    ticket = tickets.close_ticket(ctx.db, int(match.group(1)), adviser, ctx.now, actor=adviser.name)
    return f"咨询 #{ticket.id} 已结束（办结）。"


COMMANDS: list[tuple[re.Pattern, Callable[[Context, Adviser, re.Match], str]]] = [
    (TODO, todo_text), (DETAIL, detail_text), (ANSWER, answer_text), (HANDOVER, handover_text),
    (CLOSE, close_text)]


def adviser_command(incoming: Incoming, ctx: Context) -> Reply | None:
    """A command's syntax first, then whether the sender is a bound adviser (a database read
    that a villager's ordinary question does not need)."""
    for pattern, command in COMMANDS:
        match = pattern.match(incoming.text or "")
        if match:
            adviser = adv.adviser_by_openid(ctx.db, incoming.openid)
            return None if adviser is None else Reply(text=run(command, ctx, adviser, match),
                                                      handler="adviser")
    return None


def run(command, ctx: Context, adviser: Adviser, match) -> str:
    try:
        return command(ctx, adviser, match)
    except TicketError as exc:
        return str(exc)


def register(registry: Registry) -> None:
    # Before the urgent handler (handlers.PRIORITIES): an adviser's answer may well say "拿刀"
    # or "喝农药", and must be recorded as an answer, not read as a villager in danger. Only a
    # bound adviser's exact command syntax is taken here, so a villager is never delayed.
    add(registry, "adviser", adviser_command, types={"text"})
