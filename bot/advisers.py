"""Legal advisers: one per village (from config.toml or `legalbot adviser add`) and the backup.

An adviser answers from their own phone, so the bot must know which WeChat openid is theirs.
Nobody types an openid: the township prints a one-time binding code (`legalbot adviser
bind-code 韦律师`) and the adviser sends "绑定 493021" to the official account.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.config import Config
from bot.store import fetch_one, transaction, write


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


def config_advisers(config: Config) -> dict[str, dict[str, Any]]:
    """The advisers config.toml names: name → {phone, villages, is_backup}."""
    wanted: dict[str, dict[str, Any]] = {}
    for village in config.villages:
        entry = wanted.setdefault(village.adviser.name, {"phone": village.adviser.phone,
                                                         "villages": [], "is_backup": False})
        entry["villages"].append(village.name)
    wanted[config.backup.name] = {"phone": config.backup.phone, "villages": [], "is_backup": True}
    if config.duty.name and not config.duty.adviser and config.duty.name not in wanted:
        # the duty contact's own account, bound like an adviser's; it covers no village
        wanted[config.duty.name] = {"phone": config.duty.phone, "villages": [], "is_backup": False}
    return wanted


def sync_advisers(db, config: Config, now: float) -> None:
    """Create or update the configured advisers; bindings and `adviser add` rows are kept."""
    with transaction(db):
        for name, entry in config_advisers(config).items():
            db.execute(
                "INSERT INTO advisers (name, phone, villages, is_backup, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET phone = excluded.phone, "
                "villages = excluded.villages, is_backup = excluded.is_backup",
                [name, entry["phone"], json.dumps(entry["villages"], ensure_ascii=False),
                 int(entry["is_backup"]), now])


def ensure_advisers(db, config: Config, now: float) -> None:
    """Sync when the table differs from config.toml (a cheap read decides), so every process
    sees the configured advisers. For an adviser named in config.toml, the config wins."""
    stored = {r["name"]: {"phone": r["phone"], "villages": json.loads(r["villages"]),
                          "is_backup": bool(r["is_backup"])}
              for r in db.query("SELECT name, phone, villages, is_backup FROM advisers")}
    wanted = config_advisers(config)
    if any(stored.get(name) != entry for name, entry in wanted.items()):
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


def new_bind_code(db, name: str, now: float, ttl_hours: float) -> str:
    """A fresh six-digit code for ``name``; it replaces any earlier one and expires."""
    if adviser_by_name(db, name) is None:
        raise BindingError(f"no adviser named {name!r}")
    with transaction(db):
        code = _unused_code(db, now)
        db.execute("UPDATE advisers SET bind_code = ?, bind_code_expires = ? WHERE name = ?",
                   [code, now + ttl_hours * 3600, name])
    return code


def _unused_code(db, now: float) -> str:
    while True:
        code = f"{secrets.randbelow(900000) + 100000}"
        taken = list(db.query("SELECT 1 FROM advisers WHERE bind_code = ? AND bind_code_expires > ?",
                              [code, now]))
        if not taken:
            return code


def bind(db, code: str, openid: str, now: float) -> Adviser:
    """Link ``openid`` to the adviser holding ``code``; the code is spent at once."""
    with transaction(db):
        rows = list(db.query("SELECT * FROM advisers WHERE bind_code = ? AND bind_code_expires > ?",
                             [code, now]))
        if not rows:
            raise BindingError("unknown or expired code")
        other = list(db.query("SELECT name FROM advisers WHERE openid = ? AND id != ?",
                              [openid, rows[0]["id"]]))
        if other:
            raise BindingError(f"this WeChat account is already bound to {other[0]['name']}")
        db.execute("UPDATE advisers SET openid = ?, bind_code = NULL, bind_code_expires = NULL "
                   "WHERE id = ?", [openid, rows[0]["id"]])
    return adviser_by_openid(db, openid)
