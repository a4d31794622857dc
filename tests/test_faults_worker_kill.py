"""Fault: a gunicorn worker is killed with SIGKILL while it serves WeChat's messages.

A real `gunicorn --workers 2 "bot:create_app()"` on 127.0.0.1 receives signed text messages with
distinct MsgIds from several threads; mid-load one worker is SIGKILLed (found through /proc by
its parent's pid) and the load goes on. A message whose request got no HTTP reply is then retried
as WeChat retries: about 5 s after the try before, at most three times, and never again once it
got a 200 — a ``success`` ends it, answered or not. The kill is aimed: with both workers paused,
the victim is a worker that holds a claimed, unanswered message (a claim names its process), so
the one kill certainly leaves a dead claim behind and that window is exercised on every run —
not one run in two, as when a round's kill could hit the worker holding nothing. Every message
is answered and recorded exactly once (messages and consultations), and a retry gets the same
reply as the first attempt — nothing is lost.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from bot.conversation import records
from bot.core.config import load_config
from tests.conftest import test_overrides as overrides_for
from tests.support import WeChatSender, text_xml
from bench.run import free_port, worker_pids

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "fault-token-7"
SENDERS = 6
PER_SENDER = 400              # at most this many messages per sender thread
LOAD_SECONDS = 6.0            # and for at most this long
KILL_AFTER_SECONDS = 1.0      # both workers are busy by then; its retry is due 5 s later
WECHAT_RETRY_SECONDS = 5.0    # WeChat gives up on a try after 5 s and tries again,
WECHAT_RETRIES = 3            # three times at most
QUESTIONS = ["借钱不还怎么办", "离婚孩子归谁", "宅基地怎么申请", "老板拖欠工资", "被狗咬了谁赔",
             "彩礼能要回来吗", "邻居不让过路", "低保怎么申请"]


@dataclass
class Attempt:
    status: int | None        # None: the connection died (no reply reached "WeChat")
    body: str
    at: float                 # when the exchange ended
    started: float = 0.0      # when it began (WeChat's retry clock runs from here)

    @property
    def reply_text(self) -> str | None:
        """The Content of an XML reply; None for success, errors and dropped connections."""
        if self.status != 200 or not self.body.startswith("<xml>"):
            return None
        return ET.fromstring(self.body).findtext("Content")


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    db_path: Path
    attempts: dict[int, list[Attempt]] = field(default_factory=dict)
    xml: dict[int, str] = field(default_factory=dict)


def signed_query(**extra: str) -> str:
    timestamp, nonce = str(int(time.time())), str(time.monotonic_ns())
    sig = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return urllib.parse.urlencode({"signature": sig, "timestamp": timestamp, "nonce": nonce, **extra})


def request(port: int, method: str, body: bytes | None = None, timeout: float = 5, **extra) -> Attempt:
    """One HTTP exchange, as WeChat makes it (it gives up after 5 s)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.time()
    try:
        conn.request(method, f"/wechat?{signed_query(**extra)}", body=body,
                     headers={"Content-Type": "text/xml"})
        response = conn.getresponse()
        return Attempt(response.status, response.read().decode("utf-8"), time.time(), started)
    except (OSError, http.client.HTTPException):
        return Attempt(None, "", time.time(), started)
    finally:
        conn.close()


def wait_until(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def server_env(tmp_path: Path) -> dict[str, str]:
    config = (ROOT / "config.toml").read_text(encoding="utf-8")
    config = config.replace("worker_thread = true", "worker_thread = false")
    assert "worker_thread = false" in config
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "LEGALBOT_"))}
    return {**env, "PYTHONPATH": str(ROOT), "WECHAT_TOKEN": TOKEN,
            "LEGALBOT_DB": str(tmp_path / "kill.db"), "LEGALBOT_CONFIG": str(tmp_path / "config.toml"),
            "LEGALBOT_ENV": "production"}      # a real token: development would refuse to start


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = server_env(tmp_path)
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--timeout", "30", "--graceful-timeout", "3", "bot:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: request(port, "GET", echostr="up").body == "up" or proc.poll() is not None,
                   90, "gunicorn to answer")
        assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
        wait_until(lambda: len(worker_pids(proc.pid)) == 2, 30, "two workers")
        yield Server(proc, port, Path(env["LEGALBOT_DB"]))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)     # our own process group: master and workers
            proc.wait(timeout=10)
        log.close()


def send(server: Server, msg_id: int) -> Attempt:
    attempt = request(server.port, "POST", server.xml[msg_id].encode("utf-8"))
    server.attempts.setdefault(msg_id, []).append(attempt)
    return attempt


def sender(server: Server, n: int, deadline: float) -> None:
    for i in range(PER_SENDER):
        if time.monotonic() > deadline:
            return
        msg_id = 5_000_000_000 + n * 10_000 + i
        server.xml[msg_id] = text_xml(QUESTIONS[(n + i) % len(QUESTIONS)], openid=f"oKill{n:02d}",
                                      msg_id=msg_id)
        send(server, msg_id)


def load_and_kill(server: Server) -> tuple[int, float]:
    """Drive the load; SIGKILL one worker part-way. Returns the killed pid and when."""
    wait_until(lambda: len(worker_pids(server.proc.pid)) == 2, 60, "two live workers")
    deadline = time.monotonic() + LOAD_SECONDS
    threads = [threading.Thread(target=sender, args=(server, n, deadline), daemon=True)
               for n in range(SENDERS)]
    for t in threads:
        t.start()
    time.sleep(KILL_AFTER_SECONDS)
    victim = kill_while_busy(server)
    killed_at = time.time()
    for t in threads:
        t.join(timeout=LOAD_SECONDS + 30)
    assert not any(t.is_alive() for t in threads)
    return victim, killed_at


def kill_while_busy(server: Server) -> int:
    """SIGKILL a worker that holds a claimed, unanswered message: the window this fault is
    about. Both workers are paused (SIGSTOP) while the database is looked at, so the claim seen
    is the one the victim dies with; when neither holds one they go on and we look again a
    moment later."""
    deadline = time.monotonic() + LOAD_SECONDS
    pids = worker_pids(server.proc.pid)
    while time.monotonic() < deadline:
        signal_all(pids, signal.SIGSTOP)
        holders = [pid for pid in pids if pid in claim_holders(server)]
        if holders:
            os.kill(holders[0], signal.SIGKILL)
        signal_all([pid for pid in pids if pid not in holders[:1]], signal.SIGCONT)
        if holders:
            return holders[0]
        time.sleep(0.003)
    raise AssertionError(f"in {LOAD_SECONDS} s of load no worker was seen holding a claim")


def claim_holders(server: Server) -> set[int]:
    """Pids of the processes holding a 'processing' message (a claim is host/boot/pid/start)."""
    claims = db_rows(server.db_path, "SELECT claimed_by FROM messages WHERE state = 'processing'")
    return {int(owner.split("/")[2]) for (owner,) in claims if owner and owner.count("/") == 3}


def signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:      # gone already: nothing to pause or wake
            pass


def answered(server: Server, msg_id: int) -> list[str]:
    return [a.reply_text for a in server.attempts[msg_id] if a.reply_text is not None]


def retry_as_wechat(server: Server) -> None:
    """WeChat's retries: a message whose last try got no HTTP reply is sent again about 5 s
    after that try began, at most three more times; a 200 of any kind (``success`` included)
    ends its retries. Retries fall due in the order WeChat would make them."""
    while True:
        due = [(tries[-1].started + WECHAT_RETRY_SECONDS, msg_id)
               for msg_id, tries in server.attempts.items()
               if tries[-1].status != 200 and len(tries) <= WECHAT_RETRIES]
        if not due:
            return
        at, msg_id = min(due)
        time.sleep(max(0.0, at - time.time()))
        send(server, msg_id)


def db_rows(db_path: Path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(db_path, timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def test_sigkill_under_load_loses_nothing_and_doubles_nothing(server):
    victim, killed_at = load_and_kill(server)
    assert victim not in worker_pids(server.proc.pid)
    load_after_kill = [a for tries in server.attempts.values() for a in tries if a.at > killed_at]
    assert len(load_after_kill) >= SENDERS, "the load had ended before the kill: no fault under load"
    assert victim in claim_holders(server), "the kill left no claimed message behind"
    retry_as_wechat(server)

    sent = set(server.xml)
    assert len(sent) > SENDERS * 5, "the load was too light to mean anything"
    after_kill = [a for m in sent for a in server.attempts[m] if a.reply_text and a.at > killed_at]
    assert after_kill, "nothing was answered after the kill: the survivors did not serve"

    messages, consultations = message_rows_by_msg_id(server), consultations_by_message(server)
    for msg_id in sorted(sent):
        texts = answered(server, msg_id)
        tries = [(round(a.started - killed_at, 1), a.status, a.body[:20]) for a in server.attempts[msg_id]]
        assert texts, f"message {msg_id} was never answered (lost); its tries: {tries}"
        assert len(set(texts)) == 1, f"message {msg_id} got different replies: {texts}"
        rows = messages.get(msg_id, [])
        assert len(rows) == 1 and rows[0][1] == "done", (msg_id, rows)
        assert consultations.get(rows[0][0]) == 1, (msg_id, consultations.get(rows[0][0]))
    total = db_rows(server.db_path, "SELECT count(*) FROM messages WHERE openid LIKE 'oKill%'")[0][0]
    assert total == len(sent)


def message_rows_by_msg_id(server: Server) -> dict[int, list[tuple]]:
    """Every message row as (id, state), grouped by the MsgId its dedupe key ends with; read in
    one query (a query per message scanned the table thousands of times: seconds of the test)."""
    grouped: dict[int, list[tuple]] = {}
    for key, row_id, state in db_rows(server.db_path, "SELECT dedupe_key, id, state FROM messages"):
        ending = key.rsplit(":", 1)[-1]
        if key.startswith("msg:") and ending.isdigit():
            grouped.setdefault(int(ending), []).append((row_id, state))
    return grouped


def consultations_by_message(server: Server) -> dict[int, int]:
    """How many consultations each message row has (message id -> count)."""
    return dict(db_rows(server.db_path,
                        "SELECT message_id, count(*) FROM consultations GROUP BY message_id"))


# --- the same window, made deterministic -----------------------------------------------------

def test_a_death_between_storing_the_reply_and_recording_the_consultation_loses_nothing(
        tmp_path, monkeypatch):
    """The worker dies after the reply is stored but before the consultation is written.

    WeChat's retry is then answered from the stored reply — so the consultation must have been
    written together with it (one transaction), or it is lost from the township's counts.
    """
    from bot import create_app
    from bot.conversation.dispatch import Consultation, Reply
    app = create_app(load_config(overrides=overrides_for(tmp_path), environ={}))
    app.extensions["legalbot"].registry.register(
        "test.consult", 1, lambda incoming, ctx: Reply(
            "借了钱不还，可以先催告，再到法院起诉。",
            consultation=Consultation(question=incoming.text, action="answer", faq_id="debt-1")),
        types={"text"})
    sender_ = WeChatSender(app.test_client())
    xml = text_xml("借钱不还怎么办", openid="oDies", msg_id=5_999_000_001)

    class WorkerDied(BaseException):
        """Not an Exception: nothing in the app may catch it, as nothing survives SIGKILL."""

    def dies(*args, **kwargs):
        raise WorkerDied()

    monkeypatch.setattr(records, "insert_consultation", dies)
    with pytest.raises(WorkerDied):
        sender_.post(xml)
    monkeypatch.undo()

    # The claim is this live process's, so the retry waits for a reply that never comes; that
    # wait is WeChat's clock, not what is pinned here: a tenth of a second, not 3.5 s.
    monkeypatch.setattr(records, "wait_for_reply", partial(records.wait_for_reply, timeout=0.1))
    retry = sender_.reply_text(sender_.post(xml))
    db = app.extensions["legalbot"].open_db()
    rows = list(db.query("SELECT id, state FROM messages WHERE dedupe_key LIKE 'msg:%5999000001'"))
    assert len(rows) == 1
    count = db.execute("SELECT count(*) FROM consultations WHERE message_id = ?",
                       [rows[0]["id"]]).fetchone()[0]
    if retry in ("", "success"):    # still "processing": a later, stale retry answers it
        assert count == 0
        return
    assert count == 1, "the retry was answered but the consultation was never recorded"
