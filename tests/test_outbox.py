"""The durable outbox: dedupe, leased claims, backoff, and never undoing another worker's row."""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from bot.escalation import outbox  # noqa: F401 (the worker's import registers every job)
from bot.app import worker
from bot.core.config import OutboxSettings
from tests.escalation_support import START, make_services

LEASE = 60


@dataclass(frozen=True)
class Numbered:
    """A payload for the queue's own tests (no job sends it)."""

    KIND: ClassVar[str] = "custom_text"
    n: int = 0


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
    first = outbox.enqueue(db, Numbered(1), START, dedupe_key="deliver:7")
    second = outbox.enqueue(db, Numbered(2), START, dedupe_key="deliver:7")
    assert first and second is None
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


def test_two_workers_never_claim_the_same_row(services, db):
    for i in range(40):
        outbox.enqueue(db, Numbered(i), START)
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
    outbox.enqueue(db, Numbered(), START)
    [row] = outbox.claim(db, START, LEASE)
    assert outbox.claim(db, START + LEASE - 1, LEASE) == []
    [again] = outbox.claim(db, START + LEASE + 1, LEASE)    # the first worker died
    assert again.id == row.id and again.attempts == 2


def test_a_slow_worker_cannot_mark_a_row_another_worker_reclaimed(db):
    outbox.enqueue(db, Numbered(), START)
    [slow] = outbox.claim(db, START, LEASE)
    [fresh] = outbox.claim(db, START + LEASE + 1, LEASE)
    assert outbox.mark_sent(db, slow, START + LEASE + 2) is False
    assert row_of(db, slow.id)["status"] == "sending"
    assert outbox.mark_sent(db, fresh, START + LEASE + 3) is True
    assert row_of(db, slow.id)["status"] == "sent"


def test_a_failed_row_backs_off_exponentially_and_keeps_its_error(db):
    settings = OutboxSettings(backoff_base_seconds=5, backoff_max_seconds=3600, max_attempts=12)
    row_id = outbox.enqueue(db, Numbered(), START)
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
    row_id = outbox.enqueue(db, Numbered(), START)
    outcomes = []
    for step in range(3):
        for row in outbox.claim(db, START + 10 * step, LEASE):
            outcomes.append(outbox.mark_failed(db, row, "boom", START + 10 * step, settings))
    assert outcomes == ["retry", "failed"]
    assert row_of(db, row_id)["status"] == "failed"


def test_rows_that_failed_for_good_go_back_in_the_queue_and_held_ones_stay(db):
    settings = OutboxSettings(max_attempts=1)
    failed, held = (outbox.enqueue(db, Numbered(n), START) for n in (1, 2))
    first, second = outbox.claim(db, START, LEASE)
    outbox.mark_failed(db, first, "WeChat 40164", START, settings)
    outbox.mark_held(db, second, "outside the 48-hour window", START)
    assert outbox.retry_failed(db, START + 5) == 1
    assert [(r.id, r.attempts) for r in outbox.claim(db, START + 5, LEASE)] == [(failed, 1)]
    assert row_of(db, held)["status"] == "held"


def test_the_backoff_is_capped():
    settings = OutboxSettings(backoff_base_seconds=5, backoff_max_seconds=3600)
    assert outbox.backoff_seconds(30, settings) == 3600


def enqueued_payloads() -> set[str]:
    """Every payload class the code puts in the outbox (``enqueue(db, Kind(…), …)``)."""
    root = Path(__file__).resolve().parent.parent
    found = set()
    for path in [*root.glob("bot/**/*.py"), *root.glob("handlers/*.py")]:
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r'enqueue\(\s*db,\s*(?:[a-z_]+\.)?([A-Z][A-Za-z]+)\(', text))
    return found


def test_every_payload_the_code_enqueues_has_its_job_registered():
    payloads = enqueued_payloads()
    assert {"NotifyAdviser", "DeliverAnswer", "MassSend", "MassPreview", "MenuCreate"} <= payloads
    assert sorted(payloads - {r.payload.__name__ for r in outbox.JOBS.values()}) == []
    assert all(kind == r.payload.KIND for kind, r in outbox.JOBS.items())


def test_a_kind_is_sent_by_one_job_only():
    from bot.escalation.tickets import NotifyAdviser

    def another_sender(run, payload):
        return "sent"
    kept = outbox.JOBS["notify_adviser"]
    with pytest.raises(ValueError, match="notify_adviser"):
        outbox.job(NotifyAdviser)(another_sender)
    assert outbox.JOBS["notify_adviser"] is kept


# ---- typed payloads at the queue boundary -----------------------------------------------------

def test_a_payload_is_stored_as_a_json_object_of_its_fields_and_read_back_as_its_dataclass(db):
    from bot.escalation.tickets import NotifyAdviser
    sent = NotifyAdviser(ticket_id=7, adviser_id=2, reason="remind")
    row_id = outbox.enqueue(db, sent, START)
    stored = row_of(db, row_id)
    assert (stored["kind"], json.loads(stored["payload"])) == (
        "notify_adviser", {"ticket_id": 7, "adviser_id": 2, "reason": "remind"})
    [row] = outbox.claim(db, START, LEASE)
    assert outbox.read_payload(NotifyAdviser, row.payload) == sent


def queued_by_hand(db, kind: str, payload_text: str) -> int:
    """A row as an earlier version (or a broken one) wrote it, straight into the table."""
    return db.execute("INSERT INTO outbox (kind, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?)",
                      [kind, payload_text, START, START]).lastrowid


def test_a_row_queued_in_the_old_dict_shape_is_still_sent(tmp_path, fake_wechat):
    services = make_services(tmp_path, fake_wechat)
    db = services.open_db()
    old = json.dumps({"openid": "oOldPhone", "text": "您的微信原来绑定为韦律师"}, ensure_ascii=False)
    row_id = queued_by_hand(db, "binding_notice", old)
    assert worker.run_once(services, now=START, db=db) == {"sent": 1}
    [call] = fake_wechat.sent()
    assert call.body["touser"] == "oOldPhone" and row_of(db, row_id)["status"] == "sent"
    db.conn.close()


@pytest.mark.parametrize("payload_text,reason", [
    ('{"ticket_id": "seven", "adviser_id": 1, "reason": "new"}', "'ticket_id' is 'seven', not int"),
    ('{"ticket_id": 7, "reason": "new"}', "payload has no 'adviser_id'"),
    ('{"ticket_id": 7, "adviser_id": true, "reason": "new"}', "'adviser_id' is True, not int"),
    ("[7, 1]", "payload is not a JSON object"),
    ("{not json", "payload is not a JSON object"),
])
def test_a_payload_that_does_not_fit_its_kind_fails_the_row_at_once_with_the_reason(services, db, payload_text, reason):
    row_id = queued_by_hand(db, "notify_adviser", payload_text)
    [row] = outbox.claim(db, START, LEASE)
    assert worker.process(services, db, None, row, START) == "failed"
    stored = row_of(db, row_id)
    assert stored["status"] == "failed" and stored["attempts"] == 1
    assert stored["last_error"] == f"bad payload: notify_adviser: {reason}"
