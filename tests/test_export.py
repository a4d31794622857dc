"""The ledger (法律咨询台账): staff's columns, a summary sheet, nobody identifiable, opens in Excel/WPS."""
from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.reporting.export import HEADERS, export_ledger
from bot.reporting.stats import Period
from tests.seed_records import PHONE, seed

YEAR_2026 = Period(date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture
def workbook(db, config, tmp_path):
    seed(db, config)
    path = tmp_path / "ledger.xlsx"
    export_ledger(db, YEAR_2026, path)
    return openpyxl.load_workbook(path)


def all_cells(book) -> list[str]:
    return [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value]


def test_ledger_has_staff_columns_and_one_row_per_legal_consultation(workbook):
    sheet = workbook["台账"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    assert [r[0] for r in rows[1:]] == list(range(1, 8))        # 7: small talk is left out
    assert rows[1][1:5] == ("2026-01-10", "oVi***001", "大年村", "婚姻家庭")


def test_ticket_rows_name_the_adviser_and_the_delivery(workbook):
    rows = list(workbook["台账"].iter_rows(values_only=True))
    danian = next(r for r in rows if r[4] == "土地与宅基地")
    assert danian[6].startswith("转法律顾问（#") and "已送达" in danian[6]
    assert danian[7] == "韦律师"
    assert (danian[8], danian[9]) == ("2026-02-05 17:00", "2026-02-05 19:00")
    waiting = next(r for r in rows if r[4] == "劳动")
    assert waiting[9] == "未答复"


def test_openids_and_phone_numbers_are_masked_everywhere(workbook):
    cells = " ".join(all_cells(workbook))
    assert PHONE not in cells and "138****5678" in cells
    assert "oVillager" not in cells


def test_a_question_that_looks_like_a_formula_stays_text(workbook):
    cell = next(c for row in workbook["台账"].iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=1+1"))
    assert cell.data_type == "s"


def test_summary_sheet_gives_the_totals(workbook):
    summary = {row[0]: row[1] for row in workbook["汇总"].iter_rows(values_only=True) if row[0]}
    assert summary["咨询总人次"] == 7
    assert summary["转法律顾问"] == 3
    assert summary["办结率"] == "66.7%"
    assert summary["古坡村"] == 3


def test_csv_has_a_bom_so_excel_and_wps_read_utf8(db, config):
    seed(db, config)
    out = io.BytesIO()
    export_ledger(db, YEAR_2026, out, "csv")
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == HEADERS and len(rows) == 8
    assert any(r[5].startswith("'=1+1") for r in rows)   # a spreadsheet must not run it


def run(config, monkeypatch, *args):
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    return CliRunner().invoke(main, list(args))


def test_export_command_writes_xlsx_and_csv(db, config, tmp_path, monkeypatch):
    seed(db, config)
    xlsx, csv_path = tmp_path / "台账.xlsx", tmp_path / "台账.csv"
    result = run(config, monkeypatch, "export", "--since", "2026-03-01", "--until", "2026-03-31", str(xlsx))
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(xlsx)["台账"].max_row == 1 + 3     # three legal consultations in March
    result = run(config, monkeypatch, "export", "--since", "2026-01-01", "--until", "2026-12-31",
                 "--format", "csv", str(csv_path))
    assert result.exit_code == 0 and csv_path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_export_refuses_a_period_that_ends_before_it_starts(config, tmp_path, monkeypatch):
    result = run(config, monkeypatch, "export", "--since", "2026-03-01", "--until", "2026-01-01",
                 str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2 and "--since" in result.output
