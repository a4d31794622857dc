"""Who the other side of a matter is: a neighbour, a relative, the village, the government, a business.

The same complaint is a different matter with a different answer depending on whom it is
against: land taken by a neighbour is a boundary dispute between households, land taken by the
village or the government is a land-taking matter. Words alone score such entries nearly alike,
since both are about 占地. knowledge/dict/counterparts.toml lists the kinds of party and the
words that name each; the matcher reads which kinds a question names and which kinds each
entry's own phrasings and keywords name, so nothing is listed per entry and a new entry gets
its parties from its own texts.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from bot.core.text import DictionaryError, normalize, read_dictionary
from bot.retrieval.question import PhraseSet, QuestionText


@dataclass(frozen=True)
class Counterparts:
    """The kinds of party, each with the words that name it (in file order)."""

    kinds: tuple[tuple[str, tuple[str, ...]], ...]

    def named_in(self, normalized: str) -> frozenset[str]:
        """The kinds of party a normalized text names (its words are normalized alike at load)."""
        return self.among(QuestionText.of(normalized, self.phrases).found)

    def among(self, found: Iterable[str]) -> frozenset[str]:
        """The kinds of party named by the phrases ``found`` in a text (a ``QuestionText``'s
        ``found``, read with ``phrases`` among its lexicons): only the few found are looked at."""
        if not found:   # most questions name no party
            return frozenset()
        kinds_of = self.kinds_of
        return frozenset(kind for word in found for kind in kinds_of.get(word, ()))

    @cached_property
    def kinds_of(self) -> dict[str, tuple[str, ...]]:
        """Word → the kinds it names (a word may be listed under two)."""
        found: dict[str, tuple[str, ...]] = {}
        for kind, words in self.kinds:
            for word in words:
                found[word] = found.get(word, ()) + (kind,)
        return found

    @cached_property
    def phrases(self) -> PhraseSet:
        return PhraseSet.of(self.kinds_of)

    def named_in_any(self, normalized: Iterable[str]) -> frozenset[str]:
        """The kinds named in at least one of the normalized texts (an entry's phrasings and keywords)."""
        return frozenset().union(*(self.named_in(t) for t in normalized))


def relation(asked: frozenset[str], named: frozenset[str]) -> int:
    """+1 the entry names a party the question names, -1 the question names parties and the
    entry none of them, 0 the question names no party (nothing to compare)."""
    if not asked:
        return 0
    return 1 if asked & named else -1


def build_counterparts(data: Mapping[str, Any]) -> Counterparts:
    """Validate parsed counterparts.toml; an error names the table."""
    table = data.get("counterpart")
    if not isinstance(table, dict) or not table:
        raise DictionaryError("counterparts.toml: expected [counterpart.<kind>] tables")
    return Counterparts(tuple((kind, _words(kind, raw)) for kind, raw in table.items()))


def _words(kind: str, raw: Any) -> tuple[str, ...]:
    values = raw.get("words") if isinstance(raw, dict) else None
    if not isinstance(values, list) or not values:
        raise DictionaryError(f"counterparts.toml [counterpart.{kind}] words: expected a non-empty list")
    words = []
    for value in values:
        word = normalize(value).replace(" ", "") if isinstance(value, str) else ""
        if not word:
            raise DictionaryError(f"counterparts.toml [counterpart.{kind}] words: {value!r} is empty or not text")
        words.append(word)
    return tuple(dict.fromkeys(words))


@lru_cache(maxsize=4)
def load_counterparts(path: Path) -> Counterparts:
    """The counterpart lexicon at ``path`` (a knowledge directory's dict/counterparts.toml, see
    bot/retrieval/lexicons.py), read and validated once per process."""
    return build_counterparts(read_dictionary(path))
