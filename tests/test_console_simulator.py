"""The simulator's server side: a signing endpoint that only exists in development."""
from __future__ import annotations

import time

from bot.simulator import sign
from tests.support import signature, text_xml


def test_sign_matches_wechats_signature():
    assert sign("spamtest", "1409304348", "xxxxxx") == signature("spamtest", "1409304348", "xxxxxx")


def test_a_message_signed_by_the_simulator_is_accepted_by_the_webhook(client):
    signed = client.post("/simulator/sign").get_json()
    assert abs(int(signed["timestamp"]) - time.time()) < 5
    query = {k: signed[k] for k in ("signature", "timestamp", "nonce")}
    response = client.post("/wechat", query_string={**query, "openid": "oSimulatorTest"},
                           data=text_xml("你好", openid="oSimulatorTest").encode(),
                           content_type="text/xml")
    assert response.status_code == 200
    assert "<xml>" in response.get_data(as_text=True)


def test_the_simulator_page_posts_to_the_webhook(client):
    page = client.get("/simulator").get_data(as_text=True)
    assert "simulator.js" in page and "转法律顾问" in page     # the configured menu is shown
    script = client.get("/static/simulator.js").get_data(as_text=True)
    assert 'fetch("/wechat?' in script and "/simulator/sign" in script
