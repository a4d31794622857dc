"""`legalbot chat`: talk to the bot in a terminal, as a villager would.

Each line goes through the same path as a WeChat message (``bot.conversation.pipeline.answer_once``:
the handler registry, dedupe, records, "更多", adviser answers waiting), recorded with channel
"cli". A quit word (退出, exit, quit, q) ends the chat and is not sent: it is not a question.
"""
from __future__ import annotations

import sys
import time
import uuid
import xml.etree.ElementTree as ET

import click

from bot.core import users
from bot.cli.common import make_services
from bot.conversation.dispatch import Incoming
from bot.conversation.pipeline import answer_once

QUIT = {"退出", "exit", "quit", "q", "/quit", "/exit", "/q"}
HINT = "（输入“退出”或按 Ctrl-D 结束）"


def is_quit(line: str) -> bool:
    return line.strip().lower() in QUIT


def reply_text(reply_xml: str) -> str:
    """The text a villager would see; WeChat shows nothing for an empty reply."""
    if not reply_xml:
        return "（没有回复）"
    return ET.fromstring(reply_xml).findtext("Content") or ""


def chat_turn(services, db, openid: str, text: str) -> str:
    """Send one line as a text message from ``openid``; return the bot's reply text."""
    incoming = Incoming(openid=openid, msg_type="text", text=text.strip(), channel="cli",
                        msg_id=f"cli-{uuid.uuid4().hex}", create_time=int(time.time()))
    return reply_text(answer_once(services, db, incoming, time.monotonic()))


def welcome(services, db, openid: str) -> str:
    """What a new follower sees: the subscribe event, through the same handlers."""
    incoming = Incoming(openid=openid, msg_type="event", event="subscribe", channel="cli",
                        create_time=int(time.time()), msg_id=uuid.uuid4().hex)
    return reply_text(answer_once(services, db, incoming, time.monotonic()))


def read_line() -> str | None:
    """The villager's next line; echoed when piped in, so a transcript reads as a dialogue."""
    try:
        line = input("您：")
    except EOFError:
        return None
    if not sys.stdin.isatty():
        click.echo(line)
    return line


@click.command("chat")
@click.option("--openid", default="cli-villager", show_default=True,
              help="Who you are to the bot (each openid has its own village, pending choices, 更多).")
@click.option("--village", default=None, help="Pretend this villager lives in VILLAGE (e.g. 古坡村).")
def chat_command(openid: str, village: str | None) -> None:
    """Talk to the bot in the terminal, as a villager would. 退出 (exit, quit, q) or Ctrl-D ends."""
    services = make_services()
    db = services.open_db()
    if village:
        users.set_village(db, openid, village, time.time())
    click.echo(HINT)
    click.echo("机器人：" + welcome(services, db, openid) + "\n")
    while (line := read_line()) is not None and not is_quit(line):
        click.echo("机器人：" + chat_turn(services, db, openid, line) + "\n")
    click.echo("再见。")
    db.conn.close()


def register(main: click.Group) -> None:
    main.add_command(chat_command)
