"""The 人民调解 offer under an answer is made once a dispute is no longer being mediated: while a
case of the villager's is open or being mediated, a dispute answer carries no second offer;
once the case is closed, the next one does (bot/conversation/mediation_offers.py)."""
from __future__ import annotations

import time

from bot.community import mediation
from bot.community.mediation import Status

DISPUTE = "隔壁把界桩往我家地里挪了，两家为地界吵起来了"
VILLAGER = "oOffersOnce00001"


def offered(reply: str) -> bool:
    return "人民调解委员会" in reply and "回复“调解”" in reply


def test_no_second_offer_while_a_case_is_mediated_and_one_after_it_is_closed(wechat, db):
    assert offered(wechat.say(DISPUTE, openid=VILLAGER))
    wechat.say("调解", openid=VILLAGER)
    wechat.say("2", openid=VILLAGER)                     # the village: the case opens
    [case] = mediation.list_cases(db)
    assert case.status == Status.OPEN
    assert not offered(wechat.say(DISPUTE, openid=VILLAGER))
    mediation.transition(db, case.id, Status.MEDIATING, time.time(), actor="test", via="console")
    assert not offered(wechat.say(DISPUTE, openid=VILLAGER))
    mediation.transition(db, case.id, Status.WITHDRAWN, time.time(), actor="test", via="console")
    assert offered(wechat.say(DISPUTE, openid=VILLAGER))


def test_another_villagers_case_does_not_hold_back_the_offer(wechat, db):
    wechat.say(DISPUTE, openid=VILLAGER)
    wechat.say("调解", openid=VILLAGER)
    wechat.say("2", openid=VILLAGER)
    assert len(mediation.list_cases(db)) == 1
    assert offered(wechat.say(DISPUTE, openid="oOffersOther0001"))
