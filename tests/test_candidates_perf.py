"""The matcher's candidates and decision, made with less work: each cheaper form gives exactly
what the plainer one gave (the same order, the same floats to the last bit, the same reply)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import random

from bot.core.config import MatcherSettings, load_config
from bot.kb.knowledge import FaqEntry, KnowledgeBase, compose_reply, composed_reply, load_statutes
from bot.retrieval.decision import BLENDED, Candidate, Features, Verdict, rank, score, scores
from bot.retrieval.matcher import decision_of, heaviest
from tests.test_knowledge import STATUTES


def random_features(rng: random.Random) -> Features:
    share = lambda: rng.choice([0.0, 1.0, rng.random(), rng.random() / 3])   # noqa: E731
    return Features(share(), share(), share(), share(), share(), share(), share(), rng.random() * 9,
                    rng.randint(0, 3), rng.choice([-1, 0, 1]), share(), rng.choice([-1, 0, 1]))


def random_settings(rng: random.Random) -> MatcherSettings:
    weights = {f"w_{name}": rng.choice([0.0, 1.0, rng.random(), rng.random() * 1.5]) for name in BLENDED}
    return dataclasses.replace(MatcherSettings(), role_penalty=rng.random(), counterpart_penalty=rng.random(),
                               **weights)


def plain_score(f: Features, s: MatcherSettings) -> float:
    """The score as a sum over a generator of products (its form before ``scores``)."""
    weights = tuple(getattr(s, "w_" + name) for name in BLENDED)
    values = tuple(getattr(f, name) for name in BLENDED)
    blended = sum(w * v for w, v in zip(weights, values)) / (sum(weights) or 1.0)
    return (blended - (s.role_penalty if f.role < 0 else 0.0)
            - (s.counterpart_penalty if f.counterpart < 0 else 0.0))


def candidate(n: int, f: Features) -> Candidate:
    return Candidate(f"e{n}", f"问题{n}", (f"民法典第{n}条",), f"民法典第{n}条", "测试", f)


def test_scores_are_the_plain_sum_of_products_to_the_last_bit():
    rng = random.Random(5)
    for _ in range(300):
        s = random_settings(rng)
        features = [random_features(rng) for _ in range(rng.randint(1, 12))]
        expected = [plain_score(f, s) for f in features]
        assert [repr(x) for x in scores(features, s)] == [repr(x) for x in expected]
        assert repr(score(features[0], s)) == repr(expected[0])


def test_rank_puts_the_best_first_and_keeps_tied_candidates_in_the_order_found():
    rng = random.Random(6)
    for _ in range(300):
        s = random_settings(rng)
        pool = [random_features(rng) for _ in range(3)]       # few distinct features: many exact ties
        candidates = [candidate(n, rng.choice(pool)) for n in range(rng.randint(1, 12))]
        by_key = sorted(((plain_score(c.features, s), n, c) for n, c in enumerate(candidates)),
                        key=lambda t: (-t[0], t[1]))
        assert rank(candidates, s) == [(sc, c) for sc, _, c in by_key]


def test_heaviest_is_the_highest_totals_with_the_lower_number_first_on_a_tie():
    rng = random.Random(7)
    for _ in range(500):
        levels = [rng.random() for _ in range(rng.randint(1, 4))]
        totals = {rng.randrange(400): rng.choice(levels) for _ in range(rng.randint(0, 80))}
        count = rng.randint(1, 14)
        assert heaviest(totals, count) == [n for _, n in heapq.nsmallest(count, ((-t, n) for n, t in totals.items()))]


def test_a_decision_shows_the_candidates_its_action_shows():
    s = MatcherSettings()
    ranked = [(0.9 - n / 20, candidate(n, Features(*[0.5] * 8, 2, 0))) for n in range(8)]
    answer = decision_of(Verdict("answer", "why", ranked, [ranked[0][1]]), None, s)
    fallback = decision_of(Verdict("fallback", "why", ranked), None, s)
    clarify = decision_of(Verdict("clarify", "why", ranked, [ranked[2][1], ranked[1][1]]), None, s)
    assert [c.faq_id for c in answer.candidates] == [f"e{n}" for n in range(s.max_choices + 2)]
    assert [c.faq_id for c in fallback.candidates] == [f"e{n}" for n in range(s.max_choices)]
    assert [(c.faq_id, c.score) for c in clarify.candidates] == [("e2", ranked[2][0]), ("e1", ranked[1][0])]
    assert answer.candidates[1].score == ranked[1][0] and dict(answer.candidates[1].features)["anchors"] == 2


def faq_entry(answer: str = "可以去{court}起诉离婚。") -> FaqEntry:
    return FaqEntry(id="marriage.divorce_lawsuit", category="婚姻家庭", questions=("老婆不肯离婚能起诉吗",),
                    keywords=("起诉离婚",), answer=answer, citations=("民法典第1079条",), quote=None,
                    other_sources=(), needs_person=False, reviewed=dt.date(2026, 11, 1), source="test.toml")


def test_a_reply_is_composed_once_per_entry_and_config_and_is_the_same_text(tmp_path):
    config = load_config(overrides={"app": {"db_path": str(tmp_path / "x.db")}}, environ={})
    first = faq_entry()
    kb = KnowledgeBase([first], load_statutes(STATUTES))
    reply = compose_reply(first, kb, config)
    assert reply == composed_reply(first, kb, config) and "起诉离婚" in reply
    assert compose_reply(first, kb, config) is reply                      # kept
    draft = faq_entry("草稿：可以去{court}起诉。")                           # same id, another entry object
    assert compose_reply(draft, kb, config) == composed_reply(draft, kb, config) != reply
    other = dataclasses.replace(config, local={**config.local, "court": "别的法院"})
    assert "别的法院" in compose_reply(first, kb, other) and compose_reply(first, kb, config) is reply


def test_the_kept_replies_are_bounded():
    config = load_config(environ={})
    kb = KnowledgeBase([faq_entry()], load_statutes(STATUTES))
    for n in range(600):
        compose_reply(faq_entry(f"第{n}种回答。"), kb, config)
        assert len(kb.replies) <= len(kb.entries) + 256
