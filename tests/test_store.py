"""The store: WAL, busy timeout, writers taking turns, and an older database gains new columns."""
import sqlite3
import threading
import time

import pytest

from bot.core import store
from bot.core.migrations import MIGRATIONS


def test_connect_uses_wal_and_a_busy_timeout(tmp_path):
    db = store.connect(tmp_path / "s.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS


def test_an_older_database_gains_the_columns_added_since(tmp_path):
    path = tmp_path / "old.db"
    store.connect(path).conn.close()
    old = sqlite3.connect(path)
    old.execute("ALTER TABLE tickets DROP COLUMN delivered_via")
    old.execute("ALTER TABLE outbox DROP COLUMN claim_token")
    old.commit()
    old.close()
    db = store.connect(path)
    assert "delivered_via" in db["tickets"].columns_dict
    assert "claim_token" in db["outbox"].columns_dict


def test_transaction_rolls_back_on_error(tmp_path):
    db = store.connect(tmp_path / "t.db")
    try:
        with store.transaction(db):
            db.execute("INSERT INTO users (openid) VALUES ('oRolledBack')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_a_transaction_inside_another_joins_it_and_rolls_back_with_it(tmp_path):
    db = store.connect(tmp_path / "n.db")
    with pytest.raises(RuntimeError):
        with store.transaction(db):
            with store.transaction(db):
                db.execute("INSERT INTO users (openid) VALUES ('oInner')")
            assert db.conn.in_transaction          # the inner block did not commit
            raise RuntimeError("boom")
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_each_named_migration_runs_once_and_is_recorded(tmp_path):
    path = tmp_path / "m.db"
    store.connect(path).conn.close()
    db = store.connect(path)
    names = [r[0] for r in db.execute("SELECT name FROM schema_migrations ORDER BY rowid")]
    assert names == [m.name for m in MIGRATIONS]


def test_an_older_database_gets_structured_events_and_the_link_on_the_ticket(tmp_path):
    """Before: notifications were notes ("new → 韦律师 by cs") and the consultation held the
    ticket's id. After connecting, both are in their one structured place."""
    path = tmp_path / "older.db"
    store.connect(path).conn.close()
    old = sqlite3.connect(path)
    old.execute("DELETE FROM schema_migrations")
    old.execute("INSERT INTO advisers (id, name) VALUES (7, '韦律师')")
    old.execute("INSERT INTO tickets (id, openid, status, created_at) VALUES (3, 'oV', 'notified', 0)")
    old.execute("INSERT INTO consultations (id, openid, asked_at, action, ticket_id) VALUES (5, 'oV', 0, 'escalate', 3)")
    old.executemany("INSERT INTO ticket_events (ticket_id, at, from_status, to_status, actor, note)"
                    " VALUES (3, 0, ?, ?, ?, ?)", [("open", "open", "villager", "clarify: 都不是"),
                                                   ("open", "notified", "worker", "new → 韦律师 by cs"),
                                                   ("notified", "notified", "worker", "voice → 韦律师")])
    old.commit()
    old.close()
    db = store.connect(path)
    events = [(e["kind"], e["to_status"], e["adviser_id"], e["reason"], e["via"]) for e in
              db.query("SELECT * FROM ticket_events ORDER BY id")]
    assert events == [("opened", "open", None, None, None), ("status", "notified", None, None, None),
                      ("voice", "notified", 7, None, None), ("notified", "notified", 7, "new", "cs")]
    assert db.execute("SELECT consultation_id FROM tickets WHERE id = 3").fetchone()[0] == 5
    assert db.execute("SELECT ticket_id FROM consultations WHERE id = 5").fetchone()[0] is None


def writer_in_thread(path, openid: str) -> threading.Thread:
    """Another connection (as another worker would have) writing one user row."""
    def run():
        other = store.connect(path)
        store.write(other, "INSERT INTO users (openid) VALUES (?)", [openid])
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_writer_waits_for_the_turn_held_by_another_connection(tmp_path):
    path = tmp_path / "q.db"
    db = store.connect(path)
    with store.write_queue(db):  # the turn alone, no SQLite lock yet
        waiting = writer_in_thread(path, "oSecond")
        waiting.join(0.3)
        assert waiting.is_alive(), "the second writer did not wait for its turn"
    waiting.join(10)
    assert not waiting.is_alive()
    assert db.execute("SELECT openid FROM users").fetchall() == [("oSecond",)]


def test_a_write_inside_a_transaction_keeps_the_turn_until_the_commit(tmp_path):
    path = tmp_path / "q.db"
    db = store.connect(path)
    with store.write_queue(db):
        with store.transaction(db):
            store.write(db, "INSERT INTO users (openid) VALUES ('oInner')")
        waiting = writer_in_thread(path, "oOutside")
        waiting.join(0.3)
        assert waiting.is_alive(), "a nested write gave the turn away"
    waiting.join(10)
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 2


class FailingBegin:
    """A connection whose BEGIN fails as a full disk or a broken file would make it."""

    in_transaction = False

    def execute(self, sql, *args):
        raise sqlite3.OperationalError("disk I/O error")


def test_a_failed_begin_gives_the_turn_back(tmp_path):
    path = tmp_path / "q.db"
    db = store.connect(path)
    failing = store.transaction(db)
    failing.conn = FailingBegin()
    with pytest.raises(sqlite3.OperationalError):
        with failing:
            pass
    waiting = writer_in_thread(path, "oAfter")
    waiting.join(10)
    assert not waiting.is_alive()
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 1


def test_the_writers_copy_the_wal_into_the_database_every_so_many_turns(tmp_path):
    """Checkpoints happen after a turn, not inside a commit: the database file only grows then."""
    path = tmp_path / "c.db"
    db = store.connect(path)
    db.write_queue.turns = 0
    size = path.stat().st_size
    for n in range(store.CHECKPOINT_TURNS - 1):
        store.write(db, "INSERT INTO users (openid, pending) VALUES (?, ?)", [f"o{n}", "x" * 2000])
    assert path.stat().st_size == size, "the WAL was copied back before its turn count"
    store.write(db, "INSERT INTO users (openid) VALUES ('oLast')")
    checkpoints_done(str(path), 1)
    assert path.stat().st_size > size + (store.CHECKPOINT_TURNS - 1) * 2000
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM users").fetchone()[0] == store.CHECKPOINT_TURNS


def checkpoints_done(path: str, count: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while store.checkpointer(path).done < count:
        assert time.monotonic() < deadline, "the checkpoint thread did not run"
        time.sleep(0.01)


def test_a_writer_does_not_wait_for_the_checkpoint_it_asked_for(tmp_path, monkeypatch):
    """The copy and its fsyncs run in a thread of their own: the turn that asks for them returns
    at once, and the worker goes on answering."""
    path = tmp_path / "b.db"
    db = store.connect(path)
    db.write_queue.turns = 0
    size = path.stat().st_size
    release, started, threads = threading.Event(), threading.Event(), []
    real = store.checkpoint_file

    def slow_disk(file: str) -> None:
        threads.append(threading.current_thread().name)
        started.set()
        release.wait(10)
        real(file)
    monkeypatch.setattr(store, "checkpoint_file", slow_disk)
    for n in range(store.CHECKPOINT_TURNS):
        store.write(db, "INSERT INTO users (openid, pending) VALUES (?, ?)", [f"o{n}", "x" * 2000])
    assert started.wait(10)
    assert threads == ["legalbot-checkpoint"], "the checkpoint ran on the writer's thread"
    assert path.stat().st_size == size, "the writer came back while its checkpoint still waits"
    release.set()
    checkpoints_done(str(path), 1)
    assert path.stat().st_size > size + store.CHECKPOINT_TURNS * 2000


def test_a_checkpoint_never_creates_a_database_deleted_meanwhile(tmp_path):
    gone = tmp_path / "gone.db"
    store.checkpoint_file(str(gone))
    assert not gone.exists()


def test_a_follow_up_turn_finds_its_consultation_by_index_not_by_scanning(tmp_path):
    db = store.connect(str(tmp_path / "t.db"))
    plan = " ".join(str(row[-1]) for row in db.conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM consultations WHERE message_id = ?", [1]))
    assert "consultations_message" in plan


def test_one_checkpoint_thread_serves_request_after_request_and_ends_when_idle(tmp_path, monkeypatch):
    """Starting a thread waits for it to run: the thread stays for the next request, and goes
    when none comes (then the next request starts one again)."""
    path = str(tmp_path / "i.db")
    store.connect(path)
    idents = []
    monkeypatch.setattr(store, "checkpoint_file", lambda file: idents.append(threading.current_thread()))
    monkeypatch.setattr(store.Checkpointer, "IDLE_SECONDS", 0.5)
    checkpointer = store.checkpointer(path)
    checkpointer.request()
    checkpoints_done(path, 1)
    checkpointer.request()
    checkpoints_done(path, 2)
    assert idents[0] is idents[1]
    deadline = time.monotonic() + 10
    while checkpointer.running:
        assert time.monotonic() < deadline, "the idle thread did not end"
        time.sleep(0.05)
    checkpointer.request()
    checkpoints_done(path, 3)


def test_a_failed_inner_transaction_leaves_none_of_its_writes_when_the_outer_one_commits(tmp_path):
    db = store.connect(tmp_path / "n.db")
    with store.transaction(db):
        db.execute("INSERT INTO users (openid) VALUES ('oOuter')")
        with pytest.raises(RuntimeError):
            with store.transaction(db):
                db.execute("INSERT INTO users (openid) VALUES ('oInner')")
                raise RuntimeError("half-way")
        with store.transaction(db):
            db.execute("INSERT INTO users (openid) VALUES ('oAfter')")
    assert [r[0] for r in db.execute("SELECT openid FROM users ORDER BY openid")] == ["oAfter", "oOuter"]
