"""The 普法 line under an answer is worked out once a day per entry (bot/conversation/answer_notes.py
``todays_line``): on every day of the year, for the days' own entries and for others, it is the
line the calendar gives (bot.community.publicity.line_for), and a new config is read afresh."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from bot.community import publicity
from bot.conversation.answer_notes import todays_line
from bot.core.config import load_config
from bot.core.periods import TOWNSHIP_TZ


def noon(day: datetime) -> float:
    return day.replace(hour=12).timestamp()


def test_the_line_kept_for_a_day_is_the_calendars_on_every_day_of_the_year():
    config = load_config(environ={})
    promoted = sorted({e for day in config.publicity.days for e in day.entries})[:3]
    start = datetime(2026, 1, 1, tzinfo=TOWNSHIP_TZ)
    lines = set()
    for offset in range(0, 366):
        now = noon(start + timedelta(days=offset))
        for faq_id in [None, "debt.interest", *promoted]:
            assert todays_line(config, now, faq_id) == publicity.line_for(config, now, faq_id)
            lines.add(todays_line(config, now, faq_id))
    assert None in lines and len(lines) > 5           # days with a line, days without


def test_another_config_gets_its_own_calendar_the_same_day():
    config = load_config(environ={})
    now = noon(datetime(2026, 12, 4, tzinfo=TOWNSHIP_TZ))
    assert todays_line(config, now, None) is not None
    quiet = dataclasses.replace(config, publicity=dataclasses.replace(config.publicity, days=()))
    assert todays_line(quiet, now, None) is None
    assert todays_line(config, now, None) == publicity.line_for(config, now, None)
