"""Glosses: how people ask about one article, written by hand for law search only.

Most articles are cited by no FAQ entry, so nothing links a question in everyday words (房东不退押金)
to the article's formal ones. A gloss gives one article 1–4 short questions it answers, in the words
people use; law search indexes them beside the article (bot/retrieval/lawsearch.py). Nobody reads a
gloss as an answer, so a gloss is not an FAQ entry: it has no reply, and it travels on the
Statutes as ``glosses``, apart from the entries' ``links``.

Files: knowledge/glosses/*.toml, each ``[[article]]`` a table ``cite = "民法典第712条"``,
``ask = ["...", ...]`` (knowledge/glosses/README.md). They are validated when the knowledge base
is read: a cite must be canonical and name a held article of a law in force, each article glossed
once across the files, and every error names the file and the cite.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from bot.kb.knowledge import CANONICAL, KnowledgeError, Statutes, shown_path

GLOSS_DIR = "glosses"          # in a knowledge directory, beside faq/ and statutes/
KEYS = ("cite", "ask")
MIN_ASKS, MAX_ASKS = 1, 4
MIN_ASK_CHARS, MAX_ASK_CHARS = 4, 60


@dataclass(frozen=True)
class Gloss:
    """Questions in everyday words that one article answers (for ranking; never shown)."""

    citation: str              # canonical: 民法典第712条
    asks: tuple[str, ...]
    source: str                # the file, as errors name it: knowledge/glosses/other_laws.toml


def gloss_files(directory: Path) -> list[Path]:
    """The gloss files of a glosses folder (none when there is no folder)."""
    return sorted(directory.glob("*.toml")) if directory.is_dir() else []


def cite_problem(cite: Any, statutes: Statutes) -> str | None:
    """Why a gloss's cite is not usable (None: canonical, held, of a law in force today), read by
    the statutes' own citation parser as an FAQ entry's citations are. A text that has lapsed
    (``in_force_until`` passed) is no load error: law search leaves its articles out anyway, and a
    search aid must not stop the bot from starting; `kb check` reports it (kbcheck.py)."""
    if not isinstance(cite, str) or not cite:
        return "cite must be a citation such as 民法典第712条"
    canonical = statutes.cite(cite)
    if not CANONICAL.match(cite) or canonical != cite:
        return "cite is not canonical" + (f" (write {canonical!r})" if canonical else "")
    if statutes.get(cite) is None:
        return "is not in knowledge/statutes"
    if not statutes.in_force(cite) and not statutes.lapse_words(cite):
        return "is of a law not in force"
    return None


def ask_problem(asks: Any) -> str | None:
    """Why an ``ask`` list is not 1–4 distinct questions of sane length (None: it is)."""
    if not isinstance(asks, list) or not all(isinstance(q, str) for q in asks):
        return "ask must be a list of strings"
    if not MIN_ASKS <= len(asks) <= MAX_ASKS:
        return f"has {len(asks)} asks ({MIN_ASKS}–{MAX_ASKS})"
    if len(set(asks)) != len(asks):
        return "repeats an ask"
    wrong = [q for q in asks if not MIN_ASK_CHARS <= len(q.strip()) <= MAX_ASK_CHARS]
    return f"ask {wrong[0]!r} is not {MIN_ASK_CHARS}–{MAX_ASK_CHARS} characters" if wrong else None


def table_problem(raw: Any, statutes: Statutes) -> str | None:
    """Why one ``[[article]]`` table is not a gloss (None: it is one)."""
    if not isinstance(raw, dict):
        return "must be an [[article]] table"
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        return f"unknown key(s) {', '.join(unknown)} (only {' and '.join(KEYS)})"
    return cite_problem(raw.get("cite"), statutes) or ask_problem(raw.get("ask"))


def read_file(path: Path, base: Path, statutes: Statutes) -> tuple[list[Gloss], list[str]]:
    """The well-formed glosses of one file, and an error line (file [cite]: why) for each other."""
    source = shown_path(path, base)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [], [f"{source}: cannot parse: {exc}"]
    errors = [f"{source}: unknown top-level key {k!r} (glosses are [[article]] tables)" for k in data if k != "article"]
    tables = data.get("article", [])
    if not isinstance(tables, list):
        return [], errors + [f"{source}: article must be [[article]] tables"]
    glosses = []
    for number, raw in enumerate(tables, start=1):
        cite = raw.get("cite") if isinstance(raw, dict) else None
        problem = table_problem(raw, statutes)
        if problem:
            errors.append(f"{source} [{cite if isinstance(cite, str) and cite else f'article #{number}'}]: {problem}")
        else:
            glosses.append(Gloss(cite, tuple(q.strip() for q in raw["ask"]), source))
    return glosses, errors


def duplicate_errors(glosses: Iterable[Gloss]) -> list[str]:
    """Each article glossed once across all files: two writers must not each think it theirs."""
    first: dict[str, str] = {}
    errors = []
    for gloss in glosses:
        if gloss.citation in first:
            errors.append(f"{gloss.source} [{gloss.citation}]: already glossed in {first[gloss.citation]}")
        first.setdefault(gloss.citation, gloss.source)
    return errors


def read_glosses(directory: Path, statutes: Statutes, base: Path | None = None) -> tuple[list[Gloss], list[str]]:
    """Every valid gloss of a glosses folder (a repeated article kept once, as first read) and an
    error line for each fault; nothing raised, so a lenient load keeps the good ones."""
    base = base or directory.parent
    glosses, errors = [], []
    for path in gloss_files(directory):
        found, problems = read_file(path, base, statutes)
        glosses += found
        errors += problems
    repeated = duplicate_errors(glosses)
    kept = {g.citation: g for g in reversed(glosses)}   # the first read wins
    return [g for g in glosses if kept[g.citation] is g], errors + repeated


def load_glosses(directory: str | Path, statutes: Statutes) -> list[Gloss]:
    """The glosses of a folder, validated: raises KnowledgeError naming file and cite on any fault."""
    glosses, errors = read_glosses(Path(directory), statutes)
    if errors:
        raise KnowledgeError(errors)
    return glosses
