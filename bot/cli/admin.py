"""Administration: check-config, purge, backup."""
from __future__ import annotations

import dataclasses
import sys

import click

from bot.cli.common import make_services, print_json
from bot.core.config import ConfigError
from bot.core.configcheck import Finding, check_config
from bot.core.privacy import backup, parse_age, purge
from bot.core.store import now


@click.command("check-config")
@click.option("--json", "as_json", is_flag=True, help="One JSON list of findings.")
def check_config_command(as_json: bool) -> None:
    """Say what is missing or weak in the configuration and the environment."""
    try:
        findings = check_config(make_services().config)
    except ConfigError as exc:      # e.g. LEGALBOT_ENV=Production: the config does not even load
        findings = [Finding("error", "config", str(exc))]
    if as_json:
        print_json([dataclasses.asdict(f) for f in findings])
    else:
        for f in findings:
            click.echo(f"{f.level}: {f.setting}: {f.message}")
        click.echo("配置检查通过" if not findings else f"{len(findings)} 项需要处理")
    sys.exit(1 if any(f.level == "error" for f in findings) else 0)


@click.command("purge")
@click.option("--older-than", "older_than", default=None, help="An age like 3y, 18m, 90d.")
@click.option("--json", "as_json", is_flag=True)
def purge_command(older_than: str | None, as_json: bool) -> None:
    """Delete message text older than the retention period; the counts stay."""
    services = make_services()
    age = parse_age(older_than or services.config.privacy.retention)
    db = services.open_db()
    counts = purge(db, age, now())
    if as_json:
        print_json(counts)
    else:
        click.echo("已清除文字：" + "，".join(f"{t} {n} 条" for t, n in counts.items()))


@click.command("backup")
@click.argument("out_path", type=click.Path(dir_okay=False))
def backup_command(out_path: str) -> None:
    """Copy the database with SQLite's online backup (safe while serving)."""
    path = backup(make_services().open_db(), out_path)
    click.echo(f"备份完成：{path}")


def register(main: click.Group) -> None:
    for command in (check_config_command, purge_command, backup_command):
        main.add_command(command)
