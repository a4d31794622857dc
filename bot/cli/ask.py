"""`legalbot ask [--json] [QUESTION]`: what the bot would do with a message, from the command line.

Each question is a dry run of the webhook's own path (bot.conversation.pipeline.DryRun): the same handler
chain — urgent words, 转人工, commands such as 查法条, menu numbers, the FAQ and the escalation
rules — for a user never seen before, recorded only in a throwaway in-memory database. The real
database is not opened. With no QUESTION, one question per line is read from stdin (the
evaluation drives it this way); `--json` prints DESIGN.md's object per line.
"""
from __future__ import annotations

import sys
from typing import Iterable, Iterator

import click

from bot.cli.common import make_services, print_json


def questions_from(question: str | None, stream: Iterable[str]) -> Iterator[str]:
    """The one QUESTION given, else every line of the stream (blank lines are questions too)."""
    if question is not None:
        yield question
        return
    for line in stream:
        yield line.rstrip("\r\n")


def show(result: dict) -> None:
    """Human-readable: the action, what it points at, then the reply."""
    target = result["faq_id"] or ", ".join(c["faq_id"] for c in result["candidates"]) or result["reason"]
    click.echo(f"[{result['action']} {result['score']:.2f}] {target}")
    click.echo(result["reply"])
    click.echo("")


@click.command("ask")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@click.argument("question", required=False)
def ask(as_json: bool, question: str | None) -> None:
    """Ask one QUESTION, or one per line on stdin (a dry run: nothing is recorded)."""
    from bot.conversation.pipeline import DryRun
    dry_run = DryRun(make_services().warm())
    try:
        for text in questions_from(question, sys.stdin if question is None else ()):
            result = dry_run.ask(text)
            print_json(result) if as_json else show(result)
    finally:
        dry_run.close()


def register(main: click.Group) -> None:
    main.add_command(ask)
