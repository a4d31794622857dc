"""Legal advisers: one per village (from config.toml or `legalbot adviser add`) and the backup.

An adviser answers from their own phone, so the bot must know which WeChat openid is theirs.
Nobody types an openid: the township prints a one-time binding code (`legalbot adviser
bind-code 韦律师`) and the adviser sends "绑定 49302117" to the official account.

A binding opens villagers' stories to whoever holds it, so the code is long (8 digits by
default), valid for minutes, spent at first use, and guessing is stopped: a WeChat that sends
too many wrong codes is locked for a while, and a code that too many wrong tries were made
against is voided; both are shown to staff in the console. When an adviser's binding moves to
another WeChat, the one it leaves is told ([binding] in config.toml).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bot.core.config import BindingSettings, Config, for_last_config
from bot.escalation.outbox import JobRun, enqueue, job
from bot.core.store import fetch_one, json_text, transaction, write


@dataclass
class Adviser:
    id: int
    name: str
    phone: str = ""
    villages: list[str] = field(default_factory=list)
    is_backup: bool = False
    openid: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Adviser":
        return cls(id=row["id"], name=row["name"], phone=row["phone"] or "",
                   villages=json.loads(row["villages"] or "[]"), is_backup=bool(row["is_backup"]),
                   openid=row["openid"])

    def covers(self, village: str | None) -> bool:
        """The backup (司法所) covers every village; an adviser covers their own."""
        return self.is_backup or (village is not None and village in self.villages)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "phone": self.phone, "villages": self.villages,
                "is_backup": self.is_backup, "bound": self.openid is not None}


class BindingError(ValueError):
    """A binding code that is unknown, expired, or an openid already bound to someone else."""


class BindingLocked(BindingError):
    """This WeChat sent too many wrong codes lately: no code is even looked at."""


def config_advisers(config: Config) -> dict[str, dict[str, Any]]:
    """The advisers config.toml names: name → {phone, villages, is_backup}; also the duty
    contact's and the mediators' own accounts ([duty], [mediation])."""
    wanted: dict[str, dict[str, Any]] = {}
    for village in config.villages:
        entry = wanted.setdefault(village.adviser.name, {"phone": village.adviser.phone,
                                                         "villages": [], "is_backup": False})
        entry["villages"].append(village.name)
    wanted[config.backup.name] = {"phone": config.backup.phone, "villages": [], "is_backup": True}
    if config.duty.name and not config.duty.adviser and config.duty.name not in wanted:
        # the duty contact's own account, bound like an adviser's; it covers no village
        wanted[config.duty.name] = {"phone": config.duty.phone, "villages": [], "is_backup": False}
    for name, mediator in config.mediation.mediators().items():
        # a mediator who is not an adviser (a 法律明白人) gets an account of their own, bound the
        # same way; it covers no village's tickets (their cases: bot.community.mediation)
        wanted.setdefault(name, {"phone": mediator.phone, "villages": [], "is_backup": False})
    return wanted


@for_last_config
def config_rows(config: Config) -> dict[str, tuple[Any, str, int]]:
    """The configured advisers as their rows hold them: name → (phone, villages as JSON, is_backup).
    Made once per config (callers only read the dict)."""
    return {name: (entry["phone"], json_text(entry["villages"]), int(entry["is_backup"]))
            for name, entry in config_advisers(config).items()}


def sync_advisers(db, config: Config, now: float) -> None:
    """Create or update the configured advisers; bindings and `adviser add` rows are kept."""
    with transaction(db):
        for name, (phone, villages, is_backup) in config_rows(config).items():
            db.execute(
                "INSERT INTO advisers (name, phone, villages, is_backup, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET phone = excluded.phone, "
                "villages = excluded.villages, is_backup = excluded.is_backup",
                [name, phone, villages, is_backup, now])


def ensure_advisers(db, config: Config, now: float) -> None:
    """Sync when the table differs from config.toml (a cheap read decides), so every process
    sees the configured advisers. For an adviser named in config.toml, the config wins.

    The rows are compared as stored, the villages as the JSON text ``sync_advisers`` writes: this
    runs on every hand-over, and parsing each row's JSON cost more than the rest of the check. A
    row whose JSON is spelled otherwise (written by another tool) is written once more, in this
    spelling, and then matches."""
    stored = {name: (phone, villages, is_backup) for name, phone, villages, is_backup
              in db.conn.execute("SELECT name, phone, villages, is_backup FROM advisers")}
    if any(stored.get(name) != row for name, row in config_rows(config).items()):
        sync_advisers(db, config, now)


def _one(db, where: str, params: list[Any]) -> Adviser | None:
    row = fetch_one(db, f"SELECT * FROM advisers WHERE {where} LIMIT 1", params)
    return Adviser.from_row(row) if row else None


def get_adviser(db, adviser_id: int | None) -> Adviser | None:
    return None if adviser_id is None else _one(db, "id = ?", [adviser_id])


def adviser_by_name(db, name: str) -> Adviser | None:
    return _one(db, "name = ?", [name])


def adviser_by_openid(db, openid: str) -> Adviser | None:
    return _one(db, "openid = ?", [openid]) if openid else None


def backup_adviser(db) -> Adviser | None:
    return _one(db, "is_backup = 1 ORDER BY id", [])


def duty_adviser(db, config: Config) -> Adviser | None:
    """The account through which the duty contact is told (config [duty]), if any."""
    name = config.duty.adviser or config.duty.name
    return adviser_by_name(db, name) if name else None


def adviser_for_village(db, village: str | None) -> Adviser | None:
    """The village's own adviser, or the backup when the village has none."""
    for adviser in list_advisers(db):
        if not adviser.is_backup and village in adviser.villages:
            return adviser
    return backup_adviser(db)


def list_advisers(db) -> list[Adviser]:
    return [Adviser.from_row(r) for r in db.query("SELECT * FROM advisers ORDER BY is_backup, id")]


def add_adviser(db, name: str, phone: str, villages: list[str], now: float,
                is_backup: bool = False) -> Adviser:
    """Add an adviser (or update one of that name) — `legalbot adviser add`."""
    write(
        db, "INSERT INTO advisers (name, phone, villages, is_backup, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET phone = excluded.phone, villages = excluded.villages, "
        "is_backup = excluded.is_backup",
        [name, phone, json.dumps(villages, ensure_ascii=False), int(is_backup), now])
    return adviser_by_name(db, name)


def new_bind_code(db, name: str, now: float, ttl_minutes: float = 15.0,
                  digits: int = BindingSettings.code_digits) -> str:
    """A fresh code of ``digits`` digits for ``name``; it replaces any earlier one and expires
    after ``ttl_minutes``."""
    if adviser_by_name(db, name) is None:
        raise BindingError(f"no adviser named {name!r}")
    with transaction(db):
        code = _unused_code(db, now, digits)
        db.execute("UPDATE advisers SET bind_code = ?, bind_code_expires = ?, bind_code_failures = 0"
                   " WHERE name = ?", [code, now + ttl_minutes * 60, name])
    return code


def _unused_code(db, now: float, digits: int) -> str:
    while True:
        code = f"{secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1)}"
        taken = list(db.query("SELECT 1 FROM advisers WHERE bind_code = ? AND bind_code_expires > ?",
                              [code, now]))
        if not taken:
            return code


def bind(db, code: str, openid: str, now: float,
         settings: BindingSettings = BindingSettings()) -> Adviser:
    """Link ``openid`` to the adviser holding ``code``; the code is spent at once.

    One transaction decides and records: a locked WeChat is refused before any code is looked
    at; a wrong code is counted against the sender and against every valid code. The refusal is
    raised after the transaction, so the count is kept.
    """
    with transaction(db):
        refusal = binding_refusal(db, openid, now, settings)
        row = None if refusal else valid_code_row(db, code, now)
        if refusal is None and row is None:
            refusal = count_failure(db, openid, now, settings)
        elif refusal is None:
            refusal = link(db, row, openid, now)
    if refusal is not None:
        raise refusal
    return adviser_by_openid(db, openid)


def binding_refusal(db, openid: str, now: float, settings: BindingSettings) -> BindingError | None:
    """BindingLocked while this WeChat has used up its wrong codes in the window."""
    return BindingLocked("too many wrong codes") if failures(db, openid, now, settings) \
        >= settings.max_failures_per_openid else None


def failures(db, openid: str, now: float, settings: BindingSettings) -> int:
    since = now - settings.failure_window_minutes * 60
    return db.execute("SELECT COUNT(*) FROM binding_failures WHERE openid = ? AND at >= ?",
                      [openid, since]).fetchone()[0]


def valid_code_row(db, code: str, now: float) -> dict | None:
    return fetch_one(db, "SELECT * FROM advisers WHERE bind_code = ? AND bind_code_expires > ?",
                     [code, now])


def count_failure(db, openid: str, now: float, settings: BindingSettings) -> BindingError:
    """Record a wrong code: against the sender (locked at the limit) and against every code
    still valid (voided at its limit). Staff are told of both."""
    db.execute("INSERT INTO binding_failures (openid, at) VALUES (?, ?)", [openid, now])
    if failures(db, openid, now, settings) >= settings.max_failures_per_openid:
        alert(db, now, "binding_locked", f"一个微信号连续发错绑定码 {settings.max_failures_per_openid} 次，"
              f"已暂停它绑定 {settings.failure_window_minutes:g} 分钟（可能有人在猜绑定码）。")
    db.execute("UPDATE advisers SET bind_code_failures = bind_code_failures + 1"
               " WHERE bind_code IS NOT NULL AND bind_code_expires > ?", [now])
    for row in db.execute("SELECT name FROM advisers WHERE bind_code IS NOT NULL AND bind_code_failures >= ?",
                          [settings.max_failures_per_code]).fetchall():
        alert(db, now, "code_voided", f"{row[0]}的绑定码在有效期内被试错 {settings.max_failures_per_code} 次，"
              "已作废；请核实后重新生成（legalbot adviser bind-code）。")
    db.execute("UPDATE advisers SET bind_code = NULL, bind_code_expires = NULL"
               " WHERE bind_code IS NOT NULL AND bind_code_failures >= ?", [settings.max_failures_per_code])
    return BindingError("unknown or expired code")


def link(db, row: dict, openid: str, now: float) -> BindingError | None:
    """Bind ``openid`` to the code's adviser; tell the WeChat the binding leaves, if any."""
    other = fetch_one(db, "SELECT name FROM advisers WHERE openid = ? AND id != ?", [openid, row["id"]])
    if other:
        return BindingError(f"this WeChat account is already bound to {other['name']}")
    db.execute("UPDATE advisers SET openid = ?, bind_code = NULL, bind_code_expires = NULL,"
               " bind_code_failures = 0 WHERE id = ?", [openid, row["id"]])
    if row["openid"] and row["openid"] != openid:
        moved_away(db, row["name"], row["openid"], now)
    return None


BINDING_MOVED = ("您的微信原来绑定为{name}（村法律顾问），现在已改绑到另一个微信，此后咨询不再发给您。"
                 "如果不是您本人或司法所办理的，请马上联系乡司法所。")


@dataclass(frozen=True)
class BindingNotice:
    """Outbox payload: a customer-service text to a WeChat whose adviser binding moved away."""

    KIND: ClassVar[str] = "binding_notice"
    openid: str
    text: str


def moved_away(db, name: str, previous_openid: str, now: float) -> None:
    """The previous WeChat is told (outbox: a customer-service text) and staff see it."""
    enqueue(db, BindingNotice(previous_openid, BINDING_MOVED.format(name=name)),
            now, dedupe_key=f"binding-moved:{name}:{previous_openid}:{now:.3f}")
    alert(db, now, "binding_moved", f"{name}的微信绑定已改到另一个微信号；原来的微信已收到通知。")


def alert(db, now: float, kind: str, message: str) -> None:
    """A line for staff on the console's dashboard."""
    db.execute("INSERT INTO security_alerts (at, kind, message) VALUES (?, ?, ?)", [now, kind, message])


def recent_alerts(db, now: float, days: float = 14) -> list[dict]:
    """Staff's binding alerts of the last ``days``, newest first."""
    return list(db.query("SELECT at, kind, message FROM security_alerts WHERE at >= ?"
                         " ORDER BY at DESC, id DESC LIMIT 20", [now - days * 86400]))


@job(BindingNotice)
def send_binding_notice(run: JobRun, payload: BindingNotice) -> str:
    """Outbox job: the customer-service text to a WeChat whose adviser binding moved away."""
    run.client.send_text(payload.openid, payload.text)
    return "sent"
