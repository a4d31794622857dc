"""The mediation register (调解台账): disputes a village's 人民调解委员会 takes, and what came of them.

A case is found three ways (``Source``): a villager takes up the 人民调解 offered under an answer
("调解"), staff record a dispute found in person (排查), or an adviser or staff refer a ticket.
It goes to the committee of its village (config [mediation]); the committee's mediators are told
by WeChat and keep the case up to date, by WeChat command (handlers/mediation.py) or in the
console. The statuses and the moves between them are declared once, here:

    open ──▶ mediating ──▶ succeeded
      │          │    ╲──▶ failed ──▶ referred (转诉讼或仲裁)
      │          ├──────▶ referred
      └──────────┴──────▶ withdrawn (撤回: a party no longer wants it, 人民调解法第23条)

A session (一次调解) is an event that moves an open case to mediating; an outcome closes it. Every
change is a row of ``mediation_events`` written in the transaction that makes it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Iterable

from bot.escalation import advisers as adv
from bot.escalation.advisers import Adviser
from bot.core.config import Config
from bot.retrieval.disputes import Kind, kind_label
from bot.escalation.outbox import Hold, JobRun, enqueue, job
from bot.core.privacy import mask_phone
from bot.core.store import fetch_one, transaction


class Status(StrEnum):
    OPEN = "open"                # brought or found; no session held yet
    MEDIATING = "mediating"      # at least one session held
    SUCCEEDED = "succeeded"      # 调解成功
    FAILED = "failed"            # 调解未成功
    REFERRED = "referred"        # 转诉讼或仲裁
    WITHDRAWN = "withdrawn"      # 撤回


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.OPEN: frozenset({S.MEDIATING, S.SUCCEEDED, S.FAILED, S.REFERRED, S.WITHDRAWN}),
    S.MEDIATING: frozenset({S.SUCCEEDED, S.FAILED, S.REFERRED, S.WITHDRAWN}),
    S.FAILED: frozenset({S.REFERRED}),
    S.SUCCEEDED: frozenset(),
    S.REFERRED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
ACTIVE = (S.OPEN, S.MEDIATING)
OUTCOMES = (S.SUCCEEDED, S.FAILED, S.REFERRED, S.WITHDRAWN)
STATUS_LABELS = {S.OPEN: "待调解", S.MEDIATING: "调解中", S.SUCCEEDED: "调解成功", S.FAILED: "调解未成功",
                 S.REFERRED: "转诉讼或仲裁", S.WITHDRAWN: "撤回"}


class Source(StrEnum):
    VILLAGER = "villager"        # 群众申请 (the offer under an answer)
    INSPECTION = "inspection"    # 排查 (found in person)
    TICKET = "ticket"            # 咨询转来 (a ticket referred)


SOURCE_LABELS = {Source.VILLAGER: "群众申请", Source.INSPECTION: "矛盾排查", Source.TICKET: "咨询转来"}


class EventKind(StrEnum):
    OPENED = "opened"
    SESSION = "session"          # one mediation session held (note: what happened)
    STATUS = "status"            # an outcome or another move
    EDIT = "edit"                # kind, parties, summary or mediator changed
    NOTIFIED = "notified"        # a mediator was told by WeChat


class MediationError(ValueError):
    """Something a mediator or staff asked for that the case does not allow; says what in Chinese."""


@dataclass
class Party:
    role: str = "当事人"          # 申请人 | 对方 | 当事人
    name: str = ""
    phone: str = ""

    def masked(self) -> "Party":
        """For lists and exports: the surname only, the phone starred."""
        shown = (self.name[:1] + "*" * max(len(self.name) - 1, 1)) if self.name else ""
        return Party(self.role, shown, mask_phone(self.phone))

    def label(self) -> str:
        parts = [p for p in (self.name, self.phone) if p]
        return f"{self.role}：{' '.join(parts) or '未填'}"


@dataclass
class Case:
    id: int
    village: str
    kind: str
    found_via: str
    status: str
    summary: str = ""
    parties: list[Party] = field(default_factory=list)
    mediator: str | None = None
    sessions: int = 0
    agreement: bool = False
    judicial_confirmation: bool = False
    openid: str | None = None
    ticket_id: int | None = None
    consultation_id: int | None = None
    found_at: float = 0.0
    created_at: float = 0.0
    closed_at: float | None = None
    is_test: bool = False

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Case":
        parties = [Party(**p) for p in json.loads(row["parties"] or "[]")]
        return cls(id=row["id"], village=row["village"], kind=row["kind"], found_via=row["found_via"],
                   status=row["status"], summary=row["summary"] or "", parties=parties,
                   mediator=row["mediator"], sessions=row["sessions"], agreement=bool(row["agreement"]),
                   judicial_confirmation=bool(row["judicial_confirmation"]), openid=row["openid"],
                   ticket_id=row["ticket_id"], consultation_id=row["consultation_id"],
                   found_at=row["found_at"], created_at=row["created_at"], closed_at=row["closed_at"],
                   is_test=bool(row["is_test"]))

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(Status(self.status), self.status)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(Source(self.found_via), self.found_via)

    def masked_parties(self) -> list[Party]:
        return [p.masked() for p in self.parties]


@dataclass
class NewCase:
    """What a case is opened with, from any of its sources."""

    village: str
    kind: Kind
    found_via: Source
    summary: str = ""
    parties: list[Party] = field(default_factory=list)
    openid: str | None = None
    ticket_id: int | None = None
    consultation_id: int | None = None
    mediator: str | None = None
    found_at: float | None = None        # default: now
    is_test: bool = False


# ---- who may see and act ---------------------------------------------------------------------

def mediator_villages(config: Config, adviser: Adviser | None) -> list[str] | None:
    """The villages whose cases this adviser account may see and update: the backup (司法所) all
    of them (None), a mediator their committees' villages, anyone else none."""
    if adviser is None:
        return []
    if adviser.is_backup:
        return None
    return config.mediation.villages_of(adviser.name)


def is_mediator(config: Config, adviser: Adviser | None) -> bool:
    return adviser is not None and (adviser.is_backup or bool(config.mediation.villages_of(adviser.name)))


def can_act(config: Config, adviser: Adviser | None, case: Case) -> bool:
    villages = mediator_villages(config, adviser)
    return villages is None or case.village in villages


def actionable_case(db, config: Config, case_id: int, adviser: Adviser | None) -> Case:
    case = get_case(db, case_id)
    if case is None or not can_act(config, adviser, case):
        raise MediationError(f"没有找到您负责的调解案件 #{case_id}。")
    return case


# ---- reading ---------------------------------------------------------------------------------

def get_case(db, case_id: int) -> Case | None:
    row = fetch_one(db, "SELECT * FROM mediation_cases WHERE id = ?", [case_id])
    return Case.from_row(row) if row else None


def list_cases(db, villages: Iterable[str] | None = None, statuses: Iterable[str] | None = None,
               openid: str | None = None) -> list[Case]:
    """Cases, newest first, limited to ``villages`` / ``statuses`` / one villager when given."""
    where, params = ["1 = 1"], []
    for column, values in (("village", villages), ("status", statuses)):
        if values is not None:
            values = [str(v) for v in values]
            where.append(f"{column} IN ({','.join('?' * len(values)) or 'NULL'})")
            params += values
    if openid is not None:
        where.append("openid = ?")
        params.append(openid)
    sql = f"SELECT * FROM mediation_cases WHERE {' AND '.join(where)} ORDER BY id DESC"
    return [Case.from_row(r) for r in db.query(sql, params)]


def case_events(db, case_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM mediation_events WHERE case_id = ? ORDER BY id", [case_id]))


def active_case_of(db, openid: str) -> Case | None:
    """The villager's latest case still being mediated, if any."""
    found = list_cases(db, statuses=ACTIVE, openid=openid)
    return found[0] if found else None


def has_active_case(db, openid: str) -> bool:
    """Whether a case of this villager's is still being mediated: one indexed read on the request
    path (the offer under an answer), not the case list with sqlite-utils' savepoint."""
    marks = ", ".join("?" for _ in ACTIVE)
    return fetch_one(db, f"SELECT 1 AS found FROM mediation_cases WHERE openid = ? AND status IN ({marks})"
                         " LIMIT 1", [openid, *map(str, ACTIVE)]) is not None


# ---- writing ---------------------------------------------------------------------------------

def log_event(db, case_id: int, kind: EventKind, now: float, actor: str, via: str, note: str = "",
              from_status: str | None = None, to_status: str | None = None) -> None:
    db.execute("INSERT INTO mediation_events (case_id, at, kind, from_status, to_status, actor, via, note)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [case_id, now, str(kind), from_status, to_status, actor, via, note or None])


def open_case(db, config: Config, new: NewCase, now: float, *, actor: str, via: str) -> Case:
    """Write the case and tell its committee's mediators (enqueued), in one transaction."""
    if config.mediation.committee(new.village) is None and config.village(new.village) is None:
        raise MediationError(f"没有“{new.village}”这个村。")
    adv.ensure_advisers(db, config, now)
    with transaction(db):
        case_id = db.execute(
            "INSERT INTO mediation_cases (village, kind, found_via, status, openid, ticket_id,"
            " consultation_id, summary, parties, mediator, found_at, created_at, created_by, is_test)"
            " VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [new.village, str(new.kind), str(new.found_via), new.openid, new.ticket_id,
             new.consultation_id, new.summary, parties_json(new.parties), new.mediator,
             new.found_at or now, now, actor, int(new.is_test)]).lastrowid
        log_event(db, case_id, EventKind.OPENED, now, actor, via, SOURCE_LABELS[new.found_via],
                  to_status=S.OPEN)
        for mediator in committee_accounts(db, config, new.village):
            notify(db, case_id, mediator, now)
    return get_case(db, case_id)


def parties_json(parties: list[Party]) -> str:
    return json.dumps([p.__dict__ for p in parties if p.name or p.phone or p.role], ensure_ascii=False)


def committee_accounts(db, config: Config, village: str) -> list[Adviser]:
    """The accounts of the village committee's mediators (the backup when it has none)."""
    committee = config.mediation.committee(village)
    if committee is None:
        backup = adv.backup_adviser(db)
        return [backup] if backup else []
    found = [adv.adviser_by_name(db, m.name) for m in committee.mediators]
    return [a for a in found if a is not None]


def transition(db, case_id: int, to_status: Status, now: float, *, actor: str, via: str,
               note: str = "", **fields: Any) -> bool:
    """Move the case if TRANSITIONS allows it from where it is; the change and its event are one
    transaction, so two mediators closing a case at once make one outcome."""
    sources = [str(s) for s, targets in TRANSITIONS.items() if to_status in targets]
    sets = ", ".join(["status = ?", *(f"{k} = ?" for k in fields)])
    with transaction(db):
        row = db.execute("SELECT status FROM mediation_cases WHERE id = ?", [case_id]).fetchone()
        changed = db.execute(f"UPDATE mediation_cases SET {sets} WHERE id = ? AND status IN"
                             f" ({','.join('?' * len(sources))})",
                             [str(to_status), *fields.values(), case_id, *sources]).rowcount
        if changed:
            log_event(db, case_id, EventKind.STATUS, now, actor, via, note, row[0], str(to_status))
    return bool(changed)


def record_session(db, config: Config, case_id: int, adviser: Adviser | None, now: float, *,
                   actor: str, via: str, note: str = "") -> Case:
    """One mediation session held: counted, noted, and an open case is now being mediated. The
    mediator who records the first session takes the case if nobody holds it."""
    case = actionable_case(db, config, case_id, adviser)
    if not case.active:
        raise MediationError(f"调解案件 #{case_id} 已经{case.status_label}，不能再记录调解。")
    with transaction(db):
        db.execute("UPDATE mediation_cases SET sessions = sessions + 1, mediator = COALESCE(mediator, ?)"
                   " WHERE id = ?", [mediator_name(adviser), case_id])
        log_event(db, case_id, EventKind.SESSION, now, actor, via, note)
        if case.status == S.OPEN:
            transition(db, case_id, S.MEDIATING, now, actor=actor, via=via)
    return get_case(db, case_id)


def mediator_name(adviser: Adviser | None) -> str | None:
    return None if adviser is None or adviser.is_backup else adviser.name


def close_case(db, config: Config, case_id: int, outcome: Status, adviser: Adviser | None,
               now: float, *, actor: str, via: str, note: str = "", agreement: bool | None = None,
               confirmation: bool | None = None) -> Case:
    """Record the outcome. A success means the parties met at least once: a case closed as a
    success without a recorded session counts one. An agreement and 司法确认 are kept as said."""
    if outcome not in OUTCOMES:
        raise MediationError("结果只能是：调解成功、调解未成功、转诉讼或仲裁、撤回。")
    case = actionable_case(db, config, case_id, adviser)
    fields: dict[str, Any] = {"closed_at": now}
    if outcome == S.SUCCEEDED:
        fields["sessions"] = max(case.sessions, 1)
        fields["agreement"] = int(case.agreement if agreement is None else agreement)
        fields["judicial_confirmation"] = int(case.judicial_confirmation if confirmation is None
                                              else confirmation)
    if mediator_name(adviser) and not case.mediator:
        fields["mediator"] = mediator_name(adviser)
    if not transition(db, case_id, outcome, now, actor=actor, via=via, note=note, **fields):
        raise MediationError(f"调解案件 #{case_id} 现在是“{case.status_label}”，不能改为"
                             f"“{STATUS_LABELS[outcome]}”。")
    return get_case(db, case_id)


EDITABLE = ("kind", "summary", "mediator", "village")


def edit_case(db, config: Config, case_id: int, adviser: Adviser | None, now: float, *, actor: str,
              via: str, parties: list[Party] | None = None, **changes: Any) -> Case:
    """Correct the kind, summary, mediator or parties (the console's form); an event says what."""
    case = actionable_case(db, config, case_id, adviser)
    fields = {k: v for k, v in changes.items() if k in EDITABLE and v is not None and v != getattr(case, k)}
    if "kind" in fields:
        fields["kind"] = str(Kind(fields["kind"]))
    if parties is not None and parties != case.parties:
        fields["parties"] = parties_json(parties)
    if not fields:
        return case
    with transaction(db):
        sets = ", ".join(f"{k} = ?" for k in fields)
        db.execute(f"UPDATE mediation_cases SET {sets} WHERE id = ?", [*fields.values(), case_id])
        log_event(db, case_id, EventKind.EDIT, now, actor, via, edit_note(fields))
    return get_case(db, case_id)


def villager_contact(db, case_id: int, openid: str, now: float, *, name: str = "", phone: str = "",
                     other: str = "") -> Case | None:
    """The asking villager tells their name or phone, or who the other side is; only their own
    case, while it is being mediated."""
    case = get_case(db, case_id)
    if case is None or case.openid != openid or not case.active:
        return None
    parties = [Party(**p.__dict__) for p in case.parties] or [Party("申请人"), Party("对方")]
    applicant = next((p for p in parties if p.role == "申请人"), None) or parties[0]
    applicant.name, applicant.phone = name or applicant.name, phone or applicant.phone
    if other:
        opposite = next((p for p in parties if p.role == "对方"), None)
        if opposite is None:
            parties.append(Party("对方", other))
        else:
            opposite.name = other
    with transaction(db):
        db.execute("UPDATE mediation_cases SET parties = ? WHERE id = ?", [parties_json(parties), case_id])
        log_event(db, case_id, EventKind.EDIT, now, "villager", "wechat", "申请人补充了联系方式或对方")
    return get_case(db, case_id)


EDIT_NAMES = {"kind": "类型", "summary": "纠纷简况", "mediator": "调解员", "village": "村", "parties": "当事人"}


def edit_note(fields: dict[str, Any]) -> str:
    return "修改了" + "、".join(EDIT_NAMES[k] for k in fields)


# ---- telling the mediators (enqueued here, sent by the worker) -------------------------------

@dataclass(frozen=True)
class NotifyMediator:
    """Outbox payload: tell mediator ``adviser_id`` of the new case ``case_id``."""

    KIND: ClassVar[str] = "notify_mediator"
    case_id: int
    adviser_id: int


def notify(db, case_id: int, mediator: Adviser, now: float) -> None:
    enqueue(db, NotifyMediator(case_id, mediator.id), now, dedupe_key=f"mediation:{case_id}:{mediator.id}:new")


def notification_text(case: Case) -> str:
    lines = [f"新调解案件 调解#{case.id}（{case.village}，{case.kind_label}，{case.source_label}）",
             f"纠纷：{case.summary or '（见后台）'}"]
    lines += [p.label() for p in case.parties]
    lines.append(f"回复“调解 {case.id}”看详情；调解一次后回复“调解 {case.id} 记录 情况”；"
                 f"结案回复“调解 {case.id} 成功 协议已签”（或 未成功 / 转诉讼 / 撤回）。")
    return "\n".join(lines)


def template_fields(case: Case) -> dict[str, dict[str, str]]:
    """The adviser notification template's fields (≤ 20 characters each, bot.escalation.tickets)."""
    from bot.core.periods import local_time
    return {"thing1": {"value": f"{case.village}调解·{case.kind_label}"[:20]},
            "character_string2": {"value": f"调解#{case.id}"},
            "time3": {"value": local_time(case.created_at).strftime("%Y-%m-%d %H:%M")}}


@job(NotifyMediator)
def send_notification(run: JobRun, payload: NotifyMediator) -> str:
    """Outbox job: tell one mediator of a new case (customer-service message in WeChat's 48-hour
    window, else the adviser template when configured)."""
    from bot.escalation.delivery import in_cs_window, send_custom_or_none
    from bot.escalation.routing import unreachable_reason
    services, db, client, now = run.services, run.db, run.client, run.now
    case, mediator = get_case(db, payload.case_id), adv.get_adviser(db, payload.adviser_id)
    if case is None or mediator is None or not case.active:
        raise Hold("case closed or mediator gone")
    reason = unreachable_reason(db, services.config, mediator, now)
    if reason:
        raise Hold(reason)
    sent = in_cs_window(db, services.config, mediator.openid, now) and \
        send_custom_or_none(db, client, mediator.openid, notification_text(case), now)
    if not sent:
        template = services.config.wechat.adviser_template_id
        if not template:
            raise Hold(f"{mediator.name}超过48小时没给公众号发消息，又没有配置模板消息")
        client.send_template(mediator.openid, template, template_fields(case))
    log_event(db, case.id, EventKind.NOTIFIED, now, "worker", "worker", f"已通知{mediator.name}")
    return "sent"


def bound_text_for(db, config: Config, adviser: Adviser, adviser_text: str) -> str:
    """What a WeChat just bound is told: a mediator who is no adviser (a 法律明白人) hears about
    their committees' cases only; an adviser who also mediates hears both."""
    villages = config.mediation.villages_of(adviser.name)
    if not villages or adviser.is_backup:
        return adviser_text
    waiting = len(list_cases(db, villages=villages, statuses=ACTIVE))
    note = (f"{'、'.join(villages)}人民调解委员会的调解案件也会发给您"
            + (f"，现在有{waiting}件待调解" if waiting else "") + "：回复“调解待办”查看，"
            "“调解 编号 记录 情况”记一次调解，“调解 编号 成功 协议已签”结案。")
    if adviser.villages:
        return f"{adviser_text}\n{note}"
    return f"绑定成功！{adviser.name}，{note}"


# ---- reading a mediator's WeChat words -----------------------------------------------------

AGREEMENT_SIGNED = re.compile(r"(协议已签|已签协议|签了协议|签订了?协议|签协议|协议书已签)")
ORAL_AGREEMENT = re.compile(r"口头协议")
CONFIRMATION = re.compile(r"司法确认")
NO_CONFIRMATION = re.compile(r"(不申请|没申请|未申请|不做|没有?)司法确认")


def agreement_said(text: str) -> bool | None:
    """Whether the words say a written agreement was signed (None: not said)."""
    if AGREEMENT_SIGNED.search(text):
        return True
    return False if ORAL_AGREEMENT.search(text) else None


def confirmation_said(text: str) -> bool | None:
    if NO_CONFIRMATION.search(text):
        return False
    return True if CONFIRMATION.search(text) else None
