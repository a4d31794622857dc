"""The configured advisers reach the table, and checking that they did is a read only.

``ensure_advisers`` runs on every hand-over: when the table already holds config.toml's advisers
it must write nothing; when config.toml changed, or a row was written in another spelling, the
configured values win."""
from __future__ import annotations

import dataclasses
import json
import time

from bot.escalation import advisers as adv


def statements_of(db, action) -> list[str]:
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    try:
        action()
    finally:
        db.conn.set_trace_callback(None)
    return seen


def stored(db) -> dict[str, tuple]:
    return {r["name"]: (r["phone"], json.loads(r["villages"]), bool(r["is_backup"]))
            for r in db.query("SELECT name, phone, villages, is_backup FROM advisers")}


def test_advisers_already_in_the_table_cost_one_read_and_no_write(db, config):
    adv.ensure_advisers(db, config, time.time())
    seen = statements_of(db, lambda: adv.ensure_advisers(db, config, time.time()))
    assert seen == ["SELECT name, phone, villages, is_backup FROM advisers"]


def test_a_changed_phone_in_the_configuration_is_written(db, config):
    adv.ensure_advisers(db, config, time.time())
    village = config.villages[0]
    moved = dataclasses.replace(village, adviser=dataclasses.replace(village.adviser, phone="13900000000"))
    changed = dataclasses.replace(config, villages=(moved, *config.villages[1:]))
    adv.ensure_advisers(db, changed, time.time())
    assert stored(db)[village.adviser.name][0] == "13900000000"


def test_a_row_spelled_otherwise_is_written_once_in_the_configurations_spelling(db, config):
    adv.ensure_advisers(db, config, time.time())
    name = config.villages[0].adviser.name
    villages = stored(db)[name][1]
    db.conn.execute("UPDATE advisers SET villages = ? WHERE name = ?", [json.dumps(villages), name])  # \\u escapes
    writes = statements_of(db, lambda: adv.ensure_advisers(db, config, time.time()))
    assert any(s.startswith("INSERT INTO advisers") for s in writes)
    assert stored(db)[name][1] == villages
    again = statements_of(db, lambda: adv.ensure_advisers(db, config, time.time()))
    assert again == ["SELECT name, phone, villages, is_backup FROM advisers"]
