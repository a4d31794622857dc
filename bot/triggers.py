"""The lexicons that decide before the FAQ is consulted: danger now, matters for a person, small talk.

They are data (knowledge/dict/triggers.toml) so the township can add a word without a
release; they are validated at load, and every phrase is normalized like a question, so
"拿著刀" (traditional) and "拿着刀" both match.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from bot.text import DICT_DIR, DictionaryError, is_content, normalize, segment

_AMOUNT = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Lexicon:
    """Phrases (substrings) and regular expressions over normalized text."""

    phrases: tuple[str, ...] = ()
    patterns: tuple[re.Pattern, ...] = ()

    def find(self, text: str) -> str | None:
        """The first phrase or pattern found in normalized ``text``, or None."""
        for phrase in self.phrases:
            if phrase in text:
                return phrase
        for pattern in self.patterns:
            found = pattern.search(text)
            if found:
                return found.group(0)
        return None


@dataclass(frozen=True)
class Tangle:
    """Several parties and several claims in one message: too tangled for a FAQ answer."""

    parties: tuple[str, ...]
    issues: tuple[str, ...]
    min_parties: int
    min_issues: int

    def find(self, text: str) -> str | None:
        parties, issues = count_distinct(text, self.parties), count_distinct(text, self.issues)
        if parties >= self.min_parties and issues >= self.min_issues:
            return f"{parties} parties, {issues} issues"
        return None


@dataclass(frozen=True)
class Fraud:
    """Fraud words with a large sum of money: a police matter."""

    lexicon: Lexicon
    min_amount: float

    def find(self, text: str) -> str | None:
        word = self.lexicon.find(text)
        if word and largest_amount(text) >= self.min_amount:
            return word
        return None


@dataclass(frozen=True)
class Chitchat:
    kind: str
    lexicon: Lexicon
    reply: str


@dataclass(frozen=True)
class Triggers:
    urgent: Lexicon
    escalate: dict[str, Any]                      # reason → Lexicon | Fraud | Tangle
    chitchat: tuple[Chitchat, ...]
    examples: tuple[str, ...] = field(default=())

    def urgent_reason(self, text: str) -> str | None:
        """What in the normalized text says someone is in danger now."""
        return self.urgent.find(text)

    def escalate_reason(self, text: str) -> str | None:
        """``reason: what matched`` when the normalized text is a matter for a person."""
        for reason, rule in self.escalate.items():
            found = rule.find(text)
            if found:
                return f"{reason}: {found}"
        return None

    def chitchat_kind(self, text: str) -> Chitchat | None:
        """The kind of small talk when nothing but small talk and function words is left."""
        rest, first = text, None
        for chat in self.chitchat:
            for phrase in chat.lexicon.phrases:
                if phrase in rest:
                    first = first or chat
                    rest = rest.replace(phrase, " ")
        if first is None or any(is_content(w) and w.strip() for w in segment(rest)):
            return None
        return first


def count_distinct(text: str, phrases: tuple[str, ...]) -> int:
    """How many phrases occur, a longer phrase hiding the shorter ones inside it (宅基地 ⊃ 地)."""
    count = 0
    for phrase in phrases:  # sorted longest first at load
        if phrase in text:
            count += 1
            text = text.replace(phrase, " ")
    return count


def largest_amount(text: str) -> float:
    """The largest number in normalized text (三万块 was already turned into 30000块)."""
    return max((float(n) for n in _AMOUNT.findall(text)), default=0.0)


def _words(raw: Mapping[str, Any], key: str, where: str, required: bool = False) -> tuple[str, ...]:
    values = raw.get(key, [])
    if not isinstance(values, list) or (required and not values):
        raise DictionaryError(f"triggers.toml [{where}] {key}: expected a non-empty list of words")
    words = []
    for value in values:
        if not isinstance(value, str) or not normalize(value):
            raise DictionaryError(f"triggers.toml [{where}] {key}: {value!r} is empty or not text")
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


def build_rule(reason: str, raw: Mapping[str, Any]) -> Any:
    where = f"escalate.{reason}"
    if "parties" in raw:
        return Tangle(_words(raw, "parties", where, True), _words(raw, "issues", where, True),
                      int(_number(raw, "min_parties", where)), int(_number(raw, "min_issues", where)))
    if "min_amount" in raw:
        return Fraud(build_lexicon(raw, where), _number(raw, "min_amount", where))
    return build_lexicon(raw, where)


def build_chitchat(kind: str, raw: Mapping[str, Any]) -> Chitchat:
    reply = raw.get("reply")
    if not isinstance(reply, str) or not reply.strip():
        raise DictionaryError(f"triggers.toml [chitchat.{kind}]: needs a reply")
    return Chitchat(kind, Lexicon(_words(raw, "phrases", f"chitchat.{kind}", True)), reply.strip())


def build_triggers(data: Mapping[str, Any]) -> Triggers:
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
    )


@lru_cache(maxsize=4)
def load_triggers(path: Path = DICT_DIR / "triggers.toml") -> Triggers:
    """The trigger lexicons, read and validated once per process."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DictionaryError(f"{Path(path).name}: {exc}") from exc
    return build_triggers(data)
