"""The store: WAL, busy timeout, and a database made by an older version gains new columns."""
import sqlite3

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
