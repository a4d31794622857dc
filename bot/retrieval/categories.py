"""The kind of matter a question is about, when no FAQ entry answered it.

Staff count consultations by category for the annual report; a hand-over or a "cannot answer"
without one lands in 未分类 and tells them nothing. The knowledge base already says which
category each article belongs to (the entries citing it), so the category is inferred from the
question's own words: the categories of the entries closest to it (the matcher's candidates),
of the articles law search finds for it (or of their law), and of the escalation rule that
fired. Each gives a weighted vote; the heaviest category wins, none when nothing voted.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from bot.core.messages import Considered

log = logging.getLogger(__name__)

CANDIDATES = 3          # the matcher's best few entries vote with their scores
LAW_HITS = 3            # law search's best few articles vote with their share of the best score
LAW_WEIGHT = 0.15       # an article found by law search weighs this much at most
RULE_WEIGHT = 0.3       # the escalation rule's category ("court" → 纠纷解决与法律服务)
LAW_MAJORITY = 0.6      # a law names a category only when this share of its entries has it


@dataclass(frozen=True)
class CategoryMap:
    """Which categories cite each article and each law, counted over the knowledge base."""

    by_article: Mapping[str, Counter]
    by_chapter: Mapping[tuple[str, str], Counter]
    by_law: Mapping[str, Counter]
    by_entry: Mapping[str, str]

    def of_article(self, citation: str, law: str, chapter: str = "") -> str | None:
        """The article's own entries' category, else its chapter's, else its law's when one
        category holds most of that law's entries (民法典 spans them all: it says nothing)."""
        found = self.by_article.get(citation) or self.by_chapter.get((law, chapter))
        if found:
            return found.most_common(1)[0][0]
        whole = self.by_law.get(law)
        if not whole:
            return None
        category, count = whole.most_common(1)[0]
        return category if count >= LAW_MAJORITY * sum(whole.values()) else None


CATEGORY_MAP = "_category_map"


def category_map(kb: Any) -> CategoryMap:
    """Built once per knowledge base and kept on it, so it goes when the knowledge base goes."""
    found = kb.__dict__.get(CATEGORY_MAP)
    if found is None:
        found = kb.__dict__[CATEGORY_MAP] = build_map(kb.entries, kb.statutes)
    return found


def build_map(entries: Iterable[Any], statutes: Any) -> CategoryMap:
    by_article: dict[str, Counter] = defaultdict(Counter)
    by_chapter: dict[tuple[str, str], Counter] = defaultdict(Counter)
    by_law: dict[str, Counter] = defaultdict(Counter)
    by_entry: dict[str, str] = {}
    for entry in entries:
        by_entry[entry.id] = entry.category
        for citation in entry.citations:
            by_article[citation][entry.category] += 1
            article = statutes.get(citation) if statutes is not None else None
            if article is not None:
                by_chapter[(article.law, article.chapter)][entry.category] += 1
                by_law[article.law][entry.category] += 1
    return CategoryMap(dict(by_article), dict(by_chapter), dict(by_law), by_entry)


def infer(services: Any, question: str, candidates: list[Considered], rule_category: str | None = None) -> str | None:
    """The most likely category of ``question`` from its candidates, law search and the rule.

    Law search costs more than the rest of a hand-over's reply; it is asked only when its votes
    could change the winner (``clear_lead``): most questions that reach here already have one
    category well ahead from their candidates and rule."""
    cmap = category_map(services.knowledge)
    votes = candidate_votes(cmap, candidates)
    without_law = votes.copy()
    if rule_category:
        without_law[rule_category] += RULE_WEIGHT
    if clear_lead(without_law):
        return without_law.most_common(1)[0][0]
    for category, weight in law_votes(services, cmap, question):
        votes[category] += weight
    if rule_category:
        votes[rule_category] += RULE_WEIGHT
    return votes.most_common(1)[0][0] if votes and votes.most_common(1)[0][1] > 0 else None


def candidate_votes(cmap: CategoryMap, candidates: list[Considered]) -> Counter:
    """The best few candidates' categories, each weighted by its score."""
    votes: Counter = Counter()
    for candidate in candidates[:CANDIDATES]:
        category = cmap.by_entry.get(candidate.faq_id)
        if category:
            votes[category] += max(candidate.score, 0.0)
    return votes


# What law search's votes can add to one category at most: LAW_HITS hits, each at most LAW_WEIGHT
# (its share of the best hit's score), with room for the rounding of those shares.
LAW_MOST = LAW_HITS * LAW_WEIGHT + 1e-9


def clear_lead(votes: Counter) -> bool:
    """Whether the leading category stays ahead whatever law search adds: its lead over the
    runner-up (or over nothing) is more than law search's votes could give any other category."""
    top = sorted(votes.values(), reverse=True)[:2] + [0.0, 0.0]
    return top[0] - top[1] > LAW_MOST


def law_votes(services: Any, cmap: CategoryMap, question: str) -> list[tuple[str, float]]:
    """(category, weight) for law search's best articles; nothing when search has no answer."""
    try:
        hits = services.law_index.search(question, k=LAW_HITS) if question.strip() else []
    except Exception:  # law search is an aid: a consultation is recorded without it
        log.warning("law search unavailable for a category", exc_info=True)
        return []
    if not hits or hits[0].score <= 0:
        return []
    out, statutes = [], services.knowledge.statutes
    for hit in hits:
        article = statutes.get(hit.citation)
        category = cmap.of_article(hit.citation, hit.law, article.chapter if article else "")
        if category:
            out.append((category, LAW_WEIGHT * hit.score / hits[0].score))
    return out
