"""A boundary dispute walked through in real headless Chromium: the villager describes it in the
simulator and taps 申请调解; the case appears for 古坡村's committee in the console; the
committee's mediator, bound by WeChat like an adviser, records two sessions and the success by
command from their own phone (a second simulator); `stats --mediation --json`, the ledger's
调解台账 sheet and `report --year` count it. The simulator's traffic is test traffic, so the
figures count it with --include-test (and leave it out without)."""
from __future__ import annotations

import json
import time
from datetime import datetime

import openpyxl
import pytest
from click.testing import CliRunner

from bot.escalation import advisers as adv
from bot.cli import main
from bot.app.console.auth import add_user
from bot.reporting.stats import TOWNSHIP_TZ
from tests.browser.conftest import PASSWORD, PHONE, log_in, screenshot, villager_says

pytestmark = pytest.mark.browser

BOUNDARY = "隔壁把界桩往我家地里挪了，两家为地界吵起来了"
MEDIATOR = "古坡村调委会主任"


@pytest.fixture
def committee(live, db, config):
    adv.ensure_advisers(db, config, time.time())
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    add_user(db, "gupo", PASSWORD, "adviser", time.time(), adviser_name=MEDIATOR)
    add_user(db, "danian", PASSWORD, "adviser", time.time(), adviser_name="大年村调委会主任")
    return live


def bot_replies(page) -> int:
    return page.locator(".bubble.bot").count()


def tap_link(page, text: str) -> str:
    """Tap a link in the last reply (WeChat's bizmsgmenu) and return the reply it brings."""
    before = bot_replies(page)
    page.locator(".bubble.bot a.choice", has_text=text).last.click()
    reply = page.locator(".bubble.bot").nth(before)
    reply.wait_for()
    return reply.inner_text()


def console_as(chromium, base: str, username: str):
    console = chromium.new_context(viewport=PHONE, locale="zh-CN").new_page()
    log_in(console, base, username)
    return console


def cli(config, monkeypatch, *args) -> str:
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_boundary_dispute_becomes_a_case_mediated_to_success_and_counted(
        page, chromium, committee, db, config, monkeypatch, tmp_path):
    base, _ = committee
    page.goto(f"{base}/simulator")
    answer = villager_says(page, BOUNDARY)
    assert "【法条】" in answer and "人民调解委员会" in answer and "《人民调解法》第4条" in answer
    assert "哪个村" in tap_link(page, "申请调解")          # one tap sends "调解"
    opened = villager_says(page, "2")
    assert "调解#1" in opened and "古坡村人民调解委员会" in opened
    villager_says(page, "我叫黄明，电话13712345678，对方是隔壁韦叔")
    screenshot(page, "mediation-simulator")

    console = console_as(chromium, base, "gupo")                 # the committee's mediator
    console.click("nav >> text=调解台账")
    listed = console.inner_text("#case-list")
    assert "调解#1" in listed and "古坡村" in listed and "土地" in listed and "待调解" in listed
    assert "黄* 137****5678" in listed and "13712345678" not in listed     # masked in the list
    screenshot(console, "mediation-console-list")
    other = console_as(chromium, base, "danian")                  # another village's committee
    other.goto(f"{base}/console/mediation")
    assert "调解#1" not in other.inner_text("#case-list")
    assert other.goto(f"{base}/console/mediation/1").status == 403
    other.context.close()

    phone = chromium.new_context(viewport=PHONE, locale="zh-CN").new_page()   # the mediator's WeChat
    phone.goto(f"{base}/simulator")
    code = adv.new_bind_code(db, MEDIATOR, time.time())
    assert "绑定成功" in villager_says(phone, f"绑定 {code}")
    assert "调解#1" in villager_says(phone, "调解待办")
    assert "第1次" in villager_says(phone, "调解 1 记录 双方在村委会当面谈了一次")
    assert "第2次" in villager_says(phone, "调解 1 记录 到地里重新量了地界，界桩退回原处")
    done = villager_says(phone, "调解 1 成功 协议已签")
    assert "调解成功" in done and "调解2次" in done and "调解协议书已签" in done
    screenshot(phone, "mediation-mediator-phone")
    phone.context.close()

    console.goto(f"{base}/console/mediation/1")
    assert console.inner_text("#case-status") == "调解成功"
    assert console.inner_text("#case-sessions") == "2"
    assert "黄明" in console.inner_text("#case-parties")            # in full for the mediator
    assert MEDIATOR in console.inner_text("#case-notifications")
    events = console.inner_text("#case-events")
    assert events.count("调解一次") == 2 and "调解成功" in events and "微信" in events
    screenshot(console, "mediation-console-case")
    console.context.close()

    year = str(datetime.now(TOWNSHIP_TZ).year)
    figures = json.loads(cli(config, monkeypatch, "stats", "--mediation", "--json", "--include-test"))
    assert (figures["found"], figures["mediated"], figures["succeeded"], figures["success_rate"]) == (1, 1, 1, 1.0)
    assert figures["by_kind"]["land"]["succeeded"] == 1 and figures["by_village"]["古坡村"]["found"] == 1
    assert figures["agreements"] == 1 and figures["sessions"] == 2
    assert json.loads(cli(config, monkeypatch, "stats", "--mediation", "--json"))["found"] == 0

    ledger = tmp_path / "台账.xlsx"
    cli(config, monkeypatch, "export", "--since", f"{year}-01-01", "--until", f"{year}-12-31",
        "--include-test", str(ledger))
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(ledger)["调解台账"].iter_rows()]
    [case_row] = [r for r in rows if r[1] == "调解#1"]
    assert case_row[3:6] == ["古坡村", "土地", "群众申请"] and case_row[9:13] == [2, "调解成功", case_row[11], "已签"]
    assert "黄* 137****5678" in case_row[7]
    assert next(r for r in rows if r[0] == "古坡村")[1:5] == [1, 1, 1, "100%"]

    report = cli(config, monkeypatch, "report", "--year", year, "--include-test")
    assert ("排查调出新发案件1起（“三大纠纷”1起，邻里纠纷0起，婚姻0起，宅基地0起，其他0起），"
            "调解成功1件，调解成功率100%。") in report
