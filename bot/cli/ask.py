"""`legalbot ask [--json] [QUESTION]`: what the bot would decide and say, from the command line.

With no QUESTION, one question per line is read from stdin (the evaluation drives it this way).
It uses the same matcher and reply text as the web app, but opens no tickets.
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


def decide_with_reply(services, question: str):
    """The matcher's decision with the villager's reply text filled in."""
    from bot.matcher import reply_for
    decision = services.matcher.decide(question)
    decision.reply = reply_for(decision, services.knowledge, services.config, services.matcher.triggers)
    return decision


def show(decision) -> None:
    """Human-readable: the action, what it points at, then the reply."""
    target = decision.faq_id or ", ".join(c["faq_id"] for c in decision.candidates) or decision.reason
    click.echo(f"[{decision.action} {decision.score:.2f}] {target}")
    click.echo(decision.reply)
    click.echo("")


@click.command("ask")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@click.argument("question", required=False)
def ask(as_json: bool, question: str | None) -> None:
    """Ask one QUESTION, or one per line on stdin."""
    services = make_services()
    for text in questions_from(question, sys.stdin if question is None else ()):
        decision = decide_with_reply(services, text)
        print_json(decision.as_json()) if as_json else show(decision)


def register(main: click.Group) -> None:
    main.add_command(ask)
