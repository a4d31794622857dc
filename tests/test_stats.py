"""Counting consultations for the annual report: pure functions over real SQLite rows."""
from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.reporting.stats import Period, compute_stats, percentile
from tests.seed_records import seed

YEAR_2026 = Period(date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture
def seeded(db, config):
    seed(db, config)
    return db


def test_year_counts_records_people_and_each_action(seeded):
    stats = compute_stats(seeded, YEAR_2026)
    assert stats["total"] == 8
    assert stats["consultations"] == 7          # small talk is recorded, not counted
    assert stats["people"] == 6
    assert stats["by_action"] == {"answer": 2, "clarify": 1, "escalate": 2, "urgent": 1,
                                  "chitchat": 1, "fallback": 1}


def test_bot_and_adviser_answers_are_counted_apart(seeded):
    stats = compute_stats(seeded, YEAR_2026)
    assert (stats["answered_by_bot"], stats["answered_by_adviser"]) == (2, 2)
    assert (stats["clarified"], stats["escalated"], stats["urgent"]) == (1, 2, 1)
    assert stats["tickets"] == 3
    assert stats["completion_rate"] == pytest.approx(2 / 3, abs=1e-4)


def test_answer_time_is_median_and_p90_of_question_to_delivery(seeded):
    stats = compute_stats(seeded, YEAR_2026)   # delivered after 5 h and 2 h
    assert stats["median_hours_to_answer"] == 3.5
    assert stats["p90_hours_to_answer"] == 4.7


def test_months_follow_township_time_not_utc(seeded):
    months = compute_stats(seeded, YEAR_2026, by="month")["groups"]
    # 2026-03-01 00:30 in the village is still 28 February in UTC
    assert {m: g["total"] for m, g in months.items()} == {"2026-01": 2, "2026-02": 2, "2026-03": 4}


def test_since_and_until_are_whole_days_both_included(seeded):
    march_first = compute_stats(seeded, Period(date(2026, 3, 1), date(2026, 3, 1)))
    assert march_first["total"] == 1
    everything = compute_stats(seeded, Period())
    assert everything["total"] == 9


def test_groups_by_village_category_and_action(seeded):
    villages = compute_stats(seeded, YEAR_2026, by="village")["groups"]
    assert {k: g["total"] for k, g in villages.items()} == {"古坡村": 4, "大年村": 3, "未登记": 1}
    categories = compute_stats(seeded, YEAR_2026, by="category")["groups"]
    assert categories["未分类"]["total"] == 3 and categories["劳动"]["tickets"] == 1
    actions = compute_stats(seeded, YEAR_2026, by="action")["groups"]
    assert actions["urgent"]["answered_by_adviser"] == 1


def test_village_filter_gives_an_advisers_view(seeded):
    stats = compute_stats(seeded, YEAR_2026, villages=["大年村"])
    assert stats["total"] == 3 and stats["tickets"] == 1


def test_unknown_grouping_is_refused(seeded):
    with pytest.raises(ValueError, match="month"):
        compute_stats(seeded, YEAR_2026, by="weekday")


def test_percentile_interpolates_between_ranks():
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10], 0.9) == 10
    assert percentile([], 0.5) is None


def run(config, monkeypatch, *args):
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    return CliRunner().invoke(main, list(args))


def test_stats_json_gives_total_and_by_action(seeded, config, monkeypatch):
    result = run(config, monkeypatch, "stats", "--json", "--since", "2026-01-01")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["total"] == 8 and out["by_action"]["answer"] == 2


def test_stats_by_month_prints_a_table(seeded, config, monkeypatch):
    result = run(config, monkeypatch, "stats", "--since", "2026-01-01", "--by", "month")
    assert result.exit_code == 0, result.output
    assert "2026-03" in result.output and "记录 8 次" in result.output


def test_stats_rejects_a_malformed_date(config, monkeypatch):
    result = run(config, monkeypatch, "stats", "--since", "2026/03/01")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_stats_prints_what_each_action_is_called_in_chinese(seeded, config, monkeypatch):
    result = run(config, monkeypatch, "stats", "--since", "2026-01-01", "--by", "action")
    assert result.exit_code == 0, result.output
    assert "按处理方式：智能答复 2 · 智能追问 1 · 转法律顾问 2" in result.output
    assert "紧急转介" in result.output.split("分组")[1]        # the table's rows too
    for internal in ("answer", "clarify", "escalate", "fallback", "chitchat"):
        assert internal not in result.output
