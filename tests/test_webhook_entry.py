"""The webhook's own WSGI entry (bot/app/fastpath.py) answers /wechat exactly as Flask's route
did, runs the hooks Flask ran, and steps aside whenever the app has a hook it does not know."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from bot import create_app
from bot.app import fastpath, webhook
from bot.core.config import load_config
from tests.conftest import test_overrides as overrides_for
from tests.support import WeChatSender, event_xml, text_xml
from tests.webhook_support import SHARED, app, warm_services  # noqa: F401 - fixtures

NOW = 1_796_000_000.0


def second_app(tmp_path, warm_services, **overrides):
    """An app like the ``app`` fixture's, on a database of its own."""
    built = create_app(load_config(overrides=overrides_for(tmp_path, **overrides), environ={}), warm=False)
    services = built.extensions["legalbot"]
    for name in SHARED:
        services.__dict__[name] = getattr(warm_services, name)
    built.config["TESTING"] = True
    return built


def through_flask(app) -> None:
    """A before-request hook the entry does not know: requests go through Flask again."""
    app.before_request(lambda: None)


def exchange(app) -> list[tuple[str, list, bytes]]:
    """A fixed series of requests (the clock stands still): status line, headers and body of each."""
    sender = WeChatSender(app.test_client())
    sent = []

    def post(xml: str, nonce: str = "", also: str = "", **query):
        signed = urlencode({**sender.query(nonce=nonce or f"n{len(sent)}"), **query}) + also
        response = sender.client.post("/wechat", query_string=signed, data=xml.encode(), content_type="text/xml")
        sent.append((response.status, list(response.headers.items()), response.get_data()))

    post(text_xml("借钱不还怎么办", openid="oEntry01", msg_id=1, create_time=int(NOW)))
    post(text_xml("借钱不还怎么办", openid="oEntry01", msg_id=1, create_time=int(NOW)))   # WeChat's retry
    post(text_xml("你好", openid="oEntry02", msg_id=2, create_time=int(NOW)))
    post(text_xml("你好", openid="oEntry02", msg_id=3, create_time=int(NOW)), also="&timestamp=x&nonce=")  # first values count
    post(event_xml("subscribe", openid="oEntry03", create_time=int(NOW)))
    post(event_xml("VIEW", openid="oEntry03", key="http://x", create_time=int(NOW) + 1))
    post(text_xml("你好", openid="oEntry04", msg_id=4), signature="0" * 40)               # forged
    post(text_xml("你好", openid="oEntry04", msg_id=5), timestamp=str(int(NOW) - 3600))  # stale
    post("not xml at all")
    post("<xml>" + "很长" * 40_000 + "</xml>")                                          # too large
    post(text_xml("换了内容", openid="oEntry01", msg_id=9), nonce="n0")                   # replayed pair
    return sent


def test_the_entry_answers_as_flask_did_status_headers_and_body(app, tmp_path, warm_services, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: NOW)
    flask_app = second_app(tmp_path / "flask", warm_services)
    through_flask(flask_app)
    assert fastpath.serves(app) and not fastpath.serves(flask_app)
    by_entry, by_flask = exchange(app), exchange(flask_app)
    assert [s for s, _, _ in by_entry] == ["200 OK"] * 6 + ["403 FORBIDDEN"] * 2 + [
        "400 BAD REQUEST", "413 REQUEST ENTITY TOO LARGE", "403 FORBIDDEN"]
    assert by_entry == by_flask


def test_the_bots_app_answers_wechat_without_flasks_dispatch_or_contexts(app, monkeypatch):
    """The console is on in the tests' config: its security-header hook is one the entry knows."""
    def not_used():
        raise AssertionError("Flask dispatched a POST to /wechat")
    monkeypatch.setattr(app, "full_dispatch_request", not_used)
    monkeypatch.setattr(app, "app_context", not_used)
    assert app.webhook_entry and fastpath.serves(app)
    assert WeChatSender(app.test_client()).say("借钱不还怎么办", openid="oEntry10")


def test_an_unknown_hook_sends_the_request_through_flask_and_runs(app):
    seen = []

    @app.before_request
    def note():
        from flask import request
        seen.append(request.path)

    assert WeChatSender(app.test_client()).say("你好", openid="oEntry11")
    assert seen == ["/wechat"]


@pytest.mark.parametrize("signal", fastpath.SIGNALS, ids=lambda s: s.name)
def test_a_signal_receiver_sends_the_request_through_flask(app, signal):
    seen = []

    def received(sender, **_extra):
        seen.append(sender)
    signal.connect(received, app)
    try:
        assert not fastpath.serves(app)
        assert WeChatSender(app.test_client()).say("你好", openid="oEntry12")
    finally:
        signal.disconnect(received, app)
    if signal.name != "got-request-exception":       # sent only when a request fails
        assert seen and seen[0] is app


def test_an_unknown_app_context_teardown_sends_the_request_through_flask(app):
    seen = []
    app.teardown_appcontext(lambda _exc: seen.append("torn down"))
    assert WeChatSender(app.test_client()).say("你好", openid="oEntry14")
    assert seen == ["torn down"]


def test_after_the_entry_the_knowledge_is_unpinned_and_an_open_transaction_rolled_back(app, monkeypatch):
    services = app.extensions["legalbot"]
    seen = {}

    def leaves_a_transaction_open(inbound, started, app_services, db_of):
        db = db_of()
        db.conn.execute("BEGIN IMMEDIATE")
        seen["db"], seen["pinned"] = db, services.live._local.pinned
        return 200, "success", "text/plain"
    monkeypatch.setattr(webhook, "answer_post", leaves_a_transaction_open)
    response = WeChatSender(app.test_client()).post(text_xml("你好", openid="oEntry13"))
    assert response.get_data() == b"success"
    assert seen["pinned"] is True                      # begin_request ran before the webhook
    assert services.live._local.pinned is False        # unpin ran after it
    assert not seen["db"].conn.in_transaction          # rolled back, as close_db does


@pytest.mark.parametrize("method, path", [("GET", "/wechat"), ("POST", "/wechat/"), ("POST", "/console/login")])
def test_other_requests_go_through_flask(app, method, path, monkeypatch):
    monkeypatch.setattr(fastpath, "answer", lambda *a: pytest.fail("the entry took " + path))
    app.test_client().open(path, method=method)


def test_a_failed_knowledge_check_does_not_fail_the_entrys_request(app, monkeypatch, caplog):
    services = app.extensions["legalbot"]

    def broken(db, *, force=False):
        raise RuntimeError("kb_version unreadable")
    monkeypatch.setattr(services.live, "poll", broken)
    assert fastpath.serves(app)
    assert WeChatSender(app.test_client()).say("借钱不还怎么办", openid="oEntry15")
    assert "checking the knowledge version failed" in caplog.text
    assert services.live._local.pinned is False


def test_a_query_string_that_is_not_utf8_is_refused_as_flask_refuses_it_not_a_500(app, tmp_path, warm_services):
    """A raw byte that is not UTF-8 in the query string (WSGI hands it over as latin-1) is read
    with replacement characters, as werkzeug reads it: the signature fails, 403, never a 500."""
    flask_app = second_app(tmp_path / "flask", warm_services)
    through_flask(flask_app)
    raw = {"QUERY_STRING": "signature=\xff\xfe&timestamp=1&nonce=n"}
    answers = [a.test_client().post("/wechat", data=b"<xml></xml>", environ_overrides=raw)
               for a in (app, flask_app)]
    assert [r.status_code for r in answers] == [403, 403]
    assert answers[0].get_data() == answers[1].get_data()


def test_the_url_check_with_a_query_string_that_is_not_utf8_is_refused_not_a_500(app):
    raw = {"QUERY_STRING": "signature=\xff&timestamp=1&nonce=n&echostr=abc"}
    assert app.test_client().get("/wechat", environ_overrides=raw).status_code == 403
