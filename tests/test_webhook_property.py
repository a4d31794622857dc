"""Whatever arrives at /wechat — any body, any query string, signed or not — it is never a 500."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot import create_app
from bot.core.config import load_config
from tests.conftest import test_overrides as overrides_for
from tests.support import WeChatSender, event_xml, text_xml
from tests.webhook_support import SHARED, warm_services  # noqa: F401 - fixture

QUERY_KEYS = ["signature", "timestamp", "nonce", "encrypt_type", "msg_signature", "echostr", "openid"]
TAGS = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event",
        "EventKey", "MediaId", "Recognition", "Encrypt", "xml"]
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

anything = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
queries = st.dictionaries(st.sampled_from(QUERY_KEYS) | st.text(max_size=8), anything, max_size=8)
element = st.builds(lambda tag, value: f"<{tag}>{value}</{tag}>", st.sampled_from(TAGS), anything)
cdata_element = st.builds(lambda tag, value: f"<{tag}><![CDATA[{value}]]></{tag}>",
                          st.sampled_from(TAGS), anything)
xml_bodies = st.lists(element | cdata_element, max_size=8).map(lambda parts: f"<xml>{''.join(parts)}</xml>")
message_types = st.sampled_from(["text", "voice", "image", "event", "file", "", "TEXT", "x" * 40])
wechat_like = st.builds(
    lambda msg_type, content, msg_id, event: (
        f"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oFuzz]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><Event><![CDATA[{event}]]></Event>"
        f"<EventKey>{content}</EventKey><MsgId>{msg_id}</MsgId></xml>"),
    message_types, anything, st.text(max_size=20), st.sampled_from(["", "CLICK", "subscribe", "??"]))
bodies = st.binary(max_size=400) | anything.map(str.encode) | xml_bodies.map(str.encode) | \
    wechat_like.map(str.encode)


@pytest.fixture(scope="module")
def client(tmp_path_factory, warm_services):
    """One app for all the examples of this module, with the session's loaded knowledge."""
    tmp = tmp_path_factory.mktemp("fuzz")
    app = create_app(load_config(overrides=overrides_for(tmp), environ={}), warm=False)
    for name in SHARED:
        app.extensions["legalbot"].__dict__[name] = getattr(warm_services, name)
    return app.test_client()


@pytest.fixture
def wechat(client):
    return WeChatSender(client)


def assert_answered(response) -> None:
    assert response.status_code in (200, 400, 403, 405, 413), response.status_code
    assert response.status_code != 500


@given(method=st.sampled_from(["GET", "POST"]), query=queries, body=bodies)
@FUZZ
def test_unsigned_anything_is_never_a_500(client, method, query, body):
    assert_answered(client.open("/wechat", method=method, query_string=query, data=body))


@given(query=queries, body=bodies)
@FUZZ
def test_signed_plaintext_bodies_are_never_a_500(wechat, query, body):
    signed = {**query, **wechat.query()}
    signed.pop("encrypt_type", None)
    assert_answered(wechat.client.post("/wechat", query_string=signed, data=body))


@given(xml=xml_bodies | wechat_like | anything, mode=st.sampled_from(["safe", "compatible"]))
@FUZZ
def test_correctly_encrypted_bodies_are_never_a_500(client, xml, mode):
    assert_answered(WeChatSender(client, mode=mode).post(xml))


@given(content=anything.filter(lambda s: "]]>" not in s), event=st.sampled_from(["subscribe", "unsubscribe", "CLICK", "VIEW", "odd"]))
@FUZZ
def test_real_messages_with_arbitrary_text_are_answered(wechat, content, event):
    response = wechat.post(text_xml(content, openid="oFuzzText"))
    assert response.status_code == 200
    assert wechat.post(event_xml(event, openid="oFuzzEvent", key=content)).status_code in (200, 400)
