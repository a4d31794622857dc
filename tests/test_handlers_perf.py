"""The handlers' shortcuts (the work before the question handler and around the matcher) give
exactly what the longer way gave: the category of a hand-over without law search when its votes
cannot change the winner, small talk told from a question without cutting it, the escalation
rules' first look, and the handlers that no longer read every text."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.retrieval import categories

CATEGORIES = ["婚姻家庭", "土地与宅基地", "劳动用工", "借贷与合同", "邻里纠纷"]


@dataclass(frozen=True)
class Candidate:
    faq_id: str
    score: float


@dataclass(frozen=True)
class Hit:
    citation: str
    law: str
    score: float


class LawIndex:
    """Law search that answers fixed hits and counts how often it was asked."""

    def __init__(self, hits):
        self.hits, self.asked = hits, 0

    def search(self, question, k):
        self.asked += 1
        return self.hits[:k]


def services_with(hits):
    entries = [SimpleNamespace(id=f"e{n}", category=CATEGORIES[n % len(CATEGORIES)],
                               citations=[f"法{n % 4}第{n}条"]) for n in range(10)]
    kb = SimpleNamespace(entries=entries, statutes={})
    return SimpleNamespace(knowledge=kb, law_index=LawIndex(hits))


def every_vote(services, question, candidates, rule_category=None):
    """``categories.infer`` as it was: law search asked for every question."""
    cmap = categories.category_map(services.knowledge)
    votes: Counter = Counter()
    for candidate in candidates[:categories.CANDIDATES]:
        category = cmap.by_entry.get(candidate.faq_id)
        if category:
            votes[category] += max(candidate.score, 0.0)
    for category, weight in categories.law_votes(services, cmap, question):
        votes[category] += weight
    if rule_category:
        votes[rule_category] += categories.RULE_WEIGHT
    return votes.most_common(1)[0][0] if votes and votes.most_common(1)[0][1] > 0 else None


candidates_st = st.lists(st.builds(Candidate, st.sampled_from([f"e{n}" for n in range(10)] + ["gone"]),
                                   st.floats(-0.2, 1.0)), max_size=5)
hits_st = st.lists(st.builds(Hit, st.sampled_from([f"法{n % 4}第{n}条" for n in range(10)] + ["法9第1条"]),
                             st.sampled_from(["法0", "法1", "法2", "法3", "法9"]), st.floats(0.0, 1.0)),
                   max_size=3).map(lambda hits: sorted(hits, key=lambda h: -h.score))


@settings(max_examples=400, deadline=None)
@given(candidates_st, hits_st, st.sampled_from([None, *CATEGORIES]))
def test_a_category_is_the_one_every_vote_gives(candidates, hits, rule):
    assert categories.infer(services_with(hits), "问题", candidates, rule) == \
        every_vote(services_with(hits), "问题", candidates, rule)


def test_law_search_is_asked_only_when_its_votes_could_change_the_winner():
    hits = [Hit("法1第1条", "法1", 1.0), Hit("法1第6条", "法1", 0.9), Hit("法1第11条", "法1", 0.8)]
    clear = services_with(hits)
    assert categories.infer(clear, "问题", [Candidate("e0", 0.9)]) == "婚姻家庭"
    assert clear.law_index.asked == 0
    close = services_with(hits)               # 0.4 ahead: three hits for another category could pass it
    assert categories.infer(close, "问题", [Candidate("e0", 0.4)]) == every_vote(services_with(hits), "问题", [Candidate("e0", 0.4)])
    assert close.law_index.asked == 1
