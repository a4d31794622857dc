"""Tickets: a question handed to the legal adviser of the villager's own village.

The statuses and the moves between them are declared once, here (``Status``, ``TRANSITIONS``):

    draft ──▶ open ──▶ notified ──▶ answered ──▶ delivered ──▶ closed
      │         │ ╲        │  ╲
      │         │  overdue ◀┘   reassigned (to the backup, the township 司法所)
      └─────────┴──────────────▶ cancelled (by the villager, before an answer)

Closing (``close_ticket``: "结束 12" from the adviser's phone, the console's 办结 button) is for
after the answer reached the villager: an answer still waiting for the villager's next message
is never dropped by closing its ticket.

A draft is a hand-over still being told: the villager asked for a person and is describing the
matter, or has described it and not yet named the village. ``transition`` refuses every other
move and writes the change and its event in one transaction. Events are structured rows
(``EventKind``): a notification names its adviser, reason and channel, so "was this adviser
already told?" is a query, not a search through notes.

Handlers never send: opening a ticket *enqueues* the adviser's notification in the outbox,
and the worker sends it (``send_notification`` below is that job). The villager's side of a
hand-over (asking for the story, the village, additions) is bot/conversation/handover.py.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Iterable

from bot.escalation import advisers as adv
from bot.escalation import routing
from bot.escalation.advisers import Adviser
from bot.core.config import Config
from bot.core.messages import Context
from bot.escalation.outbox import Hold, JobRun, enqueue, job
from bot.core.store import fetch_one, transaction

log = logging.getLogger(__name__)


class Status(StrEnum):
    DRAFT = "draft"              # the villager is still telling the matter or naming the village
    OPEN = "open"                # handed over; the adviser's notification is queued
    NOTIFIED = "notified"        # the adviser was told
    OVERDUE = "overdue"          # no answer in time: the adviser was chased
    REASSIGNED = "reassigned"    # handed to the backup (司法所)
    ANSWERED = "answered"        # the adviser answered; delivery to the villager is under way
    DELIVERED = "delivered"      # the answer reached the villager's WeChat
    CLOSED = "closed"            # done: the adviser or staff closed it after the answer arrived
    CANCELLED = "cancelled"      # the villager withdrew it before an answer


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.DRAFT: frozenset({S.OPEN, S.CANCELLED}),
    S.OPEN: frozenset({S.NOTIFIED, S.OVERDUE, S.REASSIGNED, S.ANSWERED, S.CANCELLED}),
    S.NOTIFIED: frozenset({S.OVERDUE, S.REASSIGNED, S.ANSWERED, S.CANCELLED}),
    S.OVERDUE: frozenset({S.REASSIGNED, S.ANSWERED, S.CANCELLED}),
    S.REASSIGNED: frozenset({S.ANSWERED, S.CANCELLED}),
    S.ANSWERED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
ANSWERABLE = (S.OPEN.value, S.NOTIFIED.value, S.OVERDUE.value, S.REASSIGNED.value)
WAITING = ANSWERABLE
STATUS_LABELS = {"draft": "还没转出", "open": "已转给法律顾问", "notified": "法律顾问已收到",
                 "overdue": "正在催办", "reassigned": "已转司法所", "answered": "已答复",
                 "delivered": "已答复", "closed": "已结束", "cancelled": "已取消"}


class EventKind(StrEnum):
    OPENED = "opened"            # the ticket was written (draft or open)
    STATUS = "status"            # a transition
    NOTIFIED = "notified"        # a notification reached an adviser (adviser_id, reason, via)
    VOICE = "voice"              # the villager's voice message was forwarded (adviser_id)
    ADDED = "added"              # the villager added to the matter (note: their words)
    NOTE = "note"                # anything else worth showing (routing decisions, …)


def sources_of(to_status: str) -> frozenset[Status]:
    """The statuses from which ``to_status`` may be reached."""
    target = Status(to_status)
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


CLOSABLE = tuple(s.value for s in sources_of(S.CLOSED))   # delivered: the answer reached the villager


@dataclass
class Ticket:
    id: int
    openid: str
    village: str | None
    adviser_id: int | None
    status: str
    question: str = ""
    category: str | None = None
    context: list[str] = field(default_factory=list)    # the villager's additions (补充), in order
    suggested: list[str] = field(default_factory=list)
    media_id: str | None = None
    urgent: bool = False
    answer: str | None = None
    created_at: float = 0.0
    answered_at: float | None = None
    delivered_at: float | None = None
    delivered_via: str | None = None
    consultation_id: int | None = None
    waiting_for: str | None = None                      # a draft: "story" or "village"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Ticket":
        return cls(id=row["id"], openid=row["openid"], village=row["village"],
                   adviser_id=row["adviser_id"], status=row["status"], question=row["question"] or "",
                   category=row["category"], context=json.loads(row["context"] or "[]"),
                   suggested=json.loads(row["suggested"] or "[]"), media_id=row["media_id"],
                   urgent=bool(row["urgent"]), answer=row["answer"], created_at=row["created_at"],
                   answered_at=row["answered_at"], delivered_at=row["delivered_at"],
                   delivered_via=row["delivered_via"], consultation_id=row["consultation_id"],
                   waiting_for=row.get("waiting_for"))

    @property
    def waiting(self) -> bool:
        """Still to be answered (a draft included): the villager may add to it or cancel it."""
        return self.status == S.DRAFT or self.status in ANSWERABLE

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class TicketError(ValueError):
    """An adviser asked for something the ticket does not allow; the message says what."""


# ---- reading (the web console calls these too) ----------------------------------------

def get_ticket(db, ticket_id: int) -> Ticket | None:
    row = fetch_one(db, "SELECT * FROM tickets WHERE id = ?", [ticket_id])   # a plain read: the
    return Ticket.from_row(row) if row else None     # hand-over reads back the ticket it just wrote


def list_tickets(db, villages: list[str] | None = None, status: str | list[str] | None = None,
                 openid: str | None = None, adviser_id: int | None = None) -> list[Ticket]:
    """Tickets, newest first, filtered by village(s), status(es), villager or adviser.

    Drafts (hand-overs the villager is still telling) are left out unless asked for by status.
    """
    where, params = ["purged = 0"], []
    if status is None:
        where.append("status != 'draft'")
    for column, values in (("village", villages), ("status", status)):
        if values is not None:
            values = [values] if isinstance(values, str) else list(values)
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params += [str(v) for v in values]
    for column, value in (("openid", openid), ("adviser_id", adviser_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT * FROM tickets WHERE {' AND '.join(where)} ORDER BY id DESC"
    return [Ticket.from_row(r) for r in db.query(sql, params)]


def waiting_tickets(db, openid: str) -> list[Ticket]:
    """The villager's hand-overs not yet answered (drafts included), newest first."""
    return list_tickets(db, openid=openid, status=[S.DRAFT, *ANSWERABLE])


def ticket_events(db, ticket_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", [ticket_id]))


# ---- transitions and events -----------------------------------------------------------

def transition(db, ticket_id: int, to_status: str, now: float, *, actor: str = "",
               note: str = "", expect: Iterable[str] | None = None, **fields: Any) -> bool:
    """Move a ticket to ``to_status`` if TRANSITIONS allows it from the status it is in (and,
    when ``expect`` is given, only from those) and log the event; False when it may not move.

    The status check and the event are one transaction, so two workers (or an adviser and the
    deadline sweep) racing on one ticket produce exactly one transition.
    """
    allowed = sources_of(to_status)
    if expect is not None:
        allowed &= {Status(e) for e in expect}
    if not allowed:
        raise ValueError(f"no ticket may move to {to_status!r} from {expect!r}")
    sets = ", ".join(["status = ?", *(f"{k} = ?" for k in fields)])
    params = [str(to_status), *fields.values(), ticket_id, *(str(a) for a in sorted(allowed))]
    with transaction(db):
        old = db.execute("SELECT status FROM tickets WHERE id = ?", [ticket_id]).fetchone()
        changed = db.execute(f"UPDATE tickets SET {sets} WHERE id = ? AND status IN "
                             f"({','.join('?' * len(allowed))})", params).rowcount
        if changed:
            log_event(db, ticket_id, old[0], now, actor, note, kind=EventKind.STATUS,
                      to_status=str(to_status))
    return bool(changed)


def log_event(db, ticket_id: int, status: str, now: float, actor: str, note: str = "", *,
              kind: EventKind = EventKind.NOTE, to_status: str | None = None,
              adviser_id: int | None = None, reason: str | None = None,
              via: str | None = None) -> None:
    """One row of the ticket's history; without ``to_status`` the status stays ``status``."""
    db.execute("INSERT INTO ticket_events (ticket_id, at, from_status, to_status, actor, note, kind,"
               " adviser_id, reason, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [ticket_id, now, str(status), str(to_status or status), actor, note, str(kind),
                adviser_id, reason, via])


# ---- writing and opening tickets -----------------------------------------------------------

@dataclass(frozen=True)
class TicketRequest:
    """What a ticket is made of, from the villager's side: the hand-over builds one
    (bot/conversation/handover.py), the ticket's row is written from it."""

    question: str = ""
    category: str | None = None
    citations: list[str] = field(default_factory=list)
    media_id: str | None = None
    urgent: bool = False
    reason: str = ""                 # why it was handed over (shown in the ticket's history)


def write_ticket(ctx: Context, openid: str, request: TicketRequest, village: str | None,
                 waiting_for: str | None) -> Ticket:
    """A draft waiting for ``waiting_for`` ("story" or "village"); nobody is told yet."""
    with transaction(ctx.db):
        ticket_id = insert_ticket(ctx, openid, request, village, S.DRAFT, waiting_for)
    return get_ticket(ctx.db, ticket_id)


def insert_ticket(ctx: Context, openid: str, request: TicketRequest, village: str | None,
                  status: Status, waiting_for: str | None = None) -> int:
    ticket_id = ctx.db.execute(
        "INSERT INTO tickets (openid, village, category, question, context, suggested, media_id,"
        " urgent, status, waiting_for, created_at) VALUES (?, ?, ?, ?, '[]', ?, ?, ?, ?, ?, ?)",
        [openid, village, request.category, request.question,
         json.dumps(request.citations, ensure_ascii=False), request.media_id, int(request.urgent),
         str(status), waiting_for, ctx.now]).lastrowid
    log_event(ctx.db, ticket_id, status, ctx.now, "villager", request.reason, kind=EventKind.OPENED)
    return ticket_id


def open_ticket(ctx: Context, openid: str, village: str | None, request: TicketRequest) -> Ticket:
    """Write the ticket and hand it over at once (``release``)."""
    with transaction(ctx.db):
        ticket_id = insert_ticket(ctx, openid, request, village, S.OPEN)
        release(ctx, get_ticket(ctx.db, ticket_id), village)
    return get_ticket(ctx.db, ticket_id)


def release(ctx: Context, ticket: Ticket, village: str | None) -> Ticket:
    """Hand a ticket to its adviser: fill in the village, adviser and suggested articles, move a
    draft to open, enqueue the notifications (bot.escalation.routing decides who: the village's adviser if
    WeChat reaches them, else the backup at once; urgent: everyone reachable, else the duty
    contact). All in one transaction: the ticket and its notifications exist together or not at all.
    """
    adv.ensure_advisers(ctx.db, ctx.config, ctx.now)
    plan = routing.route(ctx.db, ctx.config, village, ticket.urgent, ctx.now)
    suggested = suggested_articles(ctx, story_of(ticket), ticket.suggested)
    with transaction(ctx.db):
        ctx.db.execute("UPDATE tickets SET village = ?, adviser_id = ?, suggested = ?, waiting_for = NULL"
                       " WHERE id = ?", [village, plan.assignee.id if plan.assignee else None,
                                         json.dumps(suggested, ensure_ascii=False), ticket.id])
        if ticket.status == S.DRAFT:
            transition(ctx.db, ticket.id, S.OPEN, ctx.now, actor="villager", expect=[S.DRAFT])
        if plan.passed_over:
            log_event(ctx.db, ticket.id, S.OPEN, ctx.now, "system", plan.passed_over)
        for target in plan.notify:
            notify(ctx.db, ticket.id, target, ctx.now, "urgent" if ticket.urgent else "new")
    return get_ticket(ctx.db, ticket.id)


def story_of(ticket: Ticket) -> str:
    """The villager's words about the matter: the question and every addition."""
    return " ".join([ticket.question, *ticket.context]).strip()


def set_story(db, ticket: Ticket, request: TicketRequest, waiting_for: str | None) -> Ticket:
    """A draft that waited for the story gets it (question, category, articles of the matter)."""
    db.execute("UPDATE tickets SET question = ?, category = COALESCE(?, category), suggested = ?,"
               " waiting_for = ? WHERE id = ? AND status = 'draft'",
               [request.question, request.category, json.dumps(request.citations, ensure_ascii=False),
                waiting_for, ticket.id])
    return get_ticket(db, ticket.id)


def add_to_ticket(db, ticket: Ticket, text: str, now: float) -> Ticket:
    """The villager's addition (补充), kept in order and in the ticket's history."""
    with transaction(db):
        row = db.execute("SELECT context FROM tickets WHERE id = ?", [ticket.id]).fetchone()
        added = [*json.loads(row[0] or "[]"), text]
        db.execute("UPDATE tickets SET context = ? WHERE id = ?",
                   [json.dumps(added, ensure_ascii=False), ticket.id])
        log_event(db, ticket.id, ticket.status, now, "villager", text, kind=EventKind.ADDED)
    return get_ticket(db, ticket.id)


def cancel_ticket(db, ticket_id: int, now: float) -> bool:
    """The villager withdraws a hand-over that has not been answered."""
    return transition(db, ticket_id, S.CANCELLED, now, actor="villager", note="村民取消")


def suggested_articles(ctx: Context, question: str, citations: list[str], k: int = 3) -> list[str]:
    """The matcher's citations first, then law search's best articles (when it is available)."""
    found = list(citations)
    searchable = question and not question.startswith(("[", "（", "("))  # "[语音留言]" is no query
    try:
        hits = ctx.services.law_index.search(question, k=k) if searchable else []
    except Exception:  # law search is an aid; a ticket must open without it
        log.warning("law search unavailable for a ticket", exc_info=True)
        hits = []
    found += [h.citation for h in hits if h.citation not in found]
    return found[: k + len(citations)]


def opened_text(ctx: Context, ticket: Ticket) -> str:
    """What the villager is told: only people actually reached are named (bot.escalation.routing)."""
    return routing.opened_text(ctx.db, ctx.config, ticket, ctx.now)


# ---- notifying the adviser (enqueued here, sent by the worker) ---------------------------

@dataclass(frozen=True)
class NotifyAdviser:
    """Outbox payload: tell ``adviser_id`` of ticket ``ticket_id`` (reason: new, urgent, remind,
    reassign)."""

    KIND: ClassVar[str] = "notify_adviser"
    ticket_id: int
    adviser_id: int
    reason: str


@dataclass(frozen=True)
class ForwardVoice:
    """Outbox payload: pass the ticket's voice message on to the adviser."""

    KIND: ClassVar[str] = "forward_voice"
    ticket_id: int
    adviser_id: int


def notify(db, ticket_id: int, adviser: Adviser, now: float, reason: str) -> None:
    """Enqueue one notification; the dedupe key makes a repeated call harmless."""
    enqueue(db, NotifyAdviser(ticket_id, adviser.id, reason), now,
            dedupe_key=f"notify:{ticket_id}:{adviser.id}:{reason}")


def notification_text(ticket: Ticket, reason: str, hours_waiting: float = 0) -> str:
    head = {"new": "新咨询", "urgent": "【紧急】新咨询", "remind": "提醒：咨询",
            "reassign": "转来的咨询"}.get(reason, "咨询")
    lines = [f"{head} #{ticket.id}（{ticket.village or '未填村'}）"]
    if reason == "remind":
        lines.append(f"已等了{int(hours_waiting)}小时，请尽快答复。")
    lines.append(f"问题：{ticket.question or '（语音，请在后台收听）'}")
    if ticket.suggested:
        lines.append("参考法条：" + "、".join(ticket.suggested))
    lines.append(f"回复“详情 {ticket.id}”看全文，“答复 {ticket.id} 您的答复”直接答复，"
                 f"“转 {ticket.id}”交司法所。")
    return "\n".join(lines)


def template_data(ticket: Ticket) -> dict[str, dict[str, str]]:
    """Template fields (≤ 20 characters each, no remark since 2023):
    https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
    """
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(ticket.created_at))
    subject = f"{ticket.village or ''}{ticket.category or '法律咨询'}"[:20]
    return {"thing1": {"value": subject}, "character_string2": {"value": f"#{ticket.id}"},
            "time3": {"value": when}}


@job(NotifyAdviser)
def send_notification(run: JobRun, payload: NotifyAdviser) -> str:
    """Outbox job: tell the adviser (customer-service message in the window, else a template)."""
    from bot.escalation.delivery import in_cs_window, send_custom_or_none
    services, db, client, now = run.services, run.db, run.client, run.now
    ticket, adviser = get_ticket(db, payload.ticket_id), adv.get_adviser(db, payload.adviser_id)
    if ticket is None or adviser is None:
        raise Hold("ticket or adviser no longer exists")
    if ticket.status not in ANSWERABLE:
        raise Hold(f"ticket already {ticket.status}")
    if already_notified(db, ticket.id, adviser, payload.reason):
        raise Hold("already sent (a worker died before recording it)")
    if not services.config.wechat.can_push or not adviser.openid:
        raise routing.Unreachable(adviser.id, routing.unreachable_reason(
            db, services.config, adviser, now) or f"{adviser.name}收不到微信消息")
    text = notification_text(ticket, payload.reason, (now - ticket.created_at) / 3600)
    sent = in_cs_window(db, services.config, adviser.openid, now) and \
        send_custom_or_none(db, client, adviser.openid, text, now)
    if not sent:
        send_template(services.config, client, adviser, ticket)
    mark_notified(db, ticket, adviser, payload.reason, now, "cs" if sent else "template")
    if sent and ticket.media_id:
        enqueue(db, ForwardVoice(ticket.id, adviser.id), now, dedupe_key=f"voice:{ticket.id}:{adviser.id}")
    return "sent"


@job(ForwardVoice)
def forward_voice(run: JobRun, payload: ForwardVoice) -> str:
    """Outbox job: pass the villager's voice message on, so the adviser listens on the phone.

    WeChat keeps a voice for 3 days; outside the adviser's 48-hour window it stays on the
    ticket, downloadable from the console while WeChat still has it.
    """
    from bot.escalation.delivery import count_cs_sent, in_cs_window
    services, db, client, now = run.services, run.db, run.client, run.now
    ticket, adviser = get_ticket(db, payload.ticket_id), adv.get_adviser(db, payload.adviser_id)
    if ticket is None or adviser is None or not ticket.media_id or not adviser.openid:
        raise Hold("nothing to forward")
    if not in_cs_window(db, services.config, adviser.openid, now):
        raise Hold(f"{adviser.name} is outside the 48-hour window: the voice is in the console")
    client.send_voice(adviser.openid, ticket.media_id)
    count_cs_sent(db, adviser.openid)
    log_event(db, ticket.id, ticket.status, now, "worker", f"语音已转给{adviser.name}",
              kind=EventKind.VOICE, adviser_id=adviser.id)
    return "sent"


def send_template(config: Config, client, adviser: Adviser, ticket: Ticket) -> None:
    if not config.wechat.adviser_template_id:
        raise routing.Unreachable(adviser.id, f"{adviser.name}超过48小时没给公众号发消息，"
                                              "又没有配置模板消息")
    client.send_template(adviser.openid, config.wechat.adviser_template_id, template_data(ticket))


def already_notified(db, ticket_id: int, adviser: Adviser, reason: str) -> bool:
    """Whether this notification was already sent (a worker may die before marking the job)."""
    return db.execute("SELECT 1 FROM ticket_events WHERE ticket_id = ? AND kind = ? AND adviser_id = ?"
                      " AND reason = ? LIMIT 1",
                      [ticket_id, str(EventKind.NOTIFIED), adviser.id, reason]).fetchone() is not None


def mark_notified(db, ticket: Ticket, adviser: Adviser, reason: str, now: float, via: str) -> None:
    """Record the notification (and move an open ticket to notified), in one transaction."""
    with transaction(db):
        log_event(db, ticket.id, ticket.status, now, "worker", f"已通知{adviser.name}",
                  kind=EventKind.NOTIFIED, adviser_id=adviser.id, reason=reason, via=via)
        transition(db, ticket.id, S.NOTIFIED, now, actor="worker", expect=[S.OPEN], notified_at=now)


# ---- the adviser's side (WeChat commands and the web console share these) ----------------

def can_act(adviser: Adviser, ticket: Ticket) -> bool:
    """An adviser acts only on their villages' tickets (or ones assigned to them); the backup on all."""
    return adviser.covers(ticket.village) or ticket.adviser_id == adviser.id


def actionable_ticket(db, ticket_id: int, adviser: Adviser) -> Ticket:
    ticket = get_ticket(db, ticket_id)
    if ticket is None or not can_act(adviser, ticket):
        raise TicketError(f"没有找到您负责的咨询 #{ticket_id}。")
    return ticket


def answer_ticket(ctx_or_services, db, ticket_id: int, adviser: Adviser, text: str,
                  now: float) -> Ticket:
    """Record the adviser's answer and start its delivery (push now, or with the next reply).

    The web console calls this with the logged-in adviser (staff answer as the backup,
    ``advisers.backup_adviser(db)``), the same path as "答复 12 …" from WeChat.
    """
    from bot.escalation.delivery import queue_delivery
    text = (text or "").strip()
    if not text:
        raise TicketError("答复内容是空的。格式：答复 12 您的答复")
    ticket = actionable_ticket(db, ticket_id, adviser)
    if ticket.status not in ANSWERABLE:
        raise TicketError(f"咨询 #{ticket_id} {STATUS_LABELS.get(ticket.status, ticket.status)}，不能再答复。")
    if not transition(db, ticket_id, "answered", now, actor=adviser.name, expect=ANSWERABLE,
                      answer=text, answered_at=now):
        raise TicketError(f"咨询 #{ticket_id} 刚刚已有人答复。")
    queue_delivery(db, ctx_or_services.config, ticket_id, ticket.openid, now)
    return get_ticket(db, ticket_id)


NOT_CLOSABLE = {"answered": "咨询 #{id} 的答复还没送到村民，送到后才能结束。",
                "closed": "咨询 #{id} 已经结束了。", "cancelled": "咨询 #{id} 村民已取消，不用结束。"}
NOT_ANSWERED = "咨询 #{id} 还没答复，答复送到村民后才能结束。"


def close_ticket(db, ticket_id: int, adviser: Adviser | None, now: float, actor: str) -> Ticket:
    """Mark a ticket done once its answer reached the villager ("结束 12", the console's 办结):
    ``adviser`` acts only on their villages' tickets; staff pass None."""
    ticket = actionable_ticket(db, ticket_id, adviser) if adviser else get_ticket(db, ticket_id)
    if ticket is None:
        raise TicketError(f"没有找到咨询 #{ticket_id}。")
    if ticket.status not in CLOSABLE:
        raise TicketError(NOT_CLOSABLE.get(ticket.status, NOT_ANSWERED).format(id=ticket_id))
    if not transition(db, ticket_id, S.CLOSED, now, actor=actor, note="已办结", closed_at=now):
        raise TicketError(NOT_CLOSABLE["closed"].format(id=ticket_id))   # closed meanwhile
    return get_ticket(db, ticket_id)


def reassign_ticket(db, ticket_id: int, adviser: Adviser | None, now: float,
                    actor: str, note: str = "") -> Ticket:
    """Hand the ticket to the backup (司法所) and notify them."""
    backup = adv.backup_adviser(db)
    if backup is None:
        raise TicketError("没有配置司法所（backup），无法转交。")
    if adviser is not None:
        actionable_ticket(db, ticket_id, adviser)
    if not transition(db, ticket_id, "reassigned", now, actor=actor, note=note or f"→ {backup.name}",
                      expect=ANSWERABLE, adviser_id=backup.id, reassigned_at=now):
        raise TicketError(f"咨询 #{ticket_id} 已答复或已结束，不能转交。")
    notify(db, ticket_id, backup, now, "reassign")
    return get_ticket(db, ticket_id)


def adviser_todo(db, adviser: Adviser) -> list[Ticket]:
    """Waiting tickets this adviser may answer, oldest first."""
    waiting = list_tickets(db, status=list(WAITING))
    return sorted((t for t in waiting if can_act(adviser, t)), key=lambda t: t.id)


# ---- the villager's side: "我的咨询" ------------------------------------------------------------

MY_TICKETS_SHOWN = 5
WAITS_FOR = {"story": "还没转出，等您说说是什么事：直接发给我就行",
             "village": "还没转出，还差您的村名：回复“改村”选一下"}
HOW_TO_CHANGE = "要补充，发“补充”加上您的话；不想问了，发“取消”。"


def ticket_line(ticket: Ticket) -> str:
    if ticket.status == S.DRAFT:
        status = WAITS_FOR.get(ticket.waiting_for or "", STATUS_LABELS["draft"])
    else:
        status = STATUS_LABELS.get(ticket.status, ticket.status)
    question = ticket.question if len(ticket.question) <= 20 else ticket.question[:20] + "…"
    line = f"#{ticket.id} {question or '（还没说是什么事）'}——{status}"
    if ticket.status in ("delivered", "closed") and ticket.answer:
        line += f"\n  答复：{ticket.answer}"
    return line


def my_tickets_text(db, openid: str) -> str:
    """"我的咨询": the villager's latest tickets and where each stands (the handler and the
    menu button both show this)."""
    statuses = [S.DRAFT, *ANSWERABLE, "answered", "delivered", "closed", "cancelled"]
    mine = list_tickets(db, openid=openid, status=statuses)
    if not mine:
        return "您还没有转给法律顾问的咨询。有问题直接打字问我就行。"
    lines = [ticket_line(t) for t in mine[:MY_TICKETS_SHOWN]]
    tail = [HOW_TO_CHANGE] if any(t.waiting for t in mine) else []
    return "\n".join(["您的咨询：", *lines, *tail])
