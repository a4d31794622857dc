"""Which entries are rivals of the top one: only those resting on other articles
(bot/retrieval/decision.py ``Candidate.same_answer``)."""
from __future__ import annotations

import dataclasses

from bot.core.config import MatcherSettings
from bot.retrieval.decision import Candidate, Features, Reading, choose

SETTINGS = MatcherSettings(answer_min=0.5, answer_margin=0.05, lead_answer_min=0.45, lead_answer_margin=0.15,
                           clarify_min=0.2, clarify_margin=0.1, clarify_min_weight=2.0, agree_count=5)
ASKED = Reading(ideas=4, legal=True)


def entry(faq_id: str, level: float, citations: tuple[str, ...], quoted: str) -> Candidate:
    features = Features(level, level, level, level, level, level, level, 8.0, 2, 0)
    return Candidate(faq_id, f"{faq_id}?", citations, quoted, "测试", features)


def test_an_entry_citing_an_article_the_top_one_cites_is_no_rival():
    top = entry("a.suing", 0.56, ("民法典第1079条", "民事诉讼法第127条"), "民事诉讼法第127条")
    near = entry("b.agreeing", 0.54, ("民法典第1076条", "民法典第1079条"), "民法典第1076条")
    verdict = choose(ASKED, [top, near], SETTINGS)
    assert (verdict.action, verdict.chosen[0].faq_id) == ("answer", "a.suing")
    assert verdict.reason == "high score 0.56, no entry with another answer near it"


def test_an_entry_resting_on_other_articles_is_a_rival():
    top = entry("a.suing", 0.56, ("民法典第1079条",), "民法典第1079条")
    near = entry("c.support", 0.54, ("民法典第1085条",), "民法典第1085条")
    verdict = choose(ASKED, [top, near], SETTINGS)
    assert verdict.action == "clarify"
    assert [c.faq_id for c in verdict.chosen] == ["a.suing", "c.support"]


def test_the_lead_is_taken_over_the_best_entry_on_other_articles():
    top = entry("a.suing", 0.62, ("民法典第1079条",), "民法典第1079条")
    sharing = entry("b.agreeing", 0.61, ("民法典第1079条", "民法典第1076条"), "民法典第1076条")
    other = entry("c.support", 0.40, ("民法典第1085条",), "民法典第1085条")
    verdict = choose(ASKED, [top, sharing, other], SETTINGS)
    assert verdict.reason == "high score 0.62, a lead of 0.22 over the next entry"


def test_for_one_topic_word_an_entry_sharing_an_article_is_still_a_rival():
    """"打架" alone: its entries share the topic's articles but answer different questions."""
    one_word = Reading(ideas=1, legal=True)
    top = entry("a.fight", 0.9, ("治安管理处罚法第51条",), "治安管理处罚法第51条")
    near = entry("b.mediate", 0.85, ("治安管理处罚法第51条", "治安管理处罚法第9条"), "治安管理处罚法第9条")
    assert choose(one_word, [top, near], SETTINGS).action == "clarify"


def test_one_topic_word_is_answered_only_when_no_other_answer_would_be_offered_beside_it():
    """A lead wider than lead_answer_margin but within clarify_margin (where a second entry would
    be offered as a choice) still asks back; a lead beyond both answers."""
    one_word = Reading(ideas=1, legal=True)
    narrow = dataclasses.replace(SETTINGS, lead_answer_margin=0.1, clarify_margin=0.2)
    top = entry("a.fight", 0.8, ("治安管理处罚法第51条",), "治安管理处罚法第51条")
    asked_back = choose(one_word, [top, entry("b.mediate", 0.65, ("人民调解法第2条",), "人民调解法第2条")], narrow)
    assert asked_back.action == "clarify"
    assert [c.faq_id for c in asked_back.chosen] == ["a.fight", "b.mediate"]   # the same window offers both
    assert choose(one_word, [top, entry("b.mediate", 0.55, ("人民调解法第2条",), "人民调解法第2条")],
                  narrow).action == "answer"


def test_one_word_that_is_a_keyword_of_two_entries_with_other_answers_is_asked_back():
    one_word = Reading(ideas=1, legal=True)
    top = entry("a.fight", 0.9, ("治安管理处罚法第51条",), "治安管理处罚法第51条")
    top = top._replace(features=top.features._replace(keywords=1.0))
    other = entry("b.mediate", 0.5, ("人民调解法第2条",), "人民调解法第2条")   # far behind ...
    other = other._replace(features=other.features._replace(keywords=1.0))   # ... but the word is its keyword too
    assert choose(one_word, [top, other], SETTINGS).action == "clarify"
    alone = other._replace(features=other.features._replace(keywords=0.0))   # the word is not its keyword
    assert choose(one_word, [top, alone], SETTINGS).action == "answer"
