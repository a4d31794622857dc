"""The legal-publicity calendar (普法日历) and the 普法 register: days, 群发, offline events.

The township counts its publicity in the annual report ("组织开展各类法治宣传活动N场次…受众人数M
人次") on the days config [publicity] lists (3.15, 4.15, 6.26, 12.04, the 宪法宣传周 …). Around
each day the bot carries it: the menu's 普法 button takes the day's label, answers end with a
line pointing to it, and "普法" shows its text with the FAQ entries it promotes (answered by
number). Staff send the day's text as a 群发 (mass message) from the console — previewed on their
own WeChat first, then sent once: a durable outbox row whose dedupe key a repeated click cannot
duplicate, carrying WeChat's ``clientmsgid``, so a retry after a lost answer is refused by WeChat
itself (45065) instead of reaching every follower twice. Offline events (place, people reached,
leaflets) are recorded there too, and the report's figures come from these records.

WeChat's mass-message API: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
(preview: /cgi-bin/message/mass/preview; send to all followers: /cgi-bin/message/mass/sendall).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from bot.core.choices import offer_entries
from bot.core.config import Config, MenuButton
from bot.escalation.outbox import Hold, JobRun, enqueue, job
from bot.core.publicity_settings import PublicityDay, PublicitySettings
from bot.core.periods import Period, local_time
from bot.core.store import fetch_one, transaction, write
from bot.escalation.wechat_api import WeChatError

log = logging.getLogger(__name__)

ASK_WORD = "普法"
MASS_DUPLICATE = 45065          # a mass message with this clientmsgid was already sent (WeChat)
MAX_MASS_TEXT = 600


# ---- the calendar --------------------------------------------------------------------------

@dataclass(frozen=True)
class Occasion:
    """A calendar day as it falls in one year."""

    day: PublicityDay
    first: date
    last: date

    @property
    def single(self) -> bool:
        return self.first == self.last

    def contains(self, today: date) -> bool:
        return self.first <= today <= self.last


def township_today(now: float) -> date:
    return local_time(now).date()


def occasions(settings: PublicitySettings, years: range) -> list[Occasion]:
    found = []
    for year in years:
        for day in settings.days:
            span = day.span(year)
            if span:
                found.append(Occasion(day, *span))
    return sorted(found, key=lambda o: (o.first, o.last))


@functools.lru_cache(maxsize=16)
def current(settings: PublicitySettings, today: date) -> Occasion | None:
    """The day to point to: one under way (the shortest, so 国家宪法日 beats 宪法宣传周 on
    12-04), else the nearest one starting within ``lead_days``.

    A pure function of the (frozen) settings and the date, asked under every answer: worked
    out once per day and process (the calendar's dates parsed for two years cost 40 µs)."""
    near = [o for o in occasions(settings, range(today.year, today.year + 2))
            if o.first - timedelta(days=settings.lead_days) <= today <= o.last]
    under_way = [o for o in near if o.contains(today)]
    if under_way:
        return min(under_way, key=lambda o: (o.last - o.first, o.first))
    return min(near, key=lambda o: o.first) if near else None


def upcoming(settings: PublicitySettings, today: date, count: int = 3) -> list[Occasion]:
    later = [o for o in occasions(settings, range(today.year, today.year + 2)) if o.last >= today]
    return later[:count]


def when_text(occasion: Occasion) -> str:
    """"12月4日" or "12月1日至7日"."""
    first, last = occasion.first, occasion.last
    start = f"{first.month}月{first.day}日"
    if occasion.single:
        return start
    end = f"{last.day}日" if last.month == first.month else f"{last.month}月{last.day}日"
    return f"{start}至{end}"


def answer_line(occasion: Occasion, today: date) -> str:
    """The line under answers while a day is near."""
    name = occasion.day.name
    if occasion.contains(today):
        lead = f"今天是{name}" if occasion.single else f"现在是{name}（{when_text(occasion)}）"
    else:
        lead = f"{when_text(occasion)}是{name}（还有{(occasion.first - today).days}天）"
    return f"【普法】{lead}，回复“{ASK_WORD}”看看。"


def line_for(config: Config, now: float, faq_id: str | None = None) -> str | None:
    """The line for an answer now; none under one of the day's own entries (the villager came
    from the day's list)."""
    today = township_today(now)
    occasion = current(config.publicity, today)
    if occasion is None or faq_id in occasion.day.entries:
        return None
    return answer_line(occasion, today)


# ---- the menu ------------------------------------------------------------------------------

def menu_for(config: Config, today: date) -> tuple[MenuButton, ...]:
    """config's menu, the 普法 button (``menu_key``) labelled with the day while one is near."""
    occasion = current(config.publicity, today)
    if occasion is None:
        return config.menu
    return tuple(relabel(button, config.publicity.menu_key, occasion.day.menu_label)
                 for button in config.menu)


def relabel(button: MenuButton, key: str, label: str) -> MenuButton:
    if button.sub:
        return dataclasses.replace(button, sub=tuple(relabel(b, key, label) for b in button.sub))
    return dataclasses.replace(button, name=label) if button.key == key else button


def button_label(menu: tuple[MenuButton, ...], key: str) -> str | None:
    for top in menu:
        for button in (top, *top.sub):
            if button.key == key:
                return button.name
    return None


def pushed_label(payload: dict[str, Any], key: str) -> str | None:
    """The label a pushed menu (WeChat's menu/create JSON) gave the button ``key``."""
    for top in payload.get("menu", {}).get("button", []):
        for button in (top, *top.get("sub_button", [])):
            if button.get("key") == key:
                return button.get("name")
    return None


def button_json(button: MenuButton) -> dict:
    """One button in WeChat's menu/create shape (our `reply` stays in config, not at WeChat).
    https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
    """
    if button.sub:
        return {"name": button.name, "sub_button": [button_json(b) for b in button.sub]}
    out = {"type": button.type, "name": button.name}
    out.update({"url": button.url} if button.type == "view" else {"key": button.key})
    return out


@dataclass(frozen=True)
class MenuCreate:
    """Outbox payload: the account's whole menu, as WeChat's menu/create takes it."""

    KIND: ClassVar[str] = "menu_create"
    menu: dict[str, Any]


@job(MenuCreate)
def send_menu(run: JobRun, payload: MenuCreate) -> str:
    """Outbox job: the account's menu (`legalbot menu push`, and the 普法 button's label)."""
    run.client.create_menu(payload.menu)
    return "sent"


def menu_json(config: Config, today: date | None = None) -> dict:
    """The menu for ``today`` (township time, default now), as `legalbot menu push` and the
    worker's relabelling send it: the 普法 button takes the label of a publicity day that is near."""
    return {"button": [button_json(b) for b in menu_for(config, today or township_today(time.time()))]}


def refresh_menu(db, config: Config, now: float) -> bool:
    """Once a menu has been pushed (`legalbot menu push`), push it again when the 普法 button's
    label changes with the calendar (the worker calls this each pass; one row per day and label)."""
    last = fetch_one(db, "SELECT payload FROM outbox WHERE kind = 'menu_create' AND status = 'sent'"
                         " ORDER BY id DESC LIMIT 1")
    if last is None:
        return False
    today = township_today(now)
    menu = menu_json(config, today)
    label = button_label(menu_for(config, today), config.publicity.menu_key)
    if label is None or label == pushed_label(json.loads(last["payload"]), config.publicity.menu_key):
        return False
    return enqueue(db, MenuCreate(menu), now, dedupe_key=f"menu:publicity:{today}:{label}") is not None


# ---- what "普法" shows -----------------------------------------------------------------------

def check_entries(settings: PublicitySettings, entry_ids) -> list[str]:
    """"国家宪法日: no FAQ entry x.y" for each entry a day names that the knowledge base lacks."""
    have = set(entry_ids)
    return [f"{day.name}: no FAQ entry {entry}" for day in settings.days for entry in day.entries
            if entry not in have]


def promoted(kb, day: PublicityDay) -> list[Any]:
    """The day's entries the knowledge base has (a missing one is logged, never shown)."""
    found = [kb.by_id[e] for e in day.entries if e in kb.by_id]
    if len(found) < len(day.entries):
        log.warning("publicity day %s names entries the knowledge base lacks", day.name)
    return found


def calendar_lines(settings: PublicitySettings, today: date) -> list[str]:
    """The next days still to come (not one under way), as "12月4日 国家宪法日"."""
    later = [o for o in upcoming(settings, today, len(settings.days) + 3) if o.first > today]
    return [f"{when_text(o)} {o.day.name}" for o in later[:3]]


def publicity_text(ctx, openid: str) -> str:
    """The day's text and its entries, numbered (a number answers that entry), and what comes
    next; outside any day, the coming days."""
    settings, today = ctx.config.publicity, township_today(ctx.now)
    occasion = current(settings, today)
    coming = calendar_lines(settings, today)
    if occasion is None:
        head = ["普法日历：", *coming] if coming else ["普法日历里还没有安排。"]
        return "\n".join([*head, "有法律问题，直接打字问我就行。"])
    entries = promoted(ctx.services.knowledge, occasion.day)
    lines = [answer_line(occasion, today).removesuffix(f"，回复“{ASK_WORD}”看看。") + "。", occasion.day.text]
    if entries:
        offer_entries(ctx, openid, [e.id for e in entries])
        lines += [f"{i}. {e.questions[0]}" for i, e in enumerate(entries, 1)]
        lines.append("回复数字看回答。")
    if coming:
        lines.append("近期普法日：" + "；".join(coming))
    return "\n".join(lines)


# ---- 群发: mass messages -----------------------------------------------------------------------

class PublicityError(ValueError):
    """Staff asked for something the register does not allow; the message says what, in Chinese."""


@dataclass
class MassMessage:
    id: int
    text: str
    status: str
    clientmsgid: str
    day_key: str | None = None
    preview_to: str | None = None
    previewed_at: float | None = None
    queued_at: float | None = None
    sent_at: float | None = None
    msg_id: str | None = None
    total_count: int | None = None
    sent_count: int | None = None
    created_by: str | None = None
    created_at: float = 0.0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "MassMessage":
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})


MASS_LABELS = {"draft": "未预览", "previewed": "已预览，可以群发", "queued": "正在群发", "sent": "已群发"}


def get_mass(db, mass_id: int) -> MassMessage | None:
    row = fetch_one(db, "SELECT * FROM mass_messages WHERE id = ?", [mass_id])
    return MassMessage.from_row(row) if row else None


def list_mass(db, limit: int = 20) -> list[MassMessage]:
    return [MassMessage.from_row(r) for r in db.query("SELECT * FROM mass_messages ORDER BY id DESC LIMIT ?", [limit])]


def client_msg_id(mass_id: int, text: str) -> str:
    """WeChat's clientmsgid (≤ 64 bytes): the same message always has the same one."""
    return f"legalbot-mass-{mass_id}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:16]}"


def create_mass(db, text: str, day_key: str | None, actor: str, now: float) -> MassMessage:
    """A draft 群发. Its text is fixed once written: a changed text is a new draft (previewed anew)."""
    text = (text or "").strip()
    if not text:
        raise PublicityError("群发内容是空的。")
    if len(text) > MAX_MASS_TEXT:
        raise PublicityError(f"群发内容最多{MAX_MASS_TEXT}字，现在{len(text)}字。")
    with transaction(db):
        mass_id = db.execute("INSERT INTO mass_messages (day_key, text, clientmsgid, created_by, created_at)"
                             " VALUES (?, ?, ?, ?, ?)", [day_key, text, f"pending-{now}", actor, now]).lastrowid
        db.execute("UPDATE mass_messages SET clientmsgid = ? WHERE id = ?", [client_msg_id(mass_id, text), mass_id])
    return get_mass(db, mass_id)


def request_preview(db, mass_id: int, now: float, *, openid: str = "", wxname: str = "") -> int | None:
    """Queue the preview to one WeChat: a follower's openid (the staff's bound account) or a
    微信号 (towxname). Previews may be repeated; each click is one row."""
    mass = get_mass(db, mass_id)
    if mass is None:
        raise PublicityError("没有这条群发。")
    if mass.status in ("queued", "sent"):
        raise PublicityError("这条已经群发，不用再预览。")
    if not openid and not wxname:
        raise PublicityError("预览要发到您自己的微信：请先绑定微信，或填写您的微信号。")
    target = {"towxname": wxname} if wxname else {"touser": openid}
    return enqueue(db, MassPreview(mass_id, **target), now, dedupe_key=f"mass-preview:{mass_id}:{now:.0f}")


def request_send(db, mass_id: int, now: float, actor: str) -> bool:
    """Queue the real 群发, once: only after a preview reached WeChat; a second request (a double
    click, a browser's retry) finds it queued and adds nothing. True when this call queued it."""
    with transaction(db):
        mass = get_mass(db, mass_id)
        if mass is None:
            raise PublicityError("没有这条群发。")
        if mass.status in ("queued", "sent"):
            return False
        if mass.status != "previewed":
            raise PublicityError("请先把这条群发预览到自己的微信，看过没问题再正式群发。")
        db.execute("UPDATE mass_messages SET status = 'queued', queued_at = ? WHERE id = ? AND status = 'previewed'",
                   [now, mass_id])
        enqueue(db, MassSend(mass_id, actor), now, dedupe_key=f"mass-send:{mass_id}")
    return True


def text_body(text: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": text}}


@dataclass(frozen=True)
class MassPreview:
    """Outbox payload: a 群发's preview to one WeChat (by openid, or by 微信号)."""

    KIND: ClassVar[str] = "mass_preview"
    mass_id: int
    touser: str | None = None
    towxname: str | None = None


@dataclass(frozen=True)
class MassSend:
    """Outbox payload: the 群发 itself, queued by ``by`` (the staff member)."""

    KIND: ClassVar[str] = "mass_send"
    mass_id: int
    by: str


@job(MassPreview)
def send_preview(run: JobRun, payload: MassPreview) -> str:
    """Outbox job: the preview (WeChat allows 100 a day)."""
    db, client, now = run.db, run.client, run.now
    mass = get_mass(db, payload.mass_id)
    if mass is None or mass.status in ("queued", "sent"):
        raise Hold("mass message gone or already sent")
    target = {k: v for k, v in (("touser", payload.touser), ("towxname", payload.towxname)) if v}
    client.call("/cgi-bin/message/mass/preview", {**target, **text_body(mass.text)})
    write(db, "UPDATE mass_messages SET status = CASE WHEN status = 'draft' THEN 'previewed' ELSE status END,"
              " previewed_at = ?, preview_to = ? WHERE id = ?", [now, next(iter(target.values())), mass.id])
    return "sent"


@job(MassSend)
def send_mass(run: JobRun, payload: MassSend) -> str:
    """Outbox job: the 群发 to every follower, with its clientmsgid. If WeChat already has a mass
    message with that id (our earlier attempt reached it, its answer was lost), it refuses this
    one (45065): that is the message sent, not an error."""
    db, client, now = run.db, run.client, run.now
    mass = get_mass(db, payload.mass_id)
    if mass is None or mass.status == "sent":
        raise Hold("already sent")
    if mass.status != "queued":
        raise Hold(f"mass message is {mass.status}, not queued")
    body = {"filter": {"is_to_all": True}, **text_body(mass.text), "clientmsgid": mass.clientmsgid}
    try:
        answer = client.call("/cgi-bin/message/mass/sendall", body)
    except WeChatError as exc:
        if exc.errcode != MASS_DUPLICATE:
            raise
        answer = {}
    write(db, "UPDATE mass_messages SET status = 'sent', sent_at = ?, msg_id = COALESCE(?, msg_id) WHERE id = ?",
          [now, str(answer["msg_id"]) if answer.get("msg_id") else None, mass.id])
    return "sent"


def job_finished(db, msg_id: str, total: int | None, sent: int | None) -> bool:
    """WeChat's MASSSENDJOBFINISH event: how many followers the 群发 reached. A send whose answer
    was lost (and then refused as a duplicate) has no msg_id: the report goes to the latest such."""
    with transaction(db):
        found = db.execute("UPDATE mass_messages SET total_count = ?, sent_count = ? WHERE msg_id = ?",
                           [total, sent, str(msg_id)]).rowcount
        if not found:
            found = db.execute(
                "UPDATE mass_messages SET total_count = ?, sent_count = ?, msg_id = ? WHERE id = (SELECT id"
                " FROM mass_messages WHERE status = 'sent' AND msg_id IS NULL ORDER BY sent_at DESC LIMIT 1)",
                [total, sent, str(msg_id)]).rowcount
    return found > 0


# ---- offline events ----------------------------------------------------------------------------

@dataclass
class OfflineEvent:
    held_on: date
    title: str
    place: str = ""
    village: str = ""
    people: int = 0
    leaflets: int = 0
    consultations: int = 0
    day_key: str | None = None
    note: str = ""


def check_event(event: OfflineEvent) -> None:
    if not event.title.strip():
        raise PublicityError("请填写活动名称。")
    for label, value in (("受众人数", event.people), ("发放资料", event.leaflets), ("现场咨询", event.consultations)):
        if not isinstance(value, int) or not 0 <= value <= 1_000_000:
            raise PublicityError(f"{label}应是0到1000000之间的整数。")


def record_event(db, event: OfflineEvent, actor: str, now: float) -> int:
    """An offline publicity event, for the register and the report."""
    check_event(event)
    return write(db, "INSERT INTO publicity_events (held_on, day_key, title, place, village, people, leaflets,"
                     " consultations, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [event.held_on.isoformat(), event.day_key, event.title.strip(), event.place.strip(),
                  event.village or None, event.people, event.leaflets, event.consultations,
                  event.note.strip() or None, actor, now]).lastrowid


def events_in(db, period: Period) -> list[dict[str, Any]]:
    since = (period.since or date(1970, 1, 1)).isoformat()
    until = (period.until or date(9999, 12, 31)).isoformat()
    return [dict(r) for r in db.query("SELECT * FROM publicity_events WHERE held_on >= ? AND held_on <= ?"
                                      " ORDER BY held_on, id", [since, until])]


def mass_sent_in(db, period: Period) -> list[dict[str, Any]]:
    start, end = period.bounds()
    return [dict(r) for r in db.query("SELECT * FROM mass_messages WHERE status = 'sent' AND sent_at >= ?"
                                      " AND sent_at < ? ORDER BY sent_at", [start, min(end, 1e12)])]


# ---- the report's publicity line ---------------------------------------------------------------

def publicity_figures(events: list[dict[str, Any]], sent: list[dict[str, Any]]) -> dict[str, Any]:
    reached_online = sum(m["sent_count"] or 0 for m in sent)
    return {"activities": len(events) + len(sent), "offline_events": len(events), "mass_messages": len(sent),
            "leaflets": sum(e["leaflets"] for e in events),
            "consultations": sum(e["consultations"] for e in events),
            "people_offline": sum(e["people"] for e in events), "people_online": reached_online,
            "people": sum(e["people"] for e in events) + reached_online,
            "mass_without_count": sum(1 for m in sent if m["sent_count"] is None)}


def publicity_line(year: int, f: dict[str, Any]) -> str:
    """"组织开展各类法治宣传活动N场次…受众人数M人次", from the register."""
    if f["activities"] == 0:
        return f"{year}年普法台账未登记宣传活动。"
    parts = [f"组织开展各类法治宣传活动{f['activities']}场次（线下活动{f['offline_events']}场，"
             f"公众号群发{f['mass_messages']}次）"]
    if f["leaflets"]:
        parts.append(f"发放宣传资料{f['leaflets']}份")
    if f["consultations"]:
        parts.append(f"现场解答群众咨询{f['consultations']}人次")
    parts.append(f"受众人数{f['people']}人次")
    return "，".join(parts) + "。"


def year_section(db, year: int) -> dict[str, Any]:
    """The report's publicity part: its line and the figures behind it."""
    period = Period.year(year)
    figures = publicity_figures(events_in(db, period), mass_sent_in(db, period))
    return {**figures, "text": publicity_line(year, figures)}
