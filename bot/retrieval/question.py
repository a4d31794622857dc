"""What a question says besides its words: where it asks, whether it is legal, whose side it is on.

Real questions tell a story first ("我去年借给邻居两万块 … 现在他说没借过") and ask at the end;
the clause that asks carries the topic, the story around it adds detail. People also ask about
things the village legal service does not handle (company shares, patents, tax, visas) and
things that are not legal at all ("月亮归谁管"); and in a two-sided matter (hit or was hit, lent
or borrowed) the right answer depends on the side the asker is on. The lexicons are data
(knowledge/dict/question.toml), validated at load; the functions here are pure.
"""
from __future__ import annotations

import re
import re._constants as sre
import re._parser as sre_parser
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from bot.core.text import Dictionaries, DictionaryError, PhraseSet, char_pairs, normalize, read_dictionary

ROLES = ("victim", "wrongdoer", "creditor", "debtor")
OPPOSITE = {"victim": "wrongdoer", "wrongdoer": "victim", "creditor": "debtor", "debtor": "creditor"}


MISSING: Any = object()   # "not given" (None is a value)


@dataclass
class QuestionText:
    """A normalized question read once for every step that looks at its characters: without
    its spaces, its pairs of adjacent Chinese characters (the features compare them with each
    entry's; the phrase lexicons are looked up by them) and the lexicons' phrases it holds
    (``found``: out-of-scope fields, parties). The matcher makes one per question
    (``Matcher.text_of``) and hands it to the question lexicon and the counterparts. Not frozen
    (a frozen dataclass sets each field through ``object.__setattr__``, dearer than the reading
    itself); nothing assigns its fields after ``of``."""

    normalized: str
    compact: str
    pairs: frozenset[str]
    found: frozenset[str]

    @classmethod
    def of(cls, normalized: str, phrases: PhraseSet) -> "QuestionText":
        compact = normalized.replace(" ", "")
        pairs = frozenset(char_pairs(compact))
        return cls(normalized, compact, pairs, phrases.found_in(compact, pairs))


@dataclass(frozen=True)
class QuestionLexicon:
    """knowledge/dict/question.toml, validated and normalized."""

    cues: tuple[str, ...]
    min_core_words: int
    legal: frozenset[str]
    people: frozenset[str]
    out_of_scope: tuple[tuple[str, tuple[str, ...]], ...]   # (field, phrases), in file order
    unless: tuple[str, ...]
    roles: tuple[tuple[str, tuple[re.Pattern, ...]], ...]   # (role, patterns)
    everyday: tuple[str, ...] = ()          # asks about using a thing: how to train, feed, charge it
    things: frozenset[str] = frozenset()    # [legal] words naming a thing, not a matter (狗)

    def asks(self, clause: str) -> bool:
        """Does this clause ask something (吗, 怎么, 能不能, 合法 …)?"""
        return self.cue_pattern.search(clause) is not None

    @cached_property
    def cue_pattern(self) -> re.Pattern:
        return re.compile("|".join(map(re.escape, self.cues)))

    def field_outside(self, normalized: str) -> str | None:
        """``field: phrase`` when the question belongs to a field the service does not handle."""
        return self.outside(QuestionText.of(normalized, self.phrases))

    def outside(self, text: QuestionText) -> str | None:
        """``field_outside`` of a question already read: the first field (in file order) one of
        whose phrases the text holds, named by its first such phrase, unless an ``unless`` phrase
        is there too; else ``everyday_ask``. Only the few phrases the text holds are looked at."""
        found = text.found
        if not found:   # no field's phrase, no everyday ask (most questions)
            return None
        places = [self.places[p] for p in found if p in self.places]
        if places and self.unless_set.isdisjoint(found):
            field, at = min(places)
            name, phrases = self.out_of_scope[field]
            return f"{name}: {phrases[at]}"
        asks = [self.everyday_places[p] for p in found if p in self.everyday_places]
        return self.everyday_ask(text.compact, self.everyday[min(asks)] if asks else None)

    def everyday_ask(self, compact: str, found: str | None = MISSING) -> str | None:
        """``everyday: phrase`` when the message asks how to use, keep or buy a thing ("狗总是乱叫
        怎么训", "电动车多少钱一辆") and names no legal matter: a thing an entry is about (a dog, an
        e-bike) is a legal word to the matcher, but asking how to train the dog is not a legal
        question. A matter is any [legal] word that is not a thing (咬, 撞, 赔, 偷, 邻居 is a person).
        ``found`` is the first ask the text holds, when the caller knows it."""
        if found is MISSING:
            found = next((p for p in self.everyday if p in compact), None)
        if found is None or any(w in compact for w in self.matters):
            return None
        return f"everyday: {found}"

    @cached_property
    def matters(self) -> tuple[str, ...]:
        return tuple(w for w in self.legal if w not in self.things)

    @cached_property
    def places(self) -> dict[str, tuple[int, int]]:
        """Out-of-scope phrase → (its field's number, its place in the field), the first if listed twice."""
        found: dict[str, tuple[int, int]] = {}
        for field, (_, phrases) in enumerate(self.out_of_scope):
            for at, phrase in enumerate(phrases):
                found.setdefault(phrase, (field, at))
        return found

    @cached_property
    def everyday_places(self) -> dict[str, int]:
        """Everyday ask → its place in the list (each is listed once: ``_strings``)."""
        return {phrase: at for at, phrase in enumerate(self.everyday)}

    @cached_property
    def unless_set(self) -> frozenset[str]:
        return frozenset(self.unless)

    @cached_property
    def read_phrases(self) -> tuple[str, ...]:
        """Every phrase ``outside`` reads (fields, ``unless``, everyday asks)."""
        return (*self.places, *self.unless, *self.everyday)

    @cached_property
    def phrases(self) -> PhraseSet:
        return PhraseSet.of(self.read_phrases)

    def roles_of(self, normalized: str) -> frozenset[str]:
        """The asker's sides; a question matching both sides of a pair has neither."""
        return self.sides(normalized.replace(" ", ""))

    def sides(self, compact: str) -> frozenset[str]:
        """``roles_of`` a normalized text without its spaces: one search per role (its patterns
        joined into one alternation where they can be, ``role_patterns``)."""
        found = [role for role, starts, pattern in self.role_searches
                 if (first := starts.search(compact)) and pattern.search(compact, first.start())]
        if len(found) < 2:   # no role, or one (no pair to cancel out): most questions
            return frozenset(found)
        return frozenset(r for r in found if OPPOSITE[r] not in found)

    @cached_property
    def role_searches(self) -> tuple[tuple[str, Any, Any], ...]:
        """(role, a search for the first place a match of it can start, its pattern): a class of
        a few characters is the cheapest search there is, and most questions hold none of a
        role's first characters (``first_chars``); the pattern is searched from that place on.
        (A pattern whose first characters are not a short list gets a search that finds the
        start of the text.)"""
        found = []
        for role, pattern in self.role_patterns:
            starts = first_chars(pattern) if isinstance(pattern, re.Pattern) else None
            gate = re.compile(f"[{''.join(map(re.escape, sorted(starts)))}]" if starts else "")
            found.append((role, gate, pattern))
        return tuple(found)

    @cached_property
    def role_patterns(self) -> tuple[tuple[str, Any], ...]:
        """(role, a pattern matching where any of the role's patterns does): the patterns joined
        as alternatives (``a|b`` finds a match exactly when ``a`` or ``b`` finds one), or, when they
        cannot be joined (a back reference, a flag in the middle), an object trying each in turn."""
        return tuple((role, joined(patterns)) for role, patterns in self.roles)


BACK_REFERENCE = re.compile(r"\\\d|\(\?P=|\(\?\(")


class AnyOf:
    """Patterns tried one after the other (``search`` is not None when one of them matches)."""

    def __init__(self, patterns: tuple[re.Pattern, ...]):
        self.patterns = patterns

    def search(self, text: str, pos: int = 0) -> re.Match | None:
        return next((m for p in self.patterns if (m := p.search(text, pos))), None)


def joined(patterns: tuple[re.Pattern, ...]) -> Any:
    """One pattern matching a text exactly when one of ``patterns`` does (see ``role_patterns``).

    When every match must start at one of a few characters (``first_chars``), the pattern says
    so first: ``(?=[被挨打…])`` is one set test at each place of the text, where the alternatives
    themselves would each be tried there (a role's search costs a third as much)."""
    flags = {p.flags for p in patterns}
    if len(flags) == 1 and not any(BACK_REFERENCE.search(p.pattern) for p in patterns):
        try:
            either = re.compile("|".join(f"(?:{p.pattern})" for p in patterns), flags.pop())
        except re.error:
            return AnyOf(patterns)
        starts = first_chars(either)
        if starts is None:
            return either
        return re.compile(f"(?=[{''.join(map(re.escape, sorted(starts)))}])(?:{either.pattern})", either.flags)
    return AnyOf(patterns)


def first_chars(pattern: re.Pattern) -> frozenset[str] | None:
    """Every character a match of ``pattern`` can start with, or None when that is not a short
    list (a class such as ``.`` or ``\\w`` first, a pattern that can match nothing, a flag that
    folds case). Read from the pattern's parse (Python's own ``re`` parser): a literal, a class
    of literals, a group or a branch gives its first characters, an optional item adds the
    next item's, a look-around or an anchor is skipped (it consumes nothing)."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        chars, empty = _first_of(sre_parser.parse(pattern.pattern, pattern.flags))
    except (re.error, TypeError, ValueError, AttributeError):
        return None
    return None if chars is None or empty else frozenset(chars)


def _first_of(items: Any) -> tuple[set[str] | None, bool]:
    """(first characters, can it match nothing) of a parsed sequence; None: any character."""
    chars: set[str] = set()
    for op, arg in items:
        found, empty = _first_of_item(op, arg)
        if found is None:
            return None, False
        chars |= found
        if not empty:
            return chars, False
    return chars, True


def _first_of_item(op: Any, arg: Any) -> tuple[set[str] | None, bool]:
    """``_first_of`` for one parsed item."""
    if op is sre.LITERAL:
        return {chr(arg)}, False
    if op is sre.IN:
        return _first_of_class(arg), False
    if op is sre.SUBPATTERN:
        group, add_flags, del_flags, items = arg
        return (None, False) if add_flags & re.IGNORECASE else _first_of(items)
    if op is sre.BRANCH:
        chars, empty = set(), False
        for items in arg[1]:
            found, can_be_empty = _first_of(items)
            if found is None:
                return None, False
            chars |= found
            empty |= can_be_empty
        return chars, empty
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        least, _, items = arg
        found, empty = _first_of(items)
        return (None, False) if found is None else (found, empty or least == 0)
    if op in (sre.ASSERT, sre.ASSERT_NOT, sre.AT):
        return set(), True
    return None, False


def _first_of_class(items: Any) -> set[str] | None:
    """The characters of a class made of literals only ([打揍骂]); None for any other class."""
    chars = set()
    for op, arg in items:
        if op is not sre.LITERAL:
            return None
        chars.add(chr(arg))
    return chars


def clauses(normalized: str) -> list[str]:
    """The clauses of a normalized question (punctuation was folded into spaces)."""
    return [c for c in normalized.split(" ") if c]


def core_flags(parts: list[str], lexicon: QuestionLexicon, content_words) -> list[bool]:
    """Per clause: is it the question's core? The clauses that ask, each with the clause before
    it when it asks with too few content words of its own ("我们该怎么解决"). A message that
    asks nowhere (a bare story, "被人在网上骂了 有截图") is all core."""
    asking = list(map(bool, map(lexicon.cue_pattern.search, parts)))   # ``lexicon.asks`` of each
    if not any(asking):
        return [True] * len(parts)
    core = list(asking)
    for i, asks in enumerate(asking):
        if asks and i > 0 and len(content_words(parts[i])) < lexicon.min_core_words:
            core[i - 1] = True
    return core


def _strings(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = raw.get(key)
    if not isinstance(values, list) or not values:
        raise DictionaryError(f"question.toml [{where}] {key}: expected a non-empty list of words")
    words = []
    for value in values:
        if not isinstance(value, str) or not normalize(value):
            raise DictionaryError(f"question.toml [{where}] {key}: {value!r} is empty or not text")
        words.append(normalize(value).replace(" ", ""))
    return tuple(dict.fromkeys(words))


def _patterns(raw: Mapping[str, Any], role: str) -> tuple[re.Pattern, ...]:
    values = raw.get(role)
    if not isinstance(values, list) or not values:
        raise DictionaryError(f"question.toml [roles] {role}: expected a non-empty list of patterns")
    try:
        return tuple(re.compile(v) for v in values)
    except (re.error, TypeError) as exc:
        raise DictionaryError(f"question.toml [roles] {role}: {exc}") from exc


def people_words(people: tuple[str, ...], synonyms: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """The words for people and every colloquial word the synonym map turns into one (老婆 → 妻子)."""
    base = set(people)
    return frozenset(base | {w for w, legal in synonyms.items() if base & set(legal)})


def build_lexicon(data: Mapping[str, Any], synonyms: Mapping[str, tuple[str, ...]] | None = None) -> QuestionLexicon:
    """Validate parsed question.toml; an error names the table and the entry."""
    for table in ("question", "legal", "out_of_scope", "out_of_scope_unless", "roles"):
        if not isinstance(data.get(table), dict):
            raise DictionaryError(f"question.toml: missing [{table}]")
    unknown = set(data["roles"]) - set(ROLES)
    if unknown:
        raise DictionaryError(f"question.toml [roles]: unknown role(s) {sorted(unknown)}; use {ROLES}")
    min_core = data["question"].get("min_core_words", 2)
    if not isinstance(min_core, int) or min_core < 0:
        raise DictionaryError("question.toml [question] min_core_words: expected a whole number ≥ 0")
    fields = tuple((name, _strings(raw, "phrases", f"out_of_scope.{name}"))
                   for name, raw in data["out_of_scope"].items())
    return QuestionLexicon(
        cues=_strings(data["question"], "cues", "question"),
        min_core_words=min_core,
        legal=frozenset(_strings(data["legal"], "words", "legal")),
        people=people_words(_strings(data["legal"], "people", "legal"), synonyms or {}),
        out_of_scope=fields,
        unless=_strings(data["out_of_scope_unless"], "phrases", "out_of_scope_unless"),
        roles=tuple((role, _patterns(data["roles"], role)) for role in ROLES if role in data["roles"]),
        **everyday_words(data.get("everyday")),
    )


def everyday_words(raw: Any) -> dict[str, Any]:
    """[everyday] (optional): the asks about using a thing, and the [legal] words that name things."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DictionaryError("question.toml [everyday]: expected a table with asks and things")
    return {"everyday": _strings(raw, "asks", "everyday"), "things": frozenset(_strings(raw, "things", "everyday"))}


@lru_cache(maxsize=4)
def load_lexicon(path: Path, dictionaries: Dictionaries) -> QuestionLexicon:
    """The question lexicon of a dict/ folder (its people words widened by that folder's
    synonyms), read and validated once per process."""
    return build_lexicon(read_dictionary(path), dictionaries.synonyms)

