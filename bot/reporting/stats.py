"""Counting consultations for the township's annual rule-of-law report.

Staff are asked "how many people did the official account help, how many questions went to the
advisers, how fast were they answered" — per month, per village, per category. Everything here
is a pure function over rows read once from the ``consultations`` and ``tickets`` tables, so the
command line (`legalbot stats`), the ledger, the annual report and the web console all count the
same way.

Dates are the township's calendar days (China Standard Time, UTC+8, no daylight saving), not the
server's: a question asked at 07:00 on 1 March in the village is a March question even when the
machine runs on UTC.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from bot.core.periods import TOWNSHIP_TZ, Period, day_start, local_time, parse_day  # noqa: F401 (shared names)

GROUPINGS = ("month", "village", "category", "action")
ACTIONS = ("answer", "clarify", "escalate", "urgent", "chitchat", "fallback")
# What a villager would call "a legal consultation": small talk is recorded but not counted.
LEGAL_ACTIONS = ("answer", "clarify", "escalate", "urgent", "fallback")
UNKNOWN_VILLAGE = "未登记"
UNKNOWN_CATEGORY = "未分类"
ANSWERED_STATUSES = ("answered", "delivered", "closed")
# What staff call each action (the console, the ledger, `legalbot stats`); JSON keeps the keys.
ACTION_LABELS = {
    "answer": "智能答复",
    "clarify": "智能追问",
    "escalate": "转法律顾问",
    "urgent": "紧急转介",
    "fallback": "未能答复，已引导",
    "chitchat": "闲聊",
}

ROWS_SQL = """
SELECT c.id, c.openid, c.asked_at, c.channel, c.question, c.action, c.faq_id, c.latency_ms,
       c.reply, c.is_test, COALESCE(c.village, t.village, u.village) AS village,
       COALESCE(c.category, t.category) AS category,
       t.id AS ticket_id, t.status AS ticket_status, t.urgent AS ticket_urgent,
       t.answer AS ticket_answer, t.created_at AS ticket_created_at,
       t.answered_at, t.delivered_at, a.name AS adviser
FROM consultations c
LEFT JOIN tickets t ON t.id = COALESCE(c.ticket_id,
    (SELECT MIN(t2.id) FROM tickets t2 WHERE t2.consultation_id = c.id
     AND t2.status NOT IN ('draft', 'cancelled')))
LEFT JOIN advisers a ON a.id = t.adviser_id
LEFT JOIN users u ON u.openid = c.openid
"""
IN_PERIOD = ("WHERE c.asked_at >= ? AND c.asked_at < ? AND (? OR c.is_test = 0) "
             "ORDER BY c.asked_at, c.id")


def consultation_rows(db, period: Period = Period(), villages: Iterable[str] | None = None,
                      include_test: bool = False) -> list[dict[str, Any]]:
    """The consultations asked in ``period`` with their ticket and adviser, oldest first.

    ``villages`` limits the rows to those villages (an adviser's view of the console). Test
    traffic (the simulator, `legalbot chat`, what bound advisers and the office send: marked
    ``is_test`` as it is recorded, see bot.core.store) is left out unless ``include_test``.
    """
    start, end = period.bounds()
    params = [start, min(end, 1e12), int(include_test)]
    rows = [dict(r) for r in db.query(ROWS_SQL + IN_PERIOD, params)]
    if villages is not None:
        allowed = set(villages)
        rows = [r for r in rows if r["village"] in allowed]
    return rows


def consultation_row(db, consultation_id: int) -> dict[str, Any] | None:
    """One consultation with its ticket and adviser, as ``consultation_rows`` gives them."""
    rows = list(db.query(ROWS_SQL + "WHERE c.id = ?", [consultation_id]))
    return dict(rows[0]) if rows else None


def legal_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows that are legal consultations (small talk is recorded but not counted)."""
    return [r for r in rows if r["action"] in LEGAL_ACTIONS]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def adviser_answered(row: dict[str, Any]) -> bool:
    return row.get("answered_at") is not None or row.get("ticket_status") in ANSWERED_STATUSES


def is_urgent(row: dict[str, Any]) -> bool:
    return row["action"] == "urgent" or bool(row.get("ticket_urgent"))


def hours_to_delivery(rows: Iterable[dict[str, Any]]) -> list[float]:
    """Hours from the villager's question to the adviser's answer reaching their WeChat."""
    return [(r["delivered_at"] - r["asked_at"]) / 3600 for r in rows
            if r.get("delivered_at") is not None and r["delivered_at"] >= r["asked_at"]]


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The figures staff report, over any set of consultation rows."""
    tickets = [r for r in rows if r.get("ticket_id") is not None]
    answered = [r for r in tickets if adviser_answered(r)]
    delays = hours_to_delivery(tickets)
    actions = Counter(r["action"] for r in rows)
    return {
        "total": len(rows),
        "consultations": sum(actions[a] for a in LEGAL_ACTIONS),
        "people": len({r["openid"] for r in rows}),
        "by_action": {a: actions[a] for a in sorted(actions, key=action_order)},
        "answered_by_bot": actions["answer"],
        "answered_by_adviser": len(answered),
        "clarified": actions["clarify"],
        "escalated": actions["escalate"],
        "urgent": sum(1 for r in rows if is_urgent(r)),
        "tickets": len(tickets),
        "completion_rate": rounded(len(answered) / len(tickets), 4) if tickets else None,
        "delivered": len(delays),
        "median_hours_to_answer": rounded(percentile(delays, 0.5)),
        "p90_hours_to_answer": rounded(percentile(delays, 0.9)),
    }


def action_order(action: str) -> tuple[int, str]:
    return (ACTIONS.index(action) if action in ACTIONS else len(ACTIONS), action)


def group_key(row: dict[str, Any], by: str) -> str:
    """The group a row falls in: its month (township time), village, category or action."""
    if by == "month":
        return local_time(row["asked_at"]).strftime("%Y-%m")
    if by == "village":
        return row.get("village") or UNKNOWN_VILLAGE
    if by == "category":
        return row.get("category") or UNKNOWN_CATEGORY
    if by == "action":
        return row["action"]
    raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}")


def grouped(rows: Sequence[dict[str, Any]], by: str) -> dict[str, dict[str, Any]]:
    """Figures per group: months in calendar order, other groups largest first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(group_key(row, by), []).append(row)
    order = sorted(groups) if by == "month" else sorted(groups, key=lambda k: (-len(groups[k]), k))
    return {key: summarize(groups[key]) for key in order}


def compute_stats(db, period: Period = Period(), by: str | None = None,
                  villages: Iterable[str] | None = None, include_test: bool = False) -> dict[str, Any]:
    """`legalbot stats --json`: the period, the overall figures and, with ``by``, per group."""
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    rows = consultation_rows(db, period, villages, include_test)
    result = {**period.as_json(), **summarize(rows)}
    if by:
        result["by"] = by
        result["groups"] = grouped(rows, by)
    return result
