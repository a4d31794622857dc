"""The entries that bring three laws held since session 5 (旅游法, 著作权法, 农产品质量安全法) within
a villager's reach: asked in everyday words, the bot answers from them, and each quotes its law.
The questions are written here, not taken from any eval set."""
from __future__ import annotations

import pytest

from bot.app.services import Services
from bot.core.config import load_config

NEW_ENTRIES = {
    "consumer.tour_shopping": "旅游法",
    "tort.video_copied": "著作权法",
    "farm.pesticide_interval": "农产品质量安全法",
}


@pytest.fixture(scope="module")
def matcher():
    return Services(load_config(environ={})).matcher


@pytest.mark.parametrize("question, faq_id", [
    ("跟着旅行社出去玩被逼买了个玉镯子", "consumer.tour_shopping"),
    ("出去旅游被导游骗去买了假翡翠", "consumer.tour_shopping"),
    ("导游带我们去买东西不买就骂人能退吗", "consumer.tour_shopping"),
    ("我的抖音作品被人搬运", "tort.video_copied"),
    ("别人用我的视频拍广告", "tort.video_copied"),
    ("我发到网上的视频被人家搬走了", "tort.video_copied"),
    ("打完农药隔几天能卖菜", "farm.pesticide_interval"),
    ("卖菜被查出农药残留超标罚款多少", "farm.pesticide_interval"),
    ("农药打多了菜还能卖吗", "farm.pesticide_interval"),
])
def test_everyday_words_reach_the_new_laws_entries(matcher, question, faq_id):
    decision = matcher.decide(question)
    assert (decision.action, decision.faq_id) == ("answer", faq_id)


@pytest.mark.parametrize("faq_id, law", NEW_ENTRIES.items())
def test_each_new_entry_quotes_its_law_verbatim_and_in_force(matcher, faq_id, law):
    entry = matcher.kb.by_id[faq_id]
    assert entry.quote.startswith(law + "第")
    assert all(c.startswith(law) or c.startswith("民法典") for c in entry.citations)
    assert matcher.kb.statutes.in_force(entry.quote)
    assert entry.excerpt in matcher.kb.statutes.get(entry.quote).text


def test_a_free_tour_selling_health_products_keeps_its_own_answer(matcher):
    """会销 dressed as a free trip is the health-products entry's matter, not the tour entry's."""
    assert matcher.decide("村里来人组织老人免费旅游 最后卖保健品").faq_id == "consumer.health_products"
