"""`legalbot adviser add | list | bind-code NAME`: the village advisers and their WeChat binding."""
from __future__ import annotations

import time

import click

from bot.escalation import advisers as adv
from bot.cli.common import make_services, print_json


def open_synced_db():
    services = make_services()
    db = services.open_db()
    adv.ensure_advisers(db, services.config, time.time())
    return services, db


@click.group("adviser")
def adviser_group() -> None:
    """Village legal advisers: add, list, and binding codes for their WeChat."""


@adviser_group.command("add")
@click.argument("name")
@click.option("--phone", default="", help="The adviser's phone number.")
@click.option("--village", "villages", multiple=True, help="A village they cover (repeatable).")
@click.option("--backup", is_flag=True, help="The backup (司法所), who covers every village.")
def add_command(name: str, phone: str, villages: tuple[str, ...], backup: bool) -> None:
    """Add an adviser (or update the one with this name)."""
    services, db = open_synced_db()
    unknown = [v for v in villages if services.config.village(v) is None]
    if unknown:
        raise click.UsageError(f"not a configured village: {', '.join(unknown)}")
    adviser = adv.add_adviser(db, name, phone, list(villages), time.time(), is_backup=backup)
    click.echo(f"adviser {adviser.name} (#{adviser.id}) covers "
               f"{'every village' if adviser.is_backup else ', '.join(adviser.villages) or 'no village'}")


@adviser_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per adviser.")
def list_command(as_json: bool) -> None:
    """The advisers, their villages, and whether their WeChat is bound."""
    _, db = open_synced_db()
    for adviser in adv.list_advisers(db):
        if as_json:
            print_json(adviser.as_json())
        else:
            where = "全部村（后备）" if adviser.is_backup else "、".join(adviser.villages) or "-"
            bound = "已绑定微信" if adviser.openid else "未绑定"
            click.echo(f"{adviser.id}\t{adviser.name}\t{adviser.phone or '-'}\t{where}\t{bound}")


@adviser_group.command("bind-code")
@click.argument("name")
def bind_code_command(name: str) -> None:
    """A one-time code the adviser sends to the account ("绑定 12345678") to link their WeChat."""
    services, db = open_synced_db()
    binding = services.config.binding
    try:
        code = adv.new_bind_code(db, name, time.time(), binding.code_ttl_minutes, binding.code_digits)
    except adv.BindingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{code}\n{name}: send “绑定 {code}” to the official account within "
               f"{binding.code_ttl_minutes:g} minutes; it works once.")


def register(main: click.Group) -> None:
    main.add_command(adviser_group)
