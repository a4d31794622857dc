"""Tickets: a question handed to the legal adviser of the villager's own village.

Life of a ticket: open → notified → answered → delivered → closed, plus overdue (the adviser
was chased) and reassigned (handed to the backup, the township 司法所). Every transition is a
row in ticket_events with its time and actor, so the console can show who did what when.

Handlers never send: opening a ticket *enqueues* the adviser's notification in the outbox,
and the worker sends it (``send_notification`` below is that job).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot import advisers as adv
from bot import routing, users
from bot.advisers import Adviser
from bot.config import Config
from bot.dispatch import Consultation, Context, Incoming
from bot.outbox import Hold, enqueue
from bot.store import transaction

log = logging.getLogger(__name__)

ANSWERABLE = ("open", "notified", "overdue", "reassigned")
WAITING = ANSWERABLE
VILLAGE_CHOICE_TTL = 3600
EARLIER_TURNS_SECONDS = 1800
STATUS_LABELS = {"open": "已转给法律顾问", "notified": "法律顾问已收到", "overdue": "正在催办",
                 "reassigned": "已转司法所", "answered": "已答复", "delivered": "已答复",
                 "closed": "已结束"}


@dataclass
class Ticket:
    id: int
    openid: str
    village: str | None
    adviser_id: int | None
    status: str
    question: str = ""
    category: str | None = None
    context: list[str] = field(default_factory=list)
    suggested: list[str] = field(default_factory=list)
    media_id: str | None = None
    urgent: bool = False
    answer: str | None = None
    created_at: float = 0.0
    answered_at: float | None = None
    delivered_at: float | None = None
    delivered_via: str | None = None
    consultation_id: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Ticket":
        return cls(id=row["id"], openid=row["openid"], village=row["village"],
                   adviser_id=row["adviser_id"], status=row["status"], question=row["question"] or "",
                   category=row["category"], context=json.loads(row["context"] or "[]"),
                   suggested=json.loads(row["suggested"] or "[]"), media_id=row["media_id"],
                   urgent=bool(row["urgent"]), answer=row["answer"], created_at=row["created_at"],
                   answered_at=row["answered_at"], delivered_at=row["delivered_at"],
                   delivered_via=row["delivered_via"], consultation_id=row["consultation_id"])

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class TicketError(ValueError):
    """An adviser asked for something the ticket does not allow; the message says what."""


# ---- reading (the web console calls these too) ----------------------------------------

def get_ticket(db, ticket_id: int) -> Ticket | None:
    rows = list(db.query("SELECT * FROM tickets WHERE id = ?", [ticket_id]))
    return Ticket.from_row(rows[0]) if rows else None


def list_tickets(db, villages: list[str] | None = None, status: str | list[str] | None = None,
                 openid: str | None = None, adviser_id: int | None = None) -> list[Ticket]:
    """Tickets, newest first, filtered by village(s), status(es), villager or adviser."""
    where, params = ["purged = 0"], []
    for column, values in (("village", villages), ("status", status)):
        if values is not None:
            values = [values] if isinstance(values, str) else list(values)
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params += values
    for column, value in (("openid", openid), ("adviser_id", adviser_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT * FROM tickets WHERE {' AND '.join(where)} ORDER BY id DESC"
    return [Ticket.from_row(r) for r in db.query(sql, params)]


def ticket_events(db, ticket_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", [ticket_id]))


# ---- transitions ----------------------------------------------------------------------

def transition(db, ticket_id: int, to_status: str, now: float, *, actor: str = "",
               note: str = "", expect: tuple[str, ...] | None = None, **fields: Any) -> bool:
    """Move a ticket to ``to_status`` (only from ``expect``, if given) and log the event.

    The status check and the event are one transaction, so two workers (or an adviser and the
    deadline sweep) racing on one ticket produce exactly one transition.
    """
    sets = ", ".join(["status = ?", *(f"{k} = ?" for k in fields)])
    where, params = "id = ?", [to_status, *fields.values(), ticket_id]
    if expect:
        where += f" AND status IN ({','.join('?' * len(expect))})"
        params += list(expect)
    with transaction(db):
        old = list(db.query("SELECT status FROM tickets WHERE id = ?", [ticket_id]))
        changed = db.execute(f"UPDATE tickets SET {sets} WHERE {where}", params).rowcount
        if changed:
            db.execute("INSERT INTO ticket_events (ticket_id, at, from_status, to_status, actor, note) "
                       "VALUES (?, ?, ?, ?, ?, ?)", [ticket_id, now, old[0]["status"], to_status,
                                                     actor, note])
    return bool(changed)


def log_event(db, ticket_id: int, status: str, now: float, actor: str, note: str) -> None:
    """An event that does not change the status (a reminder sent, a notification sent)."""
    db.execute("INSERT INTO ticket_events (ticket_id, at, from_status, to_status, actor, note) "
               "VALUES (?, ?, ?, ?, ?, ?)", [ticket_id, now, status, status, actor, note])


# ---- opening a ticket (the interface the matcher and webhook call) ----------------------

def escalate(ctx: Context, incoming: Incoming, consultation: Consultation | None, *,
             urgent: bool = False, reason: str = "") -> str:
    """Hand the question to the villager's village adviser and say what happens next.

    The first time, the village is unknown: ask for it (numbered list) and keep the question
    as pending state; handlers/village.py opens the ticket when the number comes back.
    Sets ``consultation.ticket_id`` when a ticket is opened, so the consultation row links to it.
    """
    adv.ensure_advisers(ctx.db, ctx.config, ctx.now)
    request = ticket_request(ctx, incoming, consultation, urgent=urgent, reason=reason)
    village = known_village(ctx.db, ctx.config, incoming.openid)
    if village is None and ctx.config.villages and not urgent:
        return ask_village(ctx, incoming.openid, request)
    ticket = open_ticket(ctx, incoming.openid, village, request)
    if consultation is not None:
        consultation.ticket_id = ticket.id
    return opened_text(ctx, ticket)


def ticket_request(ctx: Context, incoming: Incoming, consultation: Consultation | None, *,
                   urgent: bool, reason: str) -> dict[str, Any]:
    """Everything a ticket needs, as plain JSON (it may wait in pending state for the village)."""
    question = (consultation.question if consultation else "") or incoming.text or ""
    return {"question": question, "category": consultation.category if consultation else None,
            "citations": list(consultation.citations) if consultation else [],
            "media_id": incoming.media_id or None, "urgent": urgent, "reason": reason,
            "context": earlier_turns(ctx.db, incoming.openid, question, ctx.now)}


def known_village(db, config: Config, openid: str) -> str | None:
    village = users.get_village(db, openid)
    return village if village and config.village(village) else None


def earlier_turns(db, openid: str, question: str, now: float, limit: int = 5) -> list[str]:
    """The villager's last few messages (half an hour), so the adviser sees the whole story."""
    rows = db.query("SELECT content FROM messages WHERE openid = ? AND received_at >= ? "
                    "AND content IS NOT NULL AND content != '' ORDER BY received_at DESC, id DESC "
                    "LIMIT ?", [openid, now - EARLIER_TURNS_SECONDS, limit + 1])
    turns = [r["content"] for r in rows if r["content"] != question]
    return list(reversed(turns[:limit]))


def village_prompt(config: Config) -> str:
    lines = [f"{i} {name}" for i, name in enumerate(config.village_names, 1)]
    return "您住在哪个村？请回复数字：\n" + "\n".join(lines)


def ask_village(ctx: Context, openid: str, request: dict[str, Any] | None) -> str:
    """Remember the question and ask for the village; the number comes back to handlers/village."""
    users.set_pending(ctx.db, openid, "village", {"request": request}, VILLAGE_CHOICE_TTL, ctx.now)
    lead = "这个问题需要请法律顾问帮您看看。" if request else ""
    return lead + village_prompt(ctx.config)


def open_ticket(ctx: Context, openid: str, village: str | None, request: dict[str, Any]) -> Ticket:
    """Write the ticket and enqueue its notifications (bot.routing decides who: the village's
    adviser if WeChat reaches them, else the backup at once; urgent: everyone reachable, else the
    duty contact)."""
    urgent = bool(request.get("urgent"))
    plan = routing.route(ctx.db, ctx.config, village, urgent, ctx.now)
    adviser = plan.assignee
    suggested = suggested_articles(ctx, request["question"], request.get("citations") or [])
    with transaction(ctx.db):  # the ticket and its notifications exist together or not at all
        ticket_id = ctx.db.execute(
            "INSERT INTO tickets (openid, village, adviser_id, category, question, context, "
            "suggested, media_id, urgent, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
            [openid, village, adviser.id if adviser else None, request.get("category"),
             request["question"], json.dumps(request.get("context") or [], ensure_ascii=False),
             json.dumps(suggested, ensure_ascii=False), request.get("media_id"), int(urgent),
             ctx.now]).lastrowid
        log_event(ctx.db, ticket_id, "open", ctx.now, "villager", request.get("reason") or "")
        if plan.passed_over:
            log_event(ctx.db, ticket_id, "open", ctx.now, "system", plan.passed_over)
        for target in plan.notify:
            notify(ctx.db, ticket_id, target, ctx.now, "urgent" if urgent else "new")
    return get_ticket(ctx.db, ticket_id)


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
    """What the villager is told: only people actually reached are named (bot.routing)."""
    return routing.opened_text(ctx.db, ctx.config, ticket, ctx.now)


def link_consultation(db, ticket: Ticket) -> None:
    """Link the villager's latest escalated consultation (recorded by the webhook) to the ticket."""
    rows = list(db.query("SELECT id FROM consultations WHERE openid = ? AND ticket_id IS NULL AND "
                         "action IN ('escalate', 'urgent', 'fallback') ORDER BY asked_at DESC, id DESC "
                         "LIMIT 1", [ticket.openid]))
    if rows:
        db.execute("UPDATE consultations SET ticket_id = ? WHERE id = ?", [ticket.id, rows[0]["id"]])
        db.execute("UPDATE tickets SET consultation_id = ? WHERE id = ?", [rows[0]["id"], ticket.id])


def open_pending_ticket(ctx: Context, openid: str, village: str,
                        request: dict[str, Any]) -> Ticket:
    """The villager named their village: open the ticket that was waiting for it."""
    ticket = open_ticket(ctx, openid, village, request)
    link_consultation(ctx.db, ticket)
    return ticket


# ---- notifying the adviser (enqueued here, sent by the worker) ---------------------------

def notify(db, ticket_id: int, adviser: Adviser, now: float, reason: str) -> None:
    """Enqueue one notification; the dedupe key makes a repeated call harmless."""
    enqueue(db, "notify_adviser", {"ticket_id": ticket_id, "adviser_id": adviser.id,
                                   "reason": reason},
            now, dedupe_key=f"notify:{ticket_id}:{adviser.id}:{reason}")


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


def send_notification(services, db, client, payload: dict[str, Any], now: float) -> str:
    """Outbox job: tell the adviser (customer-service message in the window, else a template)."""
    from bot.delivery import in_cs_window, send_custom_or_none
    ticket, adviser = get_ticket(db, payload["ticket_id"]), adv.get_adviser(db, payload["adviser_id"])
    if ticket is None or adviser is None:
        raise Hold("ticket or adviser no longer exists")
    if ticket.status not in ANSWERABLE:
        raise Hold(f"ticket already {ticket.status}")
    if already_notified(db, ticket.id, notified_note(payload["reason"], adviser)):
        raise Hold("already sent (a worker died before recording it)")
    if not services.config.wechat.can_push or not adviser.openid:
        raise routing.Unreachable(adviser.id, routing.unreachable_reason(
            db, services.config, adviser, now) or f"{adviser.name}收不到微信消息")
    text = notification_text(ticket, payload["reason"], (now - ticket.created_at) / 3600)
    sent = in_cs_window(db, services.config, adviser.openid, now) and \
        send_custom_or_none(db, client, adviser.openid, text, now)
    if not sent:
        send_template(services.config, client, adviser, ticket)
    mark_notified(db, ticket, adviser, payload["reason"], now, "cs" if sent else "template")
    if sent and ticket.media_id:
        enqueue(db, "forward_voice", {"ticket_id": ticket.id, "adviser_id": adviser.id}, now,
                dedupe_key=f"voice:{ticket.id}:{adviser.id}")
    return "sent"


def forward_voice(services, db, client, payload: dict[str, Any], now: float) -> str:
    """Outbox job: pass the villager's voice message on, so the adviser listens on the phone.

    WeChat keeps a voice for 3 days; outside the adviser's 48-hour window it stays on the
    ticket, downloadable from the console while WeChat still has it.
    """
    from bot.delivery import count_cs_sent, in_cs_window
    ticket, adviser = get_ticket(db, payload["ticket_id"]), adv.get_adviser(db, payload["adviser_id"])
    if ticket is None or adviser is None or not ticket.media_id or not adviser.openid:
        raise Hold("nothing to forward")
    if not in_cs_window(db, services.config, adviser.openid, now):
        raise Hold(f"{adviser.name} is outside the 48-hour window: the voice is in the console")
    client.send_voice(adviser.openid, ticket.media_id)
    count_cs_sent(db, adviser.openid)
    log_event(db, ticket.id, ticket.status, now, "worker", f"voice → {adviser.name}")
    return "sent"


def send_template(config: Config, client, adviser: Adviser, ticket: Ticket) -> None:
    if not config.wechat.adviser_template_id:
        raise routing.Unreachable(adviser.id, f"{adviser.name}超过48小时没给公众号发消息，"
                                              "又没有配置模板消息")
    client.send_template(adviser.openid, config.wechat.adviser_template_id, template_data(ticket))


def notified_note(reason: str, adviser: Adviser) -> str:
    return f"{reason} → {adviser.name}"


def already_notified(db, ticket_id: int, note: str) -> bool:
    return bool(list(db.query("SELECT 1 FROM ticket_events WHERE ticket_id = ? AND note LIKE ?",
                              [ticket_id, note + " by %"])))


def mark_notified(db, ticket: Ticket, adviser: Adviser, reason: str, now: float, via: str) -> None:
    note = f"{notified_note(reason, adviser)} by {via}"
    if not transition(db, ticket.id, "notified", now, actor="worker", note=note,
                      expect=("open",), notified_at=now):
        log_event(db, ticket.id, ticket.status, now, "worker", note)


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
    from bot.delivery import queue_delivery
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


def close_ticket(db, ticket_id: int, now: float, actor: str, note: str = "") -> bool:
    return transition(db, ticket_id, "closed", now, actor=actor, note=note,
                      expect=("answered", "delivered"), closed_at=now)


def adviser_todo(db, adviser: Adviser) -> list[Ticket]:
    """Waiting tickets this adviser may answer, oldest first."""
    waiting = list_tickets(db, status=list(WAITING))
    return sorted((t for t in waiting if can_act(adviser, t)), key=lambda t: t.id)
