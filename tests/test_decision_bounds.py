"""Bounds that hold whatever route found the top entry answerable (bot/retrieval/decision.py
``doubt_about``): a floor on the score, a least lead over the best entry resting on other
articles, and no answer when the entry model prefers an entry on other articles."""
from __future__ import annotations

import dataclasses

from bot.core.config import MatcherSettings
from bot.retrieval.decision import Candidate, Features, Reading, choose

# Every route but the two score thresholds is off, so each test says which route answers.
SETTINGS = MatcherSettings(answer_min=0.6, answer_margin=0.0, lead_answer_min=0.3, lead_answer_margin=0.15,
                           clarify_min=0.2, clarify_margin=0.1, clarify_min_weight=2.0, agree_count=5)
ASKED = Reading(ideas=4, legal=True)


def entry(faq_id: str, level: float, article: str, model: float = 0.0) -> Candidate:
    features = Features(level, level, level, level, level, level, level, 8.0, 2, 0, model)
    return Candidate(faq_id, f"{faq_id}?", (article,), article, "测试", features)


def test_a_wide_lead_at_a_low_score_is_answered_only_above_the_floor():
    top, far = entry("a.lent_car", 0.34, "民法典第1209条"), entry("b.traffic", 0.15, "民法典第1213条")
    assert choose(ASKED, [top, far], SETTINGS).action == "answer"
    floored = choose(ASKED, [top, far], dataclasses.replace(SETTINGS, answer_floor=0.35))
    assert floored.action == "clarify" and [c.faq_id for c in floored.chosen] == ["a.lent_car"]
    assert floored.reason.endswith("score under the floor 0.35")


def test_a_high_score_tied_with_an_entry_on_other_articles_is_offered_with_it():
    top, near = entry("a.township", 0.70, "人民调解法第34条"), entry("b.village", 0.68, "人民调解法第17条")
    assert choose(ASKED, [top, near], SETTINGS).action == "answer"          # answer_margin 0 lets a tie through
    bounded = choose(ASKED, [top, near], dataclasses.replace(SETTINGS, lead_min=0.05))
    assert bounded.action == "clarify" and [c.faq_id for c in bounded.chosen] == ["a.township", "b.village"]
    assert bounded.reason.endswith("a lead of only 0.02 over an entry on other articles")


def test_a_close_entry_citing_the_same_article_does_not_count_against_the_lead():
    top = entry("a.township", 0.70, "人民调解法第34条")
    same = Candidate("b.steps", "b.steps?", ("人民调解法第34条", "人民调解法第18条"), "人民调解法第18条", "测试",
                     top.features)
    verdict = choose(ASKED, [top, same, entry("c.court", 0.4, "民事诉讼法第122条")],
                     dataclasses.replace(SETTINGS, lead_min=0.05))
    assert verdict.action == "answer"


def test_the_entry_model_preferring_an_entry_on_other_articles_withholds_the_answer():
    top = entry("a.goods_unpaid", 0.70, "民法典第626条", model=0.10)
    other = entry("b.loan", 0.50, "民法典第675条", model=0.60)
    assert choose(ASKED, [top, other], SETTINGS).action == "answer"          # model_rival_margin 1.5: off
    vetoed = choose(ASKED, [top, other], dataclasses.replace(SETTINGS, model_rival_margin=0.0))
    assert vetoed.action != "answer" and vetoed.reason.endswith("the entry model prefers b.loan")
    tolerant = dataclasses.replace(SETTINGS, model_rival_margin=0.6)       # preferred, but by less than the margin
    assert choose(ASKED, [top, other], tolerant).action == "answer"


def test_the_entry_model_preferring_an_entry_on_the_same_law_is_no_objection():
    top = entry("a.goods_unpaid", 0.70, "民法典第626条", model=0.10)
    sibling = Candidate("b.goods_late", "b.goods_late?", ("民法典第626条", "民法典第577条"), "民法典第577条", "测试",
                        entry("x", 0.50, "x", model=0.60).features)
    verdict = choose(ASKED, [top, sibling], dataclasses.replace(SETTINGS, model_rival_margin=0.0))
    assert verdict.action == "answer"
