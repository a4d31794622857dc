"""`legalbot stats --mediation`, `legalbot mediation list`, `legalbot publicity days`.

Thin over bot/reporting/mediation_stats.py, bot/community/mediation.py and bot/community/publicity.py; the console and the
report count with the same functions. (Mediators bind their WeChat like advisers:
`legalbot adviser bind-code NAME`.)
"""
from __future__ import annotations

import sys
import time
from typing import Any

import click

from bot.cli.common import make_services, print_json
from bot.reporting.stats import Period


def show_mediation_stats(period: Period, include_test: bool, as_json: bool) -> None:
    """`legalbot stats --mediation [--json]`."""
    from bot.reporting.mediation_stats import mediation_stats, summary_text
    services = make_services()
    result = mediation_stats(services.open_db(), period, services.config.village_names,
                             include_test=include_test)
    if as_json:
        print_json(result)
        return
    span = f"{period.since or '最早'} 至 {period.until or '今'}"
    click.echo(f"调解台账，期间：{span}" + ("（含测试）" if include_test else ""))
    click.echo("\n".join(summary_text(result)))


def extra_sheets(period: Period, include_test: bool) -> list[dict[str, Any]]:
    """The ledger workbook's 调解台账 and 普法活动 sheets."""
    from bot.reporting.register_report import ledger_sheets
    services = make_services()
    config = services.config
    return ledger_sheets(services.open_db(), period, include_test, config.village_names, config.publicity.days)


@click.group("mediation")
def mediation_group() -> None:
    """The 调解台账: cases of the villages' 人民调解委员会."""


@mediation_group.command("list")
@click.option("--village", help="Only this village's cases.")
@click.option("--open", "only_open", is_flag=True, help="Only cases still being mediated.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per case (parties masked).")
def list_command(village: str | None, only_open: bool, as_json: bool) -> None:
    """The cases, newest first; the parties' names and phones are masked."""
    from bot.community import mediation
    db = make_services().open_db()
    cases = mediation.list_cases(db, villages=[village] if village else None,
                                 statuses=mediation.ACTIVE if only_open else None)
    for case in cases:
        parties = "；".join(p.label() for p in case.masked_parties())
        if as_json:
            print_json({"id": case.id, "village": case.village, "kind": case.kind, "status": case.status,
                        "found_via": case.found_via, "sessions": case.sessions, "mediator": case.mediator,
                        "agreement": case.agreement, "judicial_confirmation": case.judicial_confirmation,
                        "parties": parties})
        else:
            click.echo(f"调解#{case.id}\t{case.village}\t{case.kind_label}\t{case.source_label}\t"
                       f"{case.status_label}\t{case.sessions}次\t{parties}")


@click.group("publicity")
def publicity_group() -> None:
    """The 普法日历 (config [publicity])."""


@publicity_group.command("days")
@click.option("--json", "as_json", is_flag=True, help="The coming days as JSON.")
def days_command(as_json: bool) -> None:
    """The coming publicity days, and whether every FAQ entry they name exists (exit 1 if not)."""
    from bot.community import publicity
    services = make_services()
    settings = services.config.publicity
    problems = publicity.check_entries(settings, services.knowledge.by_id)
    today = publicity.township_today(time.time())
    coming = publicity.upcoming(settings, today, count=len(settings.days))
    if as_json:
        print_json({"today": today.isoformat(), "problems": problems,
                    "days": [{"name": o.day.name, "first": o.first.isoformat(), "last": o.last.isoformat(),
                              "label": o.day.menu_label, "entries": list(o.day.entries)} for o in coming]})
    else:
        for occasion in coming:
            click.echo(f"{occasion.first} {publicity.when_text(occasion)} {occasion.day.name}"
                       f"（菜单：{occasion.day.menu_label}）")
        for problem in problems:
            click.echo(problem, err=True)
    if problems:
        sys.exit(1)


def register(main: click.Group) -> None:
    main.add_command(mediation_group)
    main.add_command(publicity_group)
