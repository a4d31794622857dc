"""The matcher's last step: from the features of each candidate entry to an action and a reason.

``choose`` is a pure function of what was read from the question (``Reading``), the candidates'
``Features`` and the [matcher] settings. bench/calibrate.py fits the settings by calling this
same function on labelled questions, so what is calibrated is exactly what runs.

Answer when one entry is clearly best; offer the close ones as numbered choices when two or
three are near; say "cannot answer" (with the hand-over offer) when nothing fits, when the
message has no legal word at all, or when it belongs to a field the service does not handle.
An entry written for the other side of the matter (the wrongdoer's advice to a victim) is
never answered.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import Any, NamedTuple, Sequence


class Features(NamedTuple):
    """How one entry relates to one question; every share is of the question's weight.

    A named tuple rather than a dataclass: a dozen are made for every question, and a tuple is
    built several times faster."""

    coverage: float    # found among the entry's phrasings and keywords
    focus: float       # the same, each word counted by the share of the entry's phrasings using it
    closeness: float   # weighted Dice overlap with the entry's closest phrasing
    shape: float       # character similarity of the question's core with that phrasing
    keywords: float    # found among the entry's keywords
    answer: float      # found only in the entry's answer text
    chars: float       # the question's character pairs found in the entry's phrasings (IDF-weighted)
    shared: float      # weight (IDF units) found among phrasings and keywords: absolute evidence
    anchors: int       # legal words the question and the entry share
    role: int          # +1 written for the asker's side, -1 for the other side, 0 no side
    model: float = 0.0  # the entry model's probability among the candidates (bot/retrieval/entrymodel.py)
    counterpart: int = 0  # +1 the entry's texts name a party the question names, -1 none of them, 0 it names none

    def as_json(self) -> dict[str, Any]:
        """The features as ``ask --json`` and the consultation record show them: shares to three
        decimals, counts as they are. Spelled out field by field (each candidate shown makes one,
        and a test checks the names against ``_fields``) rather than asking each value its type."""
        return {"coverage": round(self.coverage, 3), "focus": round(self.focus, 3),
                "closeness": round(self.closeness, 3), "shape": round(self.shape, 3),
                "keywords": round(self.keywords, 3), "answer": round(self.answer, 3),
                "chars": round(self.chars, 3), "shared": round(self.shared, 3), "anchors": self.anchors,
                "role": self.role, "model": round(self.model, 3), "counterpart": self.counterpart}


class FeaturesShown(Mapping[str, Any]):
    """``Features.as_json`` made when first read. Each decision carries the features of the
    candidates it shows, but only ``ask --json`` reads them (the consultation's record keeps the
    entry and its score): rounding a dozen floats per candidate (about 2,000 machine
    instructions a ``round``) is left to whoever reads them."""

    __slots__ = ("features", "shown")

    def __init__(self, features: Features):
        self.features = features
        self.shown: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.shown is None:
            self.shown = self.features.as_json()
        return self.shown

    def __getitem__(self, name: str) -> Any:
        return self.as_dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.features)

    def __repr__(self) -> str:
        return repr(self.as_dict())


class Candidate(NamedTuple):
    """An entry considered for a question, with what the decision needs to know about it."""

    faq_id: str
    question: str          # its first phrasing, shown when choices are offered
    citations: tuple[str, ...]
    quoted: str | None     # the article its reply quotes: two entries quoting one answer alike
    category: str
    features: Features

    def same_answer(self, other: "Candidate") -> bool:
        """The same entry, or one quoting the same article: the villager reads the same rule."""
        return self.faq_id == other.faq_id or (self.quoted is not None and self.quoted == other.quoted)

    def same_law(self, other: "Candidate") -> bool:
        """``same_answer``, or an entry citing an article this one cites: the two answer from
        the same law, so for a question that says what it asks neither is a rival of the other."""
        return self.same_answer(other) or not set(self.citations).isdisjoint(other.citations)

    def as_json(self, score: float) -> dict[str, Any]:
        return {"faq_id": self.faq_id, "question": self.question, "citations": list(self.citations),
                "score": round(score, 3), "features": self.features.as_json()}


@dataclass(frozen=True)
class Reading:
    """What the question says apart from any entry."""

    ideas: int                     # informative words (one idea each)
    legal: bool                    # holds a legal word at all
    outside: str | None = None     # "field: phrase" when outside the service's fields
    roles: frozenset[str] = frozenset()
    unknown: int = 0               # words no entry uses (月亮, 理发店)
    parties: frozenset[str] = frozenset()   # kinds of party it names (bot/retrieval/counterparts.py)


@dataclass
class Verdict:
    """The action, why, the candidates ranked by score, and the ones chosen (answer or choices)."""

    action: str                    # answer | clarify | fallback
    reason: str
    ranked: list[tuple[float, Candidate]] = field(default_factory=list)
    chosen: list[Candidate] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.ranked[0][0] if self.ranked else 0.0


# The features the score blends, each weighed by the setting ``w_`` + its name.
BLENDED = ("coverage", "focus", "closeness", "shape", "keywords", "answer", "chars", "model")


def blend_weights(s: Any) -> tuple[tuple[float, ...], float]:
    """The settings' weights of the ``BLENDED`` features and their sum (1 when they sum to 0)."""
    weights = tuple(getattr(s, "w_" + name) for name in BLENDED)
    return weights, sum(weights) or 1.0


def score(f: Features, s: Any) -> float:
    """The features blended with the configured weights, scaled so that a perfect match scores 1;
    an entry written for the other side of the matter is pushed down by ``role_penalty``, one
    whose texts never name the party the question is against (the village, not the neighbour)
    by ``counterpart_penalty``."""
    return scores([f], s)[0]


def scores(features: Iterable[Features], s: Any) -> list[float]:
    """``score`` of each features, the settings read once for all. The blend adds the products
    from 0 in ``BLENDED`` order (as ``sum`` of them did: the same floats)."""
    (w0, w1, w2, w3, w4, w5, w6, w7), scale = blend_weights(s)
    role_penalty, counterpart_penalty = s.role_penalty, s.counterpart_penalty
    return [(0 + w0 * coverage + w1 * focus + w2 * closeness + w3 * shape + w4 * keywords + w5 * answer
             + w6 * chars + w7 * model) / scale
            - (role_penalty if role < 0 else 0.0) - (counterpart_penalty if counterpart < 0 else 0.0)
            for coverage, focus, closeness, shape, keywords, answer, chars, _, _, role, model, counterpart in features]


def rank(candidates: Sequence[Candidate], s: Any) -> list[tuple[float, Candidate]]:
    """Best first; on a tie the candidate found first (the same order in every process): the
    sort keeps tied candidates in the order they came, also with ``reverse``."""
    scored = list(zip(scores([c.features for c in candidates], s), candidates))
    scored.sort(key=itemgetter(0), reverse=True)
    return scored


def choose(reading: Reading, candidates: Sequence[Candidate], s: Any) -> Verdict:
    """The action for a legal question, from its reading, its candidates and the settings."""
    return choose_ranked(reading, rank(candidates, s), s)


def choose_ranked(reading: Reading, ranked: list[tuple[float, Candidate]], s: Any) -> Verdict:
    """``choose`` once the candidates are ranked (the thresholds' part of the decision)."""
    if reading.outside:
        return Verdict("fallback", f"outside the service ({reading.outside})", ranked)
    if not reading.legal:
        return Verdict("fallback", "no legal word", ranked)
    if not ranked:
        return Verdict("fallback", "no entry shares a word", ranked)
    top_score, top = ranked[0]
    rival = rival_score(ranked, reading)
    why = (answer_reason(top_score, rival, top.features, reading, s) or agreed_reason(ranked, reading, s)
           or model_reason(ranked, reading, s))
    doubt = None
    if why and not names_several_topics(ranked, reading):
        doubt = doubt_about(ranked, rival, s)
        if doubt is None:
            return Verdict("answer", why, ranked, [top])
    return offer_or_give_up(ranked, rival, reading, s, doubt)


def rival_score(ranked: list[tuple[float, Candidate]], reading: Reading) -> float:
    """The score of the best entry answering otherwise than the top one: resting on other
    articles, or for a one-word question ("打架", whose entries share the topic's articles but
    answer different questions) quoting another article."""
    top = ranked[0][1]
    same = Candidate.same_answer if reading.ideas <= 1 else Candidate.same_law
    for sc, c in ranked[1:]:
        if not same(c, top):
            return sc
    return 0.0


def names_several_topics(ranked: list[tuple[float, Candidate]], reading: Reading) -> bool:
    """A one-word question ("打架") whose word is a keyword of another entry with another answer
    as much as of the top one: the word names several topics, and answering one is a guess."""
    top = ranked[0][1]
    if reading.ideas > 1 or top.features.keywords <= 0.0:
        return False
    return any(c.features.keywords >= top.features.keywords and not c.same_answer(top) for _, c in ranked[1:])


def doubt_about(ranked: list[tuple[float, Candidate]], rival: float, s: Any) -> str | None:
    """Why a top entry that some route found answerable is still not answered (but offered with
    its neighbours, or the hand-over), or None: it scores below ``answer_floor``, leads the best
    entry resting on other articles by less than ``lead_min``, or the entry model prefers an
    entry on other articles. Each route has its own thresholds, fitted on the labelled questions;
    these bounds hold whatever the fit chose, since a fit on a few hundred questions tends to end
    at the loosest threshold that loses none of them, and on other questions the ones just past
    that edge were answered wrongly far more often (EVAL.md, the two-fold check)."""
    top = ranked[0][0]
    if top < s.answer_floor:
        return f"score under the floor {s.answer_floor:.2f}"
    if top - rival < s.lead_min:
        return f"a lead of only {top - rival:.2f} over an entry on other articles"
    preferred = model_prefers_other_law(ranked, s)
    return f"the entry model prefers {preferred}" if preferred else None


def model_prefers_other_law(ranked: list[tuple[float, Candidate]], s: Any) -> str | None:
    """The entry resting on other articles to which the entry model gives a probability more
    than ``model_rival_margin`` above the top entry's, or None. The blended score and the model
    read the question differently (the model learned which words tell neighbouring entries
    apart); when they pick entries answering from different law, one of them is wrong."""
    top = ranked[0][1]
    return next((c.faq_id for _, c in ranked[1:] if not c.same_law(top)
                 and c.features.model > top.features.model + s.model_rival_margin), None)


def one_word_margin(s: Any) -> float:
    """The lead a one-word question needs to be answered, and the window its choices come from:
    no other answer may stand where choices would be offered."""
    return max(s.lead_answer_margin, s.clarify_margin)


def offered(sc: float, c: Candidate, floor: float, topic: float, s: Any) -> bool:
    """Offered as a choice: near the top (from ``floor``), or for a one-word question an entry
    having the topic word as a keyword as much as the top one; never the other side's entry."""
    near = sc >= floor or (sc >= s.clarify_min and 0 < topic <= c.features.keywords)
    return near and c.features.role >= 0


def answer_reason(top: float, rival: float, f: Features, reading: Reading, s: Any) -> str | None:
    """Why the top entry may be answered, or None. A high score with a small lead, or a modest
    score with a wide lead (a short question about one topic only); a one-word topic with several
    entries is asked back; an entry sharing no legal word, or written for the other side, never."""
    lead = top - rival
    if f.role < 0 or f.anchors == 0:
        return None
    if reading.ideas <= 1 and lead < one_word_margin(s):
        return None   # one topic word: answered only when no other answer would be offered beside it
    over = f"a lead of {lead:.2f} over the next entry" if rival else "no entry with another answer near it"
    if top >= s.answer_min and lead >= s.answer_margin:
        return f"high score {top:.2f}, {over}"
    if top >= s.lead_answer_min and lead >= s.lead_answer_margin and f.shared >= s.clarify_min_weight:
        return f"score {top:.2f}, {over}"
    return None


# The single measures that can each put an entry first on their own.
AGREEING = ("coverage", "focus", "closeness", "chars")


def agreement(ranked: list[tuple[float, Candidate]]) -> int:
    """On how many single measures the top entry is also first (or tied first): an entry every
    measure puts first is more often right than its blended score alone says."""
    top = ranked[0][1].features
    return sum(all(getattr(top, name) >= getattr(c.features, name) for _, c in ranked[1:])
               for name in AGREEING)


def agreed_reason(ranked: list[tuple[float, Candidate]], reading: Reading, s: Any) -> str | None:
    """Answer a modest score when the single measures agree on the entry and nothing ties with
    it. One legal word shared is enough only when the question holds no word the knowledge base
    never uses: in "月亮上的土地归谁" 土地 is legal, but the question is about the moon."""
    top_score, top = ranked[0]
    f = top.features
    if f.role < 0 or f.anchors == 0 or reading.ideas <= 1 or top_score < s.agree_answer_min:
        return None
    if f.anchors == 1 and reading.unknown:
        return None
    if s.agree_count > len(AGREEING) or len(ranked) > 1 and ranked[1][0] >= top_score:
        return None
    agreed = agreement(ranked)
    if agreed < s.agree_count:
        return None
    who = "every measure puts" if agreed == len(AGREEING) else "enough measures put"
    return f"{who} it first ({agreed}/{len(AGREEING)})"


def model_reason(ranked: list[tuple[float, Candidate]], reading: Reading, s: Any) -> str | None:
    """Answer a modest score when the entry model, which learned from the phrasings what tells
    neighbouring entries apart, also puts the entry first with probability ``model_answer_min``
    or more among the candidates. Not for one topic word, not when the entry shares no legal
    word or speaks for the other side, not when its one legal word sits among words no entry
    uses (the moon's land), and not for a lone candidate (the model then has nothing to compare)."""
    top_score, top = ranked[0]
    f = top.features
    if f.role < 0 or f.anchors == 0 or reading.ideas <= 1 or len(ranked) < 2:
        return None
    if f.anchors == 1 and reading.unknown:
        return None
    if top_score < s.model_score_min or f.model < s.model_answer_min:
        return None
    if any(c.features.model >= f.model for _, c in ranked[1:]):
        return None
    return f"the entry model puts it first too ({f.model:.2f})"


def offer_or_give_up(ranked: list[tuple[float, Candidate]], rival: float, reading: Reading,
                     s: Any, doubt: str | None = None) -> Verdict:
    """Numbered choices when entries are close and the question shares enough with them; else
    the "cannot answer" reply. ``doubt``: why an answerable top entry was not answered."""
    top_score, top = ranked[0]
    if top_score < s.clarify_min:
        return Verdict("fallback", f"nothing close enough (best {top_score:.2f})", ranked)
    f = top.features
    if f.shared < s.clarify_min_weight and f.coverage < 0.999:
        return Verdict("fallback", f"too little in common with any entry (weight {f.shared:.1f})", ranked)
    vague = reading.ideas <= 1
    floor = max(s.clarify_min, top_score - (one_word_margin(s) if vague else s.clarify_margin))
    topic = top.features.keywords if vague else 0.0   # a topic word: its entries are the choices
    close = [c for sc, c in ranked if offered(sc, c, floor, topic, s)][: s.max_choices]
    if not close:
        return Verdict("fallback", "only the other side's entries fit", ranked)
    reason = clarify_reason(top_score, rival, vague, s)
    return Verdict("clarify", f"{reason}: {doubt}" if doubt else reason, ranked, close)


def clarify_reason(top: float, rival: float, vague: bool, s: Any) -> str:
    if vague:
        return "one topic word: which question?"
    if top - rival < s.clarify_margin:
        return f"close entries ({top:.2f} vs {rival:.2f})"
    return f"not sure enough to answer (best {top:.2f})"
