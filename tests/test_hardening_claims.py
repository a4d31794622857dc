"""Issue 14, item 5: a retry after its worker died mid-request is answered, at once.

A real process claims a message (the same ``records.claim`` a gunicorn worker runs) and is
SIGKILLed before it answers. WeChat retries about 5 s after its first try and stops at the
first ``success``: the retry must take the claim over and answer, not wait out a timeout.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.conversation import records
from bot.conversation.dispatch import Incoming
from tests.support import WeChatSender, text_xml

ROOT = Path(__file__).resolve().parent.parent
CLAIM_THEN_HANG = textwrap.dedent("""
    import sys, time
    from bot.conversation import records
    from bot.core import store
    from bot.conversation.dispatch import Incoming
    db = store.connect(sys.argv[1])
    incoming = Incoming(openid=sys.argv[2], msg_type="text", text="借钱不还怎么办", msg_id=sys.argv[3])
    records.claim(db, records.dedupe_key(incoming), incoming, time.time())
    print("claimed", flush=True)
    time.sleep(60)
""")


def claim_in_a_process_that_dies(db_path: Path, openid: str, msg_id: int) -> None:
    """Claim in a child process, SIGKILL it mid-"request", and reap it (as gunicorn's master does)."""
    child = subprocess.Popen([sys.executable, "-c", CLAIM_THEN_HANG, str(db_path), openid, str(msg_id)],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "claimed"
    child.send_signal(signal.SIGKILL)
    child.wait(10)


def test_a_retry_after_the_worker_was_killed_is_answered_at_once(app, config, db):
    claim_in_a_process_that_dies(Path(config.app.db_path), "oOrphan", 8_800_001)
    sender = WeChatSender(app.test_client())
    started = time.monotonic()
    retry = sender.reply_text(sender.post(text_xml("借钱不还怎么办", openid="oOrphan", msg_id=8_800_001)))
    assert retry not in ("", "success"), "the retry was told 'success': WeChat stops, the message is lost"
    assert time.monotonic() - started < 4.5, "answered too late for WeChat's 5 seconds"
    rows = list(db.query("SELECT id, state FROM messages WHERE openid = 'oOrphan'"))
    assert [r["state"] for r in rows] == ["done"]
    assert db.execute("SELECT count(*) FROM consultations WHERE message_id = ?", [rows[0]["id"]]).fetchone()[0] == 1


def test_a_live_workers_claim_is_not_taken_over(db):
    """The other side: a slow but living worker keeps its message (no double answer)."""
    incoming = Incoming(openid="oSlow", msg_type="text", text="离婚孩子归谁", msg_id="8800002")
    key = records.dedupe_key(incoming)
    first = records.claim(db, key, incoming, time.time())
    again = records.claim(db, key, incoming, time.time() + 5)
    assert first.mine and not again.mine and again.reply_xml is None


def test_the_dedupe_key_names_the_sender():
    one = Incoming(openid="oA", msg_type="text", text="x", msg_id="77")
    other = Incoming(openid="oB", msg_type="text", text="x", msg_id="77")
    assert records.dedupe_key(one) != records.dedupe_key(other)
