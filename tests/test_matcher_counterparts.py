"""Who the other side is (bot/retrieval/counterparts.py): read from the question and from each
entry's own texts, shown as the ``counterpart`` feature, and pushing down an entry that never
names the party the question is against."""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT, ConfigError, MatcherSettings
from bot.core.text import DictionaryError
from bot.kb.knowledge import KnowledgeBase, load_statutes, read_entries
from bot.retrieval.counterparts import build_counterparts, relation
from bot.retrieval.lexicons import default_lexicons
from bot.retrieval.decision import Features, score
from bot.retrieval.matcher import Matcher

DATA = Path(__file__).parent / "data" / "matcher_counterparts.toml"
LEXICON = build_counterparts({"counterpart": {"neighbour": {"words": ["邻居", "隔壁", "邻家"]},
                                              "village": {"words": ["村委会", "村里", "村集体"]}}})


@lru_cache(maxsize=1)
def two_entry_kb() -> KnowledgeBase:
    entries, errors = read_entries(DATA, DATA.parent)
    assert not errors, errors
    return KnowledgeBase(entries, load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes")))


def matcher(**settings) -> Matcher:
    return Matcher(two_entry_kb(), MatcherSettings(**settings), model_cache=None, counterparts=LEXICON)


def by_id(candidates) -> dict:
    return {c.faq_id: c.features for c in candidates}


def test_the_kinds_of_party_a_text_names_are_read():
    assert LEXICON.named_in("隔壁 那户 占了 我家 的 地") == {"neighbour"}
    assert LEXICON.named_in("村里和邻居都来量地") == {"neighbour", "village"}
    assert LEXICON.named_in("我家的地被人占了") == frozenset()


def test_relation_compares_the_question_with_the_entry():
    assert relation(frozenset({"neighbour"}), frozenset({"neighbour", "village"})) == 1
    assert relation(frozenset({"neighbour"}), frozenset({"village"})) == -1
    assert relation(frozenset({"neighbour"}), frozenset()) == -1
    assert relation(frozenset(), frozenset({"village"})) == 0


def test_each_entry_names_the_parties_of_its_own_phrasings():
    parties = {item.entry.id: item.parties for item in matcher().entries}
    assert parties == {"test.neighbour_took_land": {"neighbour"}, "test.village_took_land": {"village"}}


def test_the_counterpart_feature_says_which_entry_is_against_the_party_asked_about():
    _, query, candidates = matcher().examine("我家老宅的地基被隔壁占了一块怎么办")
    assert query.reading.parties == {"neighbour"}
    features = by_id(candidates)
    assert features["test.neighbour_took_land"].counterpart == 1
    assert features["test.village_took_land"].counterpart == -1
    assert "counterpart" in features["test.village_took_land"].as_json()


def test_a_question_naming_no_party_compares_nothing():
    _, _, candidates = matcher().examine("地基被占了怎么办")
    assert {f.counterpart for f in by_id(candidates).values()} == {0}


def test_the_penalty_moves_the_entry_against_the_other_party_down():
    question = "村里要把我家盖房的地基收回去 凭什么"
    before = {c.faq_id: c.score for c in matcher().decide(question).candidates}
    after = {c.faq_id: c.score for c in matcher(counterpart_penalty=0.3).decide(question).candidates}
    assert after["test.village_took_land"] == pytest.approx(before["test.village_took_land"])
    assert after["test.neighbour_took_land"] == pytest.approx(before["test.neighbour_took_land"] - 0.3, abs=2e-3)


def test_the_score_loses_the_counterpart_penalty_only_for_a_mismatch():
    s = MatcherSettings(counterpart_penalty=0.2)
    base = Features(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 8.0, 2, 0, 0.5)
    assert score(base._replace(counterpart=-1), s) == pytest.approx(score(base, s) - 0.2)
    assert score(base._replace(counterpart=1), s) == pytest.approx(score(base, s))


def test_the_shipped_lexicon_loads_and_names_the_kinds_the_issue_needs():
    shipped = default_lexicons().counterparts
    kinds = {kind for kind, _ in shipped.kinds}
    assert {"neighbour", "relative", "village", "government", "business"} <= kinds
    assert shipped.named_in("老板不给工钱") == {"business"}


@pytest.mark.parametrize("broken, message", [
    ({}, "counterpart.<kind>"),
    ({"counterpart": {"neighbour": {"words": []}}}, "counterpart.neighbour"),
    ({"counterpart": {"neighbour": {"words": ["邻居", " "]}}}, "empty or not text"),
    ({"counterpart": {"neighbour": "邻居"}}, "counterpart.neighbour"),
])
def test_a_broken_counterpart_lexicon_is_refused_naming_the_table(broken, message):
    with pytest.raises(DictionaryError, match=message.replace(".", r"\.").replace("<", ".").replace(">", ".")):
        build_counterparts(broken)


def test_a_negative_counterpart_penalty_is_refused():
    with pytest.raises(ConfigError, match="counterpart_penalty"):
        dataclasses.replace(MatcherSettings(), counterpart_penalty=-0.1)
