"""The durable outbox: dedupe, leased claims, backoff, and never undoing another worker's row."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from bot.escalation import outbox  # noqa: F401 (the worker's import registers every job)
from bot.app import worker
from bot.core.config import OutboxSettings
from tests.escalation_support import START, make_services

LEASE = 60


@pytest.fixture
def services(tmp_path):
    return make_services(tmp_path)


@pytest.fixture
def db(services):
    database = services.open_db()
    yield database
    database.conn.close()


def row_of(db, row_id):
    return next(db.query("SELECT * FROM outbox WHERE id = ?", [row_id]))


def test_the_same_dedupe_key_is_enqueued_once(db):
    first = outbox.enqueue(db, "custom_text", {"n": 1}, START, dedupe_key="deliver:7")
    second = outbox.enqueue(db, "custom_text", {"n": 2}, START, dedupe_key="deliver:7")
    assert first and second is None
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


def test_two_workers_never_claim_the_same_row(services, db):
    for i in range(40):
        outbox.enqueue(db, "custom_text", {"n": i}, START)
    claimed: list[list[int]] = []

    def work():
        own = services.open_db()
        claimed.append([r.id for r in outbox.claim(own, START, LEASE, limit=40)])
        own.conn.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [i for batch in claimed for i in batch]
    assert len(ids) == len(set(ids)) == 40


def test_a_claimed_row_is_not_due_again_until_its_lease_runs_out(db):
    outbox.enqueue(db, "custom_text", {}, START)
    [row] = outbox.claim(db, START, LEASE)
    assert outbox.claim(db, START + LEASE - 1, LEASE) == []
    [again] = outbox.claim(db, START + LEASE + 1, LEASE)    # the first worker died
    assert again.id == row.id and again.attempts == 2


def test_a_slow_worker_cannot_mark_a_row_another_worker_reclaimed(db):
    outbox.enqueue(db, "custom_text", {}, START)
    [slow] = outbox.claim(db, START, LEASE)
    [fresh] = outbox.claim(db, START + LEASE + 1, LEASE)
    assert outbox.mark_sent(db, slow, START + LEASE + 2) is False
    assert row_of(db, slow.id)["status"] == "sending"
    assert outbox.mark_sent(db, fresh, START + LEASE + 3) is True
    assert row_of(db, slow.id)["status"] == "sent"


def test_a_failed_row_backs_off_exponentially_and_keeps_its_error(db):
    settings = OutboxSettings(backoff_base_seconds=5, backoff_max_seconds=3600, max_attempts=12)
    row_id = outbox.enqueue(db, "custom_text", {}, START)
    now = START
    waits = []
    for _ in range(3):
        [row] = outbox.claim(db, now, LEASE)
        assert outbox.mark_failed(db, row, "WeChat -1 system busy", now, settings) == "retry"
        stored = row_of(db, row_id)
        waits.append(stored["next_attempt_at"] - now)
        now = stored["next_attempt_at"]
    assert waits == [5, 10, 20]
    assert row_of(db, row_id)["last_error"] == "WeChat -1 system busy"


def test_a_row_fails_for_good_after_max_attempts(db):
    settings = OutboxSettings(backoff_base_seconds=1, backoff_max_seconds=1, max_attempts=2)
    row_id = outbox.enqueue(db, "custom_text", {}, START)
    outcomes = []
    for step in range(3):
        for row in outbox.claim(db, START + 10 * step, LEASE):
            outcomes.append(outbox.mark_failed(db, row, "boom", START + 10 * step, settings))
    assert outcomes == ["retry", "failed"]
    assert row_of(db, row_id)["status"] == "failed"


def test_rows_that_failed_for_good_go_back_in_the_queue_and_held_ones_stay(db):
    settings = OutboxSettings(max_attempts=1)
    failed, held = (outbox.enqueue(db, "custom_text", {"n": n}, START) for n in (1, 2))
    first, second = outbox.claim(db, START, LEASE)
    outbox.mark_failed(db, first, "WeChat 40164", START, settings)
    outbox.mark_held(db, second, "outside the 48-hour window", START)
    assert outbox.retry_failed(db, START + 5) == 1
    assert [(r.id, r.attempts) for r in outbox.claim(db, START + 5, LEASE)] == [(failed, 1)]
    assert row_of(db, held)["status"] == "held"


def test_the_backoff_is_capped():
    settings = OutboxSettings(backoff_base_seconds=5, backoff_max_seconds=3600)
    assert outbox.backoff_seconds(30, settings) == 3600


def enqueued_kinds() -> set[str]:
    """Every kind the code puts in the outbox (``enqueue(db, "kind", …)``)."""
    root = Path(__file__).resolve().parent.parent
    found = set()
    for path in [*root.glob("bot/**/*.py"), *root.glob("handlers/*.py")]:
        found.update(re.findall(r'enqueue\(\s*db,\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    return found


def test_every_kind_the_code_enqueues_has_its_job_registered():
    kinds = enqueued_kinds()
    assert {"notify_adviser", "deliver_answer", "mass_send"} <= kinds      # the scan finds them
    assert sorted(kinds - set(outbox.JOBS)) == []


def test_a_kind_is_sent_by_one_job_only():
    def another_sender(run, payload):
        return "sent"
    kept = outbox.JOBS["notify_adviser"]
    with pytest.raises(ValueError, match="notify_adviser"):
        outbox.job("notify_adviser")(another_sender)
    assert outbox.JOBS["notify_adviser"] is kept

