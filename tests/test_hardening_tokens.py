"""Issue 14, item 3: the live access_token never reaches a log, ``outbox.last_error`` or a page.

WeChat's API is unreachable (nothing listens on 127.0.0.1:9); requests then names the URL it
failed on — with ``?access_token=…`` — in its exception.
"""
from __future__ import annotations

import logging
import time

from bot.escalation import outbox
from bot.app import worker
from bot.community.publicity import MenuCreate
from bot.core.redact import RedactingFilter, without_secrets
from tests.escalation_support import make_services, open_db
from tests.test_console import PASSWORD, login

TOKEN = "LIVE-ACCESS-TOKEN-3f9a1c"


def store_token(db, appid: str) -> None:
    """A fresh token, as the stable_token call would have stored it."""
    db.execute("INSERT INTO access_tokens (appid, token, expires_at) VALUES (?, ?, ?)",
               [appid, TOKEN, time.time() + 7000])


def test_a_failed_call_keeps_no_token_in_the_outbox_or_the_worker_log(tmp_path, caplog):
    services = make_services(tmp_path)
    db = open_db(services)
    store_token(db, services.config.wechat.appid)
    outbox.enqueue(db, MenuCreate({"button": []}), time.time())
    with caplog.at_level(logging.INFO):
        counts = worker.run_once(services, db=db)
    assert counts == {"retry": 1}
    [row] = db.query("SELECT last_error FROM outbox")
    assert "network" in row["last_error"]
    assert TOKEN not in row["last_error"] and "access_token=" not in row["last_error"]
    assert caplog.records and TOKEN not in caplog.text
    db.conn.close()


def test_the_console_error_page_shows_no_token(tmp_path):
    from bot import create_app
    from bot.core.config import load_config
    from bot.app.console.auth import add_user
    from tests.conftest import test_overrides
    app = create_app(load_config(overrides=test_overrides(tmp_path), environ={}), warm=False)
    db = app.extensions["legalbot"].open_db()
    store_token(db, app.extensions["legalbot"].config.wechat.appid)
    add_user(db, "staff", PASSWORD, "staff", time.time())
    ticket_id = db["tickets"].insert({"openid": "oVoice", "village": "大年村", "media_id": "MEDIA-1",
                                      "status": "notified", "created_at": time.time()}).last_pk
    client = app.test_client()
    login(client, "staff")
    response = client.get(f"/console/tickets/{ticket_id}/voice")
    page = response.get_data(as_text=True)
    assert response.status_code == 502 and "只保存3天" in page
    assert TOKEN not in page and "access_token" not in page


def test_every_logged_record_is_redacted_tracebacks_too():
    record = logging.LogRecord("bot.app.worker", logging.ERROR, __file__, 1,
                               "call to %s failed", ("http://x/cgi-bin/a?access_token=" + TOKEN,), None)
    try:
        raise RuntimeError(f"Max retries exceeded with url: /cgi-bin/media/get?access_token={TOKEN}&media_id=M")
    except RuntimeError:
        import sys
        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "call to http://x/cgi-bin/a?" in text and "Max retries exceeded" in text
    assert TOKEN not in text


def test_redaction_keeps_the_sense_of_the_error():
    text = ("HTTPConnectionPool(host='api.weixin.qq.com', port=443): Max retries exceeded with url: "
            f"/cgi-bin/message/custom/send?access_token={TOKEN} (Caused by ...)")
    cleaned = without_secrets(text)
    assert TOKEN not in cleaned and "/cgi-bin/message/custom/send?" in cleaned
    assert without_secrets("微信返回 45015：超出48小时") == "微信返回 45015：超出48小时"
    assert without_secrets(f"{{'access_token': '{TOKEN}'}}").count(TOKEN) == 0
