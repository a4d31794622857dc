"""The simulator's server side: a signing endpoint that only exists in development."""
from __future__ import annotations

import time

from wechatpy.parser import parse_message

from bot.app.simulator import sign
from tests.support import signature, text_xml


def test_sign_matches_wechats_signature():
    assert sign("spamtest", "1409304348", "xxxxxx") == signature("spamtest", "1409304348", "xxxxxx")


def test_a_message_signed_by_the_simulator_is_answered_and_recorded_by_the_webhook(client, db):
    signed = client.post("/simulator/sign").get_json()
    assert abs(int(signed["timestamp"]) - time.time()) < 5
    query = {k: signed[k] for k in ("signature", "timestamp", "nonce")}
    response = client.post("/wechat", query_string={**query, "openid": "oSimulatorTest"},
                           data=text_xml("你好", openid="oSimulatorTest").encode(),
                           content_type="text/xml")
    assert response.status_code == 200
    reply = parse_message(response.get_data(as_text=True))
    assert (reply.type, reply.target) == ("text", "oSimulatorTest") and reply.content.strip()
    [row] = db.query("SELECT openid, content, handler FROM messages")
    assert (row["openid"], row["content"]) == ("oSimulatorTest", "你好") and row["handler"]


def test_the_simulator_page_posts_to_the_webhook(client):
    page = client.get("/simulator").get_data(as_text=True)
    assert "simulator.js" in page and "转法律顾问" in page     # the configured menu is shown
    script = client.get("/static/simulator.js").get_data(as_text=True)
    assert 'fetch("/wechat?' in script and "/simulator/sign" in script


def answered_ticket(db, openid, via=None, delivered_at=None):
    """A ticket the adviser has answered (and, with ``via``, that was already delivered)."""
    return db["tickets"].insert({
        "openid": openid, "question": "借钱不还", "status": "delivered" if via else "answered",
        "answer": "先找村调解委员会。", "created_at": time.time() - 60, "answered_at": time.time(),
        "delivered_via": via, "delivered_at": delivered_at}).last_pk


def test_the_inbox_hands_a_waiting_answer_to_the_simulator_once(client, db):
    ticket_id = answered_ticket(db, "oSimulatorInbox")
    body = {"openid": "oSimulatorInbox", "since": time.time() - 5}
    first = client.post("/simulator/inbox", json=body).get_json()
    assert first == {"messages": [{"ticket_id": ticket_id,
                                   "text": f"您的咨询 #{ticket_id} 法律顾问已答复：先找村调解委员会。"}]}
    assert client.post("/simulator/inbox", json=body).get_json() == {"messages": []}
    row = next(db.query("SELECT status, delivered_via FROM tickets WHERE id = ?", [ticket_id]))
    assert (row["status"], row["delivered_via"]) == ("delivered", "simulator")


def test_the_inbox_shows_what_the_worker_pushed_but_not_what_came_with_a_reply(client, db):
    now = time.time()
    pushed = answered_ticket(db, "oSimulatorInbox", via="cs", delivered_at=now)
    answered_ticket(db, "oSimulatorInbox", via="reply", delivered_at=now)
    answer = client.post("/simulator/inbox", json={"openid": "oSimulatorInbox", "since": now - 5})
    assert [m["ticket_id"] for m in answer.get_json()["messages"]] == [pushed]


def test_the_inbox_serves_only_villagers_the_simulator_made(client, db):
    answered_ticket(db, "oRealVillager")
    response = client.post("/simulator/inbox", json={"openid": "oRealVillager", "since": 0})
    assert response.status_code == 400
    assert next(db.query("SELECT status FROM tickets"))["status"] == "answered"
    assert client.post("/simulator/inbox", json={"openid": "oSimulatorX"}).status_code == 400
