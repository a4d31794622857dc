"""The annual report's paragraph and charts, from the same counts as `legalbot stats`."""
from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from bot.reporting import report
from bot.cli import main
from tests.seed_records import seed

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def seeded(db, config):
    seed(db, config)
    return db


def test_paragraph_states_the_years_figures(seeded):
    text = report.build_report(seeded, 2026)["text"]
    assert text.startswith("全年通过公众号提供法律咨询7人次（6人），其中智能答复2次、"
                           "转法律顾问3件（办结率66.7%），紧急求助1件。")
    assert "法律顾问答复送达用时中位数3.5小时" in text


def test_paragraph_names_the_commonest_categories_without_the_uncategorised(seeded):
    text = report.build_report(seeded, 2026)["text"]
    assert "咨询较多的是" in text and "未分类" not in text


def test_a_year_without_records_says_so(seeded):
    result = report.build_report(seeded, 2024)
    assert result["text"] == "2024年公众号尚未记录法律咨询。"
    assert result["figures"]["total"] == 0


def test_figures_cover_every_month_of_the_year(seeded):
    months = report.build_report(seeded, 2026)["by_month"]
    assert list(months)[0] == "2026-01" and len(months) == 12
    assert months["2026-03"] == {"total": 3, "tickets": 2}
    assert months["2026-12"] == {"total": 0, "tickets": 0}


def test_charts_are_png_files(seeded, tmp_path):
    paths = report.draw_charts(report.build_report(seeded, 2026), tmp_path / "charts")
    assert [p.name for p in paths] == ["monthly-2026.png", "categories-2026.png"]
    assert all(p.read_bytes().startswith(PNG) for p in paths)


def test_charts_fall_back_to_english_labels_without_a_cjk_font(seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "cjk_font", lambda: None)
    paths = report.draw_charts(report.build_report(seeded, 2026), tmp_path)
    assert all(p.read_bytes().startswith(PNG) for p in paths)
    assert report.labels(False)["monthly"].startswith("Legal consultations")


def test_report_command_prints_json_with_charts(seeded, config, tmp_path, monkeypatch):
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    result = CliRunner().invoke(main, ["report", "--year", "2026", "--json",
                                       "--charts", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["figures"]["tickets"] == 3 and len(out["charts"]) == 2
    assert out["text"].startswith("全年通过公众号提供法律咨询7人次")


def test_a_cjk_font_is_found_even_when_matplotlibs_font_list_predates_it(monkeypatch):
    from matplotlib import font_manager
    if not report.cjk_font_files():
        if os.environ.get("CI"):   # CI must check this, never skip it
            pytest.fail("no CJK font file: .ci/run should have installed fonts-noto-cjk")
        pytest.skip("no CJK font file on this machine (.ci/run installs fonts-noto-cjk)")
    stale = [f for f in font_manager.fontManager.ttflist if f.name not in report.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)   # a cache from before
    assert report.listed_cjk_font(font_manager.fontManager) is None
    assert report.cjk_font() in report.CJK_FONTS


def test_without_any_cjk_font_the_report_command_says_so(seeded, config, tmp_path, monkeypatch):
    from matplotlib import font_manager
    stale = [f for f in font_manager.fontManager.ttflist if f.name not in report.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    monkeypatch.setattr(report, "FONT_FOLDERS", (str(tmp_path / "no-fonts"),))
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    result = CliRunner().invoke(main, ["report", "--year", "2026", "--charts",
                                       str(tmp_path / "charts")])
    assert result.exit_code == 0
    assert "没有找到中文字体" in result.stderr and "fonts-noto-cjk" in result.stderr
    assert len(list((tmp_path / "charts").glob("*.png"))) == 2
