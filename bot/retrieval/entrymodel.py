"""Which entry a question is about, learned from the knowledge base's own phrasings.

The matcher's features measure how much of a question an entry's words explain. Two entries on
neighbouring matters (探望 and 抚养费; the 仲裁 of land and of labour) explain about as much of
many questions, and their scores come out nearly equal. Their phrasings, though, say which words
tell them apart: some 2,700 phrasings, each labelled with its entry, are training data that
belongs to the project.

The model is a multinomial logistic regression over the words of a text (each word with its
legal synonyms; a long word's parts at ``PART_VALUE``): one weight per (word, entry) pair where
the word occurs in the entry's phrasings, keywords or answer, and one bias per entry. Each
training text is told apart from the ``NEIGHBOURS`` entries sharing the most word weight with it
(the entries a question could be mistaken for; the softmax runs over those), so training grows
with the knowledge base, not with its square. For a question, the softmax runs over the
matcher's shortlist: ``EntryModel.probabilities`` gives each candidate's share.

The probabilities are calibrated on the knowledge base itself: ``FOLDS`` models, each trained
without one fold of the phrasings, predict that fold, and one temperature is fitted to those
held-out predictions, so that a probability of 0.7 means that about 70 % of the phrasings the
model had not seen went to their entry. (The decision's thresholds are still fitted on labelled
questions by bench/calibrate.py.)

Training takes a few CPU seconds (2 s for 278 entries and 4,100 texts; about 70 s and 1.7 GB
of memory for the bench's synthetic 10× knowledge base). The model is cached on disk (law
search's cache directory) under a key made of the training data itself and the constants below,
so a worker starting on an unchanged knowledge base reads it, and any change of an entry, a
dictionary or the segmentation trains it again.
"""
from __future__ import annotations

import hashlib
import heapq
import io
import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np

from bot.core.text import char_pairs

CACHE_VERSION = "entrymodel-1"
PART_VALUE = 0.7          # a part of a long word (仲裁 of 劳动仲裁) counts at this share of the word
PAIR_VALUE = 0.5          # a pair of adjacent characters (typos, odd splits) counts at this share of a word
PAIR = "#"                # marks a character pair among the words
ANSWER_WEIGHT = 0.3       # the answer text is a training text at this weight (a phrasing: 1)
NEIGHBOURS = 30           # entries each training text is told apart from
COMMON_SHARE = 0.25       # words in more than this share of entries do not choose the neighbours
ITERATIONS = 60
LEARNING_RATE = 0.5       # Adam's step
L2 = 3e-4                 # weight decay: keeps one rare word from deciding alone (see bench/calibrate.py --model)
FOLDS = 3                 # for the temperature: each fold of the phrasings predicted by a model without it
HELD_OUT_RIVALS = 12      # the held-out phrasings' softmax runs over this many neighbours (the shortlist's size)
TEMPERATURES = tuple(round(0.1 * n, 1) for n in range(2, 31))   # 0.2 … 3.0
CHUNK = 1_000_000         # (text, word, entry) combinations joined at a time while compiling

Terms = tuple[tuple[str, float], ...]
add_reduce, max_reduce = np.add.reduce, np.maximum.reduce


class Sample(NamedTuple):
    """One training text: its words with their values, its entry, its weight, its fold (-1: always trained on)."""

    terms: Terms
    entry: int
    weight: float
    fold: int


def idea_terms(ideas: Iterable[tuple[frozenset[str], ...]], scale: float = 1.0) -> dict[str, float]:
    """Word → value for a text's ideas: every word of an idea's first alternative (the word and
    its synonyms) at ``scale``, the words of its parts at ``PART_VALUE`` of that."""
    terms: dict[str, float] = {}
    for idea in ideas:
        for number, alternative in enumerate(idea):
            value = scale * (PART_VALUE if number else 1.0)
            for word in alternative:
                if value > terms.get(word, 0.0):
                    terms[word] = value
    return terms


def merged_terms(found: Iterable[dict[str, float]]) -> dict[str, float]:
    """Word → its highest value among the ideas' terms ``found`` (``idea_terms`` of each idea at
    its factor, in the question's order)."""
    terms: dict[str, float] = {}
    for each in found:
        for word, value in each.items():
            if value > terms.get(word, 0.0):
                terms[word] = value
    return terms


def with_pairs(terms: dict[str, float], pairs: Iterable[str]) -> dict[str, float]:
    """The terms and the character pairs (of a normalized text, ``text.char_pairs``)."""
    for pair in pairs:
        terms.setdefault(PAIR + pair, PAIR_VALUE)
    return terms


def samples_of(indexed: Sequence[Any]) -> list[Sample]:
    """The training texts of the matcher's indexed entries: each phrasing with its character
    pairs (its fold by its place among the entry's phrasings), the keywords together, and the
    words of the answer that the phrasings and keywords do not already hold."""
    samples = []
    for number, item in enumerate(indexed):
        for place, phrasing in enumerate(item.phrasings):
            terms = with_pairs(idea_terms(phrasing.ideas), char_pairs(phrasing.text))
            samples.append(Sample(sorted_terms(terms), number, 1.0, place % FOLDS))
        keywords = with_pairs(dict.fromkeys(item.keywords, 1.0), (p for k in item.keywords for p in char_pairs(k)))
        samples.append(Sample(sorted_terms(keywords), number, 1.0, -1))
        if item.answer:
            samples.append(Sample(sorted_terms(dict.fromkeys(item.answer, 1.0)), number, ANSWER_WEIGHT, -1))
    return [s for s in samples if s.terms]


def sorted_terms(terms: dict[str, float]) -> Terms:
    """The terms by word (each word once, so sorting the words alone gives the items' order)."""
    return tuple([(word, terms[word]) for word in sorted(terms)])


def neighbours(sample: Sample, postings: dict[str, frozenset[int]], idf: dict[str, float],
               cap: float, count: int) -> list[int]:
    """The ``count`` entries other than the sample's own sharing the most word weight (IDF) with
    it; words held by more than ``cap`` entries are left out (they would make everything a
    neighbour). Ties go to the entry listed first."""
    shared: dict[int, float] = {}
    for word, _ in sample.terms:
        holders = postings.get(word, ())
        if len(holders) <= cap:
            weight = idf.get(word, 0.0)
            for entry in holders:
                shared[entry] = shared.get(entry, 0.0) + weight
    shared.pop(sample.entry, None)
    return heapq.nsmallest(count, shared, key=lambda entry: (-shared[entry], entry))


@dataclass
class Compiled:
    """The training set as arrays: the parameters' layout (per word, the entries it may speak
    for), each sample's slots (its entry first, then its neighbours) and the (slot, parameter,
    value) triples that make each slot's logit."""

    vocab: dict[str, int]
    ptr: np.ndarray          # word number → its parameters' range in ``entries``
    entries: np.ndarray      # the entry of each parameter
    slot_start: np.ndarray   # per sample: where its slots begin
    slot_entry: np.ndarray   # per slot: its entry
    slot_sample: np.ndarray  # per slot: its sample
    triple_slot: np.ndarray
    triple_param: np.ndarray
    triple_value: np.ndarray
    weight: np.ndarray       # per sample

    @property
    def true_slots(self) -> np.ndarray:
        return self.slot_start


def compile_samples(samples: Sequence[Sample], rivals: Sequence[Sequence[int]], n_entries: int) -> Compiled:
    """Arrays for training: parameters for every (word, entry) pair seen together, and for every
    sample the parameters of its words that belong to its slots' entries."""
    vocab = {word: n for n, word in enumerate(sorted({w for s in samples for w, _ in s.terms}))}
    pairs = np.unique(np.array([vocab[w] * n_entries + s.entry for s in samples for w, _ in s.terms], dtype=np.int64))
    words_of_pairs = pairs // n_entries
    ptr = np.searchsorted(words_of_pairs, np.arange(len(vocab) + 1)).astype(np.int64)
    slots = [[s.entry, *others] for s, others in zip(samples, rivals)]
    sizes = np.array([len(x) for x in slots], dtype=np.int64)
    slot_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    slot_entry = np.array([e for x in slots for e in x], dtype=np.int64)
    slot_sample = np.repeat(np.arange(len(samples)), sizes)
    term_sample = np.repeat(np.arange(len(samples)), [len(s.terms) for s in samples])
    term_word = np.array([vocab[w] for s in samples for w, _ in s.terms], dtype=np.int64)
    term_value = np.array([v for s in samples for _, v in s.terms], dtype=np.float64)
    found = [join(pairs, n_entries, slot_start, sizes, slot_entry, term_sample[part], term_word[part], term_value[part])
             for part in chunks(term_sample, sizes)]
    triple_slot, triple_param, triple_value = (np.concatenate(column) for column in zip(*found))
    return Compiled(vocab, ptr, (pairs % n_entries).astype(np.int32), slot_start, slot_entry, slot_sample,
                    triple_slot, triple_param, triple_value, np.array([s.weight for s in samples]))


def chunks(term_sample: np.ndarray, sizes: np.ndarray) -> Iterable[slice]:
    """Slices of the terms whose (term, slot) combinations number about CHUNK each."""
    combos = np.cumsum(sizes[term_sample])
    start = 0
    while start < len(term_sample):
        end = int(np.searchsorted(combos, combos[start] - sizes[term_sample[start]] + CHUNK, side="right"))
        end = max(end, start + 1)
        yield slice(start, end)
        start = end


def join(pairs: np.ndarray, n_entries: int, slot_start: np.ndarray, sizes: np.ndarray, slot_entry: np.ndarray,
         term_sample: np.ndarray, term_word: np.ndarray, term_value: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every (slot, parameter, value) where a term's word has a parameter for the slot's entry."""
    counts = sizes[term_sample]
    term = np.repeat(np.arange(len(term_sample)), counts)
    offset = np.arange(len(term)) - np.repeat(np.cumsum(counts) - counts, counts)
    slot = slot_start[term_sample][term] + offset
    key = term_word[term] * n_entries + slot_entry[slot]
    place = np.minimum(np.searchsorted(pairs, key), len(pairs) - 1)
    hit = pairs[place] == key
    return slot[hit], place[hit], term_value[term][hit]


def fit(c: Compiled, n_entries: int, use: np.ndarray | None = None, l2: float = L2) -> tuple[np.ndarray, np.ndarray]:
    """The weights and biases minimizing the weighted softmax loss of the samples (those where
    ``use`` is true) over their slots, plus L2, by Adam."""
    weight = c.weight if use is None else c.weight * use
    total = weight.sum() or 1.0
    slot_weight = weight[c.slot_sample]
    w, b = np.zeros(len(c.entries)), np.zeros(n_entries)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for step in range(1, ITERATIONS + 1):
        p = slot_probabilities(c, w, b)
        p[c.true_slots] -= 1.0
        p *= slot_weight
        grad = np.bincount(c.triple_param, weights=p[c.triple_slot] * c.triple_value, minlength=len(w)) / total + l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= LEARNING_RATE * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
        b -= 0.1 * np.bincount(c.slot_entry, weights=p, minlength=n_entries) / total
    return w, b


def slot_logits(c: Compiled, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bincount(c.triple_slot, weights=w[c.triple_param] * c.triple_value, minlength=len(c.slot_entry)) + b[c.slot_entry]


def slot_probabilities(c: Compiled, w: np.ndarray, b: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax of each sample's slots."""
    z = slot_logits(c, w, b) / temperature
    z -= np.maximum.reduceat(z, c.slot_start)[c.slot_sample]
    e = np.exp(z)
    return e / np.add.reduceat(e, c.slot_start)[c.slot_sample]


def held_out_logits(c: Compiled, samples: Sequence[Sample], n_entries: int, l2: float = L2) -> list[np.ndarray]:
    """For each phrasing, its logits (own entry first, then up to HELD_OUT_RIVALS neighbours)
    from a model trained without its fold."""
    folds = np.array([s.fold for s in samples])
    found: list[np.ndarray] = []
    ends = np.append(c.slot_start[1:], len(c.slot_entry))
    for fold in range(FOLDS):
        if not (folds == fold).any() or (folds != fold).sum() == 0:
            continue
        w, b = fit(c, n_entries, use=(folds != fold).astype(np.float64), l2=l2)
        z = slot_logits(c, w, b)
        for n in np.flatnonzero(folds == fold):
            found.append(z[c.slot_start[n]: min(ends[n], c.slot_start[n] + 1 + HELD_OUT_RIVALS)])
    return found


def best_temperature(held_out: Sequence[np.ndarray]) -> float:
    """The temperature that makes the held-out predictions most likely (1 when there are none):
    each row's own entry is its first logit."""
    rows = [z for z in held_out if len(z) > 1]
    if not rows:
        return 1.0
    z = np.full((len(rows), max(len(r) for r in rows)), -np.inf)
    for n, row in enumerate(rows):
        z[n, : len(row)] = row
    z -= z.max(axis=1, keepdims=True)
    scaled = z[None, :, :] / np.array(TEMPERATURES)[:, None, None]
    losses = (np.log(np.exp(scaled).sum(axis=2)) - scaled[:, :, 0]).sum(axis=1)
    return TEMPERATURES[int(np.argmin(losses))]


@dataclass
class EntryModel:
    """The trained model: per word, the entries it speaks for with their weights; per entry a
    bias; the temperature from cross-validation. Small (a few hundred kB for today's entries)."""

    vocab: dict[str, int]
    ptr: np.ndarray
    entries: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    temperature: float
    held_out_right: float = math.nan    # share of held-out phrasings whose own entry came first

    def probabilities(self, terms: Iterable[tuple[str, float]], candidates: Sequence[int]) -> list[float]:
        """Each candidate entry's probability that the text with these terms is about it, the
        softmax running over the candidates only."""
        return self.probabilities_of(*self.known_terms(terms), candidates)

    def probabilities_of(self, numbers: list[int], values: list[float], candidates: Sequence[int]) -> list[float]:
        """``probabilities`` of the terms the model knows (``known_terms``: their word numbers and
        values, in the terms' order).

        The (term × candidate) weights are looked up at once in ``keys`` (one sorted search for
        a few dozen words and a dozen candidates) instead of word after word in Python. Each
        logit is then summed down its column: numpy adds the rows of an axis-0 sum one after
        the other, so the products are added in the terms' order, as the whole-array
        ``bincount`` adds them (tests/test_matcher_memo.py pins the equality); a missing weight
        adds an exact 0.0. The weights and biases are read as float64 copies made once
        (``exact``: the same values as converting the float32 ones at each call), and the keys
        end with the largest int64, so a search past the last key lands on one that matches no
        (word, entry). (``take`` and the ufuncs' own ``reduce`` are what fancy indexing, ``sum`` and
        ``max`` call, without their Python-level wrappers: a dozen small arrays a question.)"""
        if not len(candidates):
            return []
        keys, weights, bias = self.exact
        entries = np.array(candidates, dtype=np.int64)
        z = bias.take(entries)
        if numbers:
            wanted = np.array(numbers, dtype=np.int64)[:, None] * len(bias) + entries
            place = keys.searchsorted(wanted)
            found = np.where(keys.take(place) == wanted, weights.take(place), 0.0)
            z += add_reduce(found * np.array(values)[:, None], axis=0)
        z = (z - max_reduce(z)) / self.temperature
        e = np.exp(z)
        return (e / add_reduce(e)).tolist()

    @cached_property
    def exact(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``keys`` with the largest int64 appended (``keys`` is a view of all but that last one:
        no second copy), the weights as float64 (with a 0.0 for that last key) and the biases
        as float64: read by every ``probabilities_of``."""
        counts = np.diff(self.ptr).astype(np.int64)
        words = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        keys = np.append(words * len(self.bias) + self.entries.astype(np.int64), np.iinfo(np.int64).max)
        weights = np.append(self.weights.astype(np.float64), 0.0)
        return keys, weights, self.bias.astype(np.float64)

    def known_terms(self, terms: Iterable[tuple[str, float]]) -> tuple[list[int], list[float]]:
        """The word numbers and values of the terms the model has weights for, in their order."""
        numbers, values, vocab = [], [], self.vocab
        for word, value in terms:
            number = vocab.get(word)
            if number is not None:
                numbers.append(number)
                values.append(value)
        return numbers, values

    def known_question_terms(self, pairs: Iterable[str], words: Terms) -> tuple[list[int], list[float]]:
        """``known_terms`` of a question's terms, ``sorted_terms(with_pairs(dict(words), pairs))``,
        without making them: its character pairs (sorted) come first, since every pair term
        (``PAIR`` + pair) sorts before every word (a normalized word never starts with ``PAIR``
        or a character below it: those are folded into spaces), each at ``PAIR_VALUE``; then its
        words (``words``, sorted). A pair is looked up bare in ``pair_numbers``."""
        numbers = [number for number in map(self.pair_numbers.get, pairs) if number is not None]
        word_numbers, word_values = self.known_terms(words)
        return numbers + word_numbers, [PAIR_VALUE] * len(numbers) + word_values

    @cached_property
    def pair_numbers(self) -> dict[str, int]:
        """Character pair → the number of its term (``PAIR`` + pair) in ``vocab``."""
        return {word[len(PAIR):]: number for word, number in self.vocab.items() if word.startswith(PAIR)}

    @cached_property
    def keys(self) -> np.ndarray:
        """Per parameter: its word's number × the number of entries + its entry. Ascending, since
        the parameters are laid out by word, then by entry (``compile_samples``'s ``np.unique``):
        8 bytes a parameter (0.7 MB today, 8 MB at ten times the entries), held in ``exact``."""
        return self.exact[0][:-1]


def compiled_for(samples: Sequence[Sample], n_entries: int, postings: dict[str, frozenset[int]],
                 idf: dict[str, float]) -> Compiled:
    cap = max(NEIGHBOURS, COMMON_SHARE * n_entries)
    return compile_samples(samples, [neighbours(s, postings, idf, cap, NEIGHBOURS) for s in samples], n_entries)


def cross_validation(indexed: Sequence[Any], postings: dict[str, frozenset[int]], idf: dict[str, float],
                     l2: float = L2) -> dict[str, float]:
    """How the model does on phrasings it was not trained on (each fold predicted by a model
    trained without it): the share whose own entry comes first among it and its nearest
    HELD_OUT_RIVALS entries, the fitted temperature, the mean negative log-likelihood at that
    temperature, and how well the top probability tells right from wrong (AUROC: the chance that
    a right prediction is more confident than a wrong one). bench/calibrate.py --model prints it."""
    samples = samples_of(indexed)
    held_out = [z for z in held_out_logits(compiled_for(samples, len(indexed), postings, idf), samples, len(indexed), l2)
                if len(z) > 1]
    t = best_temperature(held_out)
    right = np.array([z[0] > z[1:].max() for z in held_out])
    top = np.array([1.0 / np.exp((z - z.max()) / t).sum() for z in held_out])
    nll = np.mean([np.log(np.exp((z - z.max()) / t).sum()) - (z[0] - z.max()) / t for z in held_out])
    return {"phrasings": len(held_out), "right": float(right.mean()), "temperature": t, "nll": float(nll),
            "auroc": auroc(top, right)}


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The chance that a positive scores above a negative (ties count half)."""
    positive, negative = scores[labels], scores[~labels]
    if not len(positive) or not len(negative):
        return math.nan
    above = (positive[:, None] > negative[None, :]).sum() + 0.5 * (positive[:, None] == negative[None, :]).sum()
    return float(above / (len(positive) * len(negative)))


def train(samples: Sequence[Sample], n_entries: int, postings: dict[str, frozenset[int]],
          idf: dict[str, float]) -> EntryModel:
    """Train on the samples; the temperature from the folds' held-out predictions."""
    if not samples:
        return EntryModel({}, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32),
                          np.zeros(n_entries, dtype=np.float32), 1.0)
    compiled = compiled_for(samples, n_entries, postings, idf)
    held_out = held_out_logits(compiled, samples, n_entries)
    w, b = fit(compiled, n_entries)
    right = sum(int(z.argmax() == 0) for z in held_out) / len(held_out) if held_out else math.nan
    return EntryModel(compiled.vocab, compiled.ptr, compiled.entries, w.astype(np.float32), b.astype(np.float32),
                      best_temperature(held_out), right)


# --- the disk cache -------------------------------------------------------------------------

def cache_key(samples: Sequence[Sample], entry_ids: Sequence[str]) -> str:
    """Changes with any training text, entry or constant of this module."""
    digest = hashlib.sha256(CACHE_VERSION.encode())
    digest.update(json.dumps([PART_VALUE, PAIR_VALUE, ANSWER_WEIGHT, NEIGHBOURS, COMMON_SHARE, ITERATIONS, LEARNING_RATE,
                              L2, FOLDS, HELD_OUT_RIVALS, TEMPERATURES]).encode())
    digest.update("\0".join(entry_ids).encode())
    for s in samples:
        digest.update(json.dumps([s.entry, s.weight, s.fold, s.terms], ensure_ascii=False).encode())
    return digest.hexdigest()[:24]


def save(model: EntryModel, path: Path) -> None:
    from bot.retrieval.lawsearch import write_atomically
    words = sorted(model.vocab, key=model.vocab.get)
    out = io.BytesIO()
    np.savez(out, vocab=np.frombuffer(json.dumps(words, ensure_ascii=False).encode(), np.uint8),
             ptr=model.ptr, entries=model.entries, weights=model.weights, bias=model.bias,
             scalars=np.array([model.temperature, model.held_out_right]))
    write_atomically(path, out.getvalue())


def load(path: Path, n_entries: int) -> EntryModel | None:
    """The cached model, or None if it is missing, unreadable or made for another number of entries."""
    try:
        with np.load(path, allow_pickle=False) as data:
            words = json.loads(data["vocab"].tobytes().decode())
            model = EntryModel({w: n for n, w in enumerate(words)}, data["ptr"], data["entries"], data["weights"],
                               data["bias"], float(data["scalars"][0]), float(data["scalars"][1]))
    except (OSError, KeyError, ValueError):
        return None
    return model if len(model.bias) == n_entries and len(model.ptr) == len(words) + 1 else None


def entry_model(indexed: Sequence[Any], postings: dict[str, frozenset[int]], idf: dict[str, float],
                cache_dir: Path | None | str = "default") -> EntryModel:
    """The model for the matcher's indexed entries: from the disk cache when it was trained on
    the same texts, else trained (and saved)."""
    from bot.retrieval.lawsearch import default_cache_dir, usable_dir
    samples = samples_of(indexed)
    directory = default_cache_dir() if cache_dir == "default" else (Path(cache_dir) if cache_dir else None)
    if directory is None or not usable_dir(directory):
        return train(samples, len(indexed), postings, idf)
    path = directory / f"entrymodel-{cache_key(samples, [item.entry.id for item in indexed])}.npz"
    found = load(path, len(indexed)) if path.exists() else None
    if found is None:
        found = train(samples, len(indexed), postings, idf)
        save(found, path)
    return found
