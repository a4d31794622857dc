"""The township's calendar: days and periods in China Standard Time (UTC+8, no summer time).

Counting, the 普法 calendar and the mediation reminders all ask "which day is it in the
village?"; they share this one answer, not the server's clock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

TOWNSHIP_TZ = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True)
class Period:
    """Calendar days from ``since`` to ``until``, both included; open-ended when None."""

    since: date | None = None
    until: date | None = None

    def bounds(self) -> tuple[float, float]:
        """Epoch seconds [start, end) in township time."""
        start = day_start(self.since) if self.since else 0.0
        # the day after ``until``, counted in seconds: 9999-12-31 has no next date (China keeps
        # no summer time, so a day is always 86400 s)
        end = day_start(self.until) + 86400 if self.until else math.inf
        return start, end

    def as_json(self) -> dict[str, str | None]:
        return {"since": self.since and self.since.isoformat(),
                "until": self.until and self.until.isoformat()}

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year, 12, 31))


def day_start(day: date) -> float:
    return datetime.combine(day, time(0), TOWNSHIP_TZ).timestamp()


def local_time(epoch: float) -> datetime:
    """An epoch timestamp as the township's wall-clock time."""
    return datetime.fromtimestamp(epoch, TOWNSHIP_TZ)


def parse_day(text: str | None) -> date | None:
    """'2026-03-01' → date; empty → None; anything else raises ValueError with a clear message."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD（例如 2026-03-01），收到：{text!r}") from None
