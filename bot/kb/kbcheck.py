"""`legalbot kb check`: the editorial rules of the knowledge base, on top of load-time correctness.

bot/kb/knowledge.py refuses, at load, any entry whose reply would be wrong (a citation we do not
hold or not in force, an excerpt that is not verbatim, a reply over WeChat's limit). This module
holds what makes an answer good rather than wrong — the answer's shape on a phone, enough
phrasings, the review record, scope coverage, and the corrections register (faults found once
by a legal review, kept from coming back). Its errors fail `kb check` (and so `make test`) but
never stop the app from serving: an entry being rewritten stays available meanwhile.

`kb check --stale` (``stale_findings``) lists what a reviewer should look at again.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from bot.core.config import Config
from bot.kb.knowledge import (FaqEntry, KnowledgeBase, KnowledgeError, Law, Statutes, fill_placeholders,
                           read_knowledge, shown_path, today)

MIN_QUESTIONS = 8
# An entry learned from a ticket (it carries ``provenance``) is published with at least this many
# (bot/learning/drafts.py): the villager's own question and the reviewer's rewordings.
MIN_LEARNED_QUESTIONS = 5
FIRST_LINE_MAX = 60
STEP_MAX = 100
MIN_STEPS, MAX_STEPS = 2, 5
ANSWER_MAX = 350               # characters of the filled answer, line breaks not counted
STEP = re.compile(r"^(?P<n>[1-9])\. (?P<text>\S.*)$")
NUMBERED = re.compile(r"^\s*(?:[0-9０-９]+\s*[.、．)）]|[（(][一二三四五六七八九十0-9]+[）)]|[一二三四五六七八九十]+、)")
# The bot adds the hand-over offer itself; an answer must not promise one in its own words.
HANDOVER_WORDS = re.compile(r"转人工|回复\s*[1１]")
DEFAULT_MAX_AGE_DAYS = 365
RULE_FIELDS = {"name": str, "entries": list, "must_cite": list, "must_not_say": list, "must_say": list,
               "why": str}


# --- the answer's shape ---------------------------------------------------------------------

def first_line_errors(line: str) -> list[str]:
    if not line.strip():
        return ["line 1 is empty: it must answer the question (能 / 不能 / 要看情况 …)"]
    errors = [f"line 1 is {len(line)} characters, at most {FIRST_LINE_MAX}"] if len(line) > FIRST_LINE_MAX else []
    return errors + (["line 1 must not be numbered: it answers the question"] if NUMBERED.match(line) else [])


def step_errors(lines: list[str]) -> list[str]:
    """Lines 2… are the steps `1. ` … `5. `, in order, each at most 100 characters."""
    if not MIN_STEPS <= len(lines) <= MAX_STEPS:
        return [f"has {len(lines)} numbered steps after line 1, needs {MIN_STEPS} to {MAX_STEPS}"]
    errors = []
    for number, line in enumerate(lines, start=1):
        match = STEP.match(line)
        if not line.strip():
            errors.append(f"line {number + 1} is blank: no blank lines inside the answer")
        elif not match or int(match["n"]) != number:
            errors.append(f"line {number + 1} must be step '{number}. …' (digit, dot, space), got {line[:12]!r}")
        elif len(match["text"]) > STEP_MAX:
            errors.append(f"step {number} is {len(match['text'])} characters, at most {STEP_MAX}")
    return errors


def shape_errors(entry: FaqEntry, local: Mapping[str, str]) -> list[str]:
    """The answer a phone can read: a first line that answers, then 2–5 numbered steps, ≤ 350."""
    answer = fill_placeholders(entry.answer, local)
    lines = answer.split("\n")
    errors = first_line_errors(lines[0]) + step_errors(lines[1:])
    size = len(answer.replace("\n", ""))
    errors += [f"answer is {size} characters with placeholders filled, at most {ANSWER_MAX}"] if size > ANSWER_MAX else []
    errors += ["answer says 你: address the villager as 您"] if "你" in answer else []
    errors += ["answer promises a hand-over itself (转人工 / 回复1): the bot adds the offer"] \
        if HANDOVER_WORDS.search(answer) else []
    return errors


# --- the review record ----------------------------------------------------------------------

def cited_laws(entry: FaqEntry, statutes: Statutes) -> list[str]:
    laws = [statutes.get(c).law for c in entry.citations if statutes.get(c)]
    return list(dict.fromkeys(laws))


def basis_errors(entry: FaqEntry, statutes: Statutes) -> list[str]:
    """``basis`` names every cited law with the version_date held in statutes/."""
    if not entry.citations:
        return []
    if not entry.basis:
        return ["basis is missing: name each cited law's version_date you checked, "
                "e.g. basis = { \"民法典\" = \"2020-05-28\" }"]
    errors = [f"basis names {law!r}, which knowledge/statutes does not hold"
              for law in entry.basis if law not in statutes.laws]
    for law in cited_laws(entry, statutes):
        held = statutes.laws[law].version_date
        if law not in entry.basis:
            errors.append(f"basis does not name {law} (held: {held})")
        elif entry.basis[law] != held:
            errors.append(f"basis says {law} {entry.basis[law]}, statutes hold {held}: review against the new text")
    return errors


def record_errors(entry: FaqEntry, statutes: Statutes) -> list[str]:
    errors = []
    least = MIN_LEARNED_QUESTIONS if entry.provenance.get("ticket") is not None else MIN_QUESTIONS
    if len(entry.questions) < least:
        errors.append(f"has {len(entry.questions)} questions, needs at least {least} phrasings")
    if entry.citations and not entry.excerpt:
        errors.append("excerpt is missing: copy the sentence(s) of the quoted article the answer rests on")
    if entry.reviewed is None:
        errors.append("reviewed is missing: the date of your legal review (reviewed = 2026-11-30)")
    return errors + basis_errors(entry, statutes)


# --- across entries -------------------------------------------------------------------------

def question_key(question: str) -> str:
    return re.sub(r"[\W_]+", "", question).lower()


def duplicate_question_errors(entries: Iterable[FaqEntry]) -> list[str]:
    """No question asked twice, in one entry or across entries (the matcher could not choose)."""
    errors, seen = [], {}
    for entry in entries:
        place = f"{entry.source} [{entry.id}]"
        for question in entry.questions:
            key = question_key(question)
            if key in seen:
                errors.append(f"{place}: question {question!r} repeats one of {seen[key]}")
            seen.setdefault(key, place)
    return errors


def coverage_errors(kb: KnowledgeBase) -> list[str]:
    """Every scope topic has an entry with its id that cites one of the topic's articles."""
    scope_file = shown_path(kb.directory / "scope.toml", kb.directory)
    errors = []
    for topic in kb.scope:
        entry = kb.by_id.get(topic.id)
        if entry is None:
            errors.append(f"{scope_file} [{topic.id}]: topic {topic.title} has no entry")
        elif not set(entry.citations) & set(topic.articles):
            errors.append(f"{entry.source} [{entry.id}]: topic {topic.title} must cite one of "
                          f"{', '.join(topic.articles)}")
    return errors


# --- the corrections register (knowledge/corrections.toml) ----------------------------------

@dataclass(frozen=True)
class Rule:
    """A fault a legal review found once, written so `kb check` catches it if it comes back."""

    name: str
    entries: tuple[str, ...]       # the ids it applies to; empty: every entry
    must_cite: tuple[str, ...]
    must_not_say: tuple[str, ...]
    must_say: tuple[str, ...]
    why: str


def rule_problems(raw: Mapping[str, Any]) -> list[str]:
    problems = [f"unknown key {k!r}" for k in raw if k not in RULE_FIELDS]
    for key, kind in RULE_FIELDS.items():
        value = raw.get(key, [] if kind is list else None)
        if value is None or not isinstance(value, kind):
            problems.append(f"{key!r} must be {'a list of strings' if kind is list else 'a string'}")
        elif kind is list and not all(isinstance(v, str) and v for v in value):
            problems.append(f"{key!r} must be a list of non-empty strings")
    if not any(raw.get(k) for k in ("must_cite", "must_not_say", "must_say")):
        problems.append("checks nothing: give must_cite, must_not_say or must_say")
    if raw.get("must_cite") and not raw.get("entries"):
        problems.append("must_cite needs entries (which entries must cite it)")
    return problems


def read_rules(directory: Path) -> tuple[list[Rule], list[str]]:
    """The rules of knowledge/corrections.toml and an error line for each malformed one."""
    path = directory / "corrections.toml"
    if not path.exists():
        return [], []
    shown = shown_path(path, directory)
    try:
        raws = tomllib.loads(path.read_text(encoding="utf-8")).get("rule", [])
    except tomllib.TOMLDecodeError as exc:
        return [], [f"{shown}: cannot parse: {exc}"]
    rules, errors = [], []
    for number, raw in enumerate(raws, start=1):
        label = raw.get("name") if isinstance(raw.get("name"), str) else f"rule #{number}"
        problems = rule_problems(raw)
        errors += [f"{shown} [{label}]: {p}" for p in problems]
        if not problems:
            rules.append(Rule(raw["name"], *(tuple(raw.get(k, ())) for k in
                                             ("entries", "must_cite", "must_not_say", "must_say")), raw["why"]))
    return rules, errors


def entry_text(entry: FaqEntry) -> str:
    """What an entry says: its answer, the documents it names and the sentence it quotes."""
    return "\n".join((entry.answer, *entry.other_sources, entry.excerpt or ""))


def rule_violations(rule: Rule, entry: FaqEntry) -> list[str]:
    text = entry_text(entry)
    found = [f"must cite {c}" for c in rule.must_cite if c not in entry.citations]
    found += [f"must not say {s!r}" for s in rule.must_not_say if s in text]
    found += [f"must say {s!r}" for s in rule.must_say if s not in text]
    return [f"{entry.source} [{entry.id}]: correction rule {rule.name!r}: {f} ({rule.why})" for f in found]


def correction_errors(kb: KnowledgeBase, rules: list[Rule], ids: set[str]) -> list[str]:
    """Each rule checked against its entries; a rule naming an entry that does not exist is an error."""
    shown = shown_path(kb.directory / "corrections.toml", kb.directory)
    errors = []
    for rule in rules:
        errors += [f"{shown} [{rule.name}]: entry {i!r} does not exist" for i in rule.entries if i not in ids]
        for entry in (e for e in kb.entries if not rule.entries or e.id in rule.entries):
            errors += rule_violations(rule, entry)
    return errors


# --- kb check -------------------------------------------------------------------------------

def lapsed_gloss_errors(statutes: Statutes) -> list[str]:
    """Glosses of a text that has lapsed on the statutes' day: the load keeps them (law search
    leaves lapsed articles out, and a search aid must not stop the bot), but they are written for
    articles nobody can cite any more, and a newer text may reuse their numbers for other rules."""
    return [f"{gloss.source} [{gloss.citation}]: glosses a law not in force{statutes.lapse_words(gloss.citation)}: "
            f"rewrite it for the text in force" for gloss in statutes.glosses if statutes.lapse_words(gloss.citation)]


def editorial_errors(kb: KnowledgeBase, config: Config) -> list[str]:
    """Shape and review record of each entry that passed the load checks, then cross-entry rules."""
    errors = []
    for entry in (e for e in kb.entries if e.id not in kb.rejected):
        place = f"{entry.source} [{entry.id}]"
        problems = shape_errors(entry, config.local) + record_errors(entry, kb.statutes)
        errors += [f"{place}: {p}" for p in problems]
    rules, rule_errors = read_rules(kb.directory)
    errors += rule_errors + correction_errors(kb, rules, {e.id for e in kb.entries})
    return errors + duplicate_question_errors(kb.entries) + coverage_errors(kb) + lapsed_gloss_errors(kb.statutes)


@dataclass(frozen=True)
class CheckResult:
    load: list[str]         # the entry is never served (bot/kb/knowledge.py's checks)
    editorial: list[str]    # served, but not yet as the knowledge base's rules want it

    @property
    def errors(self) -> list[str]:
        return self.load + self.editorial


def run_check(config: Config, directory: str | Path | None = None,
              extra: Iterable[FaqEntry] = (), day: dt.date | None = None) -> CheckResult:
    """Both kinds of check over the files' entries and ``extra`` ones (published in the database),
    judging what is in force on ``day`` (None: today, township time)."""
    try:
        kb = read_knowledge(config, directory, extra, day)
    except KnowledgeError as broken:   # the statutes' own files: nothing can be checked against them
        return CheckResult(broken.errors, [])
    if not (kb.directory / "statutes").is_dir() or not kb.statutes.articles:
        return CheckResult([f"{kb.directory / 'statutes'}: no statutes found"], [])
    return CheckResult(kb.errors, editorial_errors(kb, config))


# --- kb check --stale -----------------------------------------------------------------------

def changed_law_findings(entry: FaqEntry, statutes: Statutes) -> list[str]:
    """Cited laws whose text changed since the review (or that the review did not record)."""
    out = []
    for law in cited_laws(entry, statutes):
        held, reviewed = statutes.laws[law].version_date, entry.basis.get(law)
        if reviewed != held:
            out.append(f"cites {law}, now the {held} text; reviewed against {reviewed or 'no recorded text'}")
    return out


def touched_by(entry: FaqEntry, statutes: Statutes, affects: Mapping[str, Any]) -> list[str]:
    """The cited articles in a chapter an upcoming law reshapes, and its words the entry uses."""
    chapters = affects.get("chapters", {})
    articles = [statutes.get(c) for c in entry.citations]
    touched = [a.citation for a in articles if a and a.chapter in chapters.get(a.law, ())]
    words = " ".join((*entry.questions, *entry.keywords, entry.answer))
    return touched + [w for w in affects.get("keywords", ()) if w in words]


def upcoming_law_findings(entry: FaqEntry, statutes: Statutes, day: dt.date) -> list[str]:
    """Laws adopted but not yet in force that will change what this entry says."""
    out = []
    for law in (law for law in statutes.laws.values() if law.in_force and law.starts_after(day)):
        touched = touched_by(entry, statutes, law.provenance.get("affects", {}))
        if touched:
            out.append(f"{law.law} takes effect {law.effective_date} and touches it "
                       f"({', '.join(dict.fromkeys(touched))}): review before then")
    return out


def lapsing(statutes: Statutes, day: dt.date) -> dict[str, Law]:
    """The laws whose held text applies on ``day`` but has a last day (a revision replaces it)."""
    return {name: law for name, law in statutes.laws.items() if law.in_force_until and law.in_force_on(day)}


def lapse_warning(law: Law) -> str:
    return (f"{law.law}, whose {law.version_date} text is in force only until {law.in_force_until}; the text "
            f"replacing it is not held: import it and review before then (articles may be renumbered)")


def lapsing_law_findings(entry: FaqEntry, statutes: Statutes, day: dt.date) -> list[str]:
    """Cited laws whose held text lapses after a known day: from then on the citation is an error."""
    ending = lapsing(statutes, day)
    return [f"cites {lapse_warning(ending[law])}" for law in cited_laws(entry, statutes) if law in ending]


def lapsing_gloss_findings(statutes: Statutes, day: dt.date) -> list[str]:
    """One line per gloss file and lapsing law: its glosses must be rewritten for the new text."""
    ending = lapsing(statutes, day)
    counts: dict[tuple[str, str], int] = {}
    for gloss in statutes.glosses:
        article = statutes.get(gloss.citation)
        if article is not None and article.law in ending:
            counts[(gloss.source, article.law)] = counts.get((gloss.source, article.law), 0) + 1
    return [f"{source}: {n} gloss(es) cite {lapse_warning(ending[law])}" for (source, law), n in counts.items()]


def stale_findings(kb: KnowledgeBase, day: dt.date | None = None,
                   max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> list[str]:
    """What a reviewer should look at again on ``day``, one line per entry and reason, then one per
    gloss file citing a text that will lapse."""
    day = day or today()
    out = []
    for entry in kb.entries:
        place = f"{entry.source} [{entry.id}]"
        found = changed_law_findings(entry, kb.statutes) + upcoming_law_findings(entry, kb.statutes, day)
        found += lapsing_law_findings(entry, kb.statutes, day)
        if entry.reviewed is None or (day - entry.reviewed).days > max_age_days:
            found.append(f"last reviewed {entry.reviewed or 'never'}, more than {max_age_days} days ago")
        out += [f"{place}: {f}" for f in found]
    return out + lapsing_gloss_findings(kb.statutes, day)
