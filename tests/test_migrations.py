"""Named schema migrations (bot/core/migrations.py): each step, run on a real SQLite file built at the
schema before it, keeps the data and moves it where the new schema wants it."""
import sqlite3

import pytest

from bot.core import migrations, store
from bot.core.migrations import MIGRATIONS, Migration

# What each step's schema did not have yet, undone newest first to rebuild the schema before it
# (from the commits that introduced them: 75e178d, 53c0506).
BEFORE = {
    migrations.TICKET_EVENTS_SAY_WHAT_THEY_ARE.name: [
        "ALTER TABLE ticket_events DROP COLUMN kind", "ALTER TABLE ticket_events DROP COLUMN adviser_id",
        "ALTER TABLE ticket_events DROP COLUMN reason", "ALTER TABLE ticket_events DROP COLUMN via"],
    migrations.LINK_LIVES_ON_THE_TICKET.name: ["DROP INDEX tickets_consultation"],
    migrations.TEST_TRAFFIC_IS_MARKED.name: ["DROP TRIGGER consultations_mark_test"],
}


def schema_before(path, step: Migration) -> sqlite3.Connection:
    """A database file at the schema just before ``step``: today's schema with that step and every
    later one undone and unrecorded. The caller fills it in the old shape and closes it."""
    store.connect(path).conn.close()
    names = [m.name for m in MIGRATIONS]
    later = names[names.index(step.name):]
    old = sqlite3.connect(path)
    for name in reversed(later):
        for statement in BEFORE[name]:
            old.execute(statement)
        old.execute("DELETE FROM schema_migrations WHERE name = ?", [name])
    return old


def migrated(path, old: sqlite3.Connection):
    old.commit()
    old.close()
    return store.connect(path)


def columns(db, table: str) -> set[str]:
    return set(db[table].columns_dict)


def test_every_step_has_a_schema_before_it_to_be_tested_from():
    assert [m.name for m in MIGRATIONS] == list(BEFORE)


def test_the_schema_before_a_step_really_lacks_what_the_step_brought(tmp_path):
    old = schema_before(tmp_path / "m.db", MIGRATIONS[0])
    assert "kind" not in {r[1] for r in old.execute("PRAGMA table_info(ticket_events)")}
    assert old.execute("SELECT count(*) FROM sqlite_master WHERE name = 'consultations_mark_test'"
                       ).fetchone()[0] == 0
    assert old.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == 0
    old.close()


def test_ticket_events_step_turns_notes_into_kinds_and_keeps_every_event(tmp_path):
    old = schema_before(tmp_path / "m.db", migrations.TICKET_EVENTS_SAY_WHAT_THEY_ARE)
    old.execute("INSERT INTO advisers (id, name) VALUES (7, '韦律师')")
    old.execute("INSERT INTO tickets (id, openid, status, created_at, question)"
                " VALUES (3, 'oV', 'notified', 0, '借钱不还')")
    old.executemany("INSERT INTO ticket_events (ticket_id, at, from_status, to_status, actor, note)"
                    " VALUES (3, ?, ?, ?, ?, ?)",
                    [(1, "open", "open", "villager", "clarify: 都不是"),
                     (2, "open", "notified", "worker", "new → 韦律师 by cs"),
                     (3, "notified", "notified", "worker", "voice → 韦律师"),
                     (4, "notified", "notified", "staff", "电话联系过")])
    db = migrated(tmp_path / "m.db", old)
    assert {"kind", "adviser_id", "reason", "via"} <= columns(db, "ticket_events")
    events = [(e["at"], e["kind"], e["from_status"], e["to_status"], e["adviser_id"], e["reason"],
               e["via"], e["note"]) for e in db.query("SELECT * FROM ticket_events ORDER BY at, id")]
    assert events == [
        (1, "opened", "open", "open", None, None, None, "clarify: 都不是"),
        (2, "status", "open", "notified", None, None, None, None),
        (2, "notified", "notified", "notified", 7, "new", "cs", "new → 韦律师 by cs"),
        (3, "voice", "notified", "notified", 7, None, None, "voice → 韦律师"),
        (4, "note", "notified", "notified", None, None, None, "电话联系过")]
    assert db.execute("SELECT question FROM tickets WHERE id = 3").fetchone()[0] == "借钱不还"


def test_link_step_moves_the_first_consultation_onto_its_ticket(tmp_path):
    old = schema_before(tmp_path / "m.db", migrations.LINK_LIVES_ON_THE_TICKET)
    old.executemany("INSERT INTO tickets (id, openid, status, created_at) VALUES (?, 'oV', 'open', 0)",
                    [(3,), (4,)])
    old.executemany("INSERT INTO consultations (id, openid, asked_at, action, question, ticket_id)"
                    " VALUES (?, 'oV', 0, 'escalate', ?, ?)",
                    [(5, "地被占了", 3), (6, "还是地的事", 3), (8, "你好", None)])
    db = migrated(tmp_path / "m.db", old)
    assert dict(db.execute("SELECT id, consultation_id FROM tickets").fetchall()) == {3: 5, 4: None}
    rows = db.execute("SELECT id, question, ticket_id FROM consultations ORDER BY id").fetchall()
    assert rows == [(5, "地被占了", None), (6, "还是地的事", None), (8, "你好", None)]
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'tickets_consultation'"
                      ).fetchone()[0] == 1


def test_test_traffic_step_marks_old_rows_and_new_ones_by_trigger(tmp_path):
    old = schema_before(tmp_path / "m.db", migrations.TEST_TRAFFIC_IS_MARKED)
    old.execute("INSERT INTO advisers (id, name, openid) VALUES (1, '韦律师', 'oAdviser')")
    old.executemany("INSERT INTO consultations (id, openid, asked_at, action, channel, question)"
                    " VALUES (?, ?, 0, 'answer', ?, ?)",
                    [(1, "oVillager", "wechat", "借钱不还"), (2, "oVillager", "simulator", "试试"),
                     (3, "oTester", "cli", "离婚"), (4, "oAdviser", "wechat", "自己问问")])
    db = migrated(tmp_path / "m.db", old)
    assert db.execute("SELECT id, is_test, question FROM consultations ORDER BY id").fetchall() == [
        (1, 0, "借钱不还"), (2, 1, "试试"), (3, 1, "离婚"), (4, 1, "自己问问")]
    db.execute("INSERT INTO consultations (id, openid, asked_at, action, channel)"
               " VALUES (9, 'oNew', 0, 'answer', 'simulator')")
    assert db.execute("SELECT is_test FROM consultations WHERE id = 9").fetchone()[0] == 1


def test_an_older_database_without_the_is_test_column_gets_it_and_its_rows_marked(tmp_path):
    old = schema_before(tmp_path / "m.db", migrations.TEST_TRAFFIC_IS_MARKED)
    old.execute("ALTER TABLE consultations DROP COLUMN is_test")
    old.execute("INSERT INTO consultations (id, openid, asked_at, action, channel)"
                " VALUES (1, 'oV', 0, 'answer', 'cli')")
    db = migrated(tmp_path / "m.db", old)
    assert db.execute("SELECT is_test FROM consultations WHERE id = 1").fetchone()[0] == 1


def test_migrating_again_runs_nothing_and_changes_nothing(tmp_path):
    db = store.connect(tmp_path / "m.db")
    assert migrations.pending(db) == []
    assert migrations.apply_migrations(db) == []
    db.execute("INSERT INTO tickets (id, openid, created_at) VALUES (1, 'oV', 0)")
    db.execute("INSERT INTO ticket_events (ticket_id, at, from_status, to_status, note)"
               " VALUES (1, 0, 'open', 'open', 'new → 韦律师 by cs')")   # what step 1 would rewrite
    store.connect(tmp_path / "m.db").conn.close()
    assert db.execute("SELECT count(*), max(kind) FROM ticket_events").fetchone() == (1, "status")


def test_a_failing_step_leaves_neither_its_changes_nor_its_record(tmp_path):
    db = store.connect(tmp_path / "m.db")
    broken = Migration("suite-0 broken on purpose", (
        "INSERT INTO users (openid) VALUES ('oHalfDone')", "UPDATE no_such_table SET x = 1"))
    with pytest.raises(sqlite3.OperationalError):
        migrations.run_migration(db, broken)
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    assert broken.name not in migrations.applied(db)


def test_a_step_returns_the_names_it_ran(tmp_path, monkeypatch):
    db = store.connect(tmp_path / "m.db")
    extra = Migration("suite-1 fill a village", ("UPDATE users SET village = '古坡村' WHERE village IS NULL",))
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS + (extra,))
    db.execute("INSERT INTO users (openid) VALUES ('oA')")
    assert migrations.apply_migrations(db) == [extra.name]
    assert db.execute("SELECT village FROM users").fetchone()[0] == "古坡村"
