"""`legalbot kb check` and `legalbot kb dump --json`: the knowledge base from the command line."""
from __future__ import annotations

import sys

import click

from bot.cli.common import print_json
from bot.config import load_config
from bot.knowledge import FaqEntry, check_knowledge, read_knowledge


def entry_json(entry: FaqEntry) -> dict:
    """An entry as DESIGN.md's `kb dump --json` shape."""
    return {"id": entry.id, "category": entry.category, "questions": list(entry.questions),
            "citations": list(entry.citations), "answer": entry.answer}


@click.group("kb")
def kb() -> None:
    """The knowledge base: validate it, print it."""


@kb.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Knowledge directory (default: [app] knowledge_dir).")
def check(directory: str | None) -> None:
    """Validate everything; one line per error naming file and entry; exit 1 on any error."""
    config = load_config()
    errors = check_knowledge(config, directory)
    for error in errors:
        click.echo(error)
    if errors:
        click.echo(f"kb check: {len(errors)} error(s)", err=True)
        sys.exit(1)
    kb = read_knowledge(config, directory)
    click.echo(f"kb check: OK — {len(kb.entries)} entries, {len(kb.scope)} scope topics covered, "
               f"{len(kb.statutes.articles)} articles in {len(kb.statutes.laws)} laws")


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
