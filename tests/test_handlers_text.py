"""Questions through the webhook: answers, numbered choices, small talk, danger, hand-over."""
from __future__ import annotations

import dataclasses
import json

import pytest

from bot.core import users
from bot.conversation.dispatch import Context, Incoming
from tests.conftest import test_overrides as overrides_for

VILLAGER = "oVillager0001"


def consultations(db) -> list[dict]:
    return list(db.query("SELECT action, faq_id, score, candidates, ticket_id FROM consultations ORDER BY id"))


def test_a_clear_question_gets_the_answer_with_the_article(wechat, db):
    text = wechat.say("订婚给了彩礼 后来女方不嫁了 彩礼能要回来吗")
    assert "【法条】《民法典》第1042条" in text
    row = consultations(db)[-1]
    assert (row["action"], row["faq_id"]) == ("answer", "marriage.bride_price")
    assert row["score"] > 0
    assert json.loads(row["candidates"])[0] == {"faq_id": "marriage.bride_price", "score": row["score"]}


def test_small_talk_gets_a_friendly_reply_with_examples(wechat, db):
    text = wechat.say("你好")
    assert "大年乡" in text and "彩礼能要回来吗" in text
    assert consultations(db)[-1]["action"] == "chitchat"


def test_danger_now_gets_the_emergency_numbers_and_an_urgent_ticket(wechat, db):
    text = wechat.say("他拿着刀在门口要砍我")
    assert "110" in text and "120" in text and "12356" in text
    ticket = next(db.query("SELECT urgent FROM tickets"))
    assert ticket["urgent"] and consultations(db)[-1]["action"] == "urgent"


def test_asking_for_a_person_opens_a_ticket_once_the_matter_is_told(wechat, db):
    db.execute("INSERT INTO users (openid, village) VALUES (?, '大年村')", [VILLAGER])
    assert "说说是什么事" in wechat.say("转人工")
    assert consultations(db) == []
    wechat.say("儿子欠了别人三千块钱 人家天天上门要")
    row = consultations(db)[-1]
    ticket = next(db.query("SELECT consultation_id, question FROM tickets"))
    assert row["action"] == "escalate" and ticket["question"] == "儿子欠了别人三千块钱 人家天天上门要"


def test_a_question_that_matches_nothing_offers_a_person(wechat, db):
    assert "转人工" in wechat.say("股票怎么买")
    assert consultations(db)[-1]["action"] == "fallback"


@pytest.fixture
def unsure_app(tmp_path):
    """The real app with answer thresholds no score reaches, so every question is clarified."""
    from bot import create_app
    from bot.core.config import load_config
    config = load_config(overrides=overrides_for(tmp_path, matcher={"answer_min": 1.01, "lead_answer_min": 1.01, "agree_answer_min": 1.01,
                                                                          "model_answer_min": 1.01}), environ={})
    return create_app(config)


@pytest.fixture
def unsure(unsure_app):
    services = unsure_app.extensions["legalbot"]
    db = services.open_db()
    yield services, db
    db.conn.close()


def say(services, db, text: str, now: float = 1_900_000_000.0) -> str:
    reply = services.registry.dispatch(Incoming(openid=VILLAGER, msg_type="text", text=text),
                                       Context(services=services, db=db, now=now))
    return reply.text


def test_a_number_sent_back_selects_the_offered_entry(unsure):
    services, db = unsure
    offered = say(services, db, "彩礼能要回来吗")
    assert offered.startswith("您想问的是") and "\n1. " in offered
    first = users.get_pending(db, VILLAGER, 1_900_000_001.0, kind="clarify").data.faq_ids[0]
    answer = say(services, db, "1", now=1_900_000_010.0)
    entry = services.knowledge.by_id[first]
    assert answer.startswith(entry.answer.strip()[:10])
    assert users.get_pending(db, VILLAGER, 1_900_000_011.0) is None


def test_a_number_after_the_choices_expired_is_a_new_message(unsure):
    services, db = unsure
    say(services, db, "彩礼能要回来吗")
    late = 1_900_000_000.0 + services.config.matcher.clarify_ttl_seconds + 1
    assert "【法条】" not in (say(services, db, "1", now=late) or "")


def test_a_number_out_of_range_asks_again_and_keeps_the_choices(unsure):
    services, db = unsure
    say(services, db, "彩礼能要回来吗")
    assert "没有这个序号" in say(services, db, "9", now=1_900_000_005.0)
    assert users.get_pending(db, VILLAGER, 1_900_000_006.0, kind="clarify") is not None


def test_none_of_them_hands_the_question_to_the_adviser(unsure):
    services, db = unsure
    db.execute("INSERT INTO users (openid, village) VALUES (?, '大年村')", [VILLAGER])
    say(services, db, "彩礼能要回来吗")
    say(services, db, "都不是", now=1_900_000_005.0)
    ticket = next(db.query("SELECT question FROM tickets"))
    assert ticket["question"] == "彩礼能要回来吗"


def test_a_number_for_an_entry_taken_down_since_asks_again_instead_of_failing(unsure):
    """A learned entry may be unpublished between the choices and the villager's number."""
    services, db = unsure
    say(services, db, "彩礼能要回来吗")
    offered = users.get_pending(db, VILLAGER, 1_900_000_001.0, kind="clarify").data
    taken_down = dataclasses.replace(offered, faq_ids=("learned.taken_down", *offered.faq_ids[1:]))
    users.set_pending(db, VILLAGER, taken_down, ttl=600, now=1_900_000_002.0)
    reply = say(services, db, "1", now=1_900_000_010.0)
    assert "再发一次" in reply and "【法条】" not in reply
