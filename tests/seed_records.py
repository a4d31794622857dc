"""A small, known year of consultations and tickets, written straight into real SQLite.

The rows are what the webhook and the escalation code write; seeding them directly lets the
stats, ledger, report and console tests know every expected figure. Times are township time.

2026 (legal consultations 7, records 8, people 6; tickets 3, two answered and delivered):
  #1 01-10 oVillagerA answer   婚姻家庭     大年村
  #2 01-20 oVillagerB answer   借贷         古坡村   question starts with "=" (formula injection)
  #3 02-03 oVillagerA clarify  —            大年村
  #4 02-05 oVillagerC escalate 土地与宅基地 大年村   ticket DANIAN: answered +3 h, delivered +5 h
  #5 03-01 00:30 oVillagerD escalate 劳动   古坡村   ticket GUPO: notified, waiting (UTC: 28 Feb)
  #6 03-02 oVillagerE urgent   公共安全     古坡村   ticket URGENT: answered +1 h, delivered +2 h
  #7 03-03 oVillagerB chitchat —            古坡村
  #8 03-04 oVillagerF fallback —            (no village)
and 2025-12-31 23:30 oVillagerG answer 继承 大年村 (the year before).
"""
from __future__ import annotations

import json
from datetime import datetime

from bot.escalation.advisers import adviser_for_village, ensure_advisers
from bot.reporting.stats import TOWNSHIP_TZ

PHONE = "13812345678"
HOUR = 3600.0


def at(text: str) -> float:
    """'2026-03-01 00:30' in township time → epoch seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=TOWNSHIP_TZ).timestamp()


CONSULTATIONS = [
    ("2026-01-10 09:00", "oVillagerA0001", "answer", "婚姻家庭", "大年村", "离婚要什么手续"),
    ("2026-01-20 10:00", "oVillagerB0002", "answer", "借贷", "古坡村", "=1+1 借条怎么写才有效"),
    ("2026-02-03 11:00", "oVillagerA0001", "clarify", None, "大年村", "房子的事"),
    ("2026-02-05 14:00", "oVillagerC0003", "escalate", "土地与宅基地", "大年村",
     f"邻居占了我家宅基地，我电话{PHONE}"),
    ("2026-03-01 00:30", "oVillagerD0004", "escalate", "劳动", "古坡村", "老板拖欠三个月工资不给"),
    ("2026-03-02 20:00", "oVillagerE0005", "urgent", "公共安全", "古坡村", "他又动手打我了"),
    ("2026-03-03 08:00", "oVillagerB0002", "chitchat", None, "古坡村", "你好"),
    ("2026-03-04 09:00", "oVillagerF0006", "fallback", None, None, "那个事怎么弄"),
    ("2025-12-31 23:30", "oVillagerG0007", "answer", "继承", "大年村", "爷爷的房子谁继承"),
]
# consultation number → (ticket key, status, answered after h, delivered after h, urgent)
TICKETS = {4: ("DANIAN", "delivered", 3, 5, False), 5: ("GUPO", "notified", None, None, False),
           6: ("URGENT", "delivered", 1, 2, True)}


def insert_consultation(db, number: int, spec: tuple) -> int:
    when, openid, action, category, village, question = spec
    return db["consultations"].insert({
        "openid": openid, "village": village, "asked_at": at(when), "channel": "wechat",
        "question": question, "action": action, "category": category, "latency_ms": 40.0,
        "faq_id": f"demo.{number}" if action == "answer" else None,
        "reply": "示例答复", "citations": json.dumps([])}).last_pk


def insert_ticket(db, consultation_id: int, spec: tuple, ticket: tuple) -> int:
    when, openid, _action, category, village, question = spec
    _key, status, answered, delivered, urgent = ticket
    asked = at(when)
    adviser = adviser_for_village(db, village)
    ticket_id = db["tickets"].insert({
        "consultation_id": consultation_id, "openid": openid, "village": village,
        "adviser_id": adviser.id, "category": category, "question": question,
        "context": "[]", "suggested": json.dumps(["民法典第1079条"], ensure_ascii=False),
        "urgent": int(urgent), "status": status, "created_at": asked, "notified_at": asked + 60,
        "answer": "请带上证据到村委会调解。" if answered else None,
        "answered_at": asked + answered * HOUR if answered else None,
        "delivered_at": asked + delivered * HOUR if delivered else None}).last_pk
    db.execute("UPDATE consultations SET ticket_id = ? WHERE id = ?", [ticket_id, consultation_id])
    return ticket_id


def seed(db, config) -> dict[str, int]:
    """Write the year above; return the ticket ids by key (DANIAN, GUPO, URGENT)."""
    ensure_advisers(db, config, at("2026-01-01 00:00"))
    ids: dict[str, int] = {}
    for number, spec in enumerate(CONSULTATIONS, start=1):
        consultation_id = insert_consultation(db, number, spec)
        if number in TICKETS:
            ids[TICKETS[number][0]] = insert_ticket(db, consultation_id, spec, TICKETS[number])
    return ids
