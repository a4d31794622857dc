"""Law search: the articles most relevant to a question in plain words.

Advisers see these suggestions on each ticket, and `legalbot law search` prints them. Villagers
rarely use the law's own words (同事借钱不还, not 借款合同), so the score has two parts:

- BM25 over each article's words (its text, chapter and law name), the question's words
  expanded with the legal synonyms of knowledge/dict (欠钱 → 借款);
- a boost for the articles cited by the FAQ entries whose phrasings best match the question:
  the vetted entries are a hand-made map from how people ask to which article answers.

Segmenting ~3,700 articles with jieba takes about a second, so the article words are cached on
disk (keyed by the statutes and dictionaries) and the index is built once per process.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from bot import text
from bot.knowledge import Article, FaqLink, Statutes, parse_citation

CACHE_VERSION = "1"
FAQ_WEIGHT = 2.0          # how much a matching FAQ entry lifts the articles it cites
FAQ_TOP = 4               # only the best few entries lend their citations
QUOTED_SHARE = 1.0        # the entry's quoted article gets the whole boost ...
CITED_SHARE = 0.8         # ... its other citations most of it
SYNONYM_WEIGHT = 0.6


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


class Bm25:
    """Okapi BM25 over bags of words (k1 = 1.2, b = 0.75, the usual defaults)."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.lengths = [len(d) for d in docs]
        self.average = (sum(self.lengths) / len(docs)) if docs else 1.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for number, doc in enumerate(docs):
            for word, count in Counter(doc).items():
                self.postings[word].append((number, count))
        n = len(docs)
        self.idf = {w: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for w, p in self.postings.items()}

    def scores(self, weights: Mapping[str, float]) -> dict[int, float]:
        """Each matching document's score, divided by the best score the words could reach,
        so scores of different indexes (articles, FAQ entries) can be added."""
        words = {w: weight for w, weight in weights.items() if w in self.idf}
        ceiling = sum(self.idf[w] * weight for w, weight in words.items()) * (self.k1 + 1) or 1.0
        out: dict[int, float] = defaultdict(float)
        for word, weight in words.items():
            for number, count in self.postings[word]:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[number] / self.average)
                out[number] += weight * self.idf[word] * count * (self.k1 + 1) / (count + norm)
        return {number: score / ceiling for number, score in out.items()}


def article_words(article: Article) -> list[str]:
    """What an article is about: its text, its chapter and section titles, its law's name."""
    return text.tokens(" ".join((article.text, article.chapter, article.section, article.law)))


def query_words(query: str) -> dict[str, float]:
    """The question's words with weights: its own words count fully, the legal synonyms added
    by expansion less (a colloquial word may have several readings: 走路 is not always 通行)."""
    own = text.tokens(query)
    weights = {word: SYNONYM_WEIGHT for word in text.expand(own)}
    weights.update({word: 1.0 for word in own})
    return weights


def cache_key(statutes: Statutes) -> str:
    """Changes when any article, any dictionary file or the segmenting code changes."""
    digest = hashlib.sha256(CACHE_VERSION.encode() + Path(text.__file__).read_bytes())
    for article in statutes.articles:
        digest.update(f"{article.citation}\0{article.chapter}\0{article.section}\0{article.text}\0".encode())
    for path in sorted(text.DICT_DIR.glob("*")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:24]


def default_cache_dir() -> Path:
    return Path(os.environ.get("LEGALBOT_CACHE") or Path(tempfile.gettempdir()) / "legalbot-cache")


def cached_article_words(statutes: Statutes, cache_dir: Path | None) -> list[list[str]]:
    """The words of every article, from the disk cache when it is fresh (else computed, saved)."""
    path = cache_dir / f"lawindex-{cache_key(statutes)}.json" if cache_dir else None
    if path and path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    words = [article_words(a) for a in statutes.articles]
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)  # atomic: a concurrent reader sees the old file or the whole new one
    return words


class LawIndex:
    """The articles most relevant to a question: BM25 on the law's words plus FAQ boosts."""

    def __init__(self, statutes: Statutes, cache_dir: Path | None | str = "default"):
        cache = default_cache_dir() if cache_dir == "default" else (Path(cache_dir) if cache_dir else None)
        self.statutes = statutes
        self.articles = [a for a in statutes.articles if statutes.law_of(a).in_force_on()]
        in_force = Statutes(statutes.laws.values(), self.articles)
        self.article_index = Bm25(cached_article_words(in_force, cache))
        self.position = {a.citation: i for i, a in enumerate(self.articles)}
        self.links: list[FaqLink] = list(statutes.links)
        self.faq_index = Bm25([text.expand(text.tokens(" ".join(link.phrasings))) for link in self.links])

    def faq_boosts(self, words: Mapping[str, float]) -> dict[int, float]:
        """Article position → boost from the best-matching FAQ entries that cite it."""
        ranked = sorted(self.faq_index.scores(words).items(), key=lambda kv: -kv[1])[:FAQ_TOP]
        boosts: dict[int, float] = defaultdict(float)
        for number, score in ranked:
            link = self.links[number]
            for citation in link.citations:
                share = QUOTED_SHARE if citation == link.quoted else CITED_SHARE
                if citation in self.position:
                    at = self.position[citation]
                    boosts[at] = max(boosts[at], FAQ_WEIGHT * score * share)
        return boosts

    def scores(self, query: str) -> dict[int, float]:
        words = query_words(query)
        scores = defaultdict(float, self.article_index.scores(words))
        for at, boost in self.faq_boosts(words).items():
            scores[at] += boost
        named = parse_citation(query, self.statutes.laws)
        if named in self.position:  # the question names the article itself
            scores[self.position[named]] += 10.0
        return scores

    def search(self, query: str, k: int = 5) -> list[LawHit]:
        """The k best articles for the question (fewer if fewer share any word with it)."""
        ranked = sorted(self.scores(query).items(), key=lambda kv: (-kv[1], kv[0]))[:max(k, 0)]
        return [self.hit(self.articles[at], score) for at, score in ranked if score > 0]

    def hit(self, article: Article, score: float) -> LawHit:
        return LawHit(citation=article.citation, law=article.law, article=article.label,
                      text=article.text, score=score)
