"""bench/calibrate.py judges and fits through the bot's own decision function."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench import calibrate
from bot.core.config import MatcherSettings
from tests.matcher_support import small_matcher

LABELLED = Path(__file__).parent / "data" / "matcher_labelled.jsonl"
START = MatcherSettings(answer_min=0.6, answer_margin=0.05, lead_answer_min=0.45, lead_answer_margin=0.15,
                        clarify_min=0.3, clarify_margin=0.1, clarify_min_weight=4.0)


@pytest.fixture(scope="module")
def observations():
    return calibrate.observe(small_matcher(**dataclasses.asdict(START)), calibrate.load_items(LABELLED))


def scored_like_score_py(item: dict, decision) -> str:
    """What ../shared/eval/score.py would call the bot's decision (calibrate's outcome names)."""
    hit = lambda cites: bool(set(cites) & set(item.get("cite", ())))  # noqa: E731
    if item["expect"] == "answer":
        if decision.action == "answer":
            return "ok" if hit(decision.citations) else "wrong"
        if decision.action == "clarify":
            return "choice" if any(hit(c.citations) for c in decision.candidates) else "badchoice"
        return "miss"
    if item["expect"] == "urgent":
        return "ok" if decision.action == "urgent" else "miss"
    if decision.action in ("chitchat", "fallback"):
        return "ok"
    return "unsafe" if decision.action == "answer" else "badchoice"


def test_calibrate_judges_each_question_as_the_bot_decides_it(observations):
    """The outcome calibrate judges is the one Matcher.decide gives for the same settings."""
    matcher = small_matcher(**dataclasses.asdict(START))
    outcomes = {calibrate.judge(obs, START)[0] for obs in observations}
    assert {"ok", "choice"} <= outcomes   # the file exercises answers and choices
    for obs in observations:
        assert calibrate.judge(obs, START)[0] == scored_like_score_py(obs.item, matcher.decide(obs.item["q"])), obs.item["q"]


def test_unreachable_thresholds_answer_nothing(observations):
    never = dataclasses.replace(START, answer_min=1.5, lead_answer_min=1.5, agree_answer_min=1.5, model_answer_min=1.5)
    counts = calibrate.tally(observations, never)
    assert counts["kb:ok"] + counts["kb:wrong"] == 0


def test_the_search_never_ends_worse_than_it_started(observations):
    start = calibrate.objective(calibrate.tally(observations, START), penalty=4.0)
    fitted = calibrate.search(observations, START, penalty=4.0, rounds=1)
    assert isinstance(fitted, MatcherSettings)
    assert calibrate.objective(calibrate.tally(observations, fitted), penalty=4.0) >= start


def test_the_search_keeps_the_best_of_its_starting_points(observations):
    """Coordinate ascent stops at a local optimum: the search also starts from each of STARTS'
    values and returns the best ending, never worse than any one ascent."""
    value = lambda s: calibrate.objective(calibrate.tally(observations, s), penalty=4.0)  # noqa: E731
    fitted = calibrate.search(observations, START, penalty=4.0, rounds=1)
    for name, values in calibrate.STARTS.items():
        for start in values:
            ascended = calibrate.ascend(observations, dataclasses.replace(START, **{name: start}), 4.0, rounds=1)
            assert value(fitted) >= value(ascended)


def test_the_reliability_table_has_a_row_per_score_band_with_questions(observations):
    table = calibrate.reliability(observations, START).splitlines()
    assert table[0].split() == ["band", "n", "top", "right", "answered", "right"]
    counted = sum(int(row.split()[1]) for row in table[1:])
    assert counted == sum(1 for o in observations if o.item["expect"] == "answer" and not o.early)


def test_the_summary_splits_known_topics_from_new_ones():
    items = [{"q": "彩礼能要回来吗", "expect": "answer", "cite": ["民法典第1042条"], "topic": "test.bride_price"},
             {"q": "网贷逾期了怎么办", "expect": "answer", "cite": ["民法典第675条"], "topic": "new.online_loan"}]
    counts = calibrate.tally(calibrate.observe(small_matcher(**dataclasses.asdict(START)), items), START)
    text = calibrate.summary("x", counts)
    assert "topics with an entry (1)" in text and "new.* topics (1)" in text


def test_a_question_read_again_is_ranked_from_its_own_candidates(observations):
    """Rankings are remembered on each observation: a new observation that takes a freed one's
    id (CPython reuses the address at once) is ranked from its own candidates."""
    first, second = observations[0], next(o for o in observations[1:] if o.candidates)
    old = calibrate.Observation(first.item, first.early, first.reading, list(first.candidates))
    calibrate.ranked_for(old, START)
    old_id, candidates = id(old), list(second.candidates)
    del old
    new = calibrate.Observation(second.item, second.early, second.reading, candidates)
    if id(new) != old_id:
        pytest.skip("the interpreter did not reuse the address")
    assert [c.faq_id for _, c in calibrate.ranked_for(new, START)] == \
        [c.faq_id for _, c in calibrate.rank(second.candidates, START)]


def test_the_search_keeps_the_bounds_on_every_route_as_configured(observations):
    """answer_floor, lead_min and model_rival_margin cost answers on the questions a fit sees and
    pay off on others: the search never moves them, and the fitted table still prints them."""
    bounded = dataclasses.replace(START, answer_floor=0.35, lead_min=0.07, model_rival_margin=0.1)
    fitted = calibrate.search(observations, bounded, penalty=4.0, rounds=1)
    assert (fitted.answer_floor, fitted.lead_min, fitted.model_rival_margin) == (0.35, 0.07, 0.1)
    printed = calibrate.as_toml(fitted).splitlines()
    assert {"answer_floor = 0.35", "lead_min = 0.07", "model_rival_margin = 0.1"} <= set(printed)
