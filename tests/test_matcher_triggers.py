"""The trigger lexicons (knowledge/dict/triggers.toml) are data, validated at load."""
from __future__ import annotations

import pytest

from bot.core.text import DictionaryError
from bot.retrieval.lexicons import default_lexicons
from bot.retrieval.triggers import build_triggers, count_distinct, largest_amount

MINIMAL = {
    "urgent": {"phrases": ["救命"]},
    "escalate": {"person": {"phrases": ["转人工"]}},
    "chitchat": {"greeting": {"phrases": ["你好"], "reply": "您好"}},
}


def with_change(section: str, key: str, value) -> dict:
    data = {k: dict(v) for k, v in MINIMAL.items()}
    data[section] = {**data[section], key: value}
    return data


def test_the_shipped_triggers_load_and_cover_every_escalation_reason():
    triggers = default_lexicons().triggers
    assert {"person", "court", "criminal", "land_taking", "fraud", "tangle"} <= set(triggers.escalate)
    assert {c.kind for c in triggers.chitchat} >= {"greeting", "thanks", "identity", "help"}


def test_phrases_are_normalized_like_questions():
    triggers = build_triggers(with_change("urgent", "phrases", ["殺人了"]))
    assert triggers.urgent_reason("他杀人了") == "杀人了"


def test_an_invalid_pattern_names_the_table():
    with pytest.raises(DictionaryError, match=r"\[urgent\] pattern"):
        build_triggers(with_change("urgent", "patterns", ["(unclosed"]))


def test_a_table_without_phrases_or_patterns_is_refused():
    with pytest.raises(DictionaryError, match=r"\[escalate.person\]: needs phrases or patterns"):
        build_triggers(with_change("escalate", "person", {"phrases": []}))


def test_a_missing_section_is_refused():
    with pytest.raises(DictionaryError, match=r"missing \[chitchat\]"):
        build_triggers({"urgent": MINIMAL["urgent"], "escalate": MINIMAL["escalate"]})


def test_chitchat_needs_a_reply():
    with pytest.raises(DictionaryError, match=r"chitchat.greeting\]: needs a reply"):
        build_triggers(with_change("chitchat", "greeting", {"phrases": ["你好"]}))


def test_a_longer_phrase_hides_the_shorter_one_inside_it():
    assert count_distinct("宅基地", ("宅基地", "地")) == 1
    assert count_distinct("宅基地和地", ("宅基地", "地")) == 2


def test_largest_amount_reads_normalized_sums():
    assert largest_amount("被骗了30000块 还有500") == 30000
    assert largest_amount("没有数字") == 0
