"""Who gets a ticket, who is told about it, and what the villager is told.

A ticket must reach a person who will actually read it. The village's own adviser gets it when
WeChat can reach them now (bound, the account may push with real credentials, and inside the
48-hour window or with a template message configured); otherwise it goes to the backup (the
township 司法所) at once, not after the 72-hour deadline. An urgent ticket (someone in danger) is
announced to every one of the two who can be reached; when neither can, the township's duty
contact (config [duty]) is notified, and the villager is told plainly what to do now.

What the villager reads must be true: it names only people who were actually told, and the
village only when it is known.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.escalation import advisers as adv
from bot.escalation.advisers import Adviser
from bot.core.config import Config
from bot.escalation.delivery import in_cs_window
from bot.escalation.outbox import Hold
from bot.escalation.wechat_api import has_credentials

HOTLINES = ("有危险马上打110报警，有人受伤打120，妇女儿童受欺负打12338（妇联维权热线），"
            "心里难受、想不开打12356（心理援助热线）。")


@dataclass
class Route:
    """The outcome of routing one ticket."""

    assignee: Adviser | None                          # whose ticket it is (answers, reminders)
    notify: list[Adviser] = field(default_factory=list)   # who gets a WeChat notification
    passed_over: str = ""                             # why the village's adviser did not get it


def unreachable_reason(db, config: Config, adviser: Adviser, now: float) -> str | None:
    """Why WeChat cannot deliver a notification to ``adviser`` now, in words staff read; None
    when it can."""
    if not has_credentials(config):
        return "演示账号没有配置公众号的 AppID 和 AppSecret，微信消息发不出去"
    if not config.wechat.can_push:
        return "公众号是未认证的订阅号，不能主动发消息"
    if not adviser.openid:
        return f"{adviser.name}还没有绑定微信"
    if not config.wechat.adviser_template_id and not in_cs_window(db, config, adviser.openid, now):
        return f"{adviser.name}超过48小时没给公众号发消息，又没有配置模板消息"
    return None


def reachable(db, config: Config, adviser: Adviser | None, now: float) -> bool:
    return adviser is not None and unreachable_reason(db, config, adviser, now) is None


def route(db, config: Config, village: str | None, urgent: bool, now: float) -> Route:
    """The assignee and the people to notify for a new ticket from ``village``."""
    own, backup = adv.adviser_for_village(db, village), adv.backup_adviser(db)
    assignee, passed_over = pick_assignee(db, config, own, backup, now)
    alone = Route(assignee, [assignee] if assignee else [], passed_over)
    if not urgent:
        return alone
    reached = reachable_among(db, config, [own, backup], now)
    if reached:
        return Route(assignee, reached, passed_over)
    duty = adv.duty_adviser(db, config)
    if duty is None:
        return alone
    if reachable(db, config, duty, now):   # nobody else can be told: the duty contact takes it
        return Route(duty, [duty], f"法律顾问和司法所都联系不上，转给值班的{duty.name}")
    return Route(assignee, [duty], passed_over)


def pick_assignee(db, config: Config, own: Adviser | None, backup: Adviser | None,
                  now: float) -> tuple[Adviser | None, str]:
    """The village's adviser, or the backup at once when WeChat cannot reach the adviser."""
    if own is None or backup is None or own.id == backup.id:
        return own or backup, ""
    reason = unreachable_reason(db, config, own, now)
    return (backup, f"{reason}，直接转给{backup.name}") if reason else (own, "")


def reachable_among(db, config: Config, people: list[Adviser | None], now: float) -> list[Adviser]:
    """Those of ``people`` WeChat can reach now, each once, in order."""
    found: list[Adviser] = []
    for person in people:
        if reachable(db, config, person, now) and all(f.id != person.id for f in found):
            found.append(person)
    return found


# ---- what the villager is told -------------------------------------------------------------

def adviser_label(adviser: Adviser, village: str | None) -> str:
    """"古坡村的法律顾问覃律师", or the backup's own name (it is an office, not a person)."""
    if adviser.is_backup or not village or village not in adviser.villages:
        return adviser.name
    return f"{village}的法律顾问{adviser.name}"


def later_text(config: Config) -> str:
    return ("答复会发到这里" if config.wechat.can_push
            else "答复后，您下次给我们发消息时就能看到")


def opened_text(db, config: Config, ticket, now: float) -> str:
    """The reply to a villager whose question just became ticket #N."""
    if ticket.urgent:
        return urgent_text(db, config, ticket, now)
    assignee = adv.get_adviser(db, ticket.adviser_id)
    who = adviser_label(assignee, ticket.village) if assignee else "法律顾问"
    passed = passed_over_text(db, ticket.village, assignee)
    return (f"您的问题已转给{who}{passed}，咨询编号 #{ticket.id}。{later_text(config)}。"
            f"想看进度，发“我的咨询”就行。")


def passed_over_text(db, village: str | None, assignee: Adviser | None) -> str:
    own = adv.adviser_for_village(db, village)
    if not village or own is None or assignee is None or own.id == assignee.id or own.is_backup:
        return ""
    return f"（{village}的法律顾问{own.name}暂时联系不上）"


def reached_for(db, config: Config, ticket, now: float) -> list[Adviser]:
    """Of the people an urgent ticket concerns, those WeChat can reach now (duty included)."""
    people = [adv.adviser_for_village(db, ticket.village), adv.backup_adviser(db),
              adv.duty_adviser(db, config)]
    return reachable_among(db, config, people, now)


def duty_contact(db, config: Config) -> tuple[str, str]:
    """(name, phone) to call: the duty contact, or the backup when no [duty] is configured."""
    if config.duty.name and config.duty.phone:
        return config.duty.name, config.duty.phone
    return config.backup.name, config.backup.phone


def advisers_reached(db, config: Config, ticket, now: float) -> list[Adviser]:
    """The village adviser and the backup, those of them WeChat reaches (the duty contact not)."""
    duty = adv.duty_adviser(db, config)
    return [r for r in reached_for(db, config, ticket, now) if duty is None or r.id != duty.id]


def urgent_text(db, config: Config, ticket, now: float) -> str:
    """Who was told about an urgent ticket; when no adviser could be, what to do now."""
    reached = reached_for(db, config, ticket, now)
    advisers = advisers_reached(db, config, ticket, now)
    if advisers:
        names = "和".join(adviser_label(a, ticket.village) for a in advisers)
        phone = next((a.phone for a in advisers if a.phone), "")
        call = f"着急可以直接打电话 {phone}。" if phone else ""
        return f"已通知{names}（咨询编号 #{ticket.id}），会尽快在这里答复您。{call}"
    name, phone = duty_contact(db, config)
    told = (f"已通知{name}" if reached else "现在没能通知到法律顾问")
    call = f"也可以打{name}的电话 {phone}。" if phone else ""
    return (f"{told}，请不要等：{HOTLINES}{call}先保护好自己，到邻居家或人多的地方去。"
            f"您的话已经记下（咨询编号 #{ticket.id}），工作人员会尽快处理。")


class Unreachable(Hold):
    """An outbox job found its adviser unreachable: held, and the ticket passed on (bot.app.worker)."""

    def __init__(self, adviser_id: int, reason: str):
        super().__init__(reason)
        self.adviser_id = adviser_id
