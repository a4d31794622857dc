"""Issue 14 on /wechat: no downgrade from safe mode, a signed query string is good for one body,
a MsgId belongs to its sender, and a first message on a fresh database is never lost."""
from __future__ import annotations

import sqlite3
import threading
import time

from bot import create_app
from bot.core import store
from bot.core.config import load_config
from tests.conftest import test_overrides as overrides_for
from tests.support import WeChatSender, text_xml


def make_app(tmp_path, mode: str | None = None, **sections):
    """An app on its own database; ``mode`` None leaves [wechat] message_mode at its default."""
    overrides = overrides_for(tmp_path, **sections)
    overrides["wechat"].pop("message_mode", None)
    if mode is not None:
        overrides["wechat"]["message_mode"] = mode
    app = create_app(load_config(overrides=overrides, environ={}), warm=False)
    app.config["TESTING"] = True
    return app


def messages_from(app, openid: str) -> int:
    db = app.extensions["legalbot"].open_db()
    try:
        return db.execute("SELECT count(*) FROM messages WHERE openid = ?", [openid]).fetchone()[0]
    finally:
        db.conn.close()


# --- safe mode cannot be downgraded (item 4) ------------------------------------------------

def test_with_an_aes_key_a_plaintext_request_is_refused(tmp_path):
    app = make_app(tmp_path)
    plain = WeChatSender(app.test_client(), mode="plain")
    assert plain.post(text_xml("我的咨询", openid="oPlainPoster")).status_code == 403
    assert messages_from(app, "oPlainPoster") == 0
    safe = WeChatSender(app.test_client(), mode="safe")
    assert safe.reply_text(safe.post(text_xml("你好", openid="oSafePoster")))


def test_a_logged_safe_mode_query_cannot_be_replayed_as_plaintext(tmp_path):
    """The probe: take a genuine encrypted request's query string (as an access log has it),
    drop encrypt_type and msg_signature, post plaintext as another villager."""
    app = make_app(tmp_path)
    safe = WeChatSender(app.test_client(), mode="safe")
    body, query = safe.envelope(text_xml("借钱不还怎么办", openid="oGenuine"), safe.query())
    assert app.test_client().post("/wechat", query_string=query, data=body.encode()).status_code == 200
    stripped = {k: v for k, v in query.items() if k not in ("encrypt_type", "msg_signature")}
    forged = text_xml("我的咨询", openid="oVictim")
    response = app.test_client().post("/wechat", query_string=stripped, data=forged.encode())
    assert response.status_code == 403
    assert messages_from(app, "oVictim") == 0


def test_compatible_mode_by_explicit_config_still_takes_plaintext(tmp_path):
    app = make_app(tmp_path, mode="compatible")
    plain = WeChatSender(app.test_client(), mode="plain")
    assert plain.reply_text(plain.post(text_xml("你好", openid="oSwitching")))


# --- a signed query string is good for one body (item 4) -------------------------------------

def test_a_signed_query_string_signs_only_the_body_it_came_with(tmp_path):
    app = make_app(tmp_path, wechat={"aes_key": ""})          # plaintext mode: nothing else binds
    sender = WeChatSender(app.test_client())
    query = sender.query()
    first = text_xml("借钱不还怎么办", openid="oFirst", msg_id=7_100_001)
    assert sender.post(first, **query).status_code == 200
    replayed = sender.post(text_xml("我的咨询", openid="oOther", msg_id=7_100_002), **query)
    assert replayed.status_code == 403
    assert messages_from(app, "oOther") == 0
    # the very same request again (WeChat's own retry) is still answered, once recorded
    assert sender.reply_text(sender.post(first, **query))
    assert messages_from(app, "oFirst") == 1


def test_the_nonce_memory_is_shared_by_every_worker(tmp_path):
    """Two apps on one database stand for two gunicorn workers."""
    one = make_app(tmp_path, wechat={"aes_key": ""})
    config = one.extensions["legalbot"].config
    other = create_app(config, warm=False)
    query = WeChatSender(None).query()
    assert WeChatSender(one.test_client()).post(text_xml("你好", openid="oW1"), **query).status_code == 200
    response = WeChatSender(other.test_client()).post(text_xml("你好", openid="oW2"), **query)
    assert response.status_code == 403


# --- a MsgId is unique per sender only (item 10) ----------------------------------------------

def test_the_same_msgid_from_another_sender_gets_its_own_answer(tmp_path):
    app = make_app(tmp_path, wechat={"aes_key": ""})
    sender = WeChatSender(app.test_client())
    first = sender.reply_text(sender.post(text_xml("借钱不还怎么办", openid="oSenderA", msg_id=42)))
    second = sender.reply_text(sender.post(text_xml("你好", openid="oSenderB", msg_id=42)))
    assert first and second and first != second
    assert messages_from(app, "oSenderB") == 1


# --- the first messages on a database nobody initialised (item 12) ----------------------------

def hold_a_write(path, seconds: float) -> threading.Event:
    """Another process's first message: the file is still in rollback mode and its writer holds
    the write lock for a moment. Returns an event set once the lock is taken."""
    taken = threading.Event()

    def writer():
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("CREATE TABLE IF NOT EXISTS other_process (x)")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO other_process VALUES (1)")
        taken.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()
    threading.Thread(target=writer, daemon=True).start()
    assert taken.wait(5)
    return taken


def test_opening_a_fresh_database_waits_for_another_writer(tmp_path):
    path = tmp_path / "fresh.db"
    hold_a_write(path, 0.5)
    db = store.connect(path)           # SQLite refuses the switch to WAL at once, without waiting
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.conn.close()


def test_a_first_message_on_a_fresh_database_is_answered_not_lost(tmp_path):
    path = tmp_path / "first.db"
    app = make_app(tmp_path, app={"db_path": str(path)}, wechat={"aes_key": ""})
    hold_a_write(path, 0.5)
    sender = WeChatSender(app.test_client())
    reply = sender.reply_text(sender.post(text_xml("你好", openid="oFirstEver")))
    assert reply not in ("", "success")
    assert messages_from(app, "oFirstEver") == 1
