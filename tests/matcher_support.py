"""The matcher's test knowledge base (tests/fixtures/kb): real FaqEntry objects, real statutes."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.core.config import PROJECT_ROOT, MatcherSettings
from bot.kb.knowledge import KnowledgeBase, load_statutes, read_entries
from bot.retrieval.matcher import Matcher

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"


@lru_cache(maxsize=1)
def small_kb() -> KnowledgeBase:
    entries = []
    for path in sorted((FIXTURE_KB / "faq").glob("*.toml")):
        found, errors = read_entries(path, FIXTURE_KB)
        assert not errors, errors
        entries += found
    return KnowledgeBase(entries, load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes")))


def small_matcher(**settings) -> Matcher:
    return Matcher(small_kb(), MatcherSettings(**settings))
