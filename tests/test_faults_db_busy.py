"""Fault: the database is busy — another process holds the write lock for a long write.

A separate Python process opens the same SQLite file, takes the write lock (BEGIN IMMEDIATE),
writes, sleeps ~1.5 s and commits, while the webhook receives messages from several threads.
With WAL and the busy timeout the requests wait for the lock and then succeed: every message is
answered, recorded once, and the other process's write is kept too.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from tests.support import WeChatSender, text_xml

HOLD_SECONDS = 1.5
THREADS = 4
PER_THREAD = 3

LOCKER = r"""
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO messages (dedupe_key, openid, msg_type, received_at, state) "
             "VALUES ('other-process', 'oOther', 'text', 0, 'done')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print("committed", time.time(), flush=True)
"""


@pytest.fixture
def locker(app, db):
    """Start the lock-holding process once the schema exists; yield it with its lock taken."""
    path = str(app.extensions["legalbot"].db_path)
    proc = subprocess.Popen([sys.executable, "-c", LOCKER, path, str(HOLD_SECONDS)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked", proc.stderr.read()
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def commit_time(proc: subprocess.Popen) -> float:
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return float(out.split()[-1])


def send_all(app, mode: str, thread_no: int, results: list) -> None:
    """One 'WeChat connection': its own client, a few messages one after another."""
    sender = WeChatSender(app.test_client(), mode=mode)
    for i in range(PER_THREAD):
        msg_id = 9_100_000_000 + thread_no * 100 + i
        started = time.time()
        response = sender.post(text_xml("邻居占了我家宅基地怎么办", openid=f"oBusy{thread_no}",
                                        msg_id=msg_id))
        results.append((msg_id, started, time.time(), response.status_code, sender.reply_xml(response)))


def run_threads(app, mode: str) -> list:
    results: list = []
    threads = [threading.Thread(target=send_all, args=(app, mode, n, results), daemon=True)
               for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request hung on the lock"
    return results


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_requests_wait_for_a_long_write_and_all_succeed(app, db, locker, mode):
    results = run_threads(app, mode)
    committed = commit_time(locker)

    assert len(results) == THREADS * PER_THREAD
    assert any(start < committed < end for _, start, end, _, _ in results), \
        "no request overlapped the other process's lock: the fault did not happen"
    for msg_id, _, _, status, reply_xml in results:
        assert status == 200
        assert ET.fromstring(reply_xml).findtext("Content"), msg_id
        rows = list(db.query("SELECT state FROM messages WHERE dedupe_key LIKE ?", [f"msg:%:{msg_id}"]))
        assert [r["state"] for r in rows] == ["done"]
    total = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert total == THREADS * PER_THREAD + 1                      # ours, once each, and theirs
    assert list(db.query("SELECT openid FROM messages WHERE dedupe_key = 'other-process'"))


def test_a_retry_during_the_lock_gets_the_same_reply(app, db, locker):
    """WeChat retries while the first attempt waits for the lock: one record, one answer."""
    sender = WeChatSender(app.test_client())
    xml = text_xml("借钱不还怎么办", openid="oBusyRetry", msg_id=9_200_000_001)
    replies: list = []
    attempts = [threading.Thread(target=lambda: replies.append(sender.reply_xml(sender.post(xml))),
                                 daemon=True) for _ in range(3)]
    for t in attempts:
        t.start()
    for t in attempts:
        t.join(timeout=60)
    commit_time(locker)
    assert len(replies) == 3 and len(set(replies)) == 1 and replies[0]
    rows = list(db.query("SELECT id FROM messages WHERE dedupe_key = 'msg:oBusyRetry:9200000001'"))
    assert len(rows) == 1
    assert db.execute("SELECT count(*) FROM consultations WHERE message_id = ?",
                      [rows[0]["id"]]).fetchone()[0] <= 1
