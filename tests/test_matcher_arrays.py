"""The features computed as arrays (bot/retrieval/entryarrays.py) are the loop definitions.

Each definition below walks the question's words entry by entry and phrasing by phrasing, as
the matcher did before the arrays: the arrays must give the same values (within the last bits:
the sums run over the ideas in another order), the same closest phrasing, and the same tie rule
(the phrasing listed first; the first one when no phrasing shares a word)."""
from __future__ import annotations

import pytest

from bot.core.config import MatcherSettings
from bot.kb.knowledge import KnowledgeBase
from bot.retrieval.entryarrays import closest
from bot.retrieval.matcher import Matcher
from tests.matcher_support import small_matcher
from tests.test_matcher import entry
from tests.test_matcher_memo import QUESTIONS

TOLERANCE = dict(rel=1e-12, abs=1e-12)


def loop_closest(query, item) -> tuple[float, int]:
    """Dice by its definition: each phrasing, each of the question's ideas at its heaviest
    alternative among the phrasing's words; the first phrasing on a tie."""
    top, top_index = 0.0, 0
    for index, phrasing in enumerate(item.phrasings):
        best: dict[int, float] = {}
        for word in phrasing.words & query.words:
            for number, weight in query.slots[word]:
                best[number] = max(best.get(number, 0.0), weight)
        dice = 2 * sum(best.values()) / (query.total + phrasing.weight)
        if dice > top:
            top, top_index = dice, index
    return top, top_index


def loop_word_features(query, item) -> tuple[float, float, float, float, int]:
    """(shared, central, keywords, answer, anchors) by their definitions: each idea at its
    heaviest word among the entry's phrasings and keywords (at that word's focus, the highest
    on a tie), among its keywords, and only in its answer text; the legal ideas found."""
    found: dict[int, tuple[float, float]] = {}
    for word in query.words & item.bag:
        for number, weight in query.slots[word]:
            found[number] = max(found.get(number, (0.0, 0.0)), (weight, item.focus.get(word, 0.0)))
    keywords = best_per_idea(query, query.words & item.keywords)
    answer = best_per_idea(query, query.words & item.answer)
    return (sum(w for w, _ in found.values()), sum(w * c for w, c in found.values()), sum(keywords.values()),
            sum(w for n, w in answer.items() if n not in found), sum(query.legal[n] for n in found))


def best_per_idea(query, words) -> dict[int, float]:
    best: dict[int, float] = {}
    for word in words:
        for number, weight in query.slots[word]:
            best[number] = max(best.get(number, 0.0), weight)
    return best


@pytest.fixture(scope="module")
def matcher():
    return small_matcher()


def test_the_closest_phrasing_of_every_entry_is_the_one_dice_by_its_definition_picks(matcher):
    everyone = list(range(len(matcher.entries)))
    for question in QUESTIONS:
        query = matcher.query(question)
        closeness, places = closest(matcher.arrays, matcher.columns(query), everyone)
        for number, near, place in zip(everyone, closeness, places):
            expected, index = loop_closest(query, matcher.entries[number])
            assert near == pytest.approx(expected, **TOLERANCE)
            assert place == index, (question, matcher.entries[number].entry.id)


def test_the_word_features_of_every_entry_equal_their_loop_definitions(matcher):
    everyone = list(range(len(matcher.entries)))
    for question in QUESTIONS:
        query = matcher.query(question)
        features = matcher.features(query, everyone, [0.0] * len(everyone))
        for number, f in zip(everyone, features):
            shared, central, keywords, answer, anchors = loop_word_features(query, matcher.entries[number])
            assert f.shared == pytest.approx(shared, **TOLERANCE)
            assert f.coverage == pytest.approx(shared / query.total, **TOLERANCE)
            assert f.focus == pytest.approx(central / query.total, **TOLERANCE)
            assert f.keywords == pytest.approx(keywords / query.total, **TOLERANCE)
            assert f.answer == pytest.approx(answer / query.total, **TOLERANCE)
            assert f.anchors == anchors and isinstance(f.anchors, int)


def test_two_phrasings_tied_exactly_go_to_the_one_listed_first():
    twins = entry("tie.twins", ["宅基地被占了 怎么办", "宅基地被占了 咋办", "邻居占了宅基地"], ["宅基地"])
    other = entry("tie.other", ["工钱不给怎么办"], ["工钱"])
    matcher = Matcher(KnowledgeBase([other, twins], statutes=None), MatcherSettings())
    query = matcher.query("宅基地被占了")
    (near,), (place,) = closest(matcher.arrays, matcher.columns(query), [1])
    assert loop_closest(query, matcher.entries[1]) == pytest.approx((near, 0))
    assert place == 0 and near > 0.0


def test_an_entry_sharing_no_word_with_a_phrasing_gets_its_first_phrasing_at_zero():
    land = entry("none.land", ["宅基地被占了", "邻居占了宅基地"], ["宅基地"])
    wages = entry("none.wages", ["工钱不给怎么办", "老板拖欠工钱"], ["工钱"])
    matcher = Matcher(KnowledgeBase([land, wages], statutes=None), MatcherSettings())
    query = matcher.query("老板拖欠工钱")
    closeness, places = closest(matcher.arrays, matcher.columns(query), [0, 1, 0])
    assert closeness[0] == closeness[2] == 0.0 and places[0] == places[2] == 0
    assert places[1] == 1 and closeness[1] > 0.5     # the same entry twice is read twice alike


def test_a_question_with_no_known_word_has_no_word_features():
    matcher = small_matcher()
    query = matcher.query("火星上的月亮")
    features = matcher.features(query, [0, 1], [0.5, 0.5])
    assert [(f.coverage, f.closeness, f.keywords, f.answer, f.anchors) for f in features] == [(0.0, 0.0, 0.0, 0.0, 0)] * 2
