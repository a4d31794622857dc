"""Everything read from one knowledge directory's dict/ folder, as one object.

An app configured with another ``knowledge_dir`` must cut words with that folder's user
dictionary and stopwords, add that folder's synonyms, escalate on its trigger phrases and read
questions with its question words, not the shipped ones: so the folder is an argument, and
Services (or a CLI command) builds one ``Lexicons`` from its configuration and hands it to the
matcher, the handlers and whoever else reads text. Each file is read once per process per
resolved path (``dictionaries_in`` also notices an edited file), so two apps on the shipped
folder — or on a symlink to it — share the same objects.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.config import Config, shipped_knowledge_dir
from bot.core.text import Dictionaries, dictionaries_in
from bot.kb.knowledge import knowledge_dir
from bot.retrieval.counterparts import Counterparts, load_counterparts
from bot.retrieval.question import QuestionLexicon, load_lexicon
from bot.retrieval.triggers import Triggers, load_triggers


@dataclass(frozen=True)
class Lexicons:
    """The words of one dict/: jieba's user dictionary, stopwords and synonyms
    (``dictionaries``), the trigger phrases (urgent, escalate, small talk), the question words
    and the words naming the other side of a matter (``counterparts``)."""

    dictionaries: Dictionaries
    triggers: Triggers
    question: QuestionLexicon
    counterparts: Counterparts


def lexicons_in(dict_dir: Path | str) -> Lexicons:
    """The lexicons of ``dict_dir`` (a knowledge directory's dict/), validated at load."""
    base = Path(dict_dir).resolve()
    words = dictionaries_in(base)
    return Lexicons(dictionaries=words, triggers=load_triggers(base / "triggers.toml", words),
                    question=load_lexicon(base / "question.toml", words),
                    counterparts=load_counterparts(base / "counterparts.toml"))


def lexicons_for(config: Config) -> Lexicons:
    """The lexicons of the configured knowledge directory ([app] knowledge_dir)."""
    return lexicons_in(knowledge_dir(config) / "dict")


def default_lexicons() -> Lexicons:
    """The lexicons of the default configuration's knowledge directory, for tests and benches
    that read the shipped words. No library function falls back to it: apps and CLI commands
    pass their configuration's (``lexicons_for``), a matcher given none reads its knowledge
    base's own dict/."""
    return lexicons_in(shipped_knowledge_dir() / "dict")
