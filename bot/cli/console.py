"""`legalbot console add-user`: accounts for the web console (staff and village advisers).

The password is typed at a prompt (or read from stdin with --password-stdin, for scripts), never
given as an argument, so it does not end up in the shell history or the process list.
"""
from __future__ import annotations

import sys
import time

import click

from bot.cli.common import make_services, print_json


@click.group()
def console() -> None:
    """Web console accounts."""


@console.command("add-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["staff", "adviser"]), required=True,
              help="staff see everything; an adviser sees only their villages.")
@click.option("--adviser", "adviser_name", help="For --role adviser: the adviser's name (legalbot adviser list).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def add_user(username: str, role: str, adviser_name: str | None, password_stdin: bool) -> None:
    """Create an account (or reset its password and role)."""
    from bot.escalation.advisers import ensure_advisers
    from bot.app.console.auth import AccountError, add_user as create
    services = make_services()
    db = services.open_db()
    ensure_advisers(db, services.config, time.time())
    password = read_password(password_stdin)
    try:
        user = create(db, username, password, role, time.time(), adviser_name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    who = f"，法律顾问 {user.adviser.name}" if user.adviser else ""
    click.echo(f"已保存账号 {user.username}（{user.role}{who}）", err=True)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt="再输一次")


@console.command("list-users")
@click.option("--json", "as_json", is_flag=True)
def list_users(as_json: bool) -> None:
    """The console accounts (no passwords)."""
    db = make_services().open_db()
    rows = list(db.query("SELECT u.username, u.role, a.name AS adviser FROM console_users u "
                         "LEFT JOIN advisers a ON a.id = u.adviser_id ORDER BY u.id"))
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['username']}\t{row['role']}\t{row['adviser'] or ''}")


def register(main: click.Group) -> None:
    main.add_command(console)
