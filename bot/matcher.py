"""From a villager's question to one of six decisions: urgent, escalate, chitchat, answer, clarify, fallback.

Pipeline: normalize → correct homophone typos by pinyin (彩里 → 彩礼) → segment with the legal
dictionary → add legal synonyms → candidates from an inverted index → score → decide.

Scoring weighs rare words above common ones (inverse document frequency over FAQ entries):
"宅基地" says far more about a question than "怎么办". Each candidate gets
  * coverage: how much of the question's weight the entry's words explain,
  * closeness: a weighted Dice overlap with its closest phrasing,
  * shape: rapidfuzz's character similarity with that phrasing,
  * keywords: how much of the question's weight hits the entry's keywords,
blended with the weights below. The thresholds that turn scores into answer / clarify /
fallback are configuration ([matcher] in config.toml), calibrated on labelled questions.
The index makes the cost per question grow with the entries sharing a word with it, not with
the size of the knowledge base.
"""
from __future__ import annotations

import math
from collections import defaultdict
from functools import cached_property
from dataclasses import dataclass, field
from typing import Any, Iterable

from rapidfuzz import fuzz

from bot import text as tx
from bot.triggers import Triggers, load_triggers

# Blend of the four scores (they sum to 1, so a perfect match scores 1).
W_COVERAGE, W_CLOSENESS, W_SHAPE, W_KEYWORDS = 0.32, 0.32, 0.16, 0.20
# Words the FAQ never uses still carry meaning ("股票"): they count against coverage, at the
# weight of a word found in this share of entries.
UNKNOWN_WORD_DF = 0.02
# A part of a long word found alone counts at this share of its weight.
PART_CREDIT = 0.7
# Entries scored in full per question (the rest are ruled out by a cheap first pass).
SHORTLIST = 12
CJK_MIN, CJK_MAX = "\u4e00", "\u9fff"
# A run containing these is grammar, not a mistyped legal word ("家的" is not "假的").
PARTICLES = frozenset("的了是在我你他她它不吗呢吧啊也都就和跟")


@dataclass
class Decision:
    """What the bot does with one question; ``as_json`` is DESIGN.md's `ask --json` object."""

    action: str
    faq_id: str | None = None
    score: float = 0.0
    citations: list[str] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    category: str | None = None
    reply: str = ""
    reason: str = ""
    question: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "faq_id": self.faq_id, "score": round(self.score, 3),
                "citations": list(self.citations), "candidates": self.candidates,
                "category": self.category, "reply": self.reply}


@dataclass(frozen=True)
class Query:
    """A question made comparable: groups of words (one idea each: a word, its parts, its legal
    synonyms), each group weighted by its most informative known member."""

    normalized: str
    groups: tuple[tuple[tuple[frozenset[str], float], ...], ...]  # per idea: (alternative, weight), heaviest first
    weights: tuple[float, ...]

    @cached_property
    def total(self) -> float:
        return sum(self.weights) or 1.0

    @cached_property
    def compact(self) -> str:
        """The normalized question without spaces (for character similarity)."""
        return self.normalized.replace(" ", "")

    @cached_property
    def words(self) -> frozenset[str]:
        """Every word of every idea: a phrasing sharing none of them cannot score."""
        return frozenset(w for group in self.groups for alternative, _ in group for w in alternative)


Idea = tuple[frozenset[str], ...]     # alternatives: the word with its synonyms, then each part with its synonyms


@dataclass
class Phrasing:
    text: str                          # normalized, spaces removed (for character similarity)
    ideas: list[Idea]
    words: frozenset[str]              # every word of every idea
    weight: float = 0.0                # sum of its ideas' weights (set once IDF is known)


@dataclass
class Indexed:
    """One FAQ entry as the matcher sees it."""

    entry: Any
    phrasings: list[Phrasing]
    bag: frozenset[str]       # every word of every phrasing and keyword, expanded
    keywords: frozenset[str]


def is_cjk(chars: str) -> bool:
    return all(CJK_MIN <= c <= CJK_MAX for c in chars)


def ideas_of(normalized: str) -> list[Idea]:
    """The ideas of a normalized text: each jieba word (and its parts), each colloquial phrase,
    every alternative carrying its legal synonyms (老婆 → {老婆, 妻子})."""
    ideas = [tuple(frozenset(tx.expand([w])) for w in group) for group in tx.word_groups(normalized)]
    seen = {w for idea in ideas for alt in idea for w in alt}
    for phrase, legal in tx.phrase_synonyms(normalized):
        if legal not in seen:
            ideas.append((frozenset((legal, phrase)),))
            seen.add(legal)
    return list(dict.fromkeys(ideas))


class Matcher:
    """Built once per process from the knowledge base; ``decide`` is pure and fast."""

    def __init__(self, kb: Any, settings: Any, triggers: Triggers | None = None):
        self.kb = kb
        self.settings = settings
        self.triggers = triggers or load_triggers()
        self.entries = [self._index_entry(e) for e in kb.entries]
        self._group_weights: dict[frozenset[str], float] = {}
        self.idf = self._idf()
        self.postings = self._postings()
        for item in self.entries:
            for phrasing in item.phrasings:
                phrasing.weight = sum(self.weigh(idea)[0][1] for idea in phrasing.ideas)
        self.pinyin_words = self._pinyin_vocabulary()

    # --- building ---------------------------------------------------------------------------

    def _index_entry(self, entry: Any) -> Indexed:
        phrasings = []
        for question in entry.questions:
            normalized = tx.normalize(question)
            ideas = ideas_of(normalized)
            phrasings.append(Phrasing(normalized.replace(" ", ""), ideas,
                                      frozenset(w for idea in ideas for alt in idea for w in alt)))
        keywords = {w for k in entry.keywords for idea in ideas_of(tx.normalize(k)) for alt in idea for w in alt}
        keywords |= {tx.normalize(k).replace(" ", "") for k in entry.keywords}
        bag = frozenset().union(keywords, *(p.words for p in phrasings))
        return Indexed(entry, phrasings, bag, frozenset(keywords))

    def _idf(self) -> dict[str, float]:
        df: dict[str, int] = defaultdict(int)
        for item in self.entries:
            for word in item.bag:
                df[word] += 1
        self.unknown_weight = math.log(1 + 1 / UNKNOWN_WORD_DF)
        return {w: self._idf_of(f) for w, f in df.items()}

    def _idf_of(self, df: int) -> float:
        return math.log(1 + max(1, len(self.entries)) / df) if df else self.unknown_weight

    def alternative_weight(self, alternative: frozenset[str]) -> float:
        """An alternative (a word and its synonyms) is one concept: its IDF counts the entries
        holding any of its words, so a rare colloquial spelling does not outweigh its meaning."""
        if len(alternative) == 1:
            return self.idf.get(next(iter(alternative)), self.unknown_weight)
        weight = self._group_weights.get(alternative)
        if weight is None:  # a word with its synonyms: as many as the dictionary has groups
            holders = set().union(*(self.postings.get(w, ()) for w in alternative))
            weight = self._group_weights[alternative] = self._idf_of(len(holders))
        return weight

    def weigh(self, idea: Idea) -> tuple[tuple[frozenset[str], float], ...]:
        """An idea's alternatives with their weights, heaviest first; a part of a long word
        (仲裁 of 劳动仲裁) says less than the whole, so it counts at PART_CREDIT of its weight."""
        weighted = [(alt, self.alternative_weight(alt) * (PART_CREDIT if n else 1.0))
                    for n, alt in enumerate(idea)]
        return tuple(sorted(weighted, key=lambda pair: -pair[1]))

    def _postings(self) -> dict[str, frozenset[int]]:
        postings: dict[str, set[int]] = defaultdict(set)
        for number, item in enumerate(self.entries):
            for word in item.bag:
                postings[word].add(number)
        return {w: frozenset(ns) for w, ns in postings.items()}

    def _pinyin_vocabulary(self) -> dict[str, str]:
        """Pinyin → legal word a homophone typo may stand for: the dictionary's and the
        keywords' words of 2–4 characters, where the pinyin is not shared by another such word."""
        words = {w for w in tx.legal_words() if 2 <= len(w) <= 4 and is_cjk(w)}
        words |= {w for item in self.entries for w in item.keywords if 2 <= len(w) <= 4 and is_cjk(w)}
        by_key: dict[str, set[str]] = defaultdict(set)
        for word in words:
            by_key[tx.pinyin_key(word)].add(word)
        return {key: next(iter(ws)) for key, ws in by_key.items() if len(ws) == 1}

    # --- understanding a question -----------------------------------------------------------

    def correct_homophones(self, normalized: str) -> str:
        """Replace an unknown 2–4 character run that sounds like a legal word (宅急地 → 宅基地)."""
        runs = loose_runs(loose_characters(normalized))
        if max(runs, default=0) < 2:  # most questions: no two loose characters side by side
            return normalized
        known, out, i = tx.tokenizer().FREQ, [], 0
        while i < len(normalized):
            replaced = self._homophone_at(normalized, i, known, runs[i]) if runs[i] >= 2 else None
            if replaced:
                out.append(replaced)
                i += len(replaced)
            else:
                out.append(normalized[i])
                i += 1
        return "".join(out)

    def _homophone_at(self, text: str, i: int, known: dict, run: int) -> str | None:
        """The legal word a run of ``run`` loose characters starting at ``i`` may stand for."""
        for size in (4, 3, 2):
            chunk = text[i:i + size]
            if size > run or not is_cjk(chunk) or known.get(chunk) or PARTICLES & set(chunk):
                continue
            word = self.pinyin_words.get(tx.pinyin_key(chunk))
            shared = sum(a == b for a, b in zip(chunk, word or ""))
            if word and word != chunk and shared >= max(1, size - 1):
                return word
        return None

    def query(self, question: str, normalized: str | None = None) -> Query:
        normalized = tx.normalize(question) if normalized is None else normalized
        normalized = self.correct_homophones(normalized)
        groups = tuple(self.weigh(idea) for idea in ideas_of(normalized))
        return Query(normalized, groups, tuple(g[0][1] for g in groups))

    # --- scoring ----------------------------------------------------------------------------

    def shortlist(self, query: Query) -> list[int]:
        """Entries sharing a word with the question, best first by shared weight (a cheap pass)."""
        totals: dict[int, float] = defaultdict(float)
        for group in query.groups:
            best: dict[int, float] = {}
            for alternative, weight in group:
                for word in alternative:
                    for number in self.postings.get(word, ()):
                        best.setdefault(number, weight)
            for number, weight in best.items():
                totals[number] += weight
        # Ties go to the entry listed first: the same question gets the same shortlist in every
        # process, whatever order the hash seed gives the words.
        return sorted(totals, key=lambda number: (-totals[number], number))[:SHORTLIST]

    def score(self, query: Query, item: Indexed) -> tuple[float, Phrasing]:
        coverage = covered(query, item.bag) / query.total
        keywords = covered(query, item.keywords) / query.total
        closeness, phrasing = closest(query, item.phrasings)
        shape = fuzz.ratio(query.compact, phrasing.text) / 100
        blended = (W_COVERAGE * coverage + W_CLOSENESS * closeness + W_SHAPE * shape
                   + W_KEYWORDS * keywords)
        return blended, phrasing

    def ranked(self, query: Query) -> list[tuple[float, Indexed, Phrasing]]:
        scored = [(*self.score(query, self.entries[n]), self.entries[n]) for n in self.shortlist(query)]
        scored.sort(key=lambda triple: triple[0], reverse=True)
        return [(s, item, p) for s, p, item in scored]

    # --- deciding ---------------------------------------------------------------------------

    def decide(self, question: str, normalized: str | None = None) -> Decision:
        """The decision for one question (reply text is added by ``reply_for``).

        ``normalized`` is the question already normalized, when the caller has it.
        """
        question = (question or "")[: self.settings.max_question_chars]
        if normalized is None or len(question) < len(normalized):
            normalized = tx.normalize(question)
        early = self._before_faq(normalized)
        if early:
            early.question = question
            return early
        query = self.query(question, normalized)
        ranked = self.ranked(query)
        evidence = covered(query, ranked[0][1].bag) if ranked else 0.0
        decision = self._from_scores(ranked, Evidence(evidence, query.total, len(query.groups)))
        decision.question = question
        return decision

    def _before_faq(self, normalized: str) -> Decision | None:
        reason = self.triggers.urgent_reason(normalized)
        if reason:
            return Decision("urgent", reason=reason, score=1.0)
        reason = self.triggers.escalate_reason(normalized)
        if reason:
            return Decision("escalate", reason=reason, score=1.0)
        if not normalized:
            return Decision("chitchat", reason="help")
        chat = self.triggers.chitchat_kind(normalized)
        return Decision("chitchat", reason=chat.kind) if chat else None

    def _from_scores(self, ranked: list[tuple[float, Indexed, Phrasing]], evidence: "Evidence") -> Decision:
        """Answer when one entry is clearly best; else offer the close ones, if the question
        shares enough informative words (``evidence``) with them to be about them at all."""
        s = self.settings
        candidates = [candidate_json(score, item.entry) for score, item, _ in ranked[: s.max_choices + 2]]
        if not ranked or ranked[0][0] < s.clarify_min:
            top = ranked[0][0] if ranked else 0.0
            return Decision("fallback", score=top, candidates=candidates[: s.max_choices])
        top_score, top_item, _ = ranked[0]
        rival = next((sc for sc, item, _ in ranked[1:] if not same_answer(item.entry, top_item.entry)), 0.0)
        if clearly_best(top_score, rival, evidence, s):
            return answer_decision(top_score, top_item.entry, candidates)
        if not evidence.enough_to_ask(s):
            return Decision("fallback", score=top_score, candidates=candidates[: s.max_choices])
        margin = s.lead_answer_margin if evidence.vague else s.clarify_margin  # a topic: show its range
        close = [c for c in candidates if c["score"] >= max(s.clarify_min, top_score - margin)]
        return Decision("clarify", score=top_score, candidates=close[: s.max_choices],
                        category=top_item.entry.category)


@dataclass(frozen=True)
class Evidence:
    """How much of the question the top entry explains: the weight of the ideas it shares
    (``shared``) out of the question's whole weight (``total``), over ``ideas`` ideas."""

    shared: float
    total: float
    ideas: int

    @property
    def vague(self) -> bool:
        """A single idea ("离婚", "宅基地") names a topic, not a question within it."""
        return self.ideas <= 1

    def enough_to_ask(self, s: Any) -> bool:
        """Offer choices when the shared words weigh enough, or when everything the person
        wrote is something the knowledge base knows about ("打架")."""
        return self.shared >= s.clarify_min_weight or (self.shared >= 0.999 * self.total > 0)


def clearly_best(top: float, rival: float, evidence: Evidence, s: Any) -> bool:
    """One entry is clearly best: a high score with a small lead, or a modest score with a wide
    lead over everything else (a short question like "被狗咬了一口" matches one topic only).
    A one-word topic with several entries in it is asked back, however high its scores."""
    lead = top - rival
    if evidence.vague and lead < s.lead_answer_margin:
        return False
    if top >= s.answer_min and lead >= s.answer_margin:
        return True
    return (top >= s.lead_answer_min and lead >= s.lead_answer_margin
            and evidence.shared >= s.clarify_min_weight)


def loose_characters(normalized: str) -> list[bool]:
    """Per character: does jieba leave it alone (a one-character word)? Only such runs can be a
    mistyped word; a run across a real word ("遗嘱要") is not one, though "嘱要" sounds like 主要."""
    loose: list[bool] = []
    for word in tx.cut(normalized):
        loose += [len(word) == 1] * len(word)
    return loose


def closest(query: Query, phrasings: list[Phrasing]) -> tuple[float, Phrasing]:
    """The phrasing with the highest weighted Dice overlap with the question (the first, on a tie).

    A loop rather than ``max`` over a generator: this runs for every phrasing of every
    shortlisted entry, the matcher's innermost step."""
    best, best_phrasing = -1.0, phrasings[0]
    for phrasing in phrasings:
        if query.words.isdisjoint(phrasing.words):
            dice = 0.0
        else:
            dice = 2 * covered(query, phrasing.words) / (query.total + phrasing.weight)
        if dice > best:
            best, best_phrasing = dice, phrasing
    return best, best_phrasing


def loose_runs(loose: list[bool]) -> list[int]:
    """Per character: how many loose characters run from it onwards (0 where it is not loose)."""
    runs = [0] * (len(loose) + 1)
    for i in range(len(loose) - 1, -1, -1):
        runs[i] = runs[i + 1] + 1 if loose[i] else 0
    return runs[:-1]


def covered(query: Query, words: frozenset[str]) -> float:
    """The weight of the question's ideas found in ``words`` (an idea counts at its best word found)."""
    total = 0.0
    for group in query.groups:
        for alternative, weight in group:
            if not alternative.isdisjoint(words):
                total += weight
                break
    return total


def same_answer(a: Any, b: Any) -> bool:
    """Two entries quoting the same article answer alike, so a close second need not be asked about."""
    return a.id == b.id or (a.quoted is not None and a.quoted == b.quoted)


def candidate_json(score: float, entry: Any) -> dict[str, Any]:
    return {"faq_id": entry.id, "question": entry.questions[0], "citations": list(entry.citations),
            "score": round(score, 3)}


def answer_decision(score: float, entry: Any, candidates: list[dict[str, Any]]) -> Decision:
    return Decision("answer", faq_id=entry.id, score=score, citations=list(entry.citations),
                    candidates=candidates, category=entry.category)


def phrasings_of(entries: Iterable[Any]) -> int:
    """How many phrasings the index holds (for the benchmark's report)."""
    return sum(len(e.questions) for e in entries)


# --- what the villager reads ----------------------------------------------------------------

FALLBACK_TEXT = ("抱歉，这个问题我还答不上来。您可以换个说法再问一次：说清楚是什么事、跟谁、想怎么办，"
                 "比如“邻居不让过路怎么办”。需要真人帮忙请回复“转人工”，我会转给您村的法律顾问。")
ESCALATE_TEXT = "这件事比较复杂，需要法律顾问帮您看看。我会把您的问题转给您村的法律顾问，请留意回复。"
URGENT_TEXT = ("如果现在有危险，请马上拨打110报警；有人受伤请打120；心里很难受、想不开，"
               "请打12356心理援助热线，有人愿意听您说。先保护好自己，到邻居家或人多的地方去。")
CLARIFY_HEAD = "您想问的是哪一个？"
CLARIFY_TAIL = "回复数字即可；都不是请回复“都不是”，我转给法律顾问。"


def clarify_text(candidates: list[dict[str, Any]]) -> str:
    """The numbered choices; a number sent back selects one (handlers/clarify.py)."""
    lines = [f"{n}. {c['question']}" for n, c in enumerate(candidates, start=1)]
    return "\n".join([CLARIFY_HEAD, *lines, CLARIFY_TAIL])


def chitchat_text(kind: str, triggers: Triggers, local: dict[str, str]) -> str:
    """A short friendly reply with example questions, so the villager knows what to ask."""
    chat = next((c for c in triggers.chitchat if c.kind == kind), triggers.chitchat[0])
    examples = "；".join(f"“{e}”" for e in triggers.examples)
    return chat.reply.format_map(defaultdict(str, local)) + examples


def reply_for(decision: Decision, kb: Any, config: Any, triggers: Triggers | None = None) -> str:
    """The full text the villager gets for a decision (without a ticket: handlers add that)."""
    if decision.action == "answer":
        from bot.knowledge import compose_reply
        return compose_reply(kb.by_id[decision.faq_id], kb, config)
    if decision.action == "clarify":
        return clarify_text(decision.candidates)
    if decision.action == "chitchat":
        return chitchat_text(decision.reason or "greeting", triggers or load_triggers(), dict(config.local))
    return {"urgent": URGENT_TEXT, "escalate": ESCALATE_TEXT}.get(decision.action, FALLBACK_TEXT)
