"""The matcher's own dictionaries, read from one knowledge directory's dict/ folder.

An app configured with another ``knowledge_dir`` must escalate on that folder's trigger phrases
and read questions with that folder's question words, not the shipped ones: so the folder is an
argument, and Services builds one ``Lexicons`` from its configuration and hands it to the matcher
and the handlers. Each file is read once per process per resolved path (``load_triggers`` and
``load_lexicon`` cache by path), so two apps on the shipped folder — or on a symlink to it —
share the same objects.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.config import Config
from bot.kb.knowledge import knowledge_dir
from bot.retrieval.question import QuestionLexicon, load_lexicon
from bot.retrieval.triggers import Triggers, load_triggers


@dataclass(frozen=True)
class Lexicons:
    """The trigger phrases (urgent, escalate, small talk) and the question words of one dict/."""

    triggers: Triggers
    question: QuestionLexicon


def lexicons_in(dict_dir: Path | str) -> Lexicons:
    """The lexicons of ``dict_dir`` (a knowledge directory's dict/), validated at load."""
    base = Path(dict_dir).resolve()
    return Lexicons(triggers=load_triggers(base / "triggers.toml"),
                    question=load_lexicon(base / "question.toml"))


def lexicons_for(config: Config) -> Lexicons:
    """The lexicons of the configured knowledge directory ([app] knowledge_dir)."""
    return lexicons_in(knowledge_dir(config) / "dict")
