"""config.toml [publicity]: the legal-publicity calendar (普法日历), validated at load.

Each day (or span: 宪法宣传周, 民法典宣传月) has a short text for villagers, the FAQ entries it
promotes and a short menu label. Dates are "MM-DD" (every year) or "YYYY-MM-DD" (one year only:
festivals that move, such as 春节, and weeks whose dates the 全国普法办 sets each year). The FAQ
entries are checked against the knowledge base when the calendar is first used (bot.community.publicity),
since the configuration is loaded before the knowledge base.

This module imports nothing from bot.core.config (which imports it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

MAX_TEXT = 300          # characters: the day's text is a reply, with the entries under it
MAX_LABEL = 8           # characters: a WeChat sub-menu button shows about eight
MAX_ENTRIES = 8
DAY_FORM = re.compile(r"(?:(\d{4})-)?(\d{2})-(\d{2})")
ANY_YEAR = 2024         # a leap year, so "02-29" is a valid every-year date


def fail(message: str) -> None:
    from bot.core.config import ConfigError
    raise ConfigError(f"[publicity] {message}")


def parse_day(text: str, year: int) -> date | None:
    """'12-04' in ``year``, or '2027-02-06' (None when that date is not in ``year``)."""
    match = DAY_FORM.fullmatch(text)
    if match is None:
        raise ValueError(text)
    fixed = int(match.group(1)) if match.group(1) else None
    if fixed is not None and fixed != year:
        return None
    return date(fixed or year, int(match.group(2)), int(match.group(3)))


@dataclass(frozen=True)
class PublicityDay:
    name: str                      # 国家宪法日
    start: str                     # "12-04" or "2027-02-06"
    text: str                      # what villagers read
    end: str = ""                  # the last day of a week or month, in the form of ``start``
    entries: tuple[str, ...] = ()  # FAQ entry ids the day promotes
    label: str = ""                # the menu button while the day is near (default: the name)

    @property
    def key(self) -> str:
        """Stable id of the day (records name it): the name and its first date."""
        return f"{self.start}:{self.name}"

    @property
    def menu_label(self) -> str:
        return self.label or self.name[:MAX_LABEL]

    def span(self, year: int) -> tuple[date, date] | None:
        """(first day, last day) in ``year``, or None when the day does not fall in it."""
        first = parse_day(self.start, year)
        if first is None:
            return None
        last = parse_day(self.end, year) if self.end else first
        if last is None:
            raise ValueError(f"{self.end} is in another year than {self.start}")
        return first, last


@dataclass(frozen=True)
class PublicitySettings:
    lead_days: int = 3                     # the menu and answers point to a day this early
    menu_key: str = "PUBLICITY"            # the [[menu]] button whose label follows the calendar
    days: tuple[PublicityDay, ...] = ()


def check_dates(day: PublicityDay) -> None:
    """Both dates well formed, both with a year or neither, the end not before the start."""
    forms = [DAY_FORM.fullmatch(d) for d in (day.start, day.end) if d]
    if not all(forms):
        fail(f"{day.name}: dates look like 12-04 or 2027-02-06, got {day.start!r} {day.end!r}")
    if len({bool(m.group(1)) for m in forms}) > 1:
        fail(f"{day.name}: start and end must both have a year or both not")
    year = int(forms[0].group(1)) if forms[0].group(1) else ANY_YEAR
    try:
        first, last = day.span(year)
    except ValueError as exc:
        fail(f"{day.name}: {exc}")
    if last < first:
        fail(f"{day.name}: ends before it starts (a span may not run over the new year)")


def one_line(text: str) -> str:
    """A text wrapped over lines in config.toml, as one line (Chinese needs no spaces between)."""
    return "".join(line.strip() for line in text.strip().splitlines())


def build_day(raw: Mapping[str, Any]) -> PublicityDay:
    unknown = set(raw) - {"name", "start", "end", "text", "entries", "label"}
    if unknown:
        fail(f"unknown setting(s) {', '.join(sorted(unknown))} in {raw.get('name', raw)!r}")
    if not raw.get("name") or not raw.get("start") or not str(raw.get("text", "")).strip():
        fail(f"every day needs a name, a start date and a text: {raw!r}")
    day = PublicityDay(name=str(raw["name"]), start=str(raw["start"]), end=str(raw.get("end", "")),
                       text=one_line(str(raw["text"])), entries=tuple(raw.get("entries", ())),
                       label=str(raw.get("label", "")))
    check_dates(day)
    if len(day.text) > MAX_TEXT:
        fail(f"{day.name}: the text has {len(day.text)} characters, at most {MAX_TEXT}")
    if len(day.menu_label) > MAX_LABEL:
        fail(f"{day.name}: label {day.menu_label!r} is longer than {MAX_LABEL} characters")
    if len(day.entries) > MAX_ENTRIES:
        fail(f"{day.name}: at most {MAX_ENTRIES} entries")
    return day


def build_publicity(raw: Mapping[str, Any]) -> PublicitySettings:
    """The [publicity] table and its [[publicity.days]]."""
    unknown = set(raw) - {"lead_days", "menu_key", "days"}
    if unknown:
        fail(f"unknown setting(s): {', '.join(sorted(unknown))}")
    days = tuple(build_day(d) for d in raw.get("days", ()))
    keys = [d.key for d in days]
    if len(set(keys)) != len(keys):
        fail("two days have the same name and start")
    lead = raw.get("lead_days", 3)
    if not isinstance(lead, int) or not 0 <= lead <= 30:
        fail(f"lead_days: expected a whole number from 0 to 30, got {lead!r}")
    return PublicitySettings(lead_days=lead, menu_key=str(raw.get("menu_key", "PUBLICITY")), days=days)
