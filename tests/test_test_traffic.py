"""Test traffic (the simulator, `legalbot chat`, advisers' and staff's own messages) is marked
as it is recorded and left out of stats, the ledger and the report unless asked for."""
from __future__ import annotations

import io
import json
import sqlite3
import time

import openpyxl
import pytest
from click.testing import CliRunner

from bot.escalation import advisers as adv
from bot.reporting import report
from bot.core import store
from bot.cli import main
from bot.reporting.export import export_ledger
from bot.reporting.stats import Period, compute_stats
from tests.seed_records import at, seed
from tests.support import text_xml

YEAR = Period.year(2026)


def test_a_question_from_the_simulator_is_marked_as_test(wechat, db):
    wechat.client.post("/wechat", query_string=wechat.query(),
                       data=text_xml("借钱不还怎么办", openid="oSimulatorA").encode(),
                       content_type="text/xml", headers={"X-Legalbot-Channel": "simulator"})
    wechat.say("借钱不还怎么办", openid="oVillagerReal")
    rows = {r["openid"]: r["is_test"] for r in db.query("SELECT openid, is_test FROM consultations")}
    assert rows == {"oSimulatorA": 1, "oVillagerReal": 0}


def test_a_bound_advisers_own_question_is_marked_as_test(wechat, db, config):
    adv.ensure_advisers(db, config, time.time())
    adv.bind(db, adv.new_bind_code(db, "韦律师", time.time(), 72), "oAdviserWei", time.time())
    wechat.say("借钱不还怎么办", openid="oAdviserWei")
    assert [r["is_test"] for r in db.query("SELECT is_test FROM consultations")] == [1]


def test_a_line_typed_into_legalbot_chat_is_marked_as_test(config, monkeypatch, db):
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    result = CliRunner().invoke(main, ["chat", "--village", "古坡村"], input="借钱不还怎么办\n")
    assert result.exit_code == 0, result.output
    assert [(r["channel"], r["is_test"]) for r in db.query(
        "SELECT channel, is_test FROM consultations")] == [("cli", 1)]


@pytest.fixture
def mixed(db, config):
    """The seeded year (7 legal consultations) plus two test questions in March."""
    seed(db, config)
    for openid, channel in (("oSimulatorB", "simulator"), ("cli-villager", "cli")):
        db["consultations"].insert({"openid": openid, "asked_at": at("2026-03-10 10:00"),
                                    "channel": channel, "question": "借钱不还怎么办",
                                    "action": "answer", "category": "借贷", "is_test": 1})
    return db


def test_stats_leave_test_traffic_out_unless_asked(mixed):
    assert compute_stats(mixed, YEAR)["consultations"] == 7
    assert compute_stats(mixed, YEAR, include_test=True)["consultations"] == 9


def test_the_ledger_and_the_report_leave_test_traffic_out_unless_asked(mixed):
    buffer = io.BytesIO()
    assert export_ledger(mixed, YEAR, buffer) == 7
    assert openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["台账"].max_row == 1 + 7
    assert export_ledger(mixed, YEAR, io.BytesIO(), include_test=True) == 9
    assert report.build_report(mixed, 2026)["figures"]["total"] == 7
    assert report.build_report(mixed, 2026, include_test=True)["figures"]["total"] == 9


def test_the_include_test_flag_of_stats_export_and_report(mixed, config, monkeypatch, tmp_path):
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    run = CliRunner().invoke
    year = ["--since", "2026-01-01", "--until", "2026-12-31"]
    assert json.loads(run(main, ["stats", "--json", *year]).output)["total"] == 8
    assert json.loads(run(main, ["stats", "--json", "--include-test", *year]).output)["total"] == 10
    out = tmp_path / "out" / "台账.csv"
    result = run(main, ["export", "--since", "2026-01-01", "--until", "2026-12-31",
                        "--include-test", str(out)])
    assert result.exit_code == 0 and "9 条" in result.output
    report_json = run(main, ["report", "--year", "2026", "--json", "--include-test"]).output
    assert json.loads(report_json)["figures"]["total"] == 9


def test_the_named_step_marks_test_rows_recorded_before_the_column(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE consultations (id INTEGER PRIMARY KEY, message_id INTEGER,"
                      " openid TEXT NOT NULL, village TEXT, asked_at REAL NOT NULL, channel TEXT"
                      " NOT NULL DEFAULT 'wechat', question TEXT, action TEXT NOT NULL);"
                      "INSERT INTO consultations (openid, asked_at, channel, action) VALUES"
                      " ('oSim', 1, 'simulator', 'answer'), ('cli-villager', 2, 'cli', 'answer'),"
                      " ('oReal', 3, 'wechat', 'answer');")
    old.commit()
    old.close()
    db = store.connect(path)
    marked = {r["openid"]: r["is_test"] for r in db.query("SELECT openid, is_test FROM consultations")}
    assert marked == {"oSim": 1, "cli-villager": 1, "oReal": 0}
    assert "staff-1 test traffic is marked" in {r["name"] for r in db.query(
        "SELECT name FROM schema_migrations")}
    db.conn.close()
