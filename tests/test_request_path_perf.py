"""The request path's cheaper forms behave as the ones they replaced (PATH-PERF, session 6)."""
from __future__ import annotations

import json
import signal
import time

import pytest

from bot.app.webhook import Refused, read_within
from bot.conversation import records
from bot.core import store, users
from bot.core.messages import Considered, Consultation, Incoming, Reply
from bot.core.store import json_text
from tests.support import text_xml
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures


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


# ---- the villager's row read by the claim; what is pending parsed once a message ---------------


def traced(app) -> list[tuple[bool, str]]:
    """Each statement the request's connection runs, with whether a transaction was open."""
    conn = app.extensions["legalbot"].request_db().conn
    seen: list[tuple[bool, str]] = []
    conn.set_trace_callback(lambda sql: seen.append((conn.in_transaction, " ".join(sql.split()))))
    return seen


def test_a_question_reads_the_villagers_row_only_inside_the_write_turns(app, wechat, db):
    wechat.say("借钱不还怎么办", openid="oAhead1")       # a row exists now (the village asked)
    seen = traced(app)
    text = wechat.say("离婚孩子归谁", openid="oAhead1")
    assert text
    reads = [(inside, sql) for inside, sql in seen if sql.startswith("SELECT * FROM users")]
    assert len(reads) == 2 and all(inside for inside, _ in reads), seen
    first_commit = next(i for i, (_, sql) in enumerate(seen) if sql == "COMMIT")
    assert seen.index(reads[0]) < first_commit, "the first read belongs to the claim's turn"


def answered(incoming, ctx):
    """Stands in for the matcher: every question answered from one entry."""
    consultation = Consultation(question=incoming.text, action="answer", faq_id="debt.iou",
                                category="借贷", score=0.83)
    return Reply(text="借钱要写借条。", consultation=consultation)


def test_a_row_changed_between_messages_is_read_afresh_by_the_next_claim(app, wechat, db):
    app.extensions["legalbot"].registry.register("test.answered", 1, answered, types={"text"})
    assert "您是哪个村的" in wechat.say("借钱不还怎么办", openid="oAhead2")
    assert "您是哪个村的" not in wechat.say("借条怎么写", openid="oAhead2"), "asked once"
    db.execute("UPDATE users SET pending = NULL, village_asked_at = NULL WHERE openid = 'oAhead2'")
    assert "您是哪个村的" in wechat.say("欠钱不还能起诉吗", openid="oAhead2"), \
        "the row as another connection left it, not as an earlier message kept it"


def test_a_replayed_retry_does_not_read_the_row(app, wechat):
    seen = traced(app)
    xml = text_xml("借钱不还怎么办", openid="oAhead3", msg_id=42)
    first = wechat.post(xml)
    seen.clear()
    assert wechat.post(xml).get_data() == first.get_data()
    assert not [sql for _, sql in seen if "FROM users" in sql]


def test_what_is_pending_is_parsed_once_while_a_message_is_answered(app, wechat, monkeypatch):
    wechat.say("借钱不还怎么办", openid="oAhead4")       # the village asked: something pending
    parsed = []
    real = users.Pending.from_json
    monkeypatch.setattr(users.Pending, "from_json", classmethod(
        lambda cls, text: parsed.append(text) or real(text)))
    wechat.say("离婚孩子归谁", openid="oAhead4")
    assert len(parsed) >= 1 and len(parsed) == len(set(parsed)), parsed


def test_a_pending_question_in_an_unknown_shape_is_nothing_pending(tmp_path):
    db = store.connect(tmp_path / "bot.db")
    store.write(db, "INSERT INTO users (openid, pending) VALUES ('oAhead5', '{\"kind\": \"gone\"}')")
    with users.read_once():
        assert users.get_pending(db, "oAhead5", 0.0) is None
        assert users.get_pending(db, "oAhead5", 0.0) is None
    db.conn.close()


def test_a_write_forgets_the_row_kept_for_every_connection_and_inside_a_transaction(tmp_path):
    first, second = store.connect(tmp_path / "bot.db"), store.connect(tmp_path / "bot.db")
    users.touch_inbound(first, "oForget1", 1.0)
    with users.read_once():
        assert users.get_user(first, "oForget1")["village"] is None
        assert users.get_user(second, "oForget1")["village"] is None
        with store.transaction(second):
            assert users.get_user(second, "oForget1")["village"] is None
            second.conn.execute("UPDATE users SET village = '古坡村' WHERE openid = 'oForget1'")
            users.forget(second, "oForget1")
            assert users.get_user(second, "oForget1")["village"] == "古坡村"
        assert users.get_user(first, "oForget1")["village"] == "古坡村"
        assert users.get_user(second, "oForget1")["village"] == "古坡村"
    first.conn.close()
    second.conn.close()


# ---- session 8 (PATH-3): less under the write lock, the last write not read back ------------------


def test_what_no_row_decides_is_made_before_the_reply_turn_takes_the_write_lock(app, wechat, monkeypatch):
    """The dispute's kind, the 普法 line, the reply XML's frame and the consultation's JSON need no
    row read under the lock: they are made before it, so the other worker waits less."""
    from bot.conversation import answer_notes, mediation_offers, pipeline, replies
    app.extensions["legalbot"].registry.register("test.answered", 1, answered, types={"text"})
    conn = app.extensions["legalbot"].request_db().conn
    seen: dict[str, list[bool]] = {}

    def watched(module, name):
        real = getattr(module, name)

        def call(*args, **kwargs):
            seen.setdefault(name, []).append(conn.in_transaction)
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, call)
    for module, name in ((mediation_offers, "dispute_kind"), (answer_notes, "todays_line"),
                         (replies, "text_frame"), (records, "encoded_lists"), (pipeline, "plan_notes")):
        watched(module, name)
    text = wechat.say("借钱不还怎么办", openid="oLock0001")
    assert "借钱要写借条。" in text and "您是哪个村的" in text
    assert seen == {name: [False] for name in ("plan_notes", "dispute_kind", "todays_line", "text_frame",
                                               "encoded_lists")}, seen


def test_the_reply_turn_writes_the_row_last_without_reading_it_back(app, wechat, db):
    app.extensions["legalbot"].registry.register("test.answered", 1, answered, types={"text"})
    seen = traced(app)
    wechat.say("借钱不还怎么办", openid="oLock0002")
    upserts = [sql for _, sql in seen if sql.startswith("INSERT INTO users")]
    assert len(upserts) == 1 and "RETURNING" not in upserts[0], upserts
    row = store.fetch_one(db, "SELECT * FROM users WHERE openid = 'oLock0002'")
    assert row is not None and row["village_asked_at"] and row["pending"] and row["last_inbound_at"]


def test_a_row_written_unread_is_read_afresh_by_the_next_get_user(tmp_path):
    db = store.connect(tmp_path / "bot.db")
    with users.read_once(), store.transaction(db), users.holding(db, "oLock0003"):
        assert users.get_user(db, "oLock0003") is None
        users.touch_inbound(db, "oLock0003", 5.0)
        users.write_held(db, "oLock0003", read_back=False)
        assert users.get_user(db, "oLock0003")["last_inbound_at"] == 5.0
    db.conn.close()


def test_a_checkpoint_thread_opens_one_connection_for_all_its_checkpoints(tmp_path, monkeypatch):
    path = str(tmp_path / "c.db")
    db = store.connect(path)
    opened = []
    real = store.checkpoint_connection
    monkeypatch.setattr(store, "checkpoint_connection", lambda file: opened.append(real(file)) or opened[-1])
    monkeypatch.setattr(store.Checkpointer, "IDLE_SECONDS", 0.3)
    checkpointer = store.checkpointer(path)
    size = (tmp_path / "c.db").stat().st_size
    for n in range(3):
        store.write(db, "INSERT INTO users (openid, pending) VALUES (?, ?)", [f"o{n}", "x" * 3000])
        done = checkpointer.done
        checkpointer.request()
        deadline = time.monotonic() + 10
        while checkpointer.done == done:
            assert time.monotonic() < deadline, "the checkpoint thread did not run"
            time.sleep(0.01)
    assert len(opened) == 1, "one connection for the thread's checkpoints"
    assert (tmp_path / "c.db").stat().st_size > size + 3 * 3000, "the WAL was copied back each time"
    deadline = time.monotonic() + 10
    while checkpointer.running:
        assert time.monotonic() < deadline, "the idle thread did not end"
        time.sleep(0.02)
    time.sleep(0.05)
    with pytest.raises(Exception):
        opened[0].execute("SELECT 1")          # closed when the thread ended
    db.conn.close()


def test_a_hook_added_after_the_entry_served_sends_the_next_request_through_flask(app, wechat):
    """The entry keeps the hooks it found known; one added later, in place, is seen at once."""
    from bot.app import fastpath
    assert wechat.say("你好", openid="oLock0004") and fastpath.serves(app)
    seen = []

    @app.before_request
    def note():
        from flask import request
        seen.append(request.path)
    assert not fastpath.serves(app)
    assert wechat.say("你好", openid="oLock0004")
    assert seen == ["/wechat"]
    app.before_request_funcs[None].remove(note)
    assert fastpath.serves(app)
    app.teardown_appcontext_funcs.append(lambda _exc: seen.append("torn down"))   # (Flask has served)
    assert wechat.say("谢谢", openid="oLock0004")
    assert seen == ["/wechat", "torn down"]


QUERY_PARTS = ["signature=ab12", "timestamp=1796000000", "nonce=n1", "openid=oX", "", "=", "a==b", "name",
               "x=中", "x=\xff", "a;b=c", "sp ace=1", "p%41=1", "q=a+b", "bad=%zz", "enc=%E4%B8%AD", "t=\t"]


@pytest.mark.parametrize("seed", range(40))
def test_a_query_string_is_split_as_parse_qsl_splits_it(seed):
    """The split of an unescaped query string agrees with parse_qsl's (the escaped ones go to it)."""
    from random import Random
    from urllib.parse import parse_qsl
    from bot.app import query_pairs
    rng = Random(seed)
    for _ in range(200):
        text = "&".join(rng.choice(QUERY_PARTS) for _ in range(rng.randint(0, 6)))
        raw = text.encode("utf-8") if rng.random() < 0.8 else text.encode("utf-8") + bytes([rng.randrange(128, 256)])
        assert query_pairs(raw) == parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True,
                                             errors="werkzeug.url_quote"), raw


def test_a_printable_text_is_left_as_it_is_and_any_character_xml_forbids_is_dropped():
    """The printable test in front of the pattern never keeps a character the pattern drops."""
    from bot.conversation.replies import CONTROL_CHARS, strip_control
    for code in range(0x110000):
        text = f"借钱\n{chr(code)}不还 "
        assert strip_control(text) == CONTROL_CHARS.sub("", text), hex(code)
