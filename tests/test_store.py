"""The store: WAL, busy timeout, writers taking turns, and an older database gains new columns."""
import sqlite3
import threading

import pytest

from bot import store


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


def test_a_failed_begin_gives_the_turn_back(tmp_path):
    path = tmp_path / "q.db"
    db = store.connect(path)
    db.execute("BEGIN")  # a transaction already open: BEGIN IMMEDIATE fails
    with pytest.raises(sqlite3.OperationalError):
        with store.transaction(db):
            pass
    db.execute("ROLLBACK")
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
    assert path.stat().st_size > size + (store.CHECKPOINT_TURNS - 1) * 2000
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM users").fetchone()[0] == store.CHECKPOINT_TURNS
