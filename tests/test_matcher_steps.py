"""The matcher's steps one by one: reading the question, features, the decision and its reason."""
from __future__ import annotations

import dataclasses

import pytest

from bot.core.config import ConfigError, MatcherSettings
from bot.retrieval.decision import Candidate, Features, Reading, choose, rank, score
from bot.retrieval.lexicons import default_lexicons
from bot.retrieval.question import build_lexicon, clauses, core_flags
from bot.core.text import DictionaryError
from tests.matcher_support import small_matcher

SETTINGS = MatcherSettings(answer_min=0.6, answer_margin=0.05, lead_answer_min=0.45, lead_answer_margin=0.15,
                           clarify_min=0.3, clarify_margin=0.1, clarify_min_weight=4.0, agree_count=5)
LEGAL = Reading(ideas=4, legal=True)


def features(level: float, *, shared: float = 8.0, anchors: int = 2, role: int = 0) -> Features:
    """Features whose blended score is ``level`` whatever the weights (every share equal)."""
    return Features(coverage=level, focus=level, closeness=level, shape=level, keywords=level,
                    answer=level, chars=level, shared=shared, anchors=anchors, role=role)


def entry(faq_id: str, level: float, quoted: str | None = None, **kw) -> Candidate:
    return Candidate(faq_id, f"{faq_id}?", (quoted or f"民法典第{ord(faq_id[0])}条",), quoted or faq_id,
                     "测试", features(level, **kw))


# --- the decision: a pure function of features and settings ---------------------------------

def test_the_score_is_the_weighted_blend_scaled_to_one():
    assert score(features(0.7), SETTINGS) == pytest.approx(0.7)
    only_closeness = dataclasses.replace(SETTINGS, w_coverage=0, w_focus=0, w_shape=0, w_keywords=0,
                                         w_answer=0, w_chars=0, w_closeness=1)
    mixed = features(0.2)._replace(closeness=0.9)
    assert score(mixed, only_closeness) == pytest.approx(0.9)


def test_a_high_score_with_a_lead_is_answered_with_its_reason():
    verdict = choose(LEGAL, [entry("a.one", 0.8), entry("b.two", 0.5)], SETTINGS)
    assert verdict.action == "answer" and verdict.chosen[0].faq_id == "a.one"
    assert verdict.reason == "high score 0.80, a lead of 0.30 over the next entry"


def test_a_modest_score_alone_on_its_topic_is_answered_and_says_so():
    verdict = choose(LEGAL, [entry("a.one", 0.5)], SETTINGS)
    assert (verdict.action, verdict.reason) == ("answer", "score 0.50, no entry with another answer near it")


def test_two_close_entries_are_offered_as_choices():
    verdict = choose(LEGAL, [entry("a.one", 0.55), entry("b.two", 0.52), entry("c.three", 0.1)], SETTINGS)
    assert verdict.action == "clarify"
    assert [c.faq_id for c in verdict.chosen] == ["a.one", "b.two"]
    assert verdict.reason.startswith("close entries")


def test_a_modest_score_every_measure_agrees_on_is_answered():
    agreeing = dataclasses.replace(SETTINGS, agree_answer_min=0.45, agree_count=4)
    close = [entry("a.one", 0.55), entry("b.two", 0.52)]
    verdict = choose(LEGAL, close, agreeing)
    assert verdict.action == "answer" and verdict.reason == "every measure puts it first (4/4)"
    split = [entry("a.one", 0.55), Candidate("b.two", "b?", ("民法典第1条",), "b", "测试",
                                             features(0.52)._replace(closeness=0.6))]
    assert choose(LEGAL, split, agreeing).action == "clarify"   # closeness prefers the other one


def test_a_close_second_quoting_the_same_article_is_no_rival():
    same = [entry("a.one", 0.62, "民法典第1042条"), entry("b.two", 0.61, "民法典第1042条")]
    assert choose(LEGAL, same, SETTINGS).action == "answer"


def test_nothing_close_enough_falls_back():
    verdict = choose(LEGAL, [entry("a.one", 0.2)], SETTINGS)
    assert verdict.action == "fallback" and verdict.reason.startswith("nothing close enough")


def test_a_message_with_no_legal_word_is_never_answered_however_high_the_score():
    verdict = choose(Reading(ideas=3, legal=False), [entry("a.one", 0.95)], SETTINGS)
    assert (verdict.action, verdict.reason) == ("fallback", "no legal word")


def test_a_field_the_service_does_not_handle_falls_back_without_choices():
    reading = Reading(ideas=3, legal=True, outside="intellectual_property: 专利")
    verdict = choose(reading, [entry("a.one", 0.95), entry("b.two", 0.9)], SETTINGS)
    assert verdict.action == "fallback" and "outside the service" in verdict.reason


def test_an_entry_sharing_no_legal_word_is_not_answered():
    verdict = choose(LEGAL, [entry("a.one", 0.9, anchors=0)], SETTINGS)
    assert verdict.action != "answer"


def test_the_other_sides_entry_is_pushed_down_and_never_answered():
    ranked = rank([entry("wrongdoer", 0.9, role=-1), entry("victim", 0.7, role=1)], SETTINGS)
    assert [c.faq_id for _, c in ranked] == ["victim", "wrongdoer"]
    alone = choose(LEGAL, [entry("wrongdoer", 0.95, role=-1)], SETTINGS)
    assert alone.action == "fallback" and alone.chosen == []


def test_a_single_topic_word_needs_a_wide_lead():
    one_idea = Reading(ideas=1, legal=True)
    verdict = choose(one_idea, [entry("a.one", 0.9), entry("b.two", 0.8)], SETTINGS)
    assert verdict.action == "clarify" and verdict.reason == "one topic word: which question?"


# --- settings are validated at load ----------------------------------------------------------

@pytest.mark.parametrize("bad", [{"w_coverage": -0.1}, {"answer_min": 2.0}, {"background_weight": 3},
                                 {"clarify_min": 0.7, "answer_min": 0.6}, {"max_choices": 0}])
def test_matcher_settings_out_of_range_are_refused(bad):
    with pytest.raises(ConfigError):
        MatcherSettings(**bad)


# --- reading a question ----------------------------------------------------------------------

def test_the_clause_that_asks_is_the_core_of_a_story():
    parts = clauses("我家去年盖了新房 邻居说占了他家的地 现在他天天来闹 宅基地到底归谁")
    flags = core_flags(parts, default_lexicons().question, default_lexicons().dictionaries.word_groups)
    assert [p for p, f in zip(parts, flags) if f] == ["宅基地到底归谁"]


def test_a_bare_question_clause_leans_on_the_clause_before_it():
    parts = clauses("昨天晚上我爸被人用砖头砸伤了 我们该怎么办")
    assert core_flags(parts, default_lexicons().question, default_lexicons().dictionaries.word_groups) == [True, True]


def test_a_story_without_a_question_is_all_core():
    parts = clauses("被人在网上骂了 有截图")
    assert core_flags(parts, default_lexicons().question, default_lexicons().dictionaries.word_groups) == [True, True]


def test_background_words_count_less_than_the_asking_clause():
    matcher = small_matcher(**dataclasses.asdict(SETTINGS) | {"background_weight": 0.5})
    story = matcher.query("去年借给邻居五千块钱 宅基地怎么申请")
    weights = {next(iter(g[0][0])): w for g, w in zip(story.groups, story.weights)}
    alone = matcher.query("宅基地怎么申请")
    assert weights["宅基地"] == pytest.approx(alone.weights[0])
    assert weights["邻居"] < matcher.query("邻居").weights[0]


@pytest.mark.parametrize("question, roles", [
    ("我被人打了怎么办", {"victim"}), ("孩子在学校被同学打了", {"victim"}),
    ("我把人打伤了要赔多少", {"wrongdoer"}), ("我开车撞了别人的电动车", {"wrongdoer"}),
    ("欠条丢了怎么办", {"creditor"}), ("别人欠我钱一直不还", {"creditor"}),
    ("我欠钱还不上了怎么办", {"debtor"}), ("网贷逾期了天天催收", {"debtor"}),
    ("他先打我 我也还手把他打伤了", set()),
])
def test_the_askers_side_is_read_from_the_question(question, roles):
    from bot.core.text import normalize
    assert default_lexicons().question.roles_of(normalize(question)) == roles


@pytest.mark.parametrize("question, field", [("我想申请一个专利", "intellectual_property"),
                                             ("公司股东怎么退股", "company"), ("个人所得税怎么算", "tax")])
def test_fields_outside_the_service_are_named(question, field):
    assert default_lexicons().question.field_outside(question).startswith(field)


def test_a_villagers_share_in_the_collective_is_not_company_law():
    assert default_lexicons().question.field_outside("村集体股份分红外嫁女有没有份") is None


@pytest.mark.parametrize("broken, message", [
    ({"roles": {"thief": ["偷"]}}, "unknown role"),
    ({"roles": {"victim": ["被(打"]}}, "[roles] victim"),
    ({"legal": {"words": [], "people": ["妻子"]}}, "[legal] words"),
])
def test_a_broken_question_lexicon_is_refused_naming_the_table(broken, message):
    import tomllib
    from bot.core.text import DICT_DIR
    data = tomllib.loads((DICT_DIR / "question.toml").read_text(encoding="utf-8")) | broken
    with pytest.raises(DictionaryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        build_lexicon(data)


def test_the_shortlists_heaviest_entries_come_best_first_and_by_number_on_a_tie():
    """``heaviest`` picks what ``heapq.nsmallest`` of (-total, number) picks, also when many
    entries tie at the edge of the shortlist (the lower numbers get the places)."""
    import heapq
    import random
    from bot.retrieval.matcher import heaviest
    rng = random.Random(5)
    assert heaviest({}, 12) == []
    assert heaviest({7: 1.0, 3: 2.0, 5: 1.0, 1: 1.0}, 3) == [3, 1, 5]
    for _ in range(500):
        totals = {n: rng.choice([0.5, 1.0, 1.25, 2.0, rng.random()]) for n in rng.sample(range(400), rng.randint(1, 60))}
        for count in (1, 3, 12):
            expected = [n for _, n in heapq.nsmallest(count, [(-t, n) for n, t in totals.items()])]
            assert heaviest(totals, count) == expected
