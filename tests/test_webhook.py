"""The /wechat endpoint: URL check, the three encryption modes, and every refusal's status code."""
from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from wechatpy.crypto import WeChatCrypto

from bot import create_app
from bot.core.config import load_config
from tests.conftest import test_overrides as overrides_for
from tests.support import (VECTOR_AES_KEY, VECTOR_APPID, VECTOR_TOKEN, WeChatSender, event_xml,
                           signature, text_xml)
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
VECTOR = {"msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
          "timestamp": "1409735669", "nonce": "1320562132", "encrypt_type": "aes"}


def fixture_xml(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def make_app(tmp_path, **sections):
    app = create_app(load_config(overrides=overrides_for(tmp_path, **sections), environ={}))
    app.config["TESTING"] = True
    return app


def message_rows(db) -> list[dict]:
    return list(db.query("SELECT * FROM messages ORDER BY id"))


# --- URL check (GET) ----------------------------------------------------------------------

def test_url_check_echoes_echostr(client, wechat):
    response = client.get("/wechat", query_string={**wechat.query(), "echostr": "hello-123"})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "hello-123"


def test_url_check_with_wrong_signature_is_403(client, wechat):
    query = {**wechat.query(), "signature": "0" * 40, "echostr": "x"}
    assert client.get("/wechat", query_string=query).status_code == 403


def test_url_check_without_parameters_is_403(client):
    assert client.get("/wechat").status_code == 403


# --- the three modes ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_each_mode_gets_a_text_reply(wechat, mode):
    wechat.mode = mode
    response = wechat.post(text_xml("你好", openid="oModeUser"))
    assert response.status_code == 200
    reply = ET.fromstring(wechat.reply_xml(response))
    assert reply.findtext("ToUserName") == "oModeUser"
    assert reply.findtext("MsgType") == "text"
    assert reply.findtext("Content")


@pytest.mark.parametrize("mode", ["compatible", "safe"])
def test_encrypted_request_gets_an_encrypted_reply(wechat, mode):
    wechat.mode = mode
    body = wechat.post(text_xml("你好")).get_data(as_text=True)
    root = ET.fromstring(body)
    assert root.findtext("Encrypt") and root.findtext("MsgSignature")
    assert root.find("Content") is None


def test_plain_request_gets_a_plain_reply(wechat):
    body = wechat.post(text_xml("你好")).get_data(as_text=True)
    assert ET.fromstring(body).find("Encrypt") is None


def test_official_vector_decrypts_and_is_answered_encrypted(tmp_path):
    """WeChat's own WXBizMsgCrypt sample; its timestamp is from 2014, so widen the replay window."""
    app = make_app(tmp_path, app={"max_clock_skew_seconds": 10 ** 10})
    body = fixture_xml("official_mp_crypto_vector_encrypted_text.xml")
    response = app.test_client().post("/wechat", query_string=VECTOR, data=body.encode())
    assert response.status_code == 200
    crypto = WeChatCrypto(VECTOR_TOKEN, VECTOR_AES_KEY, VECTOR_APPID)
    root = ET.fromstring(response.get_data(as_text=True))
    plain = crypto.decrypt_message(response.get_data(as_text=True), root.findtext("MsgSignature"),
                                   root.findtext("TimeStamp"), root.findtext("Nonce"))
    assert ET.fromstring(plain).findtext("ToUserName") == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert ET.fromstring(plain).findtext("FromUserName") == "gh_10f6c3c3ac5a"
    db = app.extensions["legalbot"].open_db()
    row = message_rows(db)[0]
    assert (row["dedupe_key"], row["content"]) == ("msg:oyORnuP8q7ou2gfYjqLzSIWZf0rs:6054768590064713728", "abcdteT")


def test_official_vector_is_refused_with_the_default_replay_window(client):
    body = fixture_xml("official_mp_crypto_vector_encrypted_text.xml")
    assert client.post("/wechat", query_string=VECTOR, data=body.encode()).status_code == 403


# --- refusals -----------------------------------------------------------------------------

def test_wrong_signature_is_403(wechat):
    assert wechat.post(text_xml("你好"), signature="f" * 40).status_code == 403


def test_missing_signature_is_403(client):
    query = {"timestamp": str(int(time.time())), "nonce": "1"}
    assert client.post("/wechat", query_string=query, data=text_xml("你好")).status_code == 403


@pytest.mark.parametrize("offset", [-301, 310, -86400])
def test_stale_or_future_timestamp_is_403(wechat, offset):
    """The stamp is whole seconds and the check reads the exact clock, so a stamp 301 s ahead
    is less than that by the check: it slipped into the 300-second window whenever the dropped
    fraction plus the request's time passed a second (a run in a hundred, more on a loaded
    machine). 310 is still well outside; a stale stamp only grows staler, so -301 stays."""
    stamp = str(int(time.time()) + offset)
    query = wechat.query(timestamp=stamp)
    assert wechat.post(text_xml("你好"), **query).status_code == 403


def test_timestamp_within_the_window_is_accepted(wechat):
    query = wechat.query(timestamp=str(int(time.time()) - 200))
    assert wechat.post(text_xml("你好"), **query).status_code == 200


def test_non_numeric_timestamp_is_403(wechat):
    query = wechat.query(timestamp="yesterday")
    assert wechat.post(text_xml("你好"), **query).status_code == 403


def test_wrong_appid_is_403(client):
    sender = WeChatSender(client, mode="safe", appid="wx0000000000000000")
    assert sender.post(text_xml("你好")).status_code == 403


def test_wrong_aes_key_is_403_not_a_crash(client):
    """wechatpy raises UnicodeDecodeError when the key is wrong; that must be a clean 403."""
    sender = WeChatSender(client, mode="safe", aes_key="B" * 43)
    assert sender.post(text_xml("你好")).status_code == 403


def test_wrong_msg_signature_is_403(wechat):
    wechat.mode = "safe"
    body, query = wechat.envelope(text_xml("你好"), wechat.query())
    query["msg_signature"] = "0" * 40
    assert wechat.client.post("/wechat", query_string=query, data=body.encode()).status_code == 403


def test_encrypted_mode_without_encrypt_element_is_400(client, wechat):
    query = {**wechat.query(), "encrypt_type": "aes", "msg_signature": "0" * 40}
    response = client.post("/wechat", query_string=query, data=b"<xml><ToUserName>a</ToUserName></xml>")
    assert response.status_code == 400


@pytest.mark.parametrize("body", [
    b"", b"hello", b"{\"MsgType\": \"text\"}", b"<html><body>hi</body></html>",
    b"<xml>just text</xml>", b"<xml><MsgType>text</MsgType></xml>",
    b"<xml><FromUserName>o1</FromUserName></xml>", b"<xml><unclosed>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><MsgType>&a;</MsgType></xml>',
])
def test_body_that_is_not_a_wechat_message_is_400(wechat, body):
    response = wechat.client.post("/wechat", query_string=wechat.query(), data=body)
    assert response.status_code == 400


def test_body_over_the_limit_is_413(wechat):
    xml = text_xml("法" * 30000)   # about 90 KB of UTF-8
    assert wechat.post(xml).status_code == 413


def test_body_over_the_limit_without_content_length_is_413(wechat, app):
    """A chunked body has no Content-Length: the limit is checked on what is read."""
    big = io.BytesIO(text_xml("法" * 30000).encode())
    response = wechat.client.post("/wechat", query_string=wechat.query(), input_stream=big,
                                  environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413


def test_limit_comes_from_config(tmp_path):
    app = make_app(tmp_path, app={"max_body_bytes": 500})
    sender = WeChatSender(app.test_client())
    assert sender.post(text_xml("法" * 200)).status_code == 413
    assert sender.post(text_xml("法")).status_code == 200


def test_control_characters_are_stripped_before_parsing(wechat, db):
    response = wechat.post(text_xml("借钱\x00不还\x08怎么办\x1f", openid="oCtrl"))
    assert response.status_code == 200
    assert message_rows(db)[0]["content"] == "借钱不还怎么办"


def test_control_characters_in_encrypted_message_are_stripped(wechat, db):
    wechat.mode = "safe"
    assert wechat.post(text_xml("你\x01好", openid="oCtrl2")).status_code == 200
    assert message_rows(db)[0]["content"] == "你好"


# --- never a 500 --------------------------------------------------------------------------

def test_a_crashing_handler_gets_an_apology_not_a_500(app, wechat, db):
    def explode(incoming, ctx):
        raise RuntimeError("boom")
    app.extensions["legalbot"].registry.register("test.explode", 1, explode, types={"text"})
    response = wechat.post(text_xml("你好"))
    assert response.status_code == 200
    assert "转人工" in wechat.reply_text(response)
    assert message_rows(db)[0]["handler"] == "error"


def test_a_broken_database_answers_success(app, wechat, tmp_path, monkeypatch):
    def broken_claim(*args, **kwargs):
        raise OSError("disk gone")
    monkeypatch.setattr("bot.conversation.records.claim", broken_claim)
    response = wechat.post(text_xml("你好"))
    assert (response.status_code, response.get_data(as_text=True)) == (200, "success")


def test_events_with_nothing_to_say_answer_success(wechat):
    response = wechat.post(event_xml("VIEW", key="https://example.org"))
    assert (response.status_code, response.get_data(as_text=True)) == (200, "success")


def test_signature_helper_matches_the_official_url_check_vector():
    """The URL-check signature of WeChat's sample (token spamtest) — pins our signing helper."""
    assert signature(VECTOR_TOKEN, "1409735669", "1320562132") == \
        "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"


def test_without_a_token_in_production_everything_is_403(tmp_path):
    """Production has no demo token; an empty token must not make "sign with nothing" work."""
    app = make_app(tmp_path, app={"environment": "production"}, wechat={"token": ""})
    sender = WeChatSender(app.test_client(), token="")
    assert sender.post(text_xml("你好")).status_code == 403
    assert app.test_client().get("/wechat", query_string={**sender.query(), "echostr": "x"}).status_code == 403
