"""The entry model (bot/retrieval/entrymodel.py): learned from the knowledge base's own phrasings, it tells
neighbouring entries apart, calibrates its probabilities on held-out phrasings, is cached on disk
under a key of what it was trained on, and its probability is a feature of every candidate."""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from bot.retrieval import entrymodel
from bot.core.config import MatcherSettings
from bot.retrieval.decision import Candidate, Features, Reading, choose
from bot.kb.knowledge import FaqEntry, KnowledgeBase
from bot.retrieval.matcher import Matcher


def faq(faq_id: str, questions: list[str], keywords: list[str], article: str, answer: str = "测试答案。") -> FaqEntry:
    return FaqEntry(id=faq_id, category="测试", questions=tuple(questions), keywords=tuple(keywords),
                    answer=answer, citations=(article,), quote=article, other_sources=(),
                    needs_person=False, reviewed=dt.date(2026, 11, 30), source="tests")


# Two entries on the same matter (a child after a divorce) whose phrasings share most words;
# what tells them apart is seeing the child or paying for it.
VISIT = faq("child.visit", ["离婚后对方不让我见孩子怎么办", "离婚了孩子在对方那里 我想去接孩子过周末",
                            "前妻不让我探望孩子", "离婚以后多久能看一次孩子", "放假了想接孩子回家住几天"],
            ["探望", "见孩子", "接孩子"], "民法典第1086条")
SUPPORT = faq("child.support", ["离婚后对方不给孩子生活费怎么办", "离婚了孩子跟我 对方每个月该给多少钱",
                                "前夫不出抚养费", "离婚以后孩子上学的钱谁出"], ["抚养费", "生活费"], "民法典第1085条")
LOAN = faq("loan", ["借钱给别人他一直不还", "有借条对方不还钱能起诉吗"], ["借条", "借款"], "民法典第675条")
SETTINGS = MatcherSettings(w_model=0.3)


def matcher_of(entries: list[FaqEntry], cache=None) -> Matcher:
    return Matcher(KnowledgeBase(entries, statutes=None), SETTINGS, model_cache=cache)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return matcher_of([VISIT, SUPPORT, LOAN])


def shares(matcher: Matcher, question: str) -> dict[str, float]:
    numbers = [0, 1]
    found = matcher.model.probabilities(matcher.query(question).terms, numbers)
    return {matcher.entries[n].entry.id: p for n, p in zip(numbers, found)}


@pytest.mark.parametrize("question, faq_id", [
    ("离婚后她不让我接孩子", "child.visit"),
    ("离婚后孩子的生活费对方一分不给", "child.support"),
])
def test_the_model_learns_which_words_tell_two_neighbouring_entries_apart(matcher, question, faq_id):
    found = shares(matcher, question)
    assert found[faq_id] > 0.7 and sum(found.values()) == pytest.approx(1.0)


# Its words lean to the support entry's phrasing ("孩子跟我 对方"); 接孩子 says it is about a visit.
AMBIGUOUS = "离婚后孩子跟对方 我想接孩子"


def test_each_candidate_carries_the_model_probability_in_its_features(matcher):
    decision = matcher.decide(AMBIGUOUS)
    models = {c.faq_id: c.features["model"] for c in decision.candidates}
    assert models["child.visit"] > models["child.support"]
    assert sum(models.values()) == pytest.approx(1.0, abs=0.01)


def test_the_model_raises_the_right_neighbour_in_the_ranking(matcher):
    without = Matcher(matcher.kb, dataclasses.replace(SETTINGS, w_model=0.0), model_cache=None)
    lift = [next(c.score for c in m.decide(AMBIGUOUS).candidates if c.faq_id == "child.visit")
            - next(c.score for c in m.decide(AMBIGUOUS).candidates if c.faq_id == "child.support")
            for m in (without, matcher)]
    assert lift[1] > lift[0]


def count_training(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = entrymodel.train

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(entrymodel, "train", counted)
    return calls


def test_the_model_is_read_from_its_cache_and_trained_again_when_an_entry_changes(tmp_path, monkeypatch):
    calls = count_training(monkeypatch)
    first = matcher_of([VISIT, SUPPORT, LOAN], tmp_path)
    again = matcher_of([VISIT, SUPPORT, LOAN], tmp_path)
    assert len(calls) == 1 and len(list(tmp_path.glob("entrymodel-*.npz"))) == 1
    question = first.query("离婚后她不让我接孩子").terms
    assert again.model.probabilities(question, [0, 1, 2]) == pytest.approx(first.model.probabilities(question, [0, 1, 2]))
    changed = dataclasses.replace(SUPPORT, questions=SUPPORT.questions + ("孩子的学费对方不管",))
    matcher_of([VISIT, changed, LOAN], tmp_path)
    assert len(calls) == 2 and len(list(tmp_path.glob("entrymodel-*.npz"))) == 2


def test_an_unreadable_cached_model_is_trained_again(tmp_path, monkeypatch):
    calls = count_training(monkeypatch)
    matcher_of([VISIT, SUPPORT, LOAN], tmp_path)
    [cached] = tmp_path.glob("entrymodel-*.npz")
    cached.write_bytes(b"not a model")
    rebuilt = matcher_of([VISIT, SUPPORT, LOAN], tmp_path)
    assert len(calls) == 2 and rebuilt.decide("离婚后她不让我接孩子").candidates


def test_a_knowledge_base_of_one_entry_or_none_still_builds():
    assert matcher_of([LOAN]).decide("借条丢了 钱还能要回来吗").candidates[0].features["model"] == 1.0
    assert matcher_of([]).decide("借条丢了 钱还能要回来吗").action == "fallback"


def test_the_temperature_is_fitted_to_the_held_out_predictions():
    confident_and_wrong = [np.array([0.0, 4.0]), np.array([4.0, 0.0]), np.array([4.0, 0.0])]
    timid_and_right = [np.array([0.5, 0.0])] * 9 + [np.array([0.0, 0.5])]
    assert entrymodel.best_temperature(confident_and_wrong) > 1.0
    assert entrymodel.best_temperature(timid_and_right) < 1.0
    assert entrymodel.best_temperature([]) == 1.0


# --- the decision rule that uses it ---------------------------------------------------------

def candidate(faq_id: str, article: str, coverage: float, model: float) -> Candidate:
    features = Features(coverage, coverage, coverage, coverage, 0.0, 0.0, coverage, 6.0, 2, 0, model)
    return Candidate(faq_id, faq_id, (article,), article, "测试", features)


MODEST = MatcherSettings(answer_min=0.9, lead_answer_min=0.9, agree_count=5, w_model=0.0,
                         model_answer_min=0.6, model_score_min=0.3)
READING = Reading(ideas=4, legal=True)


def test_a_modest_score_is_answered_when_the_model_puts_the_same_entry_first():
    verdict = choose(READING, [candidate("a", "民法典第1条", 0.45, 0.8), candidate("b", "民法典第2条", 0.42, 0.2)], MODEST)
    assert (verdict.action, verdict.chosen[0].faq_id) == ("answer", "a")
    assert verdict.reason.startswith("the entry model puts it first")


@pytest.mark.parametrize("top_model, other_model", [(0.8, 0.9), (0.5, 0.1)])
def test_no_answer_when_the_model_prefers_another_entry_or_is_unsure(top_model, other_model):
    verdict = choose(READING, [candidate("a", "民法典第1条", 0.45, top_model),
                               candidate("b", "民法典第2条", 0.42, other_model)], MODEST)
    assert verdict.action == "clarify"


def test_the_model_trains_on_the_entries_own_phrasings_keywords_and_answers_only(matcher):
    """Nothing but the knowledge base goes in: per entry one text per phrasing (in folds), its
    keywords together, and its answer at a lower weight; the keywords and answer are always trained on."""
    samples = entrymodel.samples_of(matcher.entries)
    per_entry = {n: [s for s in samples if s.entry == n] for n in range(len(matcher.entries))}
    for n, item in enumerate(matcher.entries):
        phrasings = [s for s in per_entry[n] if s.fold >= 0]
        assert len(phrasings) == len(item.phrasings)
        assert sorted(s.weight for s in per_entry[n] if s.fold < 0) == [entrymodel.ANSWER_WEIGHT, 1.0]


def test_a_model_threshold_above_one_turns_the_model_route_off():
    """The tests' 'never answer' settings rely on it: no probability reaches 1.01."""
    off = dataclasses.replace(MODEST, model_answer_min=1.01)
    verdict = choose(READING, [candidate("a", "民法典第1条", 0.45, 1.0), candidate("b", "民法典第2条", 0.42, 0.0)], off)
    assert verdict.action == "clarify"


def test_the_model_reads_the_story_around_the_question_at_the_background_weight(matcher):
    """As in the score, words of the story before the asking clause count less than the question's."""
    terms = dict(matcher.query("前年借钱给别人。离婚后她不让我接孩子怎么办").terms)
    assert terms["借钱"] == pytest.approx(SETTINGS.background_weight)
    assert terms["离婚"] == terms["孩子"] == 1.0
