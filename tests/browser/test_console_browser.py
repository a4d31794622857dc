"""The console in a real browser: staff and an adviser at work, at a phone's width."""
from __future__ import annotations

import openpyxl
import pytest

from bot.reporting.stats import Period, consultation_rows, legal_rows, summarize
from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_staff_sees_the_databases_counts_on_the_dashboard(page, live, seeded, db):
    base, _ = live
    log_in(page, base, "sifasuo")
    page.goto(f"{base}/console/?since=2026-01-01&until=2026-12-31")
    figures = summarize(legal_rows(consultation_rows(db, Period.year(2026))))
    assert page.inner_text("#fig-total") == str(figures["total"])
    assert page.inner_text("#fig-people") == str(figures["people"])
    assert page.inner_text("#fig-bot") == str(figures["answered_by_bot"])
    assert page.inner_text("#fig-tickets") == str(figures["tickets"])
    assert page.inner_text("#fig-median") == f"{figures['median_hours_to_answer']:.1f}"
    assert page.inner_text("#waiting-count") == "1"
    screenshot(page, "dashboard")


def test_the_dashboard_fits_a_phone_screen(page, live, seeded):
    base, _ = live
    log_in(page, base, "sifasuo")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_an_adviser_answers_a_ticket(page, live, seeded, db):
    base, _ = live
    log_in(page, base, "qin")
    page.click("text=待办咨询")
    page.click(f"a[href='/console/tickets/{seeded['GUPO']}']")
    screenshot(page, "ticket")
    page.fill("textarea[name=answer]", "可以先向劳动保障监察大队投诉，带上工资条和聊天记录。")
    page.click("#answer-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert page.inner_text("#ticket-status") == "已答复"
    row = next(db.query("SELECT status, answer FROM tickets WHERE id = ?", [seeded["GUPO"]]))
    assert row["status"] == "answered" and row["answer"].startswith("可以先向劳动保障监察大队投诉")


def test_an_adviser_gets_403_on_another_villages_ticket(page, live, seeded):
    base, _ = live
    log_in(page, base, "qin")
    response = page.goto(f"{base}/console/tickets/{seeded['DANIAN']}")
    assert response.status == 403
    assert "没有权限" in page.inner_text("#error-message")


def test_staff_downloads_the_ledger(page, live, seeded, tmp_path):
    base, _ = live
    log_in(page, base, "sifasuo")
    page.goto(f"{base}/console/export")
    page.fill("input[name=since]", "2026-01-01")
    page.fill("input[name=until]", "2026-12-31")
    with page.expect_download() as download:
        page.click("#download")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "法律咨询台账_2026-01-01_2026-12-31.xlsx"
    sheet = openpyxl.load_workbook(path)["台账"]
    assert sheet.max_row == 1 + 7
    assert "13812345678" not in str([c.value for row in sheet.iter_rows() for c in row])
