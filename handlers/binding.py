""""绑定 49302117": an adviser links their WeChat to their adviser record with a one-time code.

The code comes from `legalbot adviser bind-code NAME` (printed or read out by township staff);
nobody has to find or type an openid. Any run of 6 to 12 digits is taken as a try, so a wrong
or old code counts against the sender (bot.escalation.advisers stops guessing).
"""
from __future__ import annotations

import re

from bot.escalation import advisers as adv
from bot.escalation import tickets
from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from handlers import add

BIND = re.compile(r"^\s*绑定\s*(\d{6,12})\s*$")
BAD_CODE = "绑定码不对或已过期，请向乡司法所要一个新的绑定码。"
LOCKED = "绑定码错了太多次，这个微信暂时不能绑定。请{minutes:g}分钟后再试，或直接联系乡司法所。"


def bound_text(adviser: adv.Adviser, waiting: int) -> str:
    """Notifications held while the adviser was unbound are not replayed (WeChat allows only
    5 messages per 48 h); instead the reply says how many tickets wait."""
    where = "全乡各村" if adviser.is_backup else "、".join(adviser.villages) or "您负责的村"
    pending = f"现在有{waiting}条咨询等您答复。" if waiting else ""
    return (f"绑定成功！{adviser.name}，以后{where}的咨询会发给您。{pending}"
            "回复“待办”看待答复的咨询，“答复 编号 内容”直接答复。")


def binding(incoming: Incoming, ctx: Context) -> Reply | None:
    match = BIND.match(incoming.text or "")
    if not match:
        return None
    adv.ensure_advisers(ctx.db, ctx.config, ctx.now)
    try:
        adviser = adv.bind(ctx.db, match.group(1), incoming.openid, ctx.now, ctx.config.binding)
    except adv.BindingLocked:
        return Reply(text=LOCKED.format(minutes=ctx.config.binding.failure_window_minutes),
                     handler="binding")
    except adv.BindingError:
        return Reply(text=BAD_CODE, handler="binding")
    waiting = len(tickets.adviser_todo(ctx.db, adviser))
    from bot.community.mediation import bound_text_for   # a mediator is told about their cases (人民调解)
    return Reply(text=bound_text_for(ctx.db, ctx.config, adviser, bound_text(adviser, waiting)),
                 handler="binding")


def register(registry: Registry) -> None:
    add(registry, "binding", binding, types={"text"})
