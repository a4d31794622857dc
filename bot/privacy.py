"""Privacy: mask identifiers for exports, purge old text while keeping the counts.

A question to a lawyer is sensitive. After the retention period the words people wrote are
deleted, but every row that is counted in the statistics stays (action, category, village,
dates, latencies), so the annual figures do not change when old text is purged.

Who sees what a villager typed, phone and ID numbers included:
- Lists (tickets, consultations, the dashboard), the ledger export and the annual report: masked
  for everyone (``mask_text``); the openid is always masked (``mask_openid``).
- A ticket's page: in full for whoever has to call the villager back — the adviser of its
  village or the one it is assigned to, and staff when the 司法所 (the backup, whom staff answer
  for) holds it. Anyone else who may open it sees it masked.
- A consultation record's page (what the bot decided): masked for everyone; a call back goes
  through the ticket.

``mask_text`` finds mobile numbers with a +86, 86 or 0086 prefix, with dashes or spaces between
the groups, landlines with an area code (0776-7612345, (0776)7612345), 18- and 15-digit ID-card
numbers, in ASCII or full-width digits. A bare 7–8 digit number without area code is left alone:
it is as likely an amount of money.
"""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from bot.store import transaction

UNITS = {"d": 86400, "w": 7 * 86400, "m": 30 * 86400, "y": 365 * 86400}

# Text columns that may hold what a person wrote or was told; everything else is kept.
PURGED_COLUMNS = {
    "messages": ("content", "reply_xml", "media_id"),
    "consultations": ("question", "reply", "candidates"),
    "tickets": ("question", "context", "answer", "media_id"),
}
TIME_COLUMN = {"messages": "received_at", "consultations": "asked_at", "tickets": "created_at"}

SEP = r"[ \-]?"          # one space or dash between groups, as people type them
ID_CARD = re.compile(rf"(?<![0-9A-Za-z])(\d{{4}})\d{{2}}{SEP}\d{{8}}{SEP}(\d{{3}}[\dXx])(?![0-9A-Za-z])")
ID_CARD_15 = re.compile(rf"(?<![0-9A-Za-z])(\d{{4}})\d{{2}}{SEP}\d{{6}}{SEP}(\d{{3}})(?![0-9A-Za-z])")
PHONE = re.compile(rf"(?<![\d+])(?:(?:\+|00)?86{SEP}|\(\+?86\){SEP})?(1[3-9]\d){SEP}\d{{4}}{SEP}(\d{{4}})(?!\d)")
LANDLINE = re.compile(rf"(?<!\d)(\(0\d{{2,3}}\)|0\d{{2,3}}){SEP}\d{{3,4}}{SEP}(\d{{4}})(?!\d)")
# Full-width digits and signs (typed with a Chinese input method) are read as ASCII ones.
FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－（）\u3000", "0123456789+-() ")


def parse_age(text: str) -> float:
    """'3y', '18m', '90d', '2w' → seconds. Months count as 30 days, years as 365."""
    match = re.fullmatch(r"\s*(\d+)\s*([dwmy])\s*", text.lower())
    if not match:
        raise ValueError(f"not an age like 3y, 18m, 90d: {text!r}")
    return int(match.group(1)) * UNITS[match.group(2)]


def mask_openid(openid: str | None) -> str:
    """Keep enough to tell people apart in a ledger, not enough to identify them."""
    if not openid:
        return ""
    return openid[:3] + "***" + openid[-3:] if len(openid) > 8 else "***"


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 7 else "****"


def mask_text(text: str | None) -> str:
    """Mask the phone and ID-card numbers a villager typed into a question (formats above)."""
    if not text:
        return ""
    text = text.translate(FULL_WIDTH)
    text = ID_CARD_15.sub(r"\1********\2", ID_CARD.sub(r"\1**********\2", text))
    return LANDLINE.sub(r"\1-****\2", PHONE.sub(r"\1****\2", text))


def purge(db, older_than_seconds: float, now: float) -> dict[str, int]:
    """Delete the text of rows older than the cut-off; return how many rows each table lost."""
    cutoff = now - older_than_seconds
    counts = {}
    with transaction(db):
        for table, columns in PURGED_COLUMNS.items():
            sets = ", ".join(f"{c} = NULL" for c in columns)
            cursor = db.execute(
                f"UPDATE {table} SET {sets}, purged = 1 WHERE {TIME_COLUMN[table]} < ? AND purged = 0",
                [cutoff])
            counts[table] = cursor.rowcount
        db.execute("UPDATE outbox SET payload = '{}' WHERE created_at < ? AND status = 'sent'", [cutoff])
    return counts


def backup(db, out_path: str | Path) -> Path:
    """Copy the live database with SQLite's online backup API: safe while the bot serves."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    target = sqlite3.connect(str(out))
    try:
        db.conn.backup(target, pages=256)
    finally:
        target.close()
    return out
