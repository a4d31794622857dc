"""From a villager's question to one of six decisions: urgent, escalate, chitchat, answer, clarify, fallback.

The steps, each visible in ``legalbot ask --json``:

1. **Read** the question: normalize → correct homophone typos by pinyin (彩里 → 彩礼; never a
   word the dictionary knows) → split into clauses and find the core (the clauses that ask;
   the story around them counts at ``background_weight``) → segment with the legal dictionary →
   add legal synonyms. Also read whether it holds a legal word at all, whether it belongs to a
   field the service does not handle, and which side the asker is on (bot/retrieval/question.py).
2. **Candidates**: the entries sharing a word with it, from an inverted index over each entry's
   phrasings, keywords and answer text.
3. **Features** per candidate (bot/retrieval/decision.py ``Features``): how much of the question the entry
   explains (phrasings and keywords, the answer text apart), closeness to its nearest phrasing,
   character similarity, the legal words shared, and whether the entry is written for the
   asker's side. Rare words weigh more than common ones (inverse document frequency):
   "宅基地" says far more about a question than "怎么办".
4. **Decision** (bot/retrieval/decision.py ``choose``): a pure function of the features and the [matcher]
   settings, with a short reason. bench/calibrate.py fits the settings through that function.

The index makes the cost per question grow with the entries sharing a word with it, not with
the size of the knowledge base.
"""
from __future__ import annotations

import math
from math import fsum
from itertools import chain, compress, repeat
from operator import itemgetter
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple

from rapidfuzz import fuzz

from bot.core import text as tx
from bot.core.messages import Considered
from bot.retrieval.counterparts import Counterparts, relation
from bot.retrieval.decision import Candidate, Features, FeaturesShown, Reading, Verdict, choose
from bot.retrieval.entrymodel import (PAIR, PAIR_VALUE, EntryModel, entry_model, idea_terms, merged_terms,
                                      sorted_terms)
from bot.retrieval.lexicons import Lexicons, lexicons_for, lexicons_in
from bot.retrieval.question import OPPOSITE, PhraseSet, QuestionText, core_flags
from bot.retrieval.triggers import Triggers

# Words the FAQ never uses still carry meaning ("股票"): they count against coverage, at the
# weight of a word found in this share of entries.
UNKNOWN_WORD_DF = 0.02
# A part of a long word found alone counts at this share of its weight.
PART_CREDIT = 0.7
# Entries scored in full per question (the rest are ruled out by a cheap first pass).
SHORTLIST = 12
# In that first pass a word found only in an entry's answer text counts at this share, and an
# idea held by more than this share of the entries is left out (see ``Matcher.shortlist``).
ANSWER_SHORTLIST_CREDIT = 0.5
COMMON_SHARE = 0.25
# ... and an entry whose first-pass weight is under this share of the best one's is not scored.
SHORTLIST_FLOOR = 0.5
CJK_MIN, CJK_MAX = "\u4e00", "\u9fff"
MISSING = object()   # a memo's "not there yet" (None and () are values)
# A run containing these is grammar, a pronoun or a question word, not a mistyped legal word
# ("家的" is not "假的"; "谁管" is not "水管").
PARTICLES = frozenset("的了是在我你他她它不吗呢吧啊也都就和跟谁啥哪怎咋么什几这那被把给让有没要会能可对")


@dataclass
class Decision:
    """What the bot does with one question; ``as_json`` is DESIGN.md's `ask --json` object."""

    action: str
    faq_id: str | None = None
    score: float = 0.0
    citations: list[str] = field(default_factory=list)
    candidates: list[Considered] = field(default_factory=list)   # the entries weighed, best first
    category: str | None = None
    reply: str = ""
    reason: str = ""
    question: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "faq_id": self.faq_id, "score": round(self.score, 3),
                "citations": list(self.citations), "candidates": [c.as_json() for c in self.candidates],
                "category": self.category, "reply": self.reply, "reason": self.reason}


Idea = tuple[frozenset[str], ...]     # alternatives: the word with its synonyms, then each part with its synonyms
Group = tuple[tuple[frozenset[str], float], ...]   # an idea's alternatives with weights, heaviest first


@dataclass(init=False)
class Query:
    """A question made comparable: groups of words (one idea each: a word, its parts, its legal
    synonyms), each weighted by its most informative known member and by where it stands (the
    asking clause counts in full, the story around it less).

    What every candidate's features read (the total weight, the words, which idea each word
    stands for, the character pairs' weights) is worked out once when the query is made; a
    dozen candidates read it, and a cached_property takes a lock (one for all queries, in
    Python 3.11) the first time each query reads it. Not frozen: a frozen dataclass sets each of
    its sixteen fields through ``object.__setattr__``, which costs more than working the derived
    fields out; the fields are set here once and nothing assigns them afterwards (what the
    candidates add goes into ``nearest``)."""

    normalized: str
    groups: tuple[Group, ...]
    weights: tuple[float, ...]
    legal: tuple[bool, ...]           # per group: is it a legal word (not a person, not grammar)
    core: str                         # the core clauses without spaces (for character similarity)
    reading: Reading
    pairs: tuple[tuple[str, float], ...] = ()   # its character pairs (sorted) with their weights
    word_terms: tuple[tuple[str, float], ...] = ()   # its words as the entry model reads them (sorted)
    total: float = field(init=False, repr=False, compare=False)
    pair_weights: dict[str, float] = field(init=False, repr=False, compare=False)
    pair_set: frozenset[str] = field(init=False, repr=False, compare=False)
    pair_total: float = field(init=False, repr=False, compare=False)
    # Word → the ideas it stands for, with the weight it gives each (number of the idea,
    # weight). Matching starts from the few words a question shares with a phrasing instead
    # of walking every idea's alternatives.
    slots: dict[str, tuple[tuple[int, float], ...]] = field(init=False, repr=False, compare=False)
    words: frozenset[str] = field(init=False, repr=False, compare=False)   # a phrasing sharing none cannot score
    # entry number → (its words shared with the question, its closest phrasing's closeness and
    # the phrasing): the shortlist's tie-break and the features both need it
    nearest: dict[int, tuple[frozenset[str], float, "Phrasing"]] = field(
        init=False, repr=False, compare=False, default_factory=dict)

    def __init__(self, normalized: str, groups: tuple[Group, ...], weights: tuple[float, ...],
                 legal: tuple[bool, ...], core: str, reading: Reading,
                 pairs: tuple[tuple[str, float], ...] = (), word_terms: tuple[tuple[str, float], ...] = (),
                 pair_weights: dict[str, float] | None = None):
        """``pair_weights``: ``dict(pairs)``, when the caller has made it already."""
        self.normalized, self.groups, self.weights, self.legal = normalized, groups, weights, legal
        self.core, self.reading, self.pairs, self.word_terms = core, reading, pairs, word_terms
        self.total = sum(weights) or 1.0
        self.pair_weights = dict(pairs) if pair_weights is None else pair_weights
        self.pair_set = frozenset(self.pair_weights)
        self.pair_total = sum(self.pair_weights.values()) or 1.0   # the pairs' weights in their order
        self.slots = slots_of(groups)
        self.words = frozenset(self.slots)
        self.nearest = {}

    @cached_property
    def compact(self) -> str:
        """The normalized question without spaces."""
        return self.normalized.replace(" ", "")

    @property
    def terms(self) -> tuple[tuple[str, float], ...]:
        """Its words and character pairs as the entry model reads them, sorted (``sorted_terms``
        of ``with_pairs``): the pairs first, as ``EntryModel.known_question_terms`` reads them."""
        return (*((PAIR + pair, PAIR_VALUE) for pair, _ in self.pairs), *self.word_terms)


def slots_of(groups: tuple[Group, ...]) -> dict[str, tuple[tuple[int, float], ...]]:
    """``Query.slots``: each word with the (idea number, weight) of every alternative holding it."""
    found: dict[str, tuple[tuple[int, float], ...]] = {}
    get = found.get
    for number, group in enumerate(groups):
        for alternative, weight in group:
            place = (number, weight)
            for word in alternative:
                places = get(word)
                found[word] = (place,) if places is None else (*places, place)   # mostly one place
    return found


def question_terms(terms: tuple[dict[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """``sorted_terms(merged_terms(terms))``: the ideas' entry-model terms, each word at its
    highest value, sorted by word. When no word is in two ideas and every value is above 0 (the
    usual question), merging is updating one dict with each (C loops, the same words in the same
    order); else ``merged_terms`` itself."""
    merged: dict[str, float] = {}
    for each in terms:
        merged.update(each)
    if len(merged) != sum(map(len, terms)) or (merged and min(merged.values()) <= 0.0):
        merged = merged_terms(terms)
    words = sorted(merged)
    return tuple(zip(words, map(merged.__getitem__, words)))


@dataclass
class Phrasing:
    text: str                          # normalized, spaces removed (for character similarity)
    ideas: list[Idea]
    words: frozenset[str]              # every word of every idea
    weight: float = 0.0                # sum of its ideas' weights (set once IDF is known)


@dataclass
class Indexed:
    """One FAQ entry as the matcher sees it, field by field."""

    entry: Any
    phrasings: list[Phrasing]
    bag: frozenset[str]       # every word of every phrasing and keyword, expanded
    keywords: frozenset[str]
    answer: frozenset[str]    # words of the answer text (and the quoted excerpt) not in the bag
    focus: dict[str, float]   # per word of the bag: the share of the phrasings holding it (keywords: 1)
    bigrams: frozenset[str] = frozenset()   # character pairs of the phrasings and keywords
    where: dict[str, tuple[int, ...]] = field(default_factory=dict)   # word → the phrasings holding it
    parties: frozenset[str] = frozenset()   # kinds of party its phrasings and keywords name
    role: str | None = None                 # its side of a two-sided matter (``entry_role``)
    head: tuple = ()                        # its ``Candidate`` fields but the features (``candidate``)
    weights: list[float] = field(default_factory=list)   # each phrasing's weight (``closest`` reads them)


@dataclass(frozen=True)
class IdeaFacts:
    """An idea as the knowledge base sees it, whatever question it is in: does it hold a legal
    word, does any entry use one of its words, and its alternatives with their weights (IDF)
    and the share a part of a long word counts at."""

    legal: bool
    known: bool
    alternatives: tuple[tuple[frozenset[str], float, float], ...]

    def weigh(self, factor: float) -> Group:
        """``Matcher.weigh(idea, factor)`` without looking the weights up again."""
        return weighed(self.alternatives, factor)


def weighed(alternatives: Iterable[tuple[frozenset[str], float, float]], factor: float) -> Group:
    """The alternatives at ``factor`` × their weight × their share, heaviest first."""
    weighted = [(alt, factor * weight * credit) for alt, weight, credit in alternatives]
    return tuple(sorted(weighted, key=lambda pair: -pair[1]))


class IdeaAt(NamedTuple):
    """An idea as one question reads it at its clause's factor (``Matcher._idea_at``), with the
    facts the question's fields are made of side by side (``zip(*weighed)`` gives them as tuples)."""

    facts: IdeaFacts
    group: Group                 # its alternatives weighed, heaviest first
    terms: dict[str, float]      # its words as the entry model reads them (callers only read it)
    weight: float                # its heaviest alternative's weight (``Query.weights``)
    legal: bool                  # ``facts.legal``
    unknown: bool                # no entry uses any of its words (not ``facts.known``)


class Memo:
    """A bounded memo of pure functions of a word or an idea: emptied when what it holds reaches
    ``limit`` (a value counts 1, plus its length when it has one: a first-pass hit list of a
    common word holds dozens of entries, hundreds at ten times today's knowledge base), so a
    stream of new words cannot grow it past a few MB. Per matcher, so a rebuilt knowledge base
    (bot/learning/livekb.py builds a new Matcher) starts with an empty one."""

    def __init__(self, limit: int = 100_000):
        self.limit = limit
        self.held = 0
        self.values: dict[Any, Any] = {}
        self.get = self.values.get

    def put(self, key: Any, value: Any) -> Any:
        size = 1 + (len(value) if hasattr(value, "__len__") else 0)
        if self.held + size > self.limit:
            self.values.clear()
            self.held = 0
        self.values[key] = value
        self.held += size
        return value

    def of(self, key: Any, make: Callable[..., Any], *args: Any) -> Any:
        """The value kept under ``key``, or ``make(*args)``, kept."""
        found = self.values.get(key, MISSING)
        return self.put(key, make(*args)) if found is MISSING else found


def is_cjk(chars: str) -> bool:
    return all(CJK_MIN <= c <= CJK_MAX for c in chars)


def ideas_of(words: tx.Dictionaries, normalized: str, groups: list[tuple[str, ...]] | None = None,
             idea=None, phrases: list[tuple[str, str]] | None = None) -> list[Idea]:
    """The ideas of a normalized text: each jieba word (and its parts), each colloquial phrase,
    every alternative carrying its legal synonyms (老婆 → {老婆, 妻子}), by the dictionaries
    ``words``. ``groups`` are the text's ``word_groups`` and ``phrases`` its ``phrase_synonyms``
    when the caller has them; ``idea`` is ``idea_of`` for these dictionaries, memoized, when the
    caller keeps one."""
    groups = words.word_groups(normalized) if groups is None else groups
    ideas = [idea(group) for group in groups] if idea else [idea_of(words, group) for group in groups]
    return with_phrases(ideas, words.phrase_synonyms(normalized) if phrases is None else phrases)


def with_phrases(ideas: list[Idea], phrases: list[tuple[str, str]]) -> list[Idea]:
    """The ideas of a text's words and one for each of its colloquial phrases whose legal word
    no idea holds yet (``Dictionaries.phrase_synonyms``), each once, in order."""
    if phrases:
        ideas = list(ideas)
        seen = set(chain.from_iterable(chain.from_iterable(ideas)))   # every word of every alternative
        for phrase, legal in phrases:
            if legal not in seen:
                ideas.append((frozenset((legal, phrase)),))
                seen.add(legal)
    return list(dict.fromkeys(ideas))


def idea_of(words: tx.Dictionaries, group: tuple[str, ...]) -> Idea:
    """A group of words (a word and its parts) as an idea: each with its legal synonyms."""
    return tuple(frozenset(words.expand([w])) for w in group)


def words_of(ideas: Iterable[Idea]) -> frozenset[str]:
    return frozenset(w for idea in ideas for alt in idea for w in alt)


def answer_text(entry: Any) -> str:
    """The answer and the quoted sentence of the law, without {placeholders}."""
    text = f"{entry.answer} {getattr(entry, 'excerpt', '') or ''}"
    return "".join(" " if c in "{}" else c for c in text)


def focus_of(phrasings: list[Phrasing], keywords: set[str]) -> dict[str, float]:
    """How central each word is to an entry: the share of its phrasings using it; a keyword is
    central by definition. An entry asked about 离婚 in every phrasing is about divorce; one
    that mentions it once is about something else that happens around a divorce."""
    counts: dict[str, int] = defaultdict(int)
    for phrasing in phrasings:
        for word in phrasing.words:
            counts[word] += 1
    n = max(1, len(phrasings))
    focus = {w: c / n for w, c in counts.items()}
    focus.update(dict.fromkeys(keywords, 1.0))
    return focus


def role_relation(asker: frozenset[str], entry_role: str | None) -> int:
    """+1 the entry speaks to the asker's side, -1 to the other side, 0 no side involved."""
    if not entry_role or not asker:
        return 0
    if entry_role in asker:
        return 1
    return -1 if OPPOSITE.get(entry_role) in asker else 0


class Matcher:
    """Built once per process from the knowledge base; ``decide`` is pure and fast."""

    def __init__(self, kb: Any, settings: Any, lexicons: Lexicons | None = None,
                 model_cache: Path | str | None = "default",
                 counterparts: Counterparts | None = None):
        self.kb = kb
        self.settings = settings
        lexicons = lexicons or lexicons_in(kb.directory / "dict")   # the kb's own folder's
        self.dictionaries, self.triggers, self.lexicon = lexicons.dictionaries, lexicons.triggers, lexicons.question
        self.counterparts = counterparts or lexicons.counterparts
        # the question lexicon's and the counterparts' phrases, found in one look at a question
        self.phrases = PhraseSet.of([*self.lexicon.read_phrases, *self.counterparts.kinds_of])
        self.entries = [self._index_entry(e) for e in kb.entries]
        self._group_weights: dict[frozenset[str], float] = {}
        self._holder_cache: dict[frozenset[str], tuple[frozenset[int], frozenset[int]]] = {}
        self._memo = Memo()
        self._word_memo = Memo()   # word → its ideas (``_ideas_in`` reads it with one ``map``)
        self.idf = self._idf()
        self.keyword_numbers = frozenset(w for w in self.idf if w.isdigit())   # numbers an entry holds (``_ideas_in``)
        self.postings = self._postings(lambda item: item.bag)
        self.answer_postings = self._postings(lambda item: item.answer)
        for item in self.entries:
            for phrasing in item.phrasings:
                phrasing.weight = sum(self.weigh(idea)[0][1] for idea in phrasing.ideas)
            item.weights = [phrasing.weight for phrasing in item.phrasings]
        self.pinyin_words = self._pinyin_vocabulary()
        self.legal_words = self._legal_vocabulary()
        self.bigram_idf = self._bigram_idf()
        # which entry a question is about, learned from the entries' own phrasings (bot/retrieval/entrymodel.py)
        self.model: EntryModel = entry_model(self.entries, self.postings, self.idf, model_cache)

    def _bigram_idf(self) -> dict[str, float]:
        df: dict[str, int] = defaultdict(int)
        for item in self.entries:
            for pair in item.bigrams:
                df[pair] += 1
        return {p: self._idf_of(f) for p, f in df.items()}

    # --- building ---------------------------------------------------------------------------

    def _index_entry(self, entry: Any) -> Indexed:
        phrasings = []
        for question in entry.questions:
            normalized = tx.normalize(question)
            ideas = ideas_of(self.dictionaries, normalized)
            phrasings.append(Phrasing(normalized.replace(" ", ""), ideas, words_of(ideas)))
        keywords = {w for k in entry.keywords for w in words_of(ideas_of(self.dictionaries, tx.normalize(k)))}
        keywords |= {tx.normalize(k).replace(" ", "") for k in entry.keywords}
        bag = frozenset().union(keywords, *(p.words for p in phrasings))
        answer = words_of(ideas_of(self.dictionaries, tx.normalize(answer_text(entry)))) - bag
        pairs = frozenset(b for text in [*(p.text for p in phrasings), *entry.keywords] for b in tx.char_pairs(text))
        where: dict[str, list[int]] = defaultdict(list)
        for index, phrasing in enumerate(phrasings):
            for word in phrasing.words:
                where[word].append(index)
        parties = self.counterparts.named_in_any([*(p.text for p in phrasings), *map(tx.normalize, entry.keywords)])
        return Indexed(entry, phrasings, bag, frozenset(keywords), answer, focus_of(phrasings, keywords), pairs,
                       {w: tuple(ns) for w, ns in where.items()}, parties, entry_role(entry), candidate(entry, None)[:-1])

    def _idf(self) -> dict[str, float]:
        """Document frequency over entries: a word counts for an entry found in any of its fields."""
        df: dict[str, int] = defaultdict(int)
        for item in self.entries:
            for word in item.bag | item.answer:
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
            holders = set().union(*(self.postings.get(w, ()) for w in alternative),
                                  *(self.answer_postings.get(w, ()) for w in alternative))
            weight = self._group_weights[alternative] = self._idf_of(len(holders))
        return weight

    def weigh(self, idea: Idea, factor: float = 1.0) -> Group:
        """An idea's alternatives with their weights, heaviest first; a part of a long word
        (仲裁 of 劳动仲裁) says less than the whole, so it counts at PART_CREDIT of its weight."""
        return weighed(self.alternatives(idea), factor)

    def alternatives(self, idea: Idea) -> tuple[tuple[frozenset[str], float, float], ...]:
        """Each alternative of an idea with its weight and the share it counts at."""
        return tuple((alt, self.alternative_weight(alt), PART_CREDIT if n else 1.0) for n, alt in enumerate(idea))

    def _postings(self, field_of) -> dict[str, frozenset[int]]:
        postings: dict[str, set[int]] = defaultdict(set)
        for number, item in enumerate(self.entries):
            for word in field_of(item):
                postings[word].add(number)
        return {w: frozenset(ns) for w, ns in postings.items()}

    def _pinyin_vocabulary(self) -> dict[str, str]:
        """Pinyin → legal word a homophone typo may stand for: the dictionary's and the
        keywords' words of 2–4 characters, where the pinyin is not shared by another such word."""
        words = {w for w in self.dictionaries.legal_words if 2 <= len(w) <= 4 and is_cjk(w)}
        words |= {w for item in self.entries for w in item.keywords if 2 <= len(w) <= 4 and is_cjk(w)}
        by_key: dict[str, set[str]] = defaultdict(set)
        for word in words:
            by_key[tx.pinyin_key(word)].add(word)
        return {key: next(iter(ws)) for key, ws in by_key.items() if len(ws) == 1}

    def _legal_vocabulary(self) -> frozenset[str]:
        """Words that make a message a legal question: the legal dictionary, the synonym map's
        legal words, every entry's keywords and question.toml's list, less the words for people."""
        words = set(self.dictionaries.legal_words) | set(self.lexicon.legal)
        words |= {tx.normalize(k).replace(" ", "") for item in self.entries for k in item.entry.keywords}
        return frozenset(w for w in words if w not in self.lexicon.people and not w.isdigit())

    # --- understanding a question -----------------------------------------------------------

    def correct_homophones(self, normalized: str) -> str:
        """Replace an unknown 2–4 character run that sounds like a legal word (宅急地 → 宅基地).
        Only characters jieba leaves alone are candidates, so a word the dictionary knows
        (月亮, 遗嘱) is never rewritten; nor is a pronoun or question word (谁管 is not 水管).

        Only the stretches of two or more such characters that are Chinese and no particle are
        read (``typo_spans``): a run holding a particle, a space or a digit can never be
        rewritten, so most questions (whose loose characters are 的, 了, 吗, 我 …) are left
        as they are without a look at each character."""
        spans = typo_spans(self.dictionaries.quick_cut(normalized))
        if not spans:
            return normalized
        known, out, i = self.dictionaries.tokenizer.FREQ, [], 0
        for start, end in spans:
            if i < start:
                out.append(normalized[i:start])
                i = start
            while i < end:
                replaced = self._homophone_at(normalized, i, known, end - i)
                if replaced:
                    out.append(replaced)
                    i += len(replaced)
                else:
                    out.append(normalized[i])
                    i += 1
        out.append(normalized[i:])
        return "".join(out)

    def _homophone_at(self, text: str, i: int, known: dict, run: int) -> str | None:
        """The legal word a run of ``run`` loose characters starting at ``i`` may stand for."""
        for size in (4, 3, 2):
            if size <= run:
                word = self._memo.of(("sounds", text[i:i + size]), self._sounds_like, text[i:i + size], known)
                if word:
                    return word
        return None

    def _sounds_like(self, chunk: str, known: dict) -> str | None:
        """The legal word a run of loose characters may be a homophone typo of: one sounding the
        same and sharing all characters but one (memoized per run: a pure function of it)."""
        if not is_cjk(chunk) or known.get(chunk) or PARTICLES & set(chunk):
            return None
        word = self.pinyin_words.get(tx.pinyin_key(chunk))
        shared = sum(a == b for a, b in zip(chunk, word or ""))
        return word if word and word != chunk and shared >= max(1, len(chunk) - 1) else None

    def query(self, question: str, normalized: str | None = None) -> Query:
        """The question read: its ideas weighted by rarity and by clause, and its ``Reading``."""
        normalized = tx.normalize(question) if normalized is None else normalized
        normalized = self.correct_homophones(normalized)
        clauses = self.dictionaries.clause_words(normalized)
        texts = list(map(itemgetter(0), clauses))
        ideas = list(map(self._ideas_in, map(itemgetter(1), clauses)))
        # a lone clause is the core whether it asks or not (``core_flags``)
        flags = [True] * len(texts) if len(texts) < 2 else core_flags(texts, self.lexicon, dict(zip(texts, ideas)).__getitem__)
        text = QuestionText.of(normalized, self.phrases)
        phrases = self.dictionaries.phrase_synonyms(text.compact, text.pairs)   # a clause's are those inside it
        factors = self._factors(texts, ideas, flags, phrases)
        # each idea at its factor (kept under ("at", idea, factor): ``_idea_at``), and the fields
        # of those readings side by side
        kept = self._memo.get
        weighed = [kept(("at", idea, f)) or self._idea_at(idea, f) for idea, f in factors.items()]
        _, groups, terms, weights, legal, unknowns = zip(*weighed) if weighed else ((),) * 6
        # (ideas, legal, outside, roles, unknown, parties), in Reading's order
        reading = Reading(len(groups), any(legal), self.lexicon.outside(text), self.lexicon.sides(text.compact),
                          sum(unknowns), self.counterparts.among(text.found))
        found = sorted(text.pairs)
        pair_weights = dict(zip(found, map(self.bigram_idf.get, found, repeat(self.unknown_weight))))
        core = "".join(compress(texts, flags))
        return Query(normalized, groups, weights, legal, core, reading, tuple(pair_weights.items()),
                     question_terms(terms), pair_weights=pair_weights)

    def _factors(self, texts: list[str], ideas: list[list[Idea]], flags: list[bool],
                 phrases: list[tuple[str, str]]) -> dict[Idea, float]:
        """Each idea of the question (with the colloquial phrases of each clause, ``with_phrases``)
        at the highest factor of the clauses holding it: in full in a clause of the core, at
        ``background_weight`` in the story; in the order first met."""
        if len(texts) == 1:   # one clause (most questions): every idea at its factor
            factor = 1.0 if flags[0] else self.settings.background_weight
            found = with_phrases(ideas[0], phrases) if phrases else ideas[0]   # its phrases are all inside it
            return dict.fromkeys(found, factor if factor > 0.0 else 0.0)        # max(0.0, factor)
        factors: dict[Idea, float] = {}
        get = factors.get
        for part, found, core in zip(texts, ideas, flags):
            factor = 1.0 if core else self.settings.background_weight
            inside = [(phrase, legal) for phrase, legal in phrases if phrase in part] if phrases else None
            for idea in with_phrases(found, inside) if inside else found:   # an idea met twice keeps its first place
                held = get(idea, 0.0)
                factors[idea] = factor if factor > held else held   # max(held, factor), without the call
        return factors

    def _ideas_in(self, words: tuple[str, ...]) -> list[Idea]:
        """The ideas of a clause's words (``Dictionaries.groups_of``, each group with its synonyms),
        keeping a number an entry names as a keyword (12348, 12339: the hotlines): a bare number
        says nothing elsewhere ("借了2000"), but a hotline's number is what the question is about.

        Each word's ideas are read from the words' memo in one ``map``; a word not kept (a new
        word, or the memo emptied) is worked out alone (``_word_ideas``)."""
        kept = list(map(self._word_memo.get, words))
        if None in kept:
            kept = [self._word_ideas(word) if ideas is None else ideas for word, ideas in zip(words, kept)]
        ideas = list(chain.from_iterable(kept))
        if self.keyword_numbers.isdisjoint(words):
            return ideas
        return ideas + [self._idea_of((w,)) for w in words if w in self.keyword_numbers]

    def _word_ideas(self, word: str) -> tuple[Idea, ...]:
        """The idea of one word (none for a function word), memoized: a pure function of the
        word, and a question's words are mostly the same few thousand."""
        return self._word_memo.of(word, self._ideas_of_word, word)

    def _ideas_of_word(self, word: str) -> tuple[Idea, ...]:
        return tuple(idea_of(self.dictionaries, group) for group in self.dictionaries.groups_of((word,)))

    def _idea_of(self, group: tuple[str, ...]) -> Idea:
        """A group's idea: each word with its legal synonyms (memoized, see ``ideas_of``)."""
        return self._memo.of(("idea", group), idea_of, self.dictionaries, group)

    def _idea_at(self, idea: Idea, factor: float) -> "IdeaAt":
        """An idea of a question at its clause's ``factor``: its facts, its alternatives weighed
        at that factor times its kind's (``_factor``), its entry-model terms at that factor. One
        memo for the three (the few factors a question gives an idea repeat, and each weighing
        sorts the idea's alternatives)."""
        return self._memo.of(("at", idea, factor), self._weigh_at, idea, factor)

    def _weigh_at(self, idea: Idea, factor: float) -> "IdeaAt":
        facts = self._facts(idea)
        group = facts.weigh(factor * self._factor(facts))
        return IdeaAt(facts, group, idea_terms([idea], factor), group[0][1], facts.legal, not facts.known)

    def _facts(self, idea: Idea) -> "IdeaFacts":
        """What the question's weighing needs to know of an idea apart from where it stands
        (memoized: it depends only on the knowledge base and the dictionaries)."""
        return self._memo.of(("facts", idea), self._find_facts, idea)

    def _find_facts(self, idea: Idea) -> "IdeaFacts":
        words = words_of([idea])
        return IdeaFacts(not words.isdisjoint(self.legal_words), any(w in self.idf for w in words),
                         self.alternatives(idea))

    def _factor(self, facts: "IdeaFacts") -> float:
        """A legal word counts in full; a word the knowledge base uses that is not a legal one
        (同意, 一个, 老婆) at ``nonlegal_weight``; a word it never uses (月亮, 股票, 理发店) at
        ``unknown_weight``: it may say the question is about something no entry covers, or be
        a detail of the story."""
        if facts.legal:
            return 1.0
        return self.settings.nonlegal_weight if facts.known else self.settings.unknown_weight

    # --- candidates and their features ------------------------------------------------------

    def shortlist(self, query: Query) -> list[int]:
        """Entries sharing a word with the question, best first by shared weight (a cheap pass).

        An idea counts for an entry at its heaviest alternative found among the entry's phrasings
        and keywords, or at ANSWER_SHORTLIST_CREDIT of it when found only in the answer text.
        Alternatives held by more than COMMON_SHARE of the entries are left out of this pass
        (they still count in the features) unless the question has nothing rarer: in a large
        knowledge base they would cost a pass over most entries and change the shortlist little.

        Entries under SHORTLIST_FLOOR of the best total are never kept, so only those at or above
        it are sorted (a handful of the dozens sharing a word), and ties at the shortlist's edge
        are broken among them."""
        totals = self.first_pass(query)
        if not totals:
            return []
        floor = SHORTLIST_FLOOR * max(totals.values())
        above = {number: total for number, total in totals.items() if total >= floor}
        best = heaviest(above, SHORTLIST)
        return self._break_ties(query, above, best) if len(above) > SHORTLIST else best

    def first_pass(self, query: Query) -> dict[int, float]:
        """Entry number → the weight the question's ideas bring it in the shortlist's cheap pass."""
        cap = COMMON_SHARE * len(self.entries)
        hits = [self._group_hits(group, cap) for group in query.groups]
        if not any(hits):
            hits = [self._group_hits(group, float("inf")) for group in query.groups]
        totals: dict[int, float] = {}
        for best in hits:
            if not totals:              # the first idea with hits: its weights as they are (0.0 + w is w)
                totals.update(best)
                continue
            get = totals.get
            for number, weight in best.items():
                totals[number] = get(number, 0.0) + weight
        return totals

    def _break_ties(self, query: Query, totals: dict[int, float], best: list[int]) -> list[int]:
        """When more entries tie at the shortlist's last weight than there are places left (a
        short question of common words: "被人打了"), the places go to the entries with the closest
        phrasing, then to the entry listed first, so that the same question gets the same
        shortlist in every process whatever order the hash seed gives the words."""
        last = totals[best[-1]]
        tied = [n for n, total in totals.items() if total == last]
        kept = [n for n in best if totals[n] != last]
        if len(kept) + len(tied) <= SHORTLIST:
            return best
        closeness = {n: self.nearest(query, n)[1] for n in tied}
        tied.sort(key=lambda n: (-closeness[n], n))
        return kept + tied[: SHORTLIST - len(kept)]

    def _group_hits(self, group: Group, cap: float) -> dict[int, float]:
        """``_hits``, memoized (the same idea at the same weight brings the same entries the
        same weight in every question; callers only read the dict, never None)."""
        key = ("hits", group, cap)
        found = self._memo.get(key)
        return self._memo.put(key, self._hits(group, cap)) if found is None else found

    def _hits(self, group: Group, cap: float) -> dict[int, float]:
        """Entry number → the weight this idea brings it in the shortlist pass (alternatives held
        by more than ``cap`` entries left out)."""
        best: dict[int, float] = {}
        held = [(self._holders(alternative), weight) for alternative, weight in reversed(group)]
        held = [(holders, weight) for holders, weight in held if len(holders[0]) + len(holders[1]) <= cap]
        for (_, in_answer), weight in held:          # lightest first: heavier ones overwrite
            best.update(dict.fromkeys(in_answer, weight * ANSWER_SHORTLIST_CREDIT))
        for (in_bag, _), weight in held:
            best.update(dict.fromkeys(in_bag, weight))
        return best

    def _holders(self, alternative: frozenset[str]) -> tuple[frozenset[int], frozenset[int]]:
        """The entries holding any word of the alternative among phrasings and keywords, and
        those holding one only in their answer text (memoized: the vocabulary is small)."""
        found = self._holder_cache.get(alternative)
        if found is None:
            bag = frozenset().union(*(self.postings.get(w, ()) for w in alternative))
            answer = frozenset().union(*(self.answer_postings.get(w, ()) for w in alternative)) - bag
            found = self._holder_cache[alternative] = (bag, answer)
        return found

    def nearest(self, query: Query, number: int) -> tuple[frozenset[str], float, Phrasing]:
        """Entry ``number``'s words shared with the question and its ``closest`` phrasing, kept
        on the query: the shortlist's tie-break and the features both read it."""
        found = query.nearest.get(number)
        if found is None:
            item = self.entries[number]
            in_bag = query.words & item.bag
            found = query.nearest[number] = (in_bag, *closest(query, item, in_bag))
        return found

    def features(self, query: Query, number: int, model: float = 0.0) -> Features:
        """Entry ``number``'s ``Features`` for this question (see bot/retrieval/decision.py for what
        each means); ``model`` is the entry model's probability for it among the candidates."""
        item = self.entries[number]
        in_bag, closeness, phrasing = self.nearest(query, number)   # may be on the query already
        shared, central, keywords, answer, anchors = overlap(query, item, in_bag)
        shape = fuzz.ratio(query.core, phrasing.text) / 100
        found = query.pair_set & item.bigrams   # set & set walks the smaller one
        chars = fsum(map(query.pair_weights.__getitem__, found)) / query.pair_total
        total, reading = query.total, query.reading
        return new_features((shared / total, central / total, closeness, shape, keywords / total,
                             answer / total, chars, shared, anchors,
                             role_relation(reading.roles, item.role) if reading.roles else 0, model,
                             relation(reading.parties, item.parties) if reading.parties else 0))

    def candidates(self, query: Query) -> list[Candidate]:
        """The shortlisted entries with their features, in shortlist order."""
        numbers = self.shortlist(query)
        known = self.model.known_question_terms(map(pair_text, query.pairs), query.word_terms)
        shares = self.model.probabilities_of(*known, numbers)
        entries = self.entries
        return [new_candidate((*entries[n].head, self.features(query, n, share))) for n, share in zip(numbers, shares)]

    # --- deciding ---------------------------------------------------------------------------

    def examine(self, question: str, normalized: str | None = None) -> tuple[Decision | None, Query | None, list[Candidate]]:
        """The steps before the decision: an early decision (danger, a matter for a person, small
        talk), or the question read and its candidates with their features."""
        question = (question or "")[: self.settings.max_question_chars]
        if normalized is None or len(question) < len(normalized):
            normalized = tx.normalize(question)
        early = self._before_faq(normalized)
        if early:
            early.question = question
            return early, None, []
        query = self.query(question, normalized)
        return None, query, self.candidates(query)

    def decide(self, question: str, normalized: str | None = None) -> Decision:
        """The decision for one question (reply text is added by ``reply_for``).

        ``normalized`` is the question already normalized, when the caller has it.
        """
        early, query, candidates = self.examine(question, normalized)
        if early:
            return early
        decision = decision_of(choose(query.reading, candidates, self.settings), self.kb, self.settings)
        decision.question = (question or "")[: self.settings.max_question_chars]
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


def heaviest(totals: dict[int, float], count: int) -> list[int]:
    """The ``count`` entries of highest total, best first, the lower number first on a tie (as
    ``heapq.nsmallest`` of (-total, number) gives them): the numbers in order, then sorted by
    total, highest first. Both sorts run in C, and Python's sort keeps tied entries in the
    order they came (also with ``reverse``), so the lower number stays first."""
    return sorted(sorted(totals), key=totals.__getitem__, reverse=True)[:count]


def entry_role(entry: Any) -> str | None:
    """The entry's optional side of a two-sided matter (kb-entry-spec: victim, wrongdoer, creditor, debtor)."""
    return getattr(entry, "role", None) or None


def candidate(entry: Any, features: Features | None) -> Candidate:
    return Candidate(entry.id, entry.questions[0], tuple(entry.citations), entry.quoted,
                     entry.category, features)


# ``Features(...)`` and ``Candidate(...)`` from a tuple of their fields in order, without the named
# tuple's own ``__new__`` (a Python function taking each field by name): a dozen of each are made
# for every question. (``role_relation`` and ``relation`` give 0 when the question names no side
# or party, so ``features`` skips the calls then.)
new_features = partial(tuple.__new__, Features)
new_candidate = partial(tuple.__new__, Candidate)
pair_text = itemgetter(0)   # a (pair, weight) of ``Query.pairs``: its pair (for the entry model)


def considered(c: Candidate, score: float) -> Considered:
    """A candidate with its score, as the decision carries it to the reply and the record."""
    return Considered(c.faq_id, score, c.question, tuple(c.citations), FeaturesShown(c.features))


def decision_of(verdict: Verdict, kb: Any, s: Any) -> Decision:
    """The verdict as the handlers and `ask --json` see it: an answer shows the top
    ``max_choices + 2`` candidates, choices only the ones offered, a fallback the top
    ``max_choices`` (each made only for the action that shows it)."""
    if verdict.action == "answer":
        top = verdict.chosen[0]
        return Decision("answer", faq_id=top.faq_id, score=verdict.score, citations=list(top.citations),
                        candidates=shown(verdict, s.max_choices + 2), category=top.category, reason=verdict.reason)
    if verdict.action == "clarify":
        scores = {c.faq_id: sc for sc, c in verdict.ranked}
        choices = [considered(c, scores[c.faq_id]) for c in verdict.chosen]
        return Decision("clarify", score=verdict.score, candidates=choices,
                        category=verdict.chosen[0].category, reason=verdict.reason)
    return Decision("fallback", score=verdict.score, candidates=shown(verdict, s.max_choices), reason=verdict.reason)


def shown(verdict: Verdict, count: int) -> list[Considered]:
    """The verdict's best ``count`` candidates with their scores."""
    return [considered(c, sc) for sc, c in verdict.ranked[:count]]


def overlap(query: Query, item: Indexed, in_bag: frozenset[str]) -> tuple[float, float, float, float, int]:
    """The weight of the question's ideas found among the entry's phrasings and keywords
    (``in_bag``: the question's words there), that weight scaled by how central each word is to
    the entry, the weight among its keywords, the weight found only in its answer text, and how
    many legal ideas it shares. The sums are ``fsum``'s: ``in_bag`` is a set of strings, whose
    order changes with the process's hash seed, and a plain sum in that order differed in its
    last bits from one worker to another (a tie between two entries then went either way)."""
    found: dict[int, tuple[float, float]] = {}
    focus, slots = item.focus, query.slots
    for word in in_bag:
        centrality = focus.get(word, 0.0)
        for number, weight in slots[word]:
            old = found.get(number)
            if old is None or (weight, centrality) > old:
                found[number] = (weight, centrality)
    legal = query.legal
    shared = fsum(weight for weight, _ in found.values()) or 0      # 0 when nothing is found,
    central = fsum(weight * centrality for weight, centrality in found.values()) or 0   # as before
    anchors = sum(legal[number] for number in found)
    keywords, answer = in_bag & item.keywords, query.words & item.answer   # most often one is empty
    return (shared, central, keyword_weight(query, keywords) if keywords else 0,
            answer_weight(query, answer, found) if answer else 0, anchors)


def keyword_weight(query: Query, words: frozenset[str]) -> float:
    """The weight of the question's ideas found among the entry's keywords (``words``)."""
    return fsum(best_per_idea(query, words).values()) if words else 0


def answer_weight(query: Query, words: frozenset[str], found: dict[int, Any]) -> float:
    """The weight of the question's ideas found only in the entry's answer text (``words``: the
    question's words there; ``found``: the ideas found among its phrasings and keywords)."""
    return fsum(weight for number, weight in best_per_idea(query, words).items() if number not in found) or 0


def best_per_idea(query: Query, found: Iterable[str]) -> dict[int, float]:
    """Idea number → the weight of its heaviest alternative among the words ``found``."""
    best: dict[int, float] = {}
    for word in found:
        for number, weight in query.slots[word]:
            if weight > best.get(number, 0.0):
                best[number] = weight
    return best


def typo_spans(words: Iterable[str]) -> list[tuple[int, int]]:
    """(start, end) of each run of two or more characters that jieba leaves alone (one-character
    words of ``words``, the cut of a text) and that could be part of a homophone typo: Chinese,
    not a particle. A chunk the homophone pass tries is never rewritten when it holds any other
    character (``Matcher._sounds_like``), so these spans are the only places it can change."""
    spans, at, start = [], 0, -1
    for word in words:
        size = len(word)
        if size == 1 and CJK_MIN <= word <= CJK_MAX and word not in PARTICLES:
            if start < 0:
                start = at
        elif start >= 0:     # a stretch ends here
            if at - start >= 2:
                spans.append((start, at))
            start = -1
        at += size
    if start >= 0 and at - start >= 2:
        spans.append((start, at))
    return spans


def closest(query: Query, item: Indexed, in_bag: frozenset[str]) -> tuple[float, Phrasing]:
    """The phrasing with the highest weighted Dice overlap with the question (the first, on a tie).

    Built from the few words the question shares with the entry (``in_bag``) and the phrasings
    each is in, rather than by comparing every phrasing: this runs for every shortlisted entry
    (and for every entry tied at the shortlist's edge)."""
    slots, where = query.slots, item.where
    held = [(indices, slots[word]) for word in in_bag if (indices := where.get(word)) is not None]
    numbers = [number for _, places in held for number, _ in places]
    if len(numbers) == len(set(numbers)):
        overlaps = summed_overlaps(held).items()
    else:                                      # (phrasing, the fsum of its ideas' best weights)
        found = best_overlaps(held)
        overlaps = zip(found, map(fsum, map(dict.values, found.values())))
    top, top_index, total, weights = 0.0, 0, query.total, item.weights
    for index, shared in overlaps:             # the best; on a tie, the phrasing listed first
        dice = 2 * shared / (total + weights[index])
        if dice > top or (dice == top and index < top_index and dice > 0.0):
            top, top_index = dice, index
    return top, item.phrasings[top_index]


Held = list[tuple[tuple[int, ...], tuple[tuple[int, float], ...]]]   # per shared word: (its phrasings, its ideas)


def best_overlaps(held: Held) -> dict[int, dict[int, float]]:
    """Phrasing → idea → the heaviest weight any shared word gives that idea in that phrasing,
    each filled in the order the words and their ideas come."""
    found: dict[int, dict[int, float]] = {}
    for indices, places in held:
        first = None       # what a phrasing this word is the first to reach starts with (copied)
        for index in indices:
            best = found.get(index)
            if best is None:
                first = heaviest_places(places) if first is None else first
                found[index] = first.copy()
                continue
            for number, weight in places:
                if weight > best.get(number, 0.0):
                    best[number] = weight
    return found


def heaviest_places(places: tuple[tuple[int, float], ...]) -> dict[int, float]:
    """Idea → the heaviest positive weight among ``places``, in the order the ideas come: what
    ``best_overlaps`` fills an empty phrasing's dictionary with from one word."""
    best: dict[int, float] = {}
    for number, weight in places:
        if weight > best.get(number, 0.0):
            best[number] = weight
    return best


def summed_overlaps(held: Held) -> dict[int, float]:
    """``best_overlaps`` summed per phrasing, when no idea is given by two of the shared words:
    then each weight is its idea's best, and no dictionary per phrasing is needed. Summed by
    ``fsum``, whatever order the set of shared words came in (see ``overlap``)."""
    found: dict[int, list[float]] = {}
    for indices, places in held:
        for _, weight in places:
            if weight > 0.0:
                for index in indices:
                    found.setdefault(index, []).append(weight)
    return {index: fsum(weights) for index, weights in found.items()}


# --- what the villager reads ----------------------------------------------------------------

FALLBACK_TEXT = ("抱歉，这个问题我还答不上来。您可以换个说法再问一次：说清楚是什么事、跟谁、想怎么办，"
                 "比如“邻居不让过路怎么办”。需要真人帮忙请回复“转人工”，我会转给您村的法律顾问。")
ESCALATE_TEXT = "这件事比较复杂，需要法律顾问帮您看看。我会把您的问题转给您村的法律顾问，请留意回复。"
URGENT_TEXT = ("如果现在有危险，请马上拨打110报警；有人受伤请打120；心里很难受、想不开，"
               "请打12356心理援助热线，有人愿意听您说。先保护好自己，到邻居家或人多的地方去。")
CLARIFY_HEAD = "您想问的是哪一个？"
CLARIFY_TAIL = "回复数字即可；都不是请回复“都不是”，我转给法律顾问。"


def clarify_text(candidates: list[Considered]) -> str:
    """The numbered choices; a number sent back selects one (handlers/clarify.py)."""
    lines = [f"{n}. {c.question}" for n, c in enumerate(candidates, start=1)]
    return "\n".join([CLARIFY_HEAD, *lines, CLARIFY_TAIL])


def chitchat_text(kind: str, triggers: Triggers, local: dict[str, str]) -> str:
    """A short friendly reply with example questions, so the villager knows what to ask."""
    chat = next((c for c in triggers.chitchat if c.kind == kind), triggers.chitchat[0])
    examples = "；".join(f"“{e}”" for e in triggers.examples)
    return chat.reply.format_map(defaultdict(str, local)) + examples


def reply_for(decision: Decision, kb: Any, config: Any, triggers: Triggers | None = None) -> str:
    """The full text the villager gets for a decision (without a ticket: handlers add that)."""
    if decision.action == "answer":
        from bot.kb.knowledge import compose_reply
        return compose_reply(kb.by_id[decision.faq_id], kb, config)
    if decision.action == "clarify":
        return clarify_text(decision.candidates)
    if decision.action == "chitchat":
        return chitchat_text(decision.reason or "greeting", triggers or lexicons_for(config).triggers, dict(config.local))
    return {"urgent": URGENT_TEXT, "escalate": ESCALATE_TEXT}.get(decision.action, FALLBACK_TEXT)
