"""The 调解台账 counted as the annual report counts it: `stats --mediation`, the ledger's 调解台账
sheet, the report's paragraph and chart — over a known set of cases in real SQLite."""
from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pytest
from click.testing import CliRunner

from bot.escalation import advisers as adv
from bot.community import mediation
from bot.cli import main
from bot.retrieval.disputes import Kind
from bot.community.mediation import NewCase, Party, Source, Status
from bot.reporting.mediation_stats import percent
from bot.reporting.stats import TOWNSHIP_TZ

PNG = b"\x89PNG\r\n\x1a\n"


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TOWNSHIP_TZ).timestamp()


# (found, village, kind, source, sessions, outcome, agreement, confirmation, test)
CASES = [
    ("2026-02-03 10:00", "大年村", Kind.LAND, Source.VILLAGER, 2, Status.SUCCEEDED, True, True, False),
    ("2026-03-10 10:00", "大年村", Kind.FOREST, Source.INSPECTION, 1, Status.SUCCEEDED, True, False, False),
    ("2026-04-01 10:00", "古坡村", Kind.WATER, Source.INSPECTION, 3, Status.FAILED, False, False, False),
    ("2026-05-05 10:00", "古坡村", Kind.NEIGHBOUR, Source.TICKET, 1, Status.SUCCEEDED, False, False, False),
    ("2026-06-06 10:00", "古坡村", Kind.MARRIAGE, Source.VILLAGER, 0, Status.WITHDRAWN, False, False, False),
    ("2026-07-07 10:00", "长安村", Kind.HOMESTEAD, Source.INSPECTION, 1, None, False, False, False),
    ("2026-08-08 10:00", "长安村", Kind.OTHER, Source.VILLAGER, 0, Status.REFERRED, False, False, False),
    ("2026-09-09 10:00", "古坡村", Kind.LAND, Source.VILLAGER, 1, Status.SUCCEEDED, False, False, True),   # simulator
    ("2025-12-31 23:00", "大年村", Kind.LAND, Source.INSPECTION, 1, Status.SUCCEEDED, True, False, False),  # last year
]


@pytest.fixture
def cases(db, config):
    adv.ensure_advisers(db, config, at("2026-01-01 08:00"))
    backup = adv.backup_adviser(db)
    for found, village, kind, source, sessions, outcome, agreement, confirmation, test in CASES:
        new = NewCase(village=village, kind=kind, found_via=source, summary=f"{village}的{kind}纠纷",
                      parties=[Party("申请人", "黄明", "13712345678")], found_at=at(found), is_test=test)
        case = mediation.open_case(db, config, new, at(found), actor="staff", via="console")
        for n in range(sessions):
            mediation.record_session(db, config, case.id, backup, at(found) + 3600 * (n + 1), actor="t", via="t")
        if outcome is not None:
            mediation.close_case(db, config, case.id, outcome, backup, at(found) + 86400, actor="t", via="t",
                                 agreement=agreement, confirmation=confirmation)
    return db


def cli(config, monkeypatch, *args):
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_stats_mediation_json_counts_found_mediated_succeeded(cases, config, monkeypatch):
    out = json.loads(cli(config, monkeypatch, "stats", "--mediation", "--json",
                         "--since", "2026-01-01", "--until", "2026-12-31"))
    # 7 found; mediated: the 3 successes, the failure, the one in progress (a session);
    # not the withdrawal or the referral without a session
    assert (out["found"], out["mediated"], out["succeeded"], out["success_rate"]) == (7, 5, 3, 0.6)
    assert (out["failed"], out["referred"], out["withdrawn"], out["in_progress"]) == (1, 1, 1, 1)
    assert out["agreements"] == 2 and out["judicial_confirmations"] == 1 and out["sessions"] == 8
    assert out["three_major"]["found"] == 3 and out["three_major"]["succeeded"] == 2
    assert out["by_kind"]["land"] == {**out["by_kind"]["land"], "found": 1, "succeeded": 1}
    assert out["by_village"]["古坡村"]["found"] == 3 and out["by_village"]["古坡村"]["success_rate"] == 0.5
    assert list(out["by_village"])[:3] == ["大年村", "古坡村", "长安村"] and out["by_village"]["石门村"]["found"] == 0
    assert out["by_source"] == {"villager": 3, "inspection": 3, "ticket": 1}


def test_test_cases_count_only_when_asked(cases, config, monkeypatch):
    out = json.loads(cli(config, monkeypatch, "stats", "--mediation", "--json", "--include-test",
                         "--since", "2026-01-01", "--until", "2026-12-31"))
    assert (out["found"], out["succeeded"]) == (8, 4)


def test_stats_mediation_in_words(cases, config, monkeypatch):
    text = cli(config, monkeypatch, "stats", "--mediation", "--since", "2026-01-01", "--until", "2026-12-31")
    assert "调解案件 7 起，调解 5 起，成功 3 起，成功率 60%" in text and "山林  1 / 1 / 1 / 100%" in text


def test_the_report_prints_the_paragraph_in_the_reports_form(cases, config, monkeypatch, tmp_path):
    text = cli(config, monkeypatch, "report", "--year", "2026")
    assert ("排查调出新发案件7起（“三大纠纷”3起，邻里纠纷1起，婚姻1起，宅基地1起，其他1起），"
            "调解成功3件，调解成功率60%，另有1起正在调解。") in text
    out = json.loads(cli(config, monkeypatch, "report", "--year", "2026", "--json", "--charts", str(tmp_path)))
    chart = out["mediation"]["chart"]
    assert chart.endswith("mediation-2026.png") and open(chart, "rb").read().startswith(PNG)
    assert out["mediation"]["groups"]["“三大纠纷”"]["found"] == 3


def test_a_year_without_cases_says_so(db, config, monkeypatch):
    assert "2024年调解台账未登记案件。" in cli(config, monkeypatch, "report", "--year", "2024")


def test_the_ledger_has_a_mediation_sheet_with_the_figures(cases, config, monkeypatch, tmp_path):
    path = tmp_path / "台账.xlsx"
    cli(config, monkeypatch, "export", "--since", "2026-01-01", "--until", "2026-12-31", str(path))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["台账", "汇总"] and "调解台账" in book.sheetnames and "普法活动" in book.sheetnames
    rows = [[c.value for c in row] for row in book["调解台账"].iter_rows()]
    assert rows[0][:5] == ["序号", "编号", "发现日期", "村", "类型"]
    cases_shown = [r for r in rows[1:] if r[1] and str(r[1]).startswith("调解#")]
    assert len(cases_shown) == 7 and cases_shown[0][4] == "土地" and cases_shown[0][10] == "调解成功"
    assert cases_shown[0][7] == "申请人：黄* 137****5678"           # masked
    totals = {r[0]: r[1:5] for r in rows if r and r[0] in ("山林", "合计", "古坡村")}
    assert totals["山林"] == [1, 1, 1, "100%"] and totals["合计"] == [7, 5, 3, "60%"]
    assert totals["古坡村"] == [3, 2, 1, "50%"]


@pytest.mark.parametrize("rate, shown", [(None, "—"), (1.0, "100%"), (0.6667, "66.7%"), (0.5, "50%")])
def test_rates_read_as_the_report_writes_them(rate, shown):
    assert percent(rate) == shown
