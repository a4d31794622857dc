"""The request path's cheaper forms behave as the ones they replaced (PATH-PERF, session 6)."""
from __future__ import annotations

import signal
import time

import pytest

from bot.app.webhook import Refused, read_within


class SlowStream:
    """A request body that arrives only after ``delay`` seconds (a client trickling it)."""

    def __init__(self, data: bytes, delay: float):
        self.data, self.delay = data, delay

    def read(self, size: int) -> bytes:
        time.sleep(self.delay)
        return self.data[:size]


def previous_handler(_signum, _frame) -> None:
    raise AssertionError("the previous SIGALRM handler must not run while a body is read")


@pytest.fixture
def alarm_handler():
    """SIGALRM's handler before the test, put back after it whatever happens."""
    before = signal.getsignal(signal.SIGALRM)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, before)


def test_a_body_read_in_time_leaves_the_previous_alarm_handler_and_no_timer(alarm_handler):
    signal.signal(signal.SIGALRM, previous_handler)
    assert read_within(SlowStream(b"<xml/>", 0.0), 100, 5.0) == b"<xml/>"
    assert signal.getsignal(signal.SIGALRM) is previous_handler
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_body_still_arriving_after_the_limit_is_refused_with_408(alarm_handler):
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    started = time.monotonic()
    with pytest.raises(Refused) as refused:
        read_within(SlowStream(b"<xml/>", 3.0), 100, 0.2)
    assert refused.value.status == 408
    assert time.monotonic() - started < 2.0
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL    # the default, as an enum again
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# ---- the consultation's record: the same row as the sqlite-utils-era code wrote ----------------

import json  # noqa: E402

from bot.conversation import records  # noqa: E402
from bot.core import store  # noqa: E402
from bot.core.messages import Considered, Consultation, Incoming, Reply  # noqa: E402
from bot.core.store import json_text  # noqa: E402

JSON_VALUES = [
    [], ["民法典第1079条", "土地管理法第62条"], [{"faq_id": "借贷.借条", "score": 0.512}],
    {"kind": "clarify", "data": {"faq_ids": ("a", "b"), "question": "彩礼“能”要回来吗\n"}, "expires": 1.5e9},
    {"x": None, "y": True, "z": 1e-7, "w": "\u2028\ud7ff\\\"'"},
]


@pytest.mark.parametrize("value", JSON_VALUES)
def test_json_text_writes_what_json_dumps_wrote(value):
    assert json_text(value) == json.dumps(value, ensure_ascii=False)


def old_insert(db, row: dict) -> int:
    """The consultation's INSERT as it was written before it was made once per set of columns."""
    columns, marks = ", ".join(row), ", ".join("?" for _ in row)
    return store.write(db, f"INSERT INTO consultations ({columns}, village) VALUES ({marks},"
                           " (SELECT village FROM users WHERE openid = ?))", [*row.values(), row["openid"]]).lastrowid


def old_row(message_id, incoming, reply, latency_ms, now) -> dict:
    row = records.consultation_row(message_id, incoming, reply, latency_ms, now)
    c = reply.consultation
    row["candidates"] = json.dumps([k.as_record() for k in c.candidates], ensure_ascii=False)
    row["citations"] = json.dumps(c.citations, ensure_ascii=False)
    return row


def test_a_consultation_is_recorded_column_for_column_as_before(tmp_path):
    consultation = Consultation(
        question="借钱不还，借条丢了怎么办", action="clarify", faq_id=None, category="借贷", score=0.41,
        candidates=[Considered("借贷.借条", 0.41234), Considered("借贷.利息", 0.398)],
        citations=["民法典第667条"], reason="two entries close")
    incoming = Incoming(openid="oRecord0001", msg_type="text", text=consultation.question, msg_id="9")
    reply = Reply(text="您问的是哪一个？\n1. …", handler="text", consultation=consultation)
    written = []
    for name, row_of, insert in (("old", old_row, old_insert),
                                 ("new", records.consultation_row, records.insert_consultation)):
        db = store.connect(tmp_path / f"{name}.db")
        store.write(db, "INSERT INTO users (openid, village) VALUES (?, ?)", ["oRecord0001", "大年村"])
        store.write(db, "INSERT INTO messages (id, dedupe_key, openid, msg_type, received_at)"
                        " VALUES (7, 'msg:oRecord0001:9', 'oRecord0001', 'text', 0)")
        insert(db, row_of(7, incoming, reply, 12.345, 1_764_000_000.5))
        written.append(store.fetch_one(db, "SELECT * FROM consultations"))
        db.conn.close()
    assert written[0] == written[1]
    assert written[1]["village"] == "大年村" and json.loads(written[1]["candidates"])[0] == {
        "faq_id": "借贷.借条", "score": 0.412}
