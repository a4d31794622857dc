"""`legalbot kb check` and `legalbot kb dump --json`: the knowledge base from the command line."""
from __future__ import annotations

import sys

import click

from bot.cli.common import print_json
from bot.core.config import load_config
from bot.kb.kbcheck import DEFAULT_MAX_AGE_DAYS, run_check, stale_findings
from bot.kb.knowledge import FaqEntry, read_knowledge


def entry_json(entry: FaqEntry) -> dict:
    """An entry as DESIGN.md's `kb dump --json` shape, plus what an adviser reviews it by."""
    return {"id": entry.id, "category": entry.category, "questions": list(entry.questions),
            "citations": list(entry.citations), "answer": entry.answer,
            "quote": entry.quote, "excerpt": entry.excerpt, "role": entry.role,
            "other_sources": list(entry.other_sources), "needs_person": entry.needs_person,
            "reviewed": entry.reviewed.isoformat() if entry.reviewed else None, "basis": dict(entry.basis)}


@click.group("kb")
def kb() -> None:
    """The knowledge base: validate it, print it."""


@kb.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Knowledge directory (default: [app] knowledge_dir).")
@click.option("--stale", is_flag=True,
              help="List entries to review again (cited law changed, review too old, a law taking effect).")
@click.option("--max-age-days", type=click.IntRange(1), default=DEFAULT_MAX_AGE_DAYS, show_default=True,
              help="With --stale: a review older than this is listed.")
@click.option("--today", "on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge as of this date: which laws are in force, and with --stale what to review "
                   "(default: today, township time).")
@click.option("--strict", is_flag=True, help="With --stale: exit 1 when anything is listed (for CI).")
def check(directory: str | None, stale: bool, max_age_days: int, on, strict: bool) -> None:
    """Validate everything; one line per error naming file and entry; exit 1 on any error.

    Errors marked by the summary as "never served" are the load-time checks (the app drops or
    refuses such an entry); the others are the editorial rules (shape, phrasings, review record,
    corrections register, scope). With --stale: a review list instead, exit 0 unless --strict.
    """
    config = load_config()
    day = on.date() if on else None
    if stale:
        report_stale(config, directory, day, max_age_days, strict)
        return
    from bot.cli.learning import published_for_check
    published = published_for_check(config, directory)
    result = run_check(config, directory, published, day)
    for error in result.errors:
        click.echo(error)
    if result.errors:
        click.echo(f"kb check: {len(result.errors)} error(s): {len(result.load)} keep an entry from being "
                   f"served, {len(result.editorial)} editorial", err=True)
        sys.exit(1)
    kb = read_knowledge(config, directory, published, day)
    from_db = sum(1 for e in kb.entries if e.provenance and e.source.startswith("db:"))
    click.echo(f"kb check: OK — {len(kb.entries)} entries ({from_db} published from the console), "
               f"{len(kb.scope)} scope topics covered, "
               f"{len(kb.statutes.articles)} articles in {len(kb.statutes.laws)} laws")


def report_stale(config, directory: str | None, on, max_age_days: int, strict: bool) -> None:
    findings = stale_findings(read_knowledge(config, directory), on, max_age_days)
    for line in findings:
        click.echo(line)
    click.echo(f"kb check --stale: {len(findings)} to review", err=True)
    if strict and findings:
        sys.exit(1)


@kb.command("dump")
@click.option("--json", "as_json", is_flag=True, help="One JSON list of entries.")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None)
def dump(as_json: bool, directory: str | None) -> None:
    """Print the entries (even when some have errors: `kb check` reports those)."""
    entries = read_knowledge(load_config(), directory).entries
    if as_json:
        print_json([entry_json(e) for e in entries])
        return
    for entry in entries:
        click.echo(f"{entry.id}\t{entry.category}\t{entry.questions[0]}\t{' '.join(entry.citations)}")


def register(main: click.Group) -> None:
    main.add_command(kb)
