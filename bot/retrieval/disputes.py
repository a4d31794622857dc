"""Is this answered question a dispute between people, and of which kind?

The township reports mediated disputes by the kinds of its annual report: the “三大纠纷” (土地,
山林, 水利), 邻里纠纷, 婚姻 (家庭), 宅基地 and 其他. Which FAQ entries answer such disputes, which
words name another party and which words tell the land-like kinds apart are data
(knowledge/dict/disputes.toml, validated when read); the decision is a pure function of the
entry that answered and the villager's own words.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

RULES_FILE = Path("dict") / "disputes.toml"
# Strings that contain a party word without naming anyone ("其他" holds 他).
NOT_PARTIES = ("其他", "其它", "吉他")


class Kind(StrEnum):
    """The report's kinds of dispute, in the report's order."""

    LAND = "land"
    FOREST = "forest"
    WATER = "water"
    NEIGHBOUR = "neighbour"
    MARRIAGE = "marriage"
    HOMESTEAD = "homestead"
    OTHER = "other"


KIND_LABELS = {Kind.LAND: "土地", Kind.FOREST: "山林", Kind.WATER: "水利", Kind.NEIGHBOUR: "邻里纠纷",
               Kind.MARRIAGE: "婚姻家庭", Kind.HOMESTEAD: "宅基地", Kind.OTHER: "其他"}
THREE_MAJOR = (Kind.LAND, Kind.FOREST, Kind.WATER)       # the “三大纠纷”


def kind_label(kind: str) -> str:
    """土地, 山林 … for a stored kind (an unknown one is shown as it is)."""
    try:
        return KIND_LABELS[Kind(kind)]
    except ValueError:
        return kind


class DisputeRulesError(ValueError):
    """knowledge/dict/disputes.toml is malformed; the message names the kind and the field."""


@dataclass(frozen=True)
class KindRule:
    kind: Kind
    entries: tuple[str, ...] = ()        # entry ids, or prefixes ending in "."
    exclude: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    refine: bool = False                 # land-like: its words may win over a later kind's entry

    def covers(self, faq_id: str) -> bool:
        listed = any(faq_id == e or (e.endswith(".") and faq_id.startswith(e)) for e in self.entries)
        return listed and faq_id not in self.exclude

    def said_in(self, text: str) -> bool:
        return any(word in text for word in self.words)


@dataclass(frozen=True)
class DisputeRules:
    kinds: tuple[KindRule, ...]
    parties: tuple[str, ...]
    never_words: tuple[str, ...] = ()
    # entry id → its rule: every answer asks, and the entries are a fixed, finite set
    _rules: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def rule_of(self, faq_id: str | None) -> KindRule | None:
        if faq_id not in self._rules:
            self._rules[faq_id] = next((r for r in self.kinds if faq_id and r.covers(faq_id)), None)
        return self._rules[faq_id]

    def names_a_party(self, text: str) -> bool:
        for blind in NOT_PARTIES:
            text = text.replace(blind, "")
        return any(word in text for word in self.parties)

    def classify(self, faq_id: str | None, question: str) -> Kind | None:
        """The kind of dispute, or None when this is no dispute the committee should be offered."""
        rule = self.rule_of(faq_id)
        text = question or ""
        if rule is None or not self.names_a_party(text) or any(w in text for w in self.never_words):
            return None
        return refined(self.kinds, rule, text)


def refined(kinds: tuple[KindRule, ...], rule: KindRule, text: str) -> Kind:
    """A land-like entry's kind, unless the words of a more specific land-like kind (one listed
    before it) appear: 放水 in a neighbour's question makes a 水利 dispute."""
    if not rule.refine:
        return rule.kind
    for earlier in kinds[: kinds.index(rule)]:
        if earlier.refine and earlier.said_in(text):
            return earlier.kind
    return rule.kind


def as_tuple(raw: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = raw.get(name, ())
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise DisputeRulesError(f"{where}: {name} must be a list of non-empty strings")
    return tuple(value)


def build_kind(raw: Mapping[str, Any], path: Path) -> KindRule:
    try:
        kind = Kind(raw.get("key"))
    except ValueError:
        raise DisputeRulesError(f"{path}: kind {raw.get('key')!r} is not one of "
                                f"{', '.join(k.value for k in Kind)}") from None
    unknown = set(raw) - {"key", "entries", "exclude", "words", "refine"}
    if unknown:
        raise DisputeRulesError(f"{path} [{kind}]: unknown field(s) {', '.join(sorted(unknown))}")
    where = f"{path} [{kind}]"
    return KindRule(kind=kind, entries=as_tuple(raw, "entries", where), exclude=as_tuple(raw, "exclude", where),
                    words=as_tuple(raw, "words", where), refine=bool(raw.get("refine", False)))


def parse_rules(data: Mapping[str, Any], path: Path) -> DisputeRules:
    """The rules from the TOML's data; every kind once, parties named."""
    kinds = tuple(build_kind(k, path) for k in data.get("kind", ()))
    seen = [r.kind for r in kinds]
    missing = [k.value for k in Kind if k not in seen]
    if missing or len(set(seen)) != len(seen):
        raise DisputeRulesError(f"{path}: each kind exactly once (missing: {', '.join(missing) or '-'})")
    parties = as_tuple(data, "parties", str(path))
    if not parties:
        raise DisputeRulesError(f"{path}: parties must name at least one word")
    return DisputeRules(kinds=kinds, parties=parties, never_words=as_tuple(data, "never_words", str(path)))


@lru_cache(maxsize=8)
def load_rules(knowledge_dir: str) -> DisputeRules:
    """knowledge/dict/disputes.toml, read once per knowledge folder."""
    path = Path(knowledge_dir) / RULES_FILE
    return parse_rules(tomllib.loads(path.read_text(encoding="utf-8")), path)


def unknown_entries(rules: DisputeRules, entry_ids: Iterable[str]) -> list[str]:
    """Entry ids (not prefixes) the rules name that the knowledge base does not have."""
    have = set(entry_ids)
    named = {e for r in rules.kinds for e in (*r.entries, *r.exclude) if not e.endswith(".")}
    return sorted(named - have)
