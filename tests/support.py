"""Test helpers: a WeChat server impersonator that signs (and encrypts) like WeChat does.

Only WeChat's HTTP API is ever faked (tests/fake_wechat.py); the crypto here is wechatpy's own.
"""
from __future__ import annotations

import hashlib
import itertools
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from wechatpy.crypto import WeChatCrypto

# WeChat's official encryption test vector (the WXBizMsgCrypt demo, token "spamtest").
VECTOR_TOKEN = "spamtest"
VECTOR_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
VECTOR_APPID = "wx2c2769f8efd9abc2"

_msg_ids = itertools.count(int(time.time()) * 1000)
# One nonce sequence for every sender in the process: the webhook remembers (timestamp, nonce)
# pairs, and two senders counting from the same start would look like a replayed query string.
_nonces = itertools.count(int(time.time() * 1000) % 10**9)


def signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *extra])).encode()).hexdigest()


def text_xml(content: str, openid: str = "oVillager0001", msg_id: int | None = None,
             to: str = "gh_legalbot", create_time: int | None = None) -> str:
    msg_id = next(_msg_ids) if msg_id is None else msg_id
    create_time = int(time.time()) if create_time is None else create_time
    return (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def event_xml(event: str, openid: str = "oVillager0001", key: str = "",
              create_time: int | None = None) -> str:
    create_time = int(time.time()) if create_time is None else create_time
    return (f"<xml><ToUserName><![CDATA[gh_legalbot]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>")


@dataclass
class WeChatSender:
    """Posts to /wechat the way WeChat's servers do, in plaintext, compatible or safe mode."""

    client: object                      # a Flask test client, or anything with .get/.post
    token: str = VECTOR_TOKEN
    aes_key: str = VECTOR_AES_KEY
    appid: str = VECTOR_APPID
    mode: str = "plain"                 # plain | compatible | safe
    path: str = "/wechat"
    nonces: itertools.count = field(default_factory=lambda: _nonces)

    def query(self, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(next(self.nonces))
        return {"signature": signature(self.token, timestamp, nonce),
                "timestamp": timestamp, "nonce": nonce, "openid": "o"}

    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.aes_key, self.appid)

    def envelope(self, xml: str, query: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Encrypt the message as WeChat does; return the body and the query string."""
        encrypted = ET.fromstring(self.crypto().encrypt_message(xml, query["nonce"], query["timestamp"]))
        query = {**query, "encrypt_type": "aes", "msg_signature": encrypted.findtext("MsgSignature")}
        inner = f"<Encrypt><![CDATA[{encrypted.findtext('Encrypt')}]]></Encrypt>"
        if self.mode == "compatible":
            body = xml.replace("</xml>", inner + "</xml>")
        else:
            body = f"<xml><ToUserName><![CDATA[gh_legalbot]]></ToUserName>{inner}</xml>"
        return body, query

    def post(self, xml: str, **query_overrides):
        query = {**self.query(), **query_overrides}
        body = xml
        if self.mode in ("compatible", "safe"):
            body, query = self.envelope(xml, query)
        return self.client.post(self.path, query_string=query, data=body.encode("utf-8"),
                                content_type="text/xml")

    def reply_xml(self, response) -> str:
        """The plaintext reply XML (decrypted when the request was encrypted)."""
        body = response.get_data(as_text=True)
        if self.mode == "plain" or body in ("", "success"):
            return body
        root = ET.fromstring(body)
        return self.crypto().decrypt_message(body, root.findtext("MsgSignature"),
                                             root.findtext("TimeStamp"), root.findtext("Nonce"))

    def reply_text(self, response) -> str:
        xml = self.reply_xml(response)
        if xml in ("", "success"):
            return xml
        return ET.fromstring(xml).findtext("Content") or ""

    def say(self, content: str, openid: str = "oVillager0001", **kw) -> str:
        """Send a text message and return the reply's text."""
        return self.reply_text(self.post(text_xml(content, openid=openid, **kw)))
