"""Privacy: masked identifiers, purging old text while the counts stay, online backup."""
import sqlite3

import pytest

from bot.core import store
from bot.core.privacy import backup, mask_openid, mask_phone, mask_text, parse_age, purge

DAY = 86400
NOW = 2_000_000_000.0


@pytest.fixture
def db(tmp_path):
    database = store.connect(tmp_path / "p.db")
    yield database
    database.conn.close()


def add_consultation(db, age_days, question="我家宅基地被占了，电话13912345678"):
    db["consultations"].insert({"openid": "oAbcdefghijk", "asked_at": NOW - age_days * DAY,
                                "question": question, "action": "answer", "category": "土地与宅基地",
                                "village": "大年村", "reply": "……", "latency_ms": 3.0})


def test_parse_age_understands_years_months_days():
    assert parse_age("3y") == 3 * 365 * DAY
    assert parse_age("18m") == 18 * 30 * DAY
    assert parse_age("90d") == 90 * DAY
    with pytest.raises(ValueError):
        parse_age("three years")


def test_masks_keep_only_the_ends():
    assert mask_openid("oDO796opXuEu2mWrn53BqlVW0u9I") == "oDO***u9I"
    assert mask_phone("138-0000-1234") == "138****1234"
    assert mask_text("我电话13912345678") == "我电话139****5678"
    assert mask_text("身份证450123199001011234") == "身份证4501**********1234"


def test_purge_removes_old_text_and_keeps_rows(db):
    add_consultation(db, age_days=4 * 365)
    add_consultation(db, age_days=10)
    counts = purge(db, parse_age("3y"), NOW)
    rows = list(db.query("SELECT question, reply, action, category, village, purged FROM consultations ORDER BY asked_at"))
    assert counts["consultations"] == 1
    assert len(rows) == 2
    assert rows[0]["question"] is None and rows[0]["reply"] is None and rows[0]["purged"] == 1
    assert (rows[0]["action"], rows[0]["category"], rows[0]["village"]) == ("answer", "土地与宅基地", "大年村")
    assert rows[1]["question"].startswith("我家宅基地")


def test_purge_twice_changes_nothing_more(db):
    add_consultation(db, age_days=4 * 365)
    purge(db, parse_age("3y"), NOW)
    assert purge(db, parse_age("3y"), NOW)["consultations"] == 0


def test_backup_copies_a_live_database(db, tmp_path):
    add_consultation(db, age_days=1)
    out = backup(db, tmp_path / "copy" / "b.db")
    copy = sqlite3.connect(out)
    assert copy.execute("SELECT count(*) FROM consultations").fetchone()[0] == 1


def test_stats_and_the_report_are_unchanged_by_a_purge(tmp_path):
    """The counts for the annual report survive the deletion of what people wrote."""
    from bot.core.config import load_config
    from bot.reporting.report import build_report
    from bot.reporting.stats import compute_stats
    from tests.conftest import test_overrides
    from tests.seed_records import seed

    config = load_config(overrides=test_overrides(tmp_path), environ={})
    database = store.connect(tmp_path / "legalbot.db")
    seed(database, config)
    before = {by: compute_stats(database, by=by) for by in (None, "month", "village", "category", "action")}
    report_before = build_report(database, 2026)
    counts = purge(database, older_than_seconds=0, now=4_000_000_000.0)
    assert counts["consultations"] > 0 and counts["tickets"] > 0
    assert list(database.query("SELECT question FROM consultations WHERE question IS NOT NULL")) == []
    assert {by: compute_stats(database, by=by) for by in before} == before
    assert build_report(database, 2026) == report_before


# --- issue 14, item 7: the formats villagers actually type -------------------------------------

@pytest.mark.parametrize("typed, shown", [
    ("+86 139 1234 5678", "139****5678"),
    ("+8613912345678", "139****5678"),
    ("8613912345678", "139****5678"),
    ("0086-139-1234-5678", "139****5678"),
    ("(+86)13912345678", "139****5678"),
    ("139-1234-5678", "139****5678"),
    ("139 1234 5678", "139****5678"),
    ("１３９１２３４５６７８", "139****5678"),
    ("＋８６ １３９ １２３４ ５６７８", "139****5678"),
    ("0776-7612345", "0776-****2345"),
    ("(0776)7612345", "(0776)-****2345"),
    ("010-12345678", "010-****5678"),
    ("450123199001011234", "4501**********1234"),
    ("450123 19900101 123X", "4501**********123X"),
    ("450123900101123", "4501********123"),
])
def test_every_common_format_is_masked(typed, shown):
    masked = mask_text(f"我的号码是{typed}，请回电")
    assert masked == f"我的号码是{shown}，请回电"


@pytest.mark.parametrize("text", ["借了50000元", "2026-03-01签的合同", "打12348问问", "110报警", "第1079条"])
def test_amounts_dates_and_hotlines_stay(text):
    assert mask_text(text) == text


def test_the_ledger_masks_them_too(db):
    from bot.reporting.export import ledger_lines
    add_consultation(db, 1, question="地被占了，电话+86 139-1234-5678，身份证450123900101123")
    rows = [dict(r, ticket_id=None) for r in db.query("SELECT * FROM consultations")]
    line = " ".join(str(cell) for cell in ledger_lines(rows)[0])
    assert "1234-5678" not in line and "900101" not in line and "139****5678" in line
