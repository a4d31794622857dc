"""The word features of all of a question's candidates at once, from arrays.

Most of a candidate's features are sums over the question's ideas of the best weight that a
word the question shares with the entry gives each idea: among the entry's phrasings and
keywords (coverage, focus, anchors), among its keywords, in its answer text only, and in each of
its phrasings (closeness, through the closest phrasing). Written as loops they walk the shared
words entry by entry and phrasing by phrasing in Python, a dozen times a question. Here two
sorted searches find every (word, entry) and (word, phrasing) the question touches among its
candidates, and the maxima and sums are array operations over candidate × word × idea.

What it changes: each sum runs over the ideas in the question's order, where the loops added
them in the order the words came, so a feature can differ from the loops' in the last bits, and
two phrasings or entries that tied exactly may no longer tie (tests/test_matcher_arrays.py
compares both definitions; BENCHMARKS.md's Matcher section counts the decisions that moved).

Memory: per (word, entry) of an entry's phrasings, keywords and answer 17 bytes, per (word,
phrasing) 8 bytes, per phrasing 16: about 1 MB for today's knowledge base, 10 MB at ten times.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

BAG, KEYWORD, ANSWER = 1, 2, 3   # where an entry holds a word: phrasings, keywords (also the bag), answer only


@dataclass(frozen=True)
class EntryArrays:
    """The knowledge base's words by entry and by phrasing, as sorted keys for ``searchsorted``."""

    ids: dict[str, int]            # word → its number
    entries: int
    field_keys: np.ndarray         # word number × entries + entry, ascending
    field_kind: np.ndarray         # BAG, KEYWORD or ANSWER for each key
    field_focus: np.ndarray        # the word's focus in the entry (0 in the answer only)
    row_start: np.ndarray          # per entry its first phrasing's row; then the number of rows
    row_weight: np.ndarray         # per phrasing: its weight (the matcher's ``Phrasing.weight``)
    row_keys: np.ndarray           # word number × rows + row, ascending


@dataclass(frozen=True)
class QueryColumns:
    """A question's words that the knowledge base holds, against its ideas."""

    ids: np.ndarray                # (W,) their numbers
    weights: np.ndarray            # (W, I) the weight each gives each idea (its heaviest alternative), 0 if none
    holds: np.ndarray              # (W, I) does the word stand for the idea at all
    legal: np.ndarray              # (I,) is the idea a legal word
    total: float                   # the question's weight


@dataclass(frozen=True)
class WordFeatures:
    """Per candidate (in the order asked): the features made of shared words' weights."""

    shared: np.ndarray             # weight found among phrasings and keywords
    central: np.ndarray            # the same, each idea at its best word's focus
    keywords: np.ndarray           # weight found among keywords
    answer: np.ndarray             # weight found only in the answer text
    anchors: np.ndarray            # legal ideas found among phrasings and keywords


def entry_arrays(indexed: Sequence[Any]) -> EntryArrays:
    """The arrays of the matcher's indexed entries (``phrasings`` with ``words`` and ``weight``,
    ``bag``, ``keywords``, ``answer``, ``focus``); phrasing weights must be set already."""
    vocabulary = sorted({w for item in indexed for w in item.bag | item.answer})
    ids = {word: number for number, word in enumerate(vocabulary)}
    n, fields, rows, starts, weights = len(indexed), [], [], [0], []
    for number, item in enumerate(indexed):
        for word in item.bag:
            kind = KEYWORD if word in item.keywords else BAG
            fields.append((ids[word] * n + number, kind, item.focus.get(word, 0.0)))
        fields += [(ids[word] * n + number, ANSWER, 0.0) for word in item.answer]
        for phrasing in item.phrasings:
            rows.append([ids[word] for word in phrasing.words])
            weights.append(phrasing.weight)
        starts.append(len(rows))
    fields.sort()
    total = len(rows)
    row_keys = sorted(word * total + row for row, words in enumerate(rows) for word in words)
    return EntryArrays(ids, n, np.array([k for k, _, _ in fields], dtype=np.int64),
                       np.array([kind for _, kind, _ in fields], dtype=np.int8),
                       np.array([f for _, _, f in fields], dtype=np.float64), np.array(starts, dtype=np.int64),
                       np.array(weights, dtype=np.float64), np.array(row_keys, dtype=np.int64))


def query_columns(arrays: EntryArrays, slots: dict[str, tuple[tuple[int, float], ...]],
                  legal: Sequence[bool], total: float) -> QueryColumns:
    """``QueryColumns`` of a question's ``slots`` (word → its (idea, weight) places)."""
    known = [(arrays.ids[word], places) for word, places in slots.items() if word in arrays.ids]
    weights = np.zeros((len(known), len(legal)))
    holds = np.zeros((len(known), len(legal)), dtype=bool)
    for row, (_, places) in enumerate(known):
        for idea, weight in places:
            holds[row, idea] = True
            weights[row, idea] = max(weights[row, idea], weight)
    return QueryColumns(np.array([number for number, _ in known], dtype=np.int64), weights, holds,
                        np.array(legal, dtype=bool), total)


def word_features(arrays: EntryArrays, q: QueryColumns, numbers: Sequence[int]) -> WordFeatures:
    """Per candidate: each idea at its heaviest word among the entry's phrasings and keywords
    (the focus of that word, the heaviest on a tie), among its keywords, and in its answer."""
    kind, focus = fields_of(arrays, q, np.asarray(numbers, dtype=np.int64))
    in_bag = (kind == BAG) | (kind == KEYWORD)                       # (C, W)
    holds = in_bag[:, :, None] & q.holds[None, :, :]                  # (C, W, I)
    given = np.where(holds, q.weights[None, :, :], 0.0)
    best = given.max(axis=1, initial=0.0)                             # (C, I)
    found = holds.any(axis=1)
    at_best = holds & (given == best[:, None, :])
    centrality = np.where(at_best, focus[:, :, None], 0.0).max(axis=1, initial=0.0)
    keywords = heaviest(kind == KEYWORD, q.weights)
    answer = np.where(found, 0.0, heaviest(kind == ANSWER, q.weights))
    return WordFeatures(best.sum(axis=1), (best * centrality).sum(axis=1), keywords.sum(axis=1),
                        answer.sum(axis=1), (found & q.legal[None, :]).sum(axis=1))


def heaviest(where: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(C, I): each idea's heaviest weight among the words ``where`` (C, W) is true."""
    return np.where(where[:, :, None], weights[None, :, :], 0.0).max(axis=1, initial=0.0)


def fields_of(arrays: EntryArrays, q: QueryColumns, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(C, W) where each candidate holds each of the question's words (0: nowhere) and its focus."""
    keys = q.ids[None, :] * arrays.entries + numbers[:, None]
    if not len(arrays.field_keys):
        return np.zeros(keys.shape, dtype=np.int8), np.zeros(keys.shape)
    place = np.minimum(np.searchsorted(arrays.field_keys, keys), len(arrays.field_keys) - 1)
    hit = arrays.field_keys[place] == keys
    return np.where(hit, arrays.field_kind[place], 0), np.where(hit, arrays.field_focus[place], 0.0)


def closest(arrays: EntryArrays, q: QueryColumns, numbers: Sequence[int]) -> tuple[list[float], list[int]]:
    """Per candidate: the weighted Dice overlap of its closest phrasing with the question, and
    that phrasing's place among the entry's (the first, on a tie; the first when none shares a
    word). A phrasing's overlap counts each idea at its heaviest word found in the phrasing."""
    numbers = np.asarray(numbers, dtype=np.int64)
    starts, ends = arrays.row_start[numbers], arrays.row_start[numbers + 1]
    counts = ends - starts
    offsets = np.cumsum(counts) - counts                     # each candidate's first row among all
    local, word = rows_holding(arrays, q, starts, ends, offsets)
    present = np.zeros((int(counts.sum()), len(q.ids)), dtype=bool)
    present[local, word] = True
    per_idea = np.where(present[:, :, None], q.weights[None, :, :], 0.0).max(axis=1, initial=0.0)
    rows = np.repeat(starts - offsets, counts) + np.arange(len(present))
    dice = 2 * per_idea.sum(axis=1) / (q.total + arrays.row_weight[rows])
    top = np.maximum.reduceat(dice, offsets)
    places = np.where(dice == np.repeat(top, counts), np.arange(len(dice)), len(dice))
    first = np.minimum.reduceat(places, offsets) - offsets
    return top.tolist(), np.where(top > 0.0, first, 0).tolist()


def rows_holding(arrays: EntryArrays, q: QueryColumns, starts: np.ndarray, ends: np.ndarray,
                 offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (candidates' phrasing, question word) where the phrasing holds the word: the phrasing
    as a row among the candidates' rows laid end to end, the word by its column."""
    total = len(arrays.row_weight)
    base = q.ids[None, :] * total                                            # (1, W)
    low = np.searchsorted(arrays.row_keys, base + starts[:, None]).ravel()   # (C × W)
    high = np.searchsorted(arrays.row_keys, base + ends[:, None]).ravel()
    lengths = high - low
    pair = np.repeat(np.arange(len(lengths)), lengths)
    found = arrays.row_keys[np.repeat(low - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())]
    candidate, word = np.divmod(pair, len(q.ids))
    return found % total - starts[candidate] + offsets[candidate], word
