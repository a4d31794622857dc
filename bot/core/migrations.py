"""Named schema migrations: the data moves an older database needs, each run once, in order.

How a database reaches the schema (``bot.core.store.ensure_schema``, on every connect):

1. columns the schema (``bot.core.store.SCHEMA``) has and an existing table lacks are added;
2. tables, indexes and the like that are missing are created (the whole script is idempotent);
3. the steps below not yet recorded in ``schema_migrations`` run, each in one IMMEDIATE
   transaction together with the row that records it.

So a new column needs no step; a step is for data: filling a new column from an old one, moving
a link from one table to another, a trigger that marks rows as they are written. A step is never
edited once shipped (databases in the field have recorded it by name); a change is a new step.
Prefix a step's name with the work it belongs to, so parallel work does not collide.

sqlite-utils: ``Database`` is the connection everywhere, and its ``table_names`` and
``columns_dict`` read the schema. The DDL itself is deliberately plain SQL, not
``Table.add_column`` or ``Table.transform``: ``SCHEMA`` keeps each table's DDL beside its comment
as the one description of the store, ``add_column`` would re-quote a numeric default (``0``
becomes ``'0'``), and ``transform`` copies the table, which a running worker's connection must
not see half-done. Nor is sqlite-utils' companion ``sqlite-migrate`` used: its steps are
functions recorded by name in the same way, and a tuple of statements needs nothing more.
Tests: tests/test_migrations.py builds the schema before each step with real SQLite.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import sqlite_utils

from bot.core.store import TEST_CHANNELS, transaction, with_retry


@dataclass(frozen=True)
class Migration:
    """One named step: SQL statements run together, once per database."""
    name: str
    statements: tuple[str, ...]


TICKET_EVENTS_SAY_WHAT_THEY_ARE = Migration("conversation-1 ticket events say what they are", (
    # Before events had a kind, a notification was a row noted "new → 韦律师 by cs": the
    # open → notified transition itself, or a same-status row after it.
    "INSERT INTO ticket_events (ticket_id, at, from_status, to_status, actor, note)"
    " SELECT ticket_id, at, to_status, to_status, actor, note FROM ticket_events"
    " WHERE from_status != to_status AND note LIKE '% → % by %'",
    "UPDATE ticket_events SET note = NULL WHERE from_status != to_status AND note LIKE '% → % by %'",
    "UPDATE ticket_events SET kind = 'notified', reason = substr(note, 1, instr(note, ' → ') - 1),"
    " via = substr(note, instr(note, ' by ') + 4), adviser_id = (SELECT a.id FROM advisers a"
    " WHERE a.name = substr(note, instr(note, ' → ') + 3, instr(note, ' by ') - instr(note, ' → ') - 3))"
    " WHERE kind = 'status' AND from_status = to_status AND note LIKE '% → % by %'",
    "UPDATE ticket_events SET kind = 'voice', adviser_id = (SELECT a.id FROM advisers a"
    " WHERE a.name = substr(note, 9)) WHERE kind = 'status' AND note LIKE 'voice → %'",
    "UPDATE ticket_events SET kind = 'opened' WHERE kind = 'status' AND from_status = to_status"
    " AND actor = 'villager'",
    "UPDATE ticket_events SET kind = 'note' WHERE kind = 'status' AND from_status = to_status",
))

LINK_LIVES_ON_THE_TICKET = Migration("conversation-2 the consultation-ticket link lives on the ticket", (
    "UPDATE tickets SET consultation_id = (SELECT MIN(c.id) FROM consultations c"
    " WHERE c.ticket_id = tickets.id) WHERE consultation_id IS NULL",
    "UPDATE consultations SET ticket_id = NULL WHERE ticket_id IS NOT NULL",
))

TEST_TRAFFIC_IS_MARKED = Migration("staff-1 test traffic is marked", (
    # Test traffic (TEST_CHANNELS, and anything a bound adviser or the office sends) is marked
    # as it is recorded, by a trigger, whoever writes the row; and once here for the rows
    # recorded before.
    "CREATE TRIGGER IF NOT EXISTS consultations_mark_test AFTER INSERT ON consultations"
    f" WHEN NEW.channel IN {TEST_CHANNELS}"
    " OR EXISTS (SELECT 1 FROM advisers WHERE openid = NEW.openid)"
    " BEGIN UPDATE consultations SET is_test = 1 WHERE id = NEW.id; END",
    f"UPDATE consultations SET is_test = 1 WHERE channel IN {TEST_CHANNELS}"
    " OR openid IN (SELECT openid FROM advisers WHERE openid IS NOT NULL)",
))

MIGRATIONS: tuple[Migration, ...] = (
    TICKET_EVENTS_SAY_WHAT_THEY_ARE,
    LINK_LIVES_ON_THE_TICKET,
    TEST_TRAFFIC_IS_MARKED,
)


def applied(db: sqlite_utils.Database) -> set[str]:
    """The names of the steps this database has had."""
    return {r[0] for r in db.conn.execute("SELECT name FROM schema_migrations")}


def pending(db: sqlite_utils.Database) -> list[Migration]:
    """The steps still to run, in order."""
    done = applied(db)
    return [m for m in MIGRATIONS if m.name not in done]


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Run the steps this database has not had; returns the names of those this call ran."""
    ran = []
    for migration in pending(db):
        if with_retry(lambda: run_migration(db, migration)):
            ran.append(migration.name)
    return ran


def run_migration(db: sqlite_utils.Database, migration: Migration) -> bool:
    """One step and its record in one transaction: a failing statement leaves neither. False
    when another process ran it while this one waited for the write lock."""
    with transaction(db):
        if db.conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?",
                           [migration.name]).fetchone():
            return False
        for statement in migration.statements:
            db.conn.execute(statement)
        db.conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                        [migration.name, time.time()])
    return True
