"""Bad input through the real webhook, in plaintext and safe mode: each gets its clear answer.

tests/test_webhook.py already pins the plain refusals (forged signature, stale timestamp in
plaintext, wrong AppID and key, a one-entity DOCTYPE, 413 with and without Content-Length,
control characters being stripped). This file adds the hostile and the odd: entity bombs and
external entities, truncation at every depth, invalid UTF-8, replays in safe mode, villagers'
odd messages (empty, emoji, stickers, 10,000 characters) — and after each one checks that the
messages table holds nothing lost and nothing doubled. Last, a hypothesis run over the webhook.
"""
from __future__ import annotations

import itertools
import logging
import time
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import WeChatSender, text_xml

MODES = ["plain", "safe"]
_ids = itertools.count(7_000_000_000_000)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><ToUserName><![CDATA[gh_legalbot]]></ToUserName><FromUserName>oBomb</FromUserName>
<CreateTime>{now}</CreateTime><MsgType>text</MsgType><Content>&lol9;</Content><MsgId>{msg_id}</MsgId></xml>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh_legalbot</ToUserName><FromUserName>oXxe</FromUserName>
<CreateTime>{now}</CreateTime><MsgType>text</MsgType><Content>&secret;</Content><MsgId>{msg_id}</MsgId></xml>"""


class ErrorLog(logging.Handler):
    """Collects ERROR records: a webhook that answers ``success`` after a crash logs one."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors():
    handler = ErrorLog()
    logging.getLogger().addHandler(handler)
    try:
        yield handler.records
    finally:
        logging.getLogger().removeHandler(handler)


def message_count(db) -> int:
    return db.execute("SELECT count(*) FROM messages").fetchone()[0]


def rows_for(db, msg_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM messages WHERE dedupe_key LIKE ?", [f"msg:%:{msg_id}"]))


def consultations_for(db, message_id: int) -> int:
    return db.execute("SELECT count(*) FROM consultations WHERE message_id = ?",
                      [message_id]).fetchone()[0]


def assert_recorded_once(db, msg_id: int) -> dict:
    """One message row, done, with at most one consultation: nothing lost, nothing doubled."""
    rows = rows_for(db, msg_id)
    assert len(rows) == 1, rows
    assert rows[0]["state"] == "done"
    assert consultations_for(db, rows[0]["id"]) <= 1
    return rows[0]


def polite_reply(sender: WeChatSender, response) -> str:
    """The reply's text, after checking it is a real text reply within WeChat's byte limit."""
    assert response.status_code == 200
    xml = sender.reply_xml(response)
    assert xml not in ("", "success"), "a villager's message deserves an answer"
    root = ET.fromstring(xml)
    assert root.findtext("MsgType") == "text"
    text = root.findtext("Content") or ""
    assert text.strip()
    assert len(text.encode("utf-8")) <= 2048
    return text


def villager_xml(content: str, **kw) -> str:
    """A text message as WeChat would send it: a literal ``]]>`` split across two CDATA sections."""
    return text_xml(content.replace("]]>", "]]]]><![CDATA[>"), **kw)


def post_raw(sender: WeChatSender, body: bytes, **query):
    return sender.client.post("/wechat", query_string={**sender.query(), **query}, data=body,
                              content_type="text/xml")


def encrypt_raw(sender: WeChatSender, xml: str) -> tuple[bytes, dict]:
    """Encrypt ``xml`` (whatever it holds) in WeChat's safe-mode envelope."""
    body, query = sender.envelope(xml, sender.query())
    return body.encode("utf-8"), query


# --- hostile XML ----------------------------------------------------------------------------

@pytest.mark.parametrize("template", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "xxe"])
def test_entity_declarations_are_refused_in_plaintext(wechat, db, errors, template):
    msg_id = next(_ids)
    response = post_raw(wechat, template.format(now=int(time.time()), msg_id=msg_id).encode())
    assert response.status_code == 400
    assert "root:" not in response.get_data(as_text=True)
    assert message_count(db) == 0 and errors == []


@pytest.mark.parametrize("template", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "xxe"])
def test_entity_declarations_inside_the_encrypted_envelope_are_refused(wechat, db, errors, template):
    wechat.mode = "safe"
    body, query = encrypt_raw(wechat, template.format(now=int(time.time()), msg_id=next(_ids)))
    response = wechat.client.post("/wechat", query_string=query, data=body)
    assert response.status_code == 400
    assert message_count(db) == 0 and errors == []


def test_entity_bomb_as_the_safe_mode_envelope_is_refused(wechat, db, errors):
    query = {**wechat.query(), "encrypt_type": "aes", "msg_signature": "0" * 40}
    bomb = BILLION_LAUGHS.format(now=int(time.time()), msg_id=1).replace(
        "<Content>&lol9;</Content>", "<Encrypt>&lol9;</Encrypt>")
    response = wechat.client.post("/wechat", query_string=query, data=bomb.encode())
    assert response.status_code in (400, 403)
    assert message_count(db) == 0 and errors == []


# --- truncated bodies -----------------------------------------------------------------------

def cuts(xml: str) -> list[int]:
    """Cut points inside the tags, inside CDATA, just before the end, and half way."""
    return sorted({xml.index("<FromUserName>") + 5, xml.index("<![CDATA[") + 4,
                   xml.index("<MsgId>") + 3, len(xml) - 3, len(xml) // 2})


@pytest.mark.parametrize("at", range(5))
def test_truncated_plaintext_message_is_400_and_not_recorded(wechat, db, errors, at):
    xml = text_xml("借钱不还怎么办", msg_id=next(_ids))
    response = post_raw(wechat, xml[:cuts(xml)[at]].encode())
    assert response.status_code == 400
    assert message_count(db) == 0 and errors == []


@pytest.mark.parametrize("at", range(5))
def test_truncated_message_inside_the_encryption_is_400(wechat, db, errors, at):
    wechat.mode = "safe"
    xml = text_xml("借钱不还怎么办", msg_id=next(_ids))
    body, query = encrypt_raw(wechat, xml[:cuts(xml)[at]])
    response = wechat.client.post("/wechat", query_string=query, data=body)
    assert response.status_code == 400
    assert message_count(db) == 0 and errors == []


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_safe_mode_envelope_is_refused(wechat, db, errors, keep):
    """Cut mid-ciphertext: either not XML (400) or not our signature (403) — never recorded."""
    wechat.mode = "safe"
    body, query = encrypt_raw(wechat, text_xml("借钱不还怎么办", msg_id=next(_ids)))
    response = wechat.client.post("/wechat", query_string=query, data=body[:int(len(body) * keep)])
    assert response.status_code in (400, 403)
    assert message_count(db) == 0 and errors == []


def test_ciphertext_cut_on_a_block_with_its_signature_recomputed_is_403(wechat, db, errors):
    """A correctly signed but shortened ciphertext does not decrypt to a message: refused."""
    from tests.support import signature
    wechat.mode = "safe"
    body, query = encrypt_raw(wechat, text_xml("借钱不还怎么办", msg_id=next(_ids)))
    encrypted = ET.fromstring(body).findtext("Encrypt")
    short = encrypted[:len(encrypted) - 24]          # drop 18 bytes of ciphertext, stay base64
    query["msg_signature"] = signature(wechat.token, query["timestamp"], query["nonce"], short)
    body = f"<xml><Encrypt><![CDATA[{short}]]></Encrypt></xml>".encode()
    response = wechat.client.post("/wechat", query_string=query, data=body)
    assert response.status_code in (400, 403)
    assert message_count(db) == 0 and errors == []


# --- replays --------------------------------------------------------------------------------

def test_replayed_safe_mode_request_ten_minutes_old_is_403(wechat, db):
    wechat.mode = "safe"
    old = wechat.query(timestamp=str(int(time.time()) - 600))
    body, query = wechat.envelope(text_xml("借钱不还怎么办", msg_id=next(_ids)), old)
    response = wechat.client.post("/wechat", query_string=query, data=body.encode())
    assert response.status_code == 403
    assert message_count(db) == 0


@pytest.mark.parametrize("mode", MODES)
def test_the_same_signed_request_sent_again_gets_the_same_reply_once_recorded(wechat, db, mode):
    """A replay inside the time window is a WeChat retry: answered the same, recorded once."""
    wechat.mode = mode
    msg_id = next(_ids)
    xml = text_xml("彩礼能要回来吗", openid="oReplay", msg_id=msg_id)
    body, query = (wechat.envelope(xml, wechat.query()) if mode == "safe"
                   else (xml, wechat.query()))
    first = wechat.client.post("/wechat", query_string=query, data=body.encode())
    again = wechat.client.post("/wechat", query_string=query, data=body.encode())
    assert polite_reply(wechat, first) == polite_reply(wechat, again)
    assert_recorded_once(db, msg_id)
    assert message_count(db) == 1


# --- invalid UTF-8 --------------------------------------------------------------------------

@pytest.mark.parametrize("junk", [b"\xff\xfe", b"\xc3\x28", b"\xe6\xb3", b"\xed\xa0\x80"],
                         ids=["bom-like", "bad-continuation", "cut-sequence", "surrogate"])
def test_invalid_utf8_gets_a_polite_reply_or_400_and_is_never_doubled(wechat, db, errors, junk):
    msg_id = next(_ids)
    xml = text_xml("借钱@不还", openid="oUtf8", msg_id=msg_id).encode("utf-8")
    body = xml.replace("@".encode(), junk)
    first = post_raw(wechat, body)
    again = post_raw(wechat, body)
    assert errors == []
    assert first.status_code in (200, 400)
    if first.status_code == 400:
        assert message_count(db) == 0
        return
    assert polite_reply(wechat, first) == polite_reply(wechat, again)
    row = assert_recorded_once(db, msg_id)
    assert row["content"].startswith("借钱") and row["content"].endswith("不还")


# --- villagers' odd messages ----------------------------------------------------------------

ODD_MESSAGES = {
    "empty": "",
    "spaces": "   \n  ",
    "emoji": "😀😀🙏",
    "sticker": "[捂脸]",
    "stickers": "[捂脸][捂脸][强]",
    "control": "借钱\x01不还\x1b怎么办\x7f",
    "cdata-end": "借钱]]>不还怎么办",
    "markup": "<script>alert(1)</script>借钱不还",
    "long": "我家邻居借钱不还，" * 1112,            # 10,008 characters
    "long-no-punctuation": "法" * 10_000,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(ODD_MESSAGES))
def test_odd_message_gets_a_polite_reply_within_the_byte_limit(wechat, db, errors, mode, name):
    wechat.mode = mode
    msg_id = next(_ids)
    xml = villager_xml(ODD_MESSAGES[name], openid=f"oOdd{mode}", msg_id=msg_id)
    first = wechat.post(xml)
    text = polite_reply(wechat, first)
    assert errors == []
    assert "<script>" not in text
    if name == "cdata-end":
        assert assert_recorded_once(db, msg_id)["content"] == ODD_MESSAGES[name]
    assert polite_reply(wechat, wechat.post(xml)) == text      # WeChat's retry: same answer
    assert_recorded_once(db, msg_id)
    assert message_count(db) == 1


def test_a_10000_character_message_is_kept_whole_in_the_record(wechat, db):
    msg_id = next(_ids)
    polite_reply(wechat, wechat.post(text_xml(ODD_MESSAGES["long"], msg_id=msg_id)))
    assert len(assert_recorded_once(db, msg_id)["content"]) == len(ODD_MESSAGES["long"])


@pytest.mark.parametrize("mode", MODES)
def test_a_burst_of_odd_messages_is_recorded_one_row_each(wechat, db, mode):
    wechat.mode = mode
    sent = []
    for name, content in ODD_MESSAGES.items():
        msg_id = next(_ids)
        sent.append(msg_id)
        polite_reply(wechat, wechat.post(villager_xml(content, openid="oBurst", msg_id=msg_id)))
    for msg_id in sent:
        assert_recorded_once(db, msg_id)
    assert message_count(db) == len(ODD_MESSAGES)


# --- hypothesis: the webhook never crashes and never doubles a record -----------------------

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=st.one_of(st.binary(max_size=2000),
                      st.text(max_size=500).map(lambda s: s.encode("utf-8", "surrogatepass")),
                      st.text(max_size=300).map(lambda s: f"<xml>{s}</xml>".encode("utf-8", "surrogatepass"))))
def test_fuzzed_bodies_get_200_400_or_413_and_never_crash(wechat, db, errors, body):
    before = message_count(db)
    response = post_raw(wechat, body)
    assert response.status_code in (200, 400, 413)
    assert errors == []
    assert message_count(db) - before <= 1


@FUZZ
@given(content=st.text(max_size=400), mode=st.sampled_from(MODES))
def test_fuzzed_content_is_answered_once_and_recorded_once(wechat, db, errors, content, mode):
    wechat.mode = mode
    msg_id = next(_ids)
    xml = villager_xml(content, openid="oFuzz", msg_id=msg_id)
    try:
        xml.encode("utf-8")
    except UnicodeEncodeError:                 # a lone surrogate cannot even be sent
        return
    first = wechat.post(xml)
    assert first.status_code == 200
    assert wechat.reply_xml(first) == wechat.reply_xml(wechat.post(xml))
    assert errors == []
    assert_recorded_once(db, msg_id)
