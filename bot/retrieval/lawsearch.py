"""Law search: the articles most relevant to a question in plain words.

Advisers see these suggestions on each ticket, and `legalbot law search` prints them. Villagers
rarely use the law's own words (快递丢了, not 货物毁损、灭失), so one article is found by
several kinds of evidence, added up:

- BM25 over each article's fields (its text; its law's title with the chapter and section; the
  phrasings of every FAQ entry that cites it: the vetted entries are a hand-made map from how
  people ask to which article answers; its gloss, knowledge/glosses/: everyday questions written
  for articles no entry cites), each field saturating on its own;
- the same over character pairs (欠款 and 拖欠款项 share 欠款; a typo spoils one pair, not the
  whole word; legal terms jieba does not know still meet);
- law-level and chapter-level evidence: the question scored against each law and each chapter
  as a whole, so a question about 承运人 looks in 运输合同 first;
- a law named in the question (劳动合同法第几条) counts for that law's articles, and a citation
  (民法典1079, 刑法第133条之一) puts that article first.

That first stage's 50 best articles are then re-ordered by a linear score over a few general
features of each (how much of the question's words it holds, whether it opens its chapter, whether
its source text is garbled, the size of its law …: see LawIndex.candidates), so that an article
holding every idea of the question beats one repeating a single rare word.

Below MIN_EVIDENCE no article is shown at all: "转人工" or "你好" must not fill a ticket with
noise. The weights are general (see WEIGHTS and RERANK) and were fitted on one half of the
labelled real questions and checked on the other (BENCHMARKS.md).

Segmenting ~8,000 articles with jieba takes seconds, so the built index is cached on disk as
plain arrays (numpy's .npz, read without pickle) and JSON, keyed by everything it depends on, and
the statutes' words ship with the project (SEED_DIR) so that a new cache does not segment them.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import inspect
import io
import json
import os
import re
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass
from functools import lru_cache
from itertools import chain, filterfalse
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from bot.core import text
from bot.core.config import shipped_knowledge_dir
from bot.kb.knowledge import Article, Statutes, parse_citation

CACHE_VERSION = "3"
RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")


@dataclass(frozen=True)
class Weights:
    """Every tunable number of the ranking, in one place (part of the cache key)."""

    k1: float = 0.6               # BM25 term-frequency saturation
    b: float = 0.75               # length normalization of an article's text and FAQ phrasings
    b_header: float = 0.3         # ... of its law title + chapter (short, similar lengths)
    text: float = 1.0             # field weights
    header: float = 0.3
    faq: float = 1.0
    gloss: float = 1.0            # the glosses' everyday questions (bot/kb/glosses.py)
    pairs: float = 1.3            # character pairs, next to jieba's words (weight 1)
    synonym: float = 1.0          # a legal word added for a colloquial one (欠钱 → 借款)
    law_term: float = 0.4         # the law's word for an everyday one (快递公司 → 承运人)
    law: float = 30.0             # the whole law's score, 0-1, scaled to article scores
    chapter: float = 5.0          # the chapter's (and section's) score, likewise
    named_law: float = 0.5        # a law named in the question: share of the best score added
    cited: float = 1000.0         # a citation in the question: that article first
    ask_k1: float = 1.2           # BM25 over each gloss question alone (the ask_* features)
    ask_b: float = 0.5


WEIGHTS = Weights()
# Least evidence for showing anything: the best article's own score (BM25 over its fields, before
# law and chapter evidence). `bench/lawsearch_eval.py --calibrate` shows how many real questions
# each threshold would silence and which short messages it would answer: one legal word
# (彩礼, 继承) must pass, a lone function word (可以, 怎么办) must not. Glosses are left out of the
# evidence (LawIndex.scores): counted, they raised 你们几点下班 from 7.4 to 21.3, above 彩礼's 20.5.
MIN_EVIDENCE = 10.0
# The second stage: the first stage's best CANDIDATES re-ordered by a linear score over a few
# general features of each article (see `LawIndex.features`). Fitted on half A of the dev
# questions by `bench/lawsearch_eval.py --fit` (listwise softmax), checked on half B; the same
# signs and sizes come out of either half. Kept apart from Weights: they do not change the index.
CANDIDATES = 50
FEATURES = ("first_stage", "coverage", "chapter_best", "opens_group", "length", "damaged", "law_size",
            "nearest_gloss", "ask_best", "ask_coverage")
# Refitted on half A with ask_best and ask_coverage at 6,189 glossed articles (BENCHMARKS.md, session
# 7): held out, each half gains on the same refit without them (hit@5 A 67.4 -> 68.2, B 72.7 -> 72.9).
# Both come out negative on either half: beside the gloss field's sum and nearest_gloss they correct,
# they do not reward, one question standing out.
RERANK = (4.27, 5.76, 1.23, 0.77, -0.05, -3.95, 0.53, 4.39, -1.04, -0.19)
# A question is searched by its first this many characters: a pasted document must not cost a
# worker a tenth of a second (the matcher cuts at 500).
MAX_QUERY_CHARS = 1000
# Words of the conversation, not of the matter: asking for a person, greeting, thanking. They are
# taken out before searching, so a ticket opened by "转人工" alone gets no articles.
CHATTER = re.compile(
    "转人工|人工客服|人工服务|找人工|要人工|找真人|要真人|真人|客服|你好|您好|在吗|在不在|有人吗|"
    "谢谢|多谢|感谢|好的|收到|知道了|明白了|懂了|早上好|上午好|中午好|下午好|晚上好|不用了|没事了|"
    "请问|问个问题|问一下|咨询一下|我想咨询|我想问|哈哈|嗯嗯|^喂|^人工$|^律师$|^顾问$")


# Hits shown to a reader (查法条, the console's statutes page) stop where the second stage's belief
# falls under this share of the first's: a fourth article at 0.01 beside a first at 0.6 is noise on a
# phone. `legalbot law search --json`, tickets and benches get all k. On the dev questions (BENCHMARKS.md,
# session 7b) 0.05 drops 18 % of the hits shown, 4 % of those right, and hit@3 64.9 -> 64.3 %.
HIT_FLOOR = 0.05


@dataclass(frozen=True)
class LawHit:
    citation: str
    law: str
    article: str          # the article's label, 第一千零七十九条
    text: str
    score: float

    def as_json(self) -> dict:
        return {"citation": self.citation, "law": self.law, "article": self.article,
                "text": self.text, "score": round(self.score, 4)}


def above_floor(hits: Sequence[LawHit], share: float = HIT_FLOOR) -> list[LawHit]:
    """The hits worth showing a reader: those whose score is at least ``share`` of the first's
    (the first always; a cited article scores 1.0, so weak ones after it go)."""
    return [hit for hit in hits if hit.score >= share * hits[0].score] if hits else []


# --- terms ----------------------------------------------------------------------------------

def char_pairs(normalized: str) -> list[str]:
    """Overlapping character pairs of each run of Chinese (or of letters and digits); a run of
    one character stands as itself."""
    out: list[str] = []
    for run in RUN.findall(normalized):
        out.extend(map(str.__add__, run, run[1:]) if len(run) > 1 else (run,))
    return out


def shipped_dictionaries() -> text.Dictionaries:
    """The shipped knowledge/dict's words: for an index built without a configuration (benches,
    tests); apps and CLI commands pass their knowledge directory's."""
    return text.dictionaries_in(shipped_knowledge_dir() / "dict")


def words_of(normalized: str, words: text.Dictionaries) -> list[str]:
    """jieba's informative words of normalized text (the dictionaries' segmentation)."""
    return [w for group in words.word_groups(normalized) for w in group]


class Segmenter:
    """The normalized text and words of many strings, each distinct string done once and
    remembered on disk by its digest (the file is keyed by the segmenting code and dictionaries):
    when a law is added, only its articles are normalized and segmented anew.

    Within one build each distinct run of text between spaces is cut once, and each distinct word
    grouped once: jieba cuts at every space, so this is exactly what cutting the whole string
    gives, and statutes repeat their clauses (违反本法规定，……) and words."""

    def __init__(self, words: text.Dictionaries, path: Path | None, seed: Path | None = None):
        self.dictionaries, self.path, self.changed = words, path, False
        self.seeded = read_words(seed)
        self.known: dict[str, list] = {**self.seeded, **read_words(path)}
        self.used: set[str] = set()
        self.blocks: dict[str, list[str]] = {}
        self.groups: dict[str, tuple[str, ...]] = {}
        self.done: dict[str, tuple[str, list[str]]] = {}

    def read(self, raw: str) -> tuple[str, list[str]]:
        """The normalized text and words of ``raw``; a string read before in this build is not
        hashed again (each gloss question is read three times: alone, in its field, normalized)."""
        found = self.done.get(raw)
        if found is None:
            found = self.done[raw] = self.looked_up(raw)
        return found

    def looked_up(self, raw: str) -> tuple[str, list[str]]:
        key = hashlib.sha1(raw.encode()).hexdigest()[:20]
        self.used.add(key)
        if key not in self.known:
            normalized = text.normalize(raw)
            self.known[key], self.changed = [normalized, self.words(normalized)], True
        normalized, words = self.known[key]
        return normalized, words

    def words(self, normalized: str) -> list[str]:
        """``words_of(normalized)``, each run between spaces and each word done once."""
        out: list[str] = []
        for block in normalized.split(" "):
            if block and block not in self.blocks:
                self.blocks[block] = [w for word in self.dictionaries.cut(block) for w in self.group(word)]
            out.extend(self.blocks.get(block, ()))
        return out

    def group(self, word: str) -> tuple[str, ...]:
        if word not in self.groups:
            self.groups[word] = tuple(w for group in self.dictionaries.groups_of((word,)) for w in group)
        return self.groups[word]

    def terms(self, strings: Sequence[str]) -> tuple[list[list[str]], list[str]]:
        """jieba's informative words of each string, and its normalized text (for ``pair_field``)."""
        done = [self.read(s) for s in strings]
        return [words for _, words in done], [normalized for normalized, _ in done]

    def save(self) -> None:
        """Write the strings of this build only (a replaced article's words are not kept), less
        those the seed holds."""
        own = self.used.difference(self.seeded)
        if self.path and (self.changed or len(own) < len(self.known) - len(self.seeded)):
            kept = {key: self.known[key] for key in sorted(own)}
            write_atomically(self.path, json.dumps(kept, ensure_ascii=False).encode())


def read_words(path: Path | None) -> dict[str, list]:
    """A words file ({digest: [normalized, words]}, gzipped if its name says so), or nothing when
    it is missing or unreadable (then its strings are segmented again)."""
    if not path or not path.exists():
        return {}
    try:
        raw = path.read_bytes()
        found = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    except (OSError, ValueError, EOFError):
        return {}
    return found if isinstance(found, dict) else {}


# The statutes' (and glosses') segmentation as shipped with the project (`legalbot law index --seed`),
# so that a fresh clone or a new cache directory does not segment ~8,000 articles (seconds) at start-up. Its
# name carries the segmentation key: after a change of the dictionaries or of how text is cut it is
# simply not found, and the statutes are segmented as before until it is written again.
SEED_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "index"


def seed_path(words: text.Dictionaries, directory: Path = SEED_DIR) -> Path:
    return directory / f"lawwords-{segmentation_key(words)}.json.gz"


def write_seed(statutes: Statutes, words: text.Dictionaries, directory: Path = SEED_DIR) -> Path:
    """Write the segmentation of the searchable articles, their headers, the FAQ phrasings citing
    them and their glosses (as the fields read them, and the glosses one question at a time, as
    nearest_gloss does) and remove seeds of earlier keys. Strings are found by their digest, so a
    seed older than the glosses or the FAQ costs only the segmenting of what changed (the FAQ's
    phrasings were left out once: segmenting them is a third of a second of every new cache)."""
    path = seed_path(words, directory)
    segmenter = Segmenter(words, None, path)
    articles = searchable(statutes)
    for field in article_fields(statutes, articles):
        segmenter.terms(field)
    normalized_asks(statutes, articles, segmenter)
    found = {key: segmenter.known[key] for key in sorted(segmenter.used)}
    directory.mkdir(parents=True, exist_ok=True)
    data = gzip.compress(json.dumps(found, ensure_ascii=False, separators=(",", ":")).encode(), mtime=0)
    if not path.exists() or path.read_bytes() != data:
        write_atomically(path, data)
    for old in directory.glob("lawwords-*.json.gz"):
        if old != path:
            old.unlink()
    return path


LAWTERMS = "lawterms.toml"   # in a knowledge directory's dict/, beside the other dictionaries


@lru_cache(maxsize=4)
def law_terms(path: Path) -> dict[str, tuple[str, ...]]:
    """Everyday word → the law's words for it (a knowledge directory's dict/lawterms.toml),
    validated at load; a missing file means no such words."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise text.DictionaryError(f"{path.name}: {exc}") from exc
    return text.validate_synonyms({"synonyms": data.get("terms")}, path.name)


def everyday_words(normalized: str, table: Mapping[str, tuple[str, ...]], own: Iterable[str]) -> list[str]:
    """The law's words for the everyday words in the question: a phrase of two or more characters
    anywhere in it (across jieba's word boundaries), a single character only as a word of its own."""
    compact, words = normalized.replace(" ", ""), set(own)
    found = [legal for lay, legals in table.items()
             if (lay in compact if len(lay) > 1 else lay in words) for legal in legals]
    return list(dict.fromkeys(found))


def query_terms(normalized: str, words_in: text.Dictionaries, lay: Mapping[str, tuple[str, ...]],
                weights: Weights | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """The question's words and character pairs, weighted: its own count fully, the legal words
    its colloquial ones stand for (the dictionaries' synonyms) and the law's words for its
    everyday ones (``lay``, from lawterms.toml) less."""
    weights = weights or WEIGHTS
    own = words_of(normalized, words_in)
    words, pairs = {}, {}
    for legal in everyday_words(normalized, lay, own):
        words.update({w: weights.law_term for w in words_of(legal, words_in)})
        pairs.update({p: weights.law_term for p in char_pairs(legal)})
    added = words_in.expand(own) + [legal for _, legal in words_in.phrase_synonyms(normalized)]
    words.update({word: weights.synonym for word in added})
    words.update({word: 1.0 for word in own})
    pairs.update({pair: 1.0 for pair in char_pairs(normalized)})
    return words, pairs


# --- BM25 over fields, as arrays -------------------------------------------------------------

@dataclass
class Postings:
    """For each term, the documents holding it and the term's BM25 impact in each, summed over
    the fields (CSR form: the documents of term t are docs[ptr[t]:ptr[t + 1]])."""

    ptr: np.ndarray       # int32, one more than the vocabulary
    docs: np.ndarray      # int32
    impact: np.ndarray    # float32
    ceiling: np.ndarray   # float32: the most a term can give one document (every field saturated)
    size: int             # number of documents

    def scores(self, ids: Sequence[int], weights: Sequence[float], normalize: bool = False) -> np.ndarray:
        """Each document's score for the weighted terms (0 where none occurs); ``normalize``
        divides by the best score the terms could reach, so it lies in 0..1 (for group scores)."""
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        spans = [(self.ptr[t], self.ptr[t + 1]) for t in ids]
        docs = np.concatenate([self.docs[a:b] for a, b in spans])
        values = np.concatenate([self.impact[a:b] * w for (a, b), w in zip(spans, weights)])
        out = np.bincount(docs, weights=values, minlength=self.size).astype(np.float32)
        if normalize:
            reach = float(np.dot(self.ceiling[list(ids)], weights))
            out /= reach if reach > 0 else 1.0
        return out


@dataclass(frozen=True)
class Field:
    """One field of every document as arrays: the term id and the document of each token, or
    once tallied, of each (term, document) with its count."""

    terms: np.ndarray     # int64
    docs: np.ndarray      # int64
    size: int             # number of documents
    counts: np.ndarray | None = None   # each row's count once tallied; None: a row is one token

    def tallied(self) -> "Field":
        """Each (term, document) once with its count, by term then document: the law and chapter
        documents pool these rows, far fewer than the tokens."""
        keys, counts = tally(self.terms * self.size + self.docs, self.counts)
        return Field(keys // self.size, keys % self.size, self.size, counts)

    def pooled(self, group_of: np.ndarray, groups: int) -> "Field":
        """The same tokens, each group (law or chapter) one document."""
        return Field(self.terms, group_of[self.docs].astype(np.int64), groups, self.counts)


def tally(keys: np.ndarray, counts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, sorted, with how often each occurs (``counts``: each key's own count).
    Counted keys come nearly sorted (pooled from sorted rows): a stable sort runs through them."""
    if counts is None:
        return np.unique(keys, return_counts=True)
    if not np.any(keys[1:] <= keys[:-1]):   # already tallied (a field's postings of its tallied rows)
        return keys, counts
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first], np.add.reduceat(counts[order], np.flatnonzero(first)) if len(keys) else counts


def encode(field: Sequence[Sequence[str]], vocab: dict[str, int]) -> Field:
    """A field's term lists as arrays; grows ``vocab`` (new terms numbered in order of appearance).
    One pass over the terms, and a list seen before (the Segmenter hands out one list per distinct
    string: every article of a chapter shares its header's) is encoded once: a rebuild's largest
    Python loop, so the terms are numbered in C: the new ones (in order of first appearance) added
    to ``vocab`` at once, then every token looked up."""
    flat = list(chain.from_iterable(field))
    number(dict.fromkeys(flat), vocab)
    lengths = [len(terms) for terms in field]
    ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
    return Field(ids, np.repeat(np.arange(len(field), dtype=np.int64), lengths), len(field))


def number(terms: Iterable[str], vocab: dict[str, int]) -> None:
    """Add the terms ``vocab`` lacks, numbered on in the order given."""
    new = list(filterfalse(vocab.__contains__, terms))
    vocab.update(zip(new, range(len(vocab), len(vocab) + len(new))))


# Character classes of RUN, by code point: a pair is two neighbours of one class (one run).
HAN, ALNUM = 1, 2


def pair_field(normalized: Sequence[str], vocab: dict[str, int]) -> Field:
    """``char_pairs`` of every string as one tallied Field, computed on code points with numpy (the
    same terms, counted per document, as encoding each string's ``char_pairs``; a rebuild's second
    largest Python loop before). New terms are numbered in the order of their code points. The
    (pair, document) keys are tallied by one sort, not a sort for the pairs' numbers (np.unique
    with its inverse: a tenth of a rebuild) and another for the tally."""
    joined = " ".join(normalized) + " "          # a space ends every run
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    kind = np.where((points >= 0x4E00) & (points <= 0x9FFF), HAN, 0)
    kind[((points >= 97) & (points <= 122)) | ((points >= 48) & (points <= 57))] = ALNUM
    same = (kind[:-1] == kind[1:]) & (kind[:-1] > 0)
    alone = (kind > 0) & ~np.concatenate([[False], same]) & ~np.concatenate([same, [False]])
    starts = np.flatnonzero(same)
    singles = np.flatnonzero(alone)
    codes = np.concatenate([((points[starts] + 1) << 21) | points[starts + 1], points[singles]])
    where = np.concatenate([starts, singles])
    ends = np.cumsum([len(s) + 1 for s in normalized])   # each string's end, its space included
    size = len(normalized)
    keys, counts = np.unique(codes * size + np.searchsorted(ends, where, side="right"), return_counts=True)
    pair_of = keys // max(size, 1)
    opens = np.flatnonzero(np.concatenate([[True], pair_of[1:] != pair_of[:-1]])) if len(keys) else keys
    terms = pair_texts(pair_of[opens])
    number(terms, vocab)
    ids = np.fromiter(map(vocab.__getitem__, terms), dtype=np.int64, count=len(terms))
    rows = np.repeat(ids, np.diff(np.append(opens, len(keys))))
    order = np.argsort(rows, kind="stable")    # by term then document, as Field.tallied gives
    return Field(rows[order], (keys % max(size, 1))[order], size, counts[order])


def pair_texts(codes: np.ndarray) -> list[str]:
    """The terms of ``pair_field`` codes (two characters, or one standing alone), decoded in one
    go: each code's characters then a NUL (never in normalized text), split at the NULs."""
    first, second = (codes >> 21) - 1, codes & 0x1FFFFF
    points = np.zeros((len(codes), 3), dtype=np.uint32)
    points[:, 0] = np.where(first >= 0, first, second)
    points[:, 1] = np.where(first >= 0, second, 0)
    joined = points.reshape(-1).tobytes().decode("utf-32-le").replace("\0\0", "\0")
    return joined.split("\0")[:-1]


def field_postings(field: Field, terms: int, weight: float, b: float,
                   k1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(term ids, docs, BM25 impacts, per-term ceilings) of one field."""
    keys, counts = tally(field.terms * field.size + field.docs, field.counts)
    ids, docs = keys // field.size, keys % field.size
    lengths = np.bincount(field.docs, weights=field.counts, minlength=field.size).astype(np.float64)
    average = max(float(lengths.mean()) if field.size else 1.0, 1.0)
    tf = counts / (1 - b + b * lengths[docs] / average)
    df = np.bincount(ids, minlength=terms).astype(np.float64)
    idf = np.log(1 + (field.size - df + 0.5) / (df + 0.5))
    impact = weight * idf[ids] * tf * (k1 + 1) / (tf + k1)
    return ids, docs, impact, weight * idf * (k1 + 1) * (df > 0)


def build_postings(fields: Iterable[tuple[Field, float, float]], terms: int, k1: float) -> Postings:
    """BM25 of each (field, weight, b), summed per term and document, as one Postings."""
    parts = [field_postings(field, terms, weight, b, k1) for field, weight, b in fields if weight]
    size = max(field.size for field, _, _ in fields)
    if not parts:   # every field weighted 0
        return Postings(np.zeros(terms + 1, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32),
                        np.zeros(terms, np.float32), size)
    if len(parts) == 1:   # one field's keys come distinct and sorted: nothing to merge
        keys, impact = parts[0][0] * size + parts[0][1], parts[0][2]
    else:
        keys, inverse = merged(np.concatenate([ids * size + docs for ids, docs, _, _ in parts]))
        impact = np.bincount(inverse, weights=np.concatenate([p[2] for p in parts]))
    per_term = np.bincount(keys // size, minlength=terms)
    return Postings(ptr=np.concatenate([[0], np.cumsum(per_term)]).astype(np.int32),
                    docs=(keys % size).astype(np.int32), impact=impact.astype(np.float32),
                    ceiling=sum(p[3] for p in parts).astype(np.float32), size=size)


def merged(runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(runs, return_inverse=True)`` for a concatenation of sorted runs (each field's
    keys come sorted): a stable sort merges the runs in about linear time, where np.unique's
    quicksort sorts them anew (a tenth of a rebuild)."""
    order = np.argsort(runs, kind="stable")
    ordered = runs[order]
    first = np.ones(len(runs), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(runs), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


def group_numbers(keys: Sequence) -> tuple[np.ndarray, int]:
    """Each item's group number, groups numbered in order of first appearance."""
    numbers: dict = {}
    return np.array([numbers.setdefault(key, len(numbers)) for key in keys], dtype=np.int32), len(numbers)


# --- the index ------------------------------------------------------------------------------

INDEX_NAMES = ("article_words", "article_pairs", "gloss_words", "gloss_pairs", "law_words", "law_pairs",
               "chapter_words", "chapter_pairs", "ask_words", "ask_pairs")


@dataclass
class Built:
    """What the cache holds: the vocabulary, the postings (INDEX_NAMES), the article→group maps and each
    article's gloss questions, normalized (article i's are asks[ask_ptr[i]:ask_ptr[i + 1]])."""

    vocab: dict[str, int]
    postings: dict[str, Postings]
    law_of: np.ndarray
    chapter_of: np.ndarray
    asks: list[str]
    ask_ptr: np.ndarray       # int32, one more than the articles


def searchable(statutes: Statutes) -> list[Article]:
    """The articles that may be shown: of laws in force on the statutes' day (today unless
    ``Statutes.as_of`` says otherwise): not repealed, not yet to come, not lapsed (a text's
    ``in_force_until`` passed). The cache key is made from these, so a day that changes them
    (2027-01-01: 医疗保障法 comes, 商标法's 2019 text goes) keys a new index."""
    return [a for a in statutes.articles if statutes.in_force(a.citation)]


def faq_phrasings(statutes: Statutes) -> dict[str, list[str]]:
    """Citation → the phrasings of every FAQ entry citing it."""
    out: dict[str, list[str]] = {}
    for link in statutes.links:
        for citation in link.citations:
            out.setdefault(citation, []).extend(link.phrasings)
    return out


def gloss_asks(statutes: Statutes) -> dict[str, tuple[str, ...]]:
    """Citation → the everyday questions its gloss holds (knowledge/glosses/)."""
    return {gloss.citation: gloss.asks for gloss in statutes.glosses}


def article_fields(statutes: Statutes, articles: Sequence[Article]) -> list[list[str]]:
    """The four fields of each article: text; law title + chapter + section; FAQ phrasings;
    gloss questions."""
    faq, asks = faq_phrasings(statutes), gloss_asks(statutes)
    headers = [" ".join((statutes.law_of(a).title, a.chapter, a.section)) for a in articles]
    return [[a.text for a in articles], headers, [" ".join(faq.get(a.citation, ())) for a in articles],
            [" ".join(asks.get(a.citation, ())) for a in articles]]


def raw_asks(statutes: Statutes, articles: Sequence[Article]) -> list[str]:
    """Every article's gloss questions as written, in article order (as ``normalized_asks``)."""
    by_article = gloss_asks(statutes)
    return [ask for a in articles for ask in by_article.get(a.citation, ())]


def normalized_asks(statutes: Statutes, articles: Sequence[Article],
                    segmenter: Segmenter) -> tuple[list[str], np.ndarray]:
    """Each article's gloss questions one by one, normalized without spaces (as a question is
    compared with them), and where each article's start (CSR form)."""
    by_article = gloss_asks(statutes)
    asks = [[segmenter.read(ask)[0].replace(" ", "") for ask in by_article.get(a.citation, ())] for a in articles]
    return list(chain.from_iterable(asks)), np.concatenate([[0], np.cumsum([len(x) for x in asks])]).astype(np.int32)


def build(statutes: Statutes, articles: Sequence[Article], weights: Weights, segmenter: Segmenter) -> Built:
    """Segment every field and compute the postings (seconds: hence the caches)."""
    fields = [segmenter.terms(field) for field in article_fields(statutes, articles)]
    ask_words, ask_texts = segmenter.terms(raw_asks(statutes, articles))
    asks, ask_ptr = normalized_asks(statutes, articles, segmenter)
    segmenter.save()
    law_of, laws = group_numbers([a.law for a in articles])
    chapter_of, chapters = group_numbers([(a.law, a.chapter, a.section) for a in articles])
    vocab: dict[str, int] = {}
    words = [encode(w, vocab).tallied() for w, _ in fields]
    pairs = [pair_field(p, vocab) for _, p in fields]
    one_by_one = [encode(ask_words, vocab), pair_field(ask_texts, vocab)]   # each gloss question a document
    terms, k1 = len(vocab), weights.k1

    def article_level(fields: list[Field]) -> Postings:
        body_f, header_f, faq_f, _ = fields
        return build_postings([(body_f, weights.text, weights.b), (header_f, weights.header, weights.b_header),
                               (faq_f, weights.faq, weights.b)], terms, k1)

    def gloss_level(fields: list[Field]) -> Postings:   # apart: a gloss alone is no evidence (LawIndex.scores)
        return build_postings([(fields[3], weights.gloss, weights.b)], terms, k1)

    def group_level(fields: list[Field], group_of: np.ndarray, count: int) -> Postings:
        return build_postings([(f.pooled(group_of, count), 1.0, 0.5) for f in fields], terms, k1)

    postings = {"article_words": article_level(words), "article_pairs": article_level(pairs),
                "gloss_words": gloss_level(words), "gloss_pairs": gloss_level(pairs),
                "law_words": group_level(words, law_of, laws), "law_pairs": group_level(pairs, law_of, laws),
                "chapter_words": group_level(words, chapter_of, chapters),
                "chapter_pairs": group_level(pairs, chapter_of, chapters),
                "ask_words": build_postings([(one_by_one[0], 1.0, weights.ask_b)], terms, weights.ask_k1),
                "ask_pairs": build_postings([(one_by_one[1], 1.0, weights.ask_b)], terms, weights.ask_k1)}
    return Built(vocab, postings, law_of, chapter_of, asks, ask_ptr)


# --- the disk cache -------------------------------------------------------------------------

SEGMENTING_FILES = ("userdict.txt", "stopwords.txt")   # what bot.core.text's words depend on
# How text is normalized and cut into grouped words: the code that runs (and, through
# ``code_digest``, the module's functions it calls, such as building the tokenizer), not the
# Dictionaries' other methods (the matcher's clause_words, expand …).
SEGMENTING_CODE = (text.normalize, text.Dictionaries.__init__, text.Dictionaries._cut,
                   text.Dictionaries.word_groups, text.Dictionaries.groups_of,
                   text.Dictionaries.parts, text.Dictionaries.is_content)


def names_read(code) -> set[str]:
    """The global names a function's code (and the code nested in it) reads."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= names_read(const)
    return names


def stable_repr(value: object) -> str:
    """A value as text that is the same in every process (sets sorted, paths by name; an object
    such as a lock or a module by its type: its contents are keyed elsewhere)."""
    if isinstance(value, (str, bytes, int, float, bool, type(None))):
        return repr(value)
    if isinstance(value, re.Pattern):
        return f"re({value.pattern!r}, {value.flags})"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(stable_repr(v) for v in value) + "]"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(stable_repr(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(sorted(f"{stable_repr(k)}: {stable_repr(v)}" for k, v in value.items())) + "}"
    if isinstance(value, Path):
        return f"Path({value.name!r})"
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def same_module_function(value: object, caller) -> bool:
    return (callable(value) and inspect.isfunction(inspect.unwrap(value))
            and inspect.unwrap(value).__module__ == caller.__module__)


def code_digest(roots: Iterable) -> str:
    """A digest of the source of the functions given, of every function of their module they
    call, and of the module-level values they read: unrelated edits of bot/core/text.py (the matcher's
    parts) leave the words cache valid, any edit of how text is normalized or cut does not."""
    digest, seen, todo = hashlib.sha256(), set(), list(roots)
    while todo:
        function = inspect.unwrap(todo.pop())
        if function in seen:
            continue
        seen.add(function)
        digest.update(inspect.getsource(function).encode())
        module = vars(inspect.getmodule(function))
        for name in sorted(names_read(function.__code__)):
            value = module.get(name)
            if same_module_function(value, function):
                todo.append(value)
            elif name in module:
                digest.update(f"{name}={stable_repr(value)};".encode())
    return digest.hexdigest()


def library_versions() -> str:
    """jieba's and OpenCC's versions: their dictionaries come with them."""
    found = []
    for name in ("jieba", "opencc-python-reimplemented"):
        try:
            found.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name}=?")
    return ";".join(found)


@lru_cache(maxsize=1)
def segmenting_code_key() -> str:
    return hashlib.sha256((code_digest(SEGMENTING_CODE) + library_versions()).encode()).hexdigest()


def segmentation_key(words: text.Dictionaries) -> str:
    """Changes when the segmenting code (bot.core.text's functions that normalize and cut, and what
    they read), the libraries or the dictionaries' files change."""
    digest = hashlib.sha256(CACHE_VERSION.encode() + segmenting_code_key().encode())
    for name in SEGMENTING_FILES:
        path = words.directory / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b""))
    return digest.hexdigest()[:24]


def cache_key(statutes: Statutes, words: text.Dictionaries, articles: Sequence[Article] | None = None,
              weights: Weights = WEIGHTS) -> str:
    """Changes when any searchable article, FAQ phrasing, weight or the segmenting changes (a
    law coming into force or a text lapsing changes the searchable articles, which are hashed one
    by one). Synonyms apply to questions only."""
    articles = searchable(statutes) if articles is None else articles
    digest = hashlib.sha256(segmentation_key(words).encode())
    digest.update(json.dumps(asdict(weights), sort_keys=True).encode())
    for a in articles:
        title = statutes.law_of(a).title
        digest.update(f"{a.citation}\0{title}\0{a.chapter}\0{a.section}\0{a.text}\0".encode())
    for link in statutes.links:
        digest.update(("\0".join((*link.citations, "|", *link.phrasings)) + "\1").encode())
    for gloss in statutes.glosses:
        digest.update(("\0".join((gloss.citation, "|", *gloss.asks)) + "\2").encode())
    return digest.hexdigest()[:24]


def default_cache_dir() -> Path:
    return Path(os.environ.get("LEGALBOT_CACHE") or Path(tempfile.gettempdir()) / "legalbot-cache")


def usable_dir(directory: Path) -> bool:
    """Ours and not writable by others: a shared temporary directory must not let another user
    plant an index (the cache is read without pickle, but a planted one could still mislead)."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


STALE_SECONDS = 3600


def write_atomically(path: Path, data: bytes) -> None:
    """Write, so that a concurrent reader (another worker) sees the old file or the whole new
    one; then remove the same kind's files unused for an hour (earlier statutes, dictionaries)."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(path)
    kind = path.name.split("-", 1)[0]
    for old in path.parent.glob(f"{kind}-*"):
        try:
            if old != path and time.time() - old.stat().st_mtime > STALE_SECONDS:
                old.unlink()
        except OSError:
            pass  # another process removed it first


def json_array(value: object) -> np.ndarray:
    """A JSON value as bytes in an array (the cache is read without pickle)."""
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode(), np.uint8)


def save(built: Built, path: Path) -> None:
    arrays = {"law_of": built.law_of, "chapter_of": built.chapter_of, "asks": json_array(built.asks),
              "ask_ptr": built.ask_ptr}
    for name, p in built.postings.items():
        arrays.update({f"{name}.ptr": p.ptr, f"{name}.docs": p.docs, f"{name}.impact": p.impact,
                       f"{name}.ceiling": p.ceiling, f"{name}.size": np.array([p.size])})
    vocab = sorted(built.vocab, key=built.vocab.get)
    out = io.BytesIO()
    np.savez(out, vocab=json_array(vocab), **arrays)
    write_atomically(path, out.getvalue())


def load(path: Path) -> Built | None:
    """The cached index, or None if it is missing or unreadable (then it is rebuilt)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            vocab = json.loads(data["vocab"].tobytes().decode())
            postings = {name: Postings(data[f"{name}.ptr"], data[f"{name}.docs"], data[f"{name}.impact"],
                                       data[f"{name}.ceiling"], int(data[f"{name}.size"][0]))
                        for name in INDEX_NAMES}
            return Built({term: i for i, term in enumerate(vocab)}, postings, data["law_of"],
                         data["chapter_of"], json.loads(data["asks"].tobytes().decode()), data["ask_ptr"])
    except (OSError, KeyError, ValueError):
        return None


def cached_build(statutes: Statutes, articles: Sequence[Article], cache_dir: Path | None,
                 words: text.Dictionaries, weights: Weights = WEIGHTS,
                 seed_dir: Path | None = SEED_DIR) -> Built:
    """The index from the disk cache when it is fresh, else built (and saved), reusing the words
    of the cache's last build and of the shipped seed."""
    seed = seed_path(words, seed_dir) if seed_dir else None
    path = cache_dir / f"lawindex-{cache_key(statutes, words, articles, weights)}.npz" if cache_dir else None
    if path and usable_dir(cache_dir):
        found = load(path) if path.exists() else None
        if found is not None:
            return found
        segmenter = Segmenter(words, cache_dir / f"lawwords-{segmentation_key(words)}.json", seed)
        built = build(statutes, articles, weights, segmenter)
        save(built, path)
        return built
    return build(statutes, articles, weights, Segmenter(words, None, seed))


# --- searching ------------------------------------------------------------------------------

def not_held_laws(statutes: Statutes) -> tuple[str, ...]:
    """The statutes' laws not held (read and checked with them: knowledge.NOT_HELD_FILE), longest
    first, so a longer name is blanked before one it ends with."""
    return tuple(sorted(set(statutes.not_held), key=len, reverse=True))


def without_names(text: str, names: Iterable[str]) -> str:
    """The text with each name blanked out (a space: no law name runs across it)."""
    for name in names:
        text = text.replace(name, " ")
    return text


def named_laws(compact: str, laws: Mapping[str, object]) -> list[str]:
    """Laws named in the question by short name (劳动合同法), longest first, none inside another."""
    found: list[str] = []
    for law in sorted(laws, key=len, reverse=True):
        if law in compact and not any(law in longer for longer in found):
            found.append(law)
    return found


@dataclass(frozen=True)
class Reading:
    """A question as law search reads it: normalized without chatter, its weighted words and
    character pairs, and its own words (one per jieba word, for coverage)."""

    raw: str
    compact: str
    words: dict[str, float]
    pairs: dict[str, float]
    heads: tuple[str, ...]


@dataclass(frozen=True)
class Candidates:
    """The first stage's best articles for a question, with the features the second stage weighs
    (one row per article, columns in FEATURES' order)."""

    ids: np.ndarray          # article positions, best first-stage score first
    features: np.ndarray     # float64, len(ids) x len(FEATURES)
    evidence: float          # the best article's own score (the no-result threshold reads it)
    cited: int | None        # the article the question cites, if we hold it


def opens_group(group_of: np.ndarray) -> np.ndarray:
    """1 for the first article of each chapter (or section): where its general rule stands."""
    first = np.ones(len(group_of), dtype=bool)
    first[1:] = group_of[1:] != group_of[:-1]
    return first


def spans(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of every range [start, end) in order, and each range's length."""
    starts, ends = starts.astype(np.int64), ends.astype(np.int64)
    lengths = ends - starts
    return np.arange(int(lengths.sum())) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths), lengths


class AskTerms:
    """The gloss questions' postings turned around: each question's terms and their BM25 impacts
    (question i's are rows ptr[i]:ptr[i + 1]), so that a query scores only its candidates'
    questions. Made from the cached postings when the index is read (milliseconds)."""

    def __init__(self, words: Postings, pairs: Postings):
        self.words, self.pairs = transposed(words), transposed(pairs)
        self.size = words.size
        self.rarity = np.log(1 + words.size / (np.diff(words.ptr) + 1))   # a word's, among the questions

    def scores(self, asks: np.ndarray, reading: "Reading", vocab: Mapping[str, int],
               pair_weight: float) -> tuple[np.ndarray, np.ndarray, float]:
        """For the questions ``asks``: BM25 over words and pairs, the rarity-weighted sum of the
        question's own words each holds, and that sum's most (every word held)."""
        scratch = np.zeros(len(self.rarity))
        score = self.summed(self.words, asks, scratch, term_weights(reading.words, vocab, 1.0))
        score += self.summed(self.pairs, asks, scratch, term_weights(reading.pairs, vocab, pair_weight))
        heads = [vocab[word] for word in reading.heads if word in vocab]
        total = float(self.rarity[heads].sum()) + (len(reading.heads) - len(heads)) * float(np.log(1 + self.size))
        held = self.summed(self.words, asks, scratch, dict(zip(heads, self.rarity[heads])), impacts=False)
        return score, held, total

    @staticmethod
    def summed(side: tuple[np.ndarray, np.ndarray, np.ndarray], asks: np.ndarray, scratch: np.ndarray,
               weights: Mapping[int, float], impacts: bool = True) -> np.ndarray:
        """Each question's sum of the weights of the terms it holds (times their BM25 impacts). The
        weights are set in ``scratch`` (zeros, one per term) and cleared after: one array a query."""
        ptr, term_of, impact = side
        ids = list(weights)
        scratch[ids] = list(weights.values())
        rows, lengths = spans(ptr[asks], ptr[asks + 1])
        values = scratch[term_of[rows]] * impact[rows] if impacts else scratch[term_of[rows]]
        scratch[ids] = 0.0
        return np.bincount(np.repeat(np.arange(len(asks)), lengths), weights=values, minlength=len(asks))


def term_weights(terms: Mapping[str, float], vocab: Mapping[str, int], scale: float) -> dict[int, float]:
    """The query's weighted terms the index knows, by term id."""
    return {vocab[term]: weight * scale for term, weight in terms.items() if term in vocab}


def transposed(postings: Postings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ptr, term, impact) by document: the documents' rows, in term order within each."""
    term_of = np.repeat(np.arange(len(postings.ptr) - 1, dtype=np.int32), np.diff(postings.ptr))
    order = np.argsort(postings.docs, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(postings.docs, minlength=postings.size))]).astype(np.int64)
    return ptr, term_of[order], postings.impact[order].astype(np.float64)


class LawIndex:
    """The articles most relevant to a question (see the module's docstring)."""

    def __init__(self, statutes: Statutes, cache_dir: Path | None | str = "default",
                 weights: Weights = WEIGHTS, min_evidence: float = MIN_EVIDENCE,
                 rerank: Sequence[float] = RERANK, seed_dir: Path | None = SEED_DIR,
                 dictionaries: text.Dictionaries | None = None):
        """``dictionaries``: the configured knowledge directory's words (jieba's user dictionary,
        stopwords, synonyms; lawterms.toml is read from the same dict/); the shipped ones if None."""
        cache = default_cache_dir() if cache_dir == "default" else (Path(cache_dir) if cache_dir else None)
        self.statutes, self.weights, self.min_evidence = statutes, weights, min_evidence
        self.dictionaries = dictionaries or shipped_dictionaries()
        self.lay_terms = law_terms(self.dictionaries.directory / LAWTERMS)
        self.not_held = not_held_laws(statutes)
        self.rerank = np.asarray(rerank, dtype=np.float64)
        self.articles = searchable(statutes)
        self.position = {a.citation: i for i, a in enumerate(self.articles)}
        built = cached_build(statutes, self.articles, cache, self.dictionaries, weights, seed_dir)
        self.vocab, self.postings = built.vocab, built.postings
        self.law_of, self.chapter_of = built.law_of, built.chapter_of
        self.asks, self.ask_ptr = built.asks, built.ask_ptr
        self.ask_terms = AskTerms(self.postings["ask_words"], self.postings["ask_pairs"])
        self.law_numbers = {self.articles[i].law: int(g) for i, g in enumerate(self.law_of)}
        self.static = self.article_features()
        # the articles ordered by chapter, and where each chapter starts: a chapter's best article
        # is then one vectorized reduction (a chapter's articles need not be contiguous)
        self.by_chapter = np.argsort(self.chapter_of, kind="stable")
        self.chapter_starts = np.searchsorted(self.chapter_of[self.by_chapter],
                                              np.arange(int(self.chapter_of.max()) + 1 if len(self.articles) else 0))

    def article_features(self) -> np.ndarray:
        """The features of an article alone: opens its chapter, log length, garbled source text,
        log size of its law (a big code answers more questions than a narrow law)."""
        law_sizes = np.bincount(self.law_of)
        return np.stack([opens_group(self.chapter_of).astype(np.float64),
                         np.log1p([len(a.text) for a in self.articles]),
                         np.array([bool(a.damage) for a in self.articles], dtype=np.float64),
                         np.log(law_sizes[self.law_of])], axis=1) if self.articles else np.zeros((0, 4))

    def level(self, kind: str, words: Mapping[str, float], pairs: Mapping[str, float],
              normalize: bool = False) -> np.ndarray:
        """Word and pair scores of one level (article, law, chapter), added."""
        total = None
        for suffix, terms in (("words", words), ("pairs", pairs)):
            known = [(self.vocab[t], w) for t, w in terms.items() if t in self.vocab]
            scale = self.weights.pairs if suffix == "pairs" else 1.0
            part = self.postings[f"{kind}_{suffix}"].scores([i for i, _ in known], [w * scale for _, w in known],
                                                          normalize)
            total = part if total is None else total + part
        return total

    def read(self, query: str) -> Reading:
        """The question's terms; chatter (转人工, 你好) taken out first."""
        query = query[:MAX_QUERY_CHARS]
        normalized = CHATTER.sub(" ", text.normalize(query)).strip()
        words, pairs = query_terms(normalized, self.dictionaries, self.lay_terms, self.weights)
        heads = tuple(dict.fromkeys(group[0] for group in self.dictionaries.word_groups(normalized)))
        return Reading(query, normalized.replace(" ", ""), words, pairs, heads)

    def first_stage(self, reading: Reading) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every article's score (its own, its law's and its chapter's, a named law's lift), its
        own score alone, and that without its gloss (the evidence: see ``scores``)."""
        plain = self.level("article", reading.words, reading.pairs)
        own = plain + self.level("gloss", reading.words, reading.pairs)
        scores = own.copy()
        if len(own) and own.max() > 0:
            scores += self.weights.law * self.level("law", reading.words, reading.pairs, True)[self.law_of]
            scores += self.weights.chapter * self.level("chapter", reading.words, reading.pairs, True)[self.chapter_of]
        best = float(scores.max()) if len(scores) else 0.0
        for law in named_laws(without_names(reading.compact, self.not_held), self.law_numbers):
            scores[self.law_of == self.law_numbers[law]] += self.weights.named_law * max(best, self.min_evidence)
        return scores, own, plain

    def scores(self, query: str) -> tuple[np.ndarray, float]:
        """The first stage's score of every article, and the evidence for showing any: the best
        article's own score from its text, titles and FAQ phrasings (a cited article always counts
        as enough). Glosses reorder but are no evidence: unvetted everyday questions full of
        怎么办 and 几点 must not make small talk answerable, and MIN_EVIDENCE keeps its calibration."""
        reading = self.read(query)
        scores, _, plain = self.first_stage(reading)
        evidence = float(plain.max()) if len(plain) else 0.0
        cited = self.cited(reading)
        if cited is not None:
            scores[cited] += self.weights.cited
            evidence = max(evidence, self.min_evidence)
        return scores, evidence

    def cited(self, reading: Reading) -> int | None:
        return self.position.get(parse_citation(reading.raw, self.statutes.laws, not_held=self.not_held))

    def coverage(self, heads: Sequence[str], ids: np.ndarray) -> np.ndarray:
        """How much of the question's own words (weighted by rarity) each article holds in any
        field: a story's every idea present beats one rare word repeated."""
        size, total = len(self.articles), 0.0
        held, holds = np.zeros(len(ids)), np.zeros(size, dtype=bool)
        for word in heads:
            for docs in self.holding(word):
                holds[docs] = True
            count = int(np.count_nonzero(holds))
            if count:
                rarity = np.log(1 + size / (count + 1))
                total += rarity
                held += rarity * holds[ids]
                holds[:] = False
        return held / total if total else held

    def holding(self, word: str) -> list[np.ndarray]:
        """The articles holding a word in their text, titles or FAQ phrasings, and in their gloss."""
        term = self.vocab.get(word)
        return [] if term is None else [p.docs[p.ptr[term]:p.ptr[term + 1]]
                                        for p in (self.postings["article_words"], self.postings["gloss_words"])]

    def candidates(self, query: str, n: int = CANDIDATES) -> Candidates:
        """The first stage's n best articles and their features for the second stage."""
        reading = self.read(query)
        scores, own, plain = self.first_stage(reading)
        evidence, best_own = (float(plain.max()), float(own.max())) if len(own) else (0.0, 0.0)
        ids = np.argpartition(-scores, n)[:n] if len(scores) > n else np.arange(len(scores))
        ids = ids[scores[ids] > 0]
        ids = ids[np.argsort(-scores[ids], kind="stable")]
        if not len(ids):
            return Candidates(ids, np.zeros((0, len(FEATURES))), evidence, self.cited(reading))
        chapter_best = np.maximum.reduceat(own[self.by_chapter], self.chapter_starts)
        features = np.column_stack([scores[ids] / scores[ids[0]], self.coverage(reading.heads, ids),
                                    chapter_best[self.chapter_of[ids]] / (best_own or 1.0), self.static[ids],
                                    self.nearest_gloss(reading.compact, ids), *self.best_asks(reading, ids)])
        return Candidates(ids, features, evidence, self.cited(reading))

    def nearest_gloss(self, compact: str, ids: np.ndarray) -> np.ndarray:
        """How close the question is to each article's nearest gloss question (0-1, rapidfuzz's
        ratio; 0 without a gloss): a question worded like one way of asking about the article,
        as a whole, not only sharing its words."""
        starts, ends = self.ask_ptr[ids], self.ask_ptr[ids + 1]
        counts = ends - starts
        out = np.zeros(len(ids))
        if not compact or not counts.any():
            return out
        asks = [self.asks[j] for a, b in zip(starts, ends) for j in range(a, b)]
        ratios = process.cdist([compact], asks, scorer=fuzz.ratio, dtype=np.float32)[0] / 100
        held = counts > 0
        out[held] = np.maximum.reduceat(ratios, (np.cumsum(counts) - counts)[held])
        return out

    def best_asks(self, reading: Reading, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each article's best single gloss question, each question its own document: its BM25
        score (over the best of the candidates' questions, 0-1) and how much of the question's own
        words, weighted by rarity among all questions, it holds. The gloss field adds an article's
        questions up; these see whether one of them matches the whole question. Only the
        candidates' questions are read (``AskTerms``), not all ~12,000."""
        asks, per_article = spans(self.ask_ptr[ids], self.ask_ptr[ids + 1])
        score, held, total = self.ask_terms.scores(asks, reading, self.vocab, self.weights.pairs)
        starts, glossed = np.cumsum(per_article) - per_article, per_article > 0
        best, out = (score.max() if len(asks) else 0.0), np.zeros((2, len(ids)))
        if glossed.any():
            out[0, glossed] = np.maximum.reduceat(score / (best or 1.0), starts[glossed])
            out[1, glossed] = np.maximum.reduceat(held / (total or 1.0), starts[glossed])
        return out[0], out[1]

    def search(self, query: str, k: int = 5) -> list[LawHit]:
        """The k best articles for the question; none when the evidence is too thin. Each hit's
        score is the second stage's belief that it is the right one among the candidates."""
        found = self.candidates(query)
        if k <= 0 or (found.cited is None and found.evidence < self.min_evidence):
            return []
        ranked: list[tuple[int, float]] = []
        if len(found.ids):
            logits = found.features @ self.rerank
            belief = np.exp(logits - logits.max())
            belief /= belief.sum()
            order = np.argsort(-belief, kind="stable")
            ranked = [(int(found.ids[j]), float(belief[j])) for j in order]
        if found.cited is not None:
            ranked = [(found.cited, 1.0)] + [(i, b) for i, b in ranked if i != found.cited]
        return [self.hit(self.articles[i], b) for i, b in ranked[:k]]

    def hit(self, article: Article, score: float) -> LawHit:
        return LawHit(citation=article.citation, law=article.law, article=article.label,
                      text=article.text, score=score)
