"""The lexicons that decide before the FAQ is consulted: danger now, matters for a person, small talk.

They are data (knowledge/dict/triggers.toml) so the township can add a word without a
release; they are validated at load, and every phrase is normalized like a question, so
"拿著刀" (traditional) and "拿着刀" both match.

A matter for a person is read from what people actually write: the words of one matter need
not stand together ("我哥被公安抓了": 被 … 抓), several words may have to occur in one message
(住院 with 被打), and a word counts only when the message says it happened: "没被抓" is not an
arrest, "会不会被起诉" is a worry, not a summons. "还没开庭" still means a case is running.
"""
from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from bot.core import per_message
from bot.core.text import Dictionaries, DictionaryError, normalize

_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)多?(万|亿)?")
_UNITS = {"": 1, "万": 10_000, "亿": 100_000_000}
LOOK_BACK = 5          # characters before a cue read for a negation or a worry
CLAUSE_BACK = 10       # characters of the clause before a cue read for a doubt


@dataclass(frozen=True)
class Reading:
    """Whether a cue found at some place in a message says the thing happened.

    ``negators`` right before a cue deny it (没被抓, 未起诉); ``not_yet`` before a negator
    turns it into "still to come" (还没开庭: the case exists). ``worries`` right before a cue
    make it a fear or a hypothesis (会被抓, 要坐牢吗, 能强拆吗), unless they end a longer word
    (``compounds``: 村委会 is no 会); ``doubts`` do so from anywhere in the clause before it
    (会不会起诉坐牢, 万一被抓). Small linking characters (``links``: 被, 给 …) between the
    marker and the cue are skipped.
    """

    negators: tuple[str, ...] = ()
    not_yet: tuple[str, ...] = ()
    worries: tuple[str, ...] = ()
    doubts: tuple[str, ...] = ()
    compounds: tuple[str, ...] = ()
    links: str = ""

    def counts(self, text: str, start: int) -> bool:
        """True when the cue starting at ``start`` in normalized ``text`` is asserted."""
        before = text[max(0, start - LOOK_BACK):start].rstrip(" " + self.links)
        clause = text[max(0, start - CLAUSE_BACK):start].rsplit(" ", 1)[-1]
        return not (self.denied(before) or self.worried(before)
                    or any(doubt in clause for doubt in self.doubts))

    def worried(self, before: str) -> bool:
        return before.endswith(self.worries) and not before.endswith(self.compounds)

    def denied(self, before: str) -> bool:
        for negator in self.negators:
            if before.endswith(negator):
                rest = before[: len(before) - len(negator)]
                return not rest.endswith(self.not_yet)
        return False


ASSERTED = Reading()   # every occurrence counts (urgent words: a false alarm costs little)

reading_once = per_message.scope   # the pipeline's per-message scope (bot/core/per_message.py)


def once(kind: str, lexicon: object, text: Any, find: Callable[[], Any]) -> Any:
    """``find()``, or what it gave for this lexicon (or matcher) and text earlier in the same
    message: the urgent and small-talk handlers read a text first, then the matcher's first step
    asks the same lexicons again. The lexicon is named by identity: the memo does not outlive
    the message, so neither can an identity be reused while it is kept."""
    return per_message.once((kind, id(lexicon), text), find)


def occurrences(text: str, phrase: str) -> Iterator[int]:
    start = text.find(phrase)
    while start != -1:
        yield start
        start = text.find(phrase, start + 1)


@dataclass(frozen=True)
class Lexicon:
    """Phrases (substrings) and regular expressions over normalized text."""

    phrases: tuple[str, ...] = ()
    patterns: tuple[re.Pattern, ...] = ()

    def find(self, text: str, reading: Reading = ASSERTED) -> str | None:
        """The first phrase or pattern asserted in normalized ``text``, or None."""
        if not self.holds_any(text):
            return None
        hit = next(self.spans(text, reading), None)
        return hit[2] if hit else None

    def holds_any(self, text: str) -> bool:
        """Whether one of the phrases or patterns occurs at all, asserted or not: for most
        messages it says no with a few searches, before any generator or match iterator is made."""
        return bool(self.phrases and self.any_phrase.search(text)) or searched(self.patterns, text)

    def spans(self, text: str, reading: Reading = ASSERTED) -> Iterator[tuple[int, int, str]]:
        """Every asserted (start, end, words) in the text: phrases first, then patterns.

        Most messages hold none of the phrases: one search for any of them (``any_phrase``)
        says so before they are looked for one by one, in their order."""
        if self.phrases and self.any_phrase.search(text):
            for phrase in self.phrases:
                if phrase not in text:
                    continue
                for start in occurrences(text, phrase):
                    if reading.counts(text, start):
                        yield start, start + len(phrase), phrase
        for pattern in self.patterns:
            for found in pattern.finditer(text):
                if reading.counts(text, found.start()):
                    yield found.start(), found.end(), found.group(0)


    @cached_property
    def any_phrase(self) -> re.Pattern:
        """Finds some phrase of the lexicon exactly when one is in the text (kept on the instance:
        lexicons are frozen and loaded once)."""
        return any_of(self.phrases)


def searched(patterns: Iterable[re.Pattern], text: str) -> bool:
    """Whether one of the patterns occurs in the text: ``any`` over a generator, without the
    generator (resumed once per pattern, for every message)."""
    for pattern in patterns:
        if pattern.search(text):
            return True
    return False


def any_of(phrases: Iterable[str]) -> re.Pattern:
    """One search for any of the phrases: for a message holding none of them (most messages, for
    each lexicon) a search of their alternation costs a tenth of an ``in`` per phrase, since the
    regular expression engine skips every position where no phrase starts."""
    return re.compile("|".join(map(re.escape, phrases)))


@dataclass(frozen=True)
class Together:
    """Words of several groups in one stretch of text: 住院 with 被打, 醉驾 with 撞."""

    groups: tuple[Lexicon, ...]
    within: int

    def find(self, text: str, reading: Reading = ASSERTED) -> str | None:
        found = []
        if not all(group.holds_any(text) for group in self.groups):
            return None
        for group in self.groups:            # a group with no word here ends the search
            spans = list(group.spans(text, reading))
            if not spans:
                return None
            found.append(spans)
        for anchor in found[0]:
            chosen = [anchor] + [near(anchor, spans, self.within) for spans in found[1:]]
            if all(chosen):
                return "+".join(span[2] for span in chosen)
        return None


def near(anchor: tuple[int, int, str], spans: list[tuple[int, int, str]],
         within: int) -> tuple[int, int, str] | None:
    """The first span whose distance from ``anchor`` (gap between them) is at most ``within``."""
    for span in spans:
        gap = max(span[0] - anchor[1], anchor[0] - span[1], 0)
        if gap <= within:
            return span
    return None


@dataclass(frozen=True)
class Tangle:
    """Several parties and several claims in one message: too tangled for a FAQ answer."""

    parties: tuple[str, ...]
    issues: tuple[str, ...]
    min_parties: int
    min_issues: int

    def find(self, text: str, reading: Reading = ASSERTED) -> str | None:
        parties = count_distinct(text, self.parties)
        if parties < self.min_parties:
            return None
        issues = count_distinct(text, self.issues)
        if issues >= self.min_issues:
            return f"{parties} parties, {issues} issues"
        return None


@dataclass(frozen=True)
class Fraud:
    """Fraud words with a large sum of money: a police matter."""

    lexicon: Lexicon
    min_amount: float
    large: tuple[str, ...] = ()          # 十几万, 几十万: sums written in words

    def find(self, text: str, reading: Reading = ASSERTED) -> str | None:
        word = self.lexicon.find(text, reading)
        if not word:
            return None
        big = largest_amount(text) >= self.min_amount or any(w in text for w in self.large)
        return word if big else None


@dataclass(frozen=True)
class Rule:
    """One reason to hand over: any of its parts found, none of its ``unless`` words present."""

    parts: tuple[Any, ...]                # Lexicon | Together | Fraud | Tangle
    unless: tuple[str, ...] = ()
    category: str | None = None           # the kind of matter, for the records

    def find(self, text: str, reading: Reading = ASSERTED) -> str | None:
        if self.unless and any(word in text for word in self.unless):
            return None
        for part in self.parts:
            hit = part.find(text, reading)
            if hit:
                return hit
        return None


@dataclass(frozen=True)
class Chitchat:
    kind: str
    lexicon: Lexicon
    reply: str


@dataclass(frozen=True)
class Triggers:
    urgent: Lexicon
    escalate: dict[str, Rule]                     # reason → rule, in the file's order
    chitchat: tuple[Chitchat, ...]
    examples: tuple[str, ...] = field(default=())
    reading: Reading = ASSERTED
    dictionaries: Dictionaries | None = field(default=None, compare=False, repr=False)   # its folder's words

    def urgent_reason(self, text: str) -> str | None:
        """What in the normalized text says someone is in danger now."""
        return once("urgent", self.urgent, text, lambda: self.urgent.find(text))

    def escalate_reason(self, text: str) -> str | None:
        """``reason: what matched`` when the normalized text is a matter for a person. Most
        questions hold none of the rules' words (nine in ten of the bench's): ``cues`` says so
        in one pass before the rules are read one by one. The FAQ's view of the lexicons has no
        rules (``without_escalation``): it reads nothing."""
        if not self.escalate or not self.cues.in_text(text):
            return None
        for reason, rule in self.escalate.items():
            found = rule.find(text, self.reading)
            if found:
                return f"{reason}: {found}"
        return None

    @cached_property
    def cues(self) -> "Cues":
        """Every word and pattern an escalation rule needs one of (kept on the instance: the
        triggers are frozen and loaded once)."""
        return Cues.of(self.escalate.values())

    def category_of(self, reason: str | None) -> str | None:
        """The kind of matter an escalation reason names ("court: 传票" → its table's category)."""
        rule = self.escalate.get((reason or "").split(":")[0])
        return rule.category if rule else None

    def without_escalation(self) -> "Triggers":
        """The same lexicons with no escalation rules: for reading a question against the FAQ
        even when it is a matter for a person (its general answer goes with the hand-over)."""
        return dataclasses.replace(self, escalate={})

    def chitchat_kind(self, text: str) -> Chitchat | None:
        """The kind of small talk when nothing but small talk and function words is left."""
        return once("chitchat", self.chitchat, text, lambda: self.small_talk(text))

    def small_talk(self, text: str) -> Chitchat | None:
        words = self.dictionaries
        if words is None:
            raise DictionaryError("triggers built without dictionaries cannot read small talk")
        if not self.any_small_talk.search(text):
            return None
        rest, first = text, None
        for chat in self.chitchat:
            for phrase in chat.lexicon.phrases:
                if phrase in rest:
                    first = first or chat
                    rest = rest.replace(phrase, " ")
        if first is None or self.plainly_more(rest) or any(
                words.is_content(w) and w.strip() for w in words.segment(rest)):
            return None
        return first

    def plainly_more(self, rest: str) -> bool:
        """Whether what is left besides the small talk holds a character that no stopword holds
        and that is no digit, space, "." or "%": the word jieba would cut around it is then a
        content word, so the message is a question. Known without cutting (nine in ten of the
        messages holding a greeting or thanks are questions)."""
        return any(not (char.isdigit() or char.isspace()) for char in set(rest).difference(self.stopword_chars))

    @cached_property
    def any_small_talk(self) -> re.Pattern:
        """Finds some small-talk phrase exactly when one is in the text (nine in ten messages hold none)."""
        return any_of(phrase for chat in self.chitchat for phrase in chat.lexicon.phrases)

    @cached_property
    def stopword_chars(self) -> frozenset[str]:
        """Every character of a stopword, and those a number may hold besides digits."""
        words = self.dictionaries
        return frozenset("".join(words.stopwords)) | frozenset(".%") if words is not None else frozenset()


def needed_lexicons(part: Any) -> list[Lexicon]:
    """The lexicons one of whose words or patterns a rule's part needs in the text to find
    anything: a lexicon's own, one group of a ``Together`` (each must be there: the one least
    likely to be, by its shortest word, stands for all), a ``Fraud``'s fraud words, a ``Tangle``'s
    parties (at least one is needed: ``min_parties`` is positive)."""
    if isinstance(part, Lexicon):
        return [part]
    if isinstance(part, Together):
        return [max(part.groups, key=lambda group: (min(map(len, group.phrases), default=0),
                                                    -len(group.phrases) - len(group.patterns)))]
    if isinstance(part, Fraud):
        return [part.lexicon]
    if isinstance(part, Tangle):
        return [Lexicon(part.parties)]
    raise TypeError(f"unknown kind of rule part: {part!r}")


@dataclass(frozen=True)
class Cues:
    """The words (indexed by their first character) and patterns of which a text must hold one
    for any escalation rule to find anything in it. ``in_text`` is only a first look: when it is
    True the rules themselves decide (negations, worries, ``unless`` words, amounts)."""

    by_first: Mapping[str, tuple[str, ...]]
    patterns: tuple[re.Pattern, ...]

    @classmethod
    def of(cls, rules: Iterable[Rule]) -> "Cues":
        lexicons = [lex for rule in rules for part in rule.parts for lex in needed_lexicons(part)]
        by_first: dict[str, list[str]] = {}
        for word in dict.fromkeys(w for lex in lexicons for w in lex.phrases):
            by_first.setdefault(word[0], []).append(word)
        patterns = tuple(dict.fromkeys(p for lex in lexicons for p in lex.patterns))
        return cls({first: tuple(words) for first, words in by_first.items()}, patterns)

    @cached_property
    def any_word(self) -> re.Pattern:
        return any_of(word for words in self.by_first.values() for word in words)

    def in_text(self, text: str) -> bool:
        """One search for any of the words (``any_of``), then the patterns."""
        has_word = bool(self.by_first) and self.any_word.search(text) is not None
        return has_word or searched(self.patterns, text)


def count_distinct(text: str, phrases: tuple[str, ...]) -> int:
    """How many phrases occur, a longer phrase hiding the shorter ones inside it (宅基地 ⊃ 地)."""
    count = 0
    for phrase in phrases:  # sorted longest first at load
        if phrase in text:
            count += 1
            text = text.replace(phrase, " ")
    return count


def largest_amount(text: str) -> float:
    """The largest sum in normalized text: 三万块 is already "30000块"; "20多万" (二十多万) is read
    here as 200000, since normalization leaves 万 after 多."""
    return max((float(n) * _UNITS[unit] for n, unit in _AMOUNT.findall(text)), default=0.0)


# ---- loading and validating triggers.toml ------------------------------------------------

def _words(raw: Mapping[str, Any], key: str, where: str, required: bool = False) -> tuple[str, ...]:
    values = raw.get(key, [])
    if not isinstance(values, list) or (required and not values):
        raise DictionaryError(f"triggers.toml [{where}] {key}: expected a non-empty list of words")
    return _normalized_words(values, f"[{where}] {key}")


def _normalized_words(values: list, where: str) -> tuple[str, ...]:
    words = []
    for value in values:
        if not isinstance(value, str) or not normalize(value):
            raise DictionaryError(f"triggers.toml {where}: {value!r} is empty or not text")
        words.append(normalize(value))
    return tuple(sorted(dict.fromkeys(words), key=len, reverse=True))


def _patterns(raw: Mapping[str, Any], where: str) -> tuple[re.Pattern, ...]:
    compiled = []
    for value in raw.get("patterns", []):
        try:
            compiled.append(re.compile(value))
        except (re.error, TypeError) as exc:
            raise DictionaryError(f"triggers.toml [{where}] pattern {value!r}: {exc}") from exc
    return tuple(compiled)


def build_lexicon(raw: Mapping[str, Any], where: str) -> Lexicon:
    lexicon = Lexicon(_words(raw, "phrases", where), _patterns(raw, where))
    if not lexicon.phrases and not lexicon.patterns:
        raise DictionaryError(f"triggers.toml [{where}]: needs phrases or patterns")
    return lexicon


def _number(raw: Mapping[str, Any], key: str, where: str) -> float:
    value = raw.get(key)
    if not isinstance(value, (int, float)) or value <= 0:
        raise DictionaryError(f"triggers.toml [{where}] {key}: expected a positive number")
    return value


def build_together(raw: Mapping[str, Any], where: str) -> Together:
    """Groups of words; ``patterns``, if given, lists each group's regular expressions in turn."""
    groups, patterns = raw.get("groups"), raw.get("patterns", [])
    if not isinstance(groups, list) or len(groups) < 2 or not all(isinstance(g, list) and g for g in groups):
        raise DictionaryError(f"triggers.toml [{where}] groups: expected two or more lists of words")
    if not isinstance(patterns, list) or len(patterns) > len(groups):
        raise DictionaryError(f"triggers.toml [{where}] patterns: expected one list per group at most")
    padded = [*patterns, *([[]] * (len(groups) - len(patterns)))]
    lexicons = tuple(build_lexicon({"phrases": g, "patterns": p}, f"{where} groups")
                     for g, p in zip(groups, padded))
    return Together(lexicons, int(_number(raw, "within", where)))


def build_parts(reason: str, raw: Mapping[str, Any]) -> tuple[Any, ...]:
    where = f"escalate.{reason}"
    if "parties" in raw:
        return (Tangle(_words(raw, "parties", where, True), _words(raw, "issues", where, True),
                       int(_number(raw, "min_parties", where)), int(_number(raw, "min_issues", where))),)
    if "min_amount" in raw:
        return (Fraud(build_lexicon(raw, where), _number(raw, "min_amount", where),
                      _words(raw, "large", where)),)
    togethers = tuple(build_together(t, f"{where}.together") for t in raw.get("together", []))
    if togethers and not (raw.get("phrases") or raw.get("patterns")):
        return togethers
    return (build_lexicon(raw, where), *togethers)


def build_rule(reason: str, raw: Mapping[str, Any]) -> Rule:
    category = raw.get("category")
    if category is not None and (not isinstance(category, str) or not category.strip()):
        raise DictionaryError(f"triggers.toml [escalate.{reason}] category: expected a category name")
    return Rule(build_parts(reason, raw), _words(raw, "unless", f"escalate.{reason}"), category)


def build_reading(raw: Mapping[str, Any]) -> Reading:
    if not raw:
        return ASSERTED
    where = "reading"
    links = raw.get("links", "")
    if not isinstance(links, str):
        raise DictionaryError("triggers.toml [reading] links: expected a string of characters")
    return Reading(_words(raw, "negators", where, True), _words(raw, "not_yet", where),
                   _words(raw, "worries", where), _words(raw, "doubts", where),
                   _words(raw, "compounds", where), links)


def build_chitchat(kind: str, raw: Mapping[str, Any]) -> Chitchat:
    reply = raw.get("reply")
    if not isinstance(reply, str) or not reply.strip():
        raise DictionaryError(f"triggers.toml [chitchat.{kind}]: needs a reply")
    return Chitchat(kind, Lexicon(_words(raw, "phrases", f"chitchat.{kind}", True)), reply.strip())


def build_triggers(data: Mapping[str, Any], dictionaries: Dictionaries | None = None) -> Triggers:
    """Validate the parsed triggers.toml; an error names the table and the word."""
    for section in ("urgent", "escalate", "chitchat"):
        if not isinstance(data.get(section), dict):
            raise DictionaryError(f"triggers.toml: missing [{section}]")
    chitchat = data["chitchat"]
    return Triggers(
        urgent=build_lexicon(data["urgent"], "urgent"),
        escalate={reason: build_rule(reason, raw) for reason, raw in data["escalate"].items()},
        chitchat=tuple(build_chitchat(k, v) for k, v in chitchat.items() if isinstance(v, dict)),
        examples=tuple(chitchat.get("examples", ())),
        reading=build_reading(data.get("reading", {})),
        dictionaries=dictionaries,
    )


@lru_cache(maxsize=4)
def load_triggers(path: Path, dictionaries: Dictionaries) -> Triggers:
    """The trigger lexicons of a dict/ folder, read and validated once per process; small talk
    is told from a question with that folder's words."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DictionaryError(f"{Path(path).name}: {exc}") from exc
    return build_triggers(data, dictionaries)
