"""`legalbot stats`, `legalbot export`, `legalbot report`: the counts staff report, from the records.

Thin over ``bot.reporting.stats``, ``bot.reporting.export`` and ``bot.reporting.report``: the web console calls the same
functions, so the command line and the dashboard never disagree.
"""
from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import click

from bot.cli.common import make_services, print_json
from bot.reporting.stats import ACTION_LABELS, GROUPINGS, Period, compute_stats, parse_day

INCLUDE_TEST_HELP = ("Also count test traffic (the simulator, `legalbot chat`, advisers' and "
                     "staff's own messages), left out by default.")


def day_option(ctx, param, value: str | None) -> date | None:
    try:
        return parse_day(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def open_db():
    return make_services().open_db()


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def summary_text(s: dict[str, Any]) -> list[str]:
    actions = " · ".join(f"{ACTION_LABELS.get(k, k)} {v}" for k, v in s["by_action"].items()) or "无"
    return [
        f"记录 {s['total']} 次（法律咨询 {s['consultations']} 次），{s['people']} 人",
        f"  按处理方式：{actions}",
        f"  智能答复 {s['answered_by_bot']}，追问 {s['clarified']}，转法律顾问 {s['tickets']}"
        f"（紧急 {s['urgent']}），顾问已答复 {s['answered_by_adviser']}，办结率 {percent(s['completion_rate'])}",
        f"  从提问到答复送达：中位数 {hours(s['median_hours_to_answer'])} 小时，"
        f"90% 在 {hours(s['p90_hours_to_answer'])} 小时内",
    ]


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cell(value: Any, width: int, left: bool = False) -> str:
    text = str(value)
    gap = " " * max(0, width - display_width(text))
    return text + gap if left else gap + text


GROUP_COLUMNS = (("记录", "total"), ("人数", "people"), ("智能答复", "answered_by_bot"),
                 ("转顾问", "tickets"), ("已答复", "answered_by_adviser"))


def group_table(groups: dict[str, dict[str, Any]]) -> list[str]:
    lines = [cell("分组", 18, left=True) + "".join(cell(t, 10) for t, _ in GROUP_COLUMNS)
             + cell("中位小时", 10)]
    for key, g in groups.items():
        lines.append(cell(ACTION_LABELS.get(key, key), 18, left=True) + "".join(cell(g[k], 10) for _, k in GROUP_COLUMNS)
                     + cell(hours(g["median_hours_to_answer"]), 10))
    return lines


@click.command()
@click.option("--since", callback=day_option, help="First day, YYYY-MM-DD (included).")
@click.option("--until", callback=day_option, help="Last day, YYYY-MM-DD (included).")
@click.option("--by", type=click.Choice(GROUPINGS), help="Figures per month, village, category or action.")
@click.option("--include-test", is_flag=True, help=INCLUDE_TEST_HELP)
@click.option("--mediation", is_flag=True, help="The 调解台账 instead: found / mediated / succeeded / "
              "success rate, by kind and by village.")
@click.option("--gaps", is_flag=True, help="The questions the bot could not answer, grouped by "
              "wording, most frequent first (masked text).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def stats(since: date | None, until: date | None, by: str | None, include_test: bool, gaps: bool,
          mediation: bool, as_json: bool) -> None:
    """Counts of consultations and people, answered by bot or adviser, answer times."""
    if gaps:
        from bot.cli.learning import show_gaps
        return show_gaps(Period(since, until), include_test, as_json)
    if mediation:
        from bot.cli.mediation import show_mediation_stats
        return show_mediation_stats(Period(since, until), include_test, as_json)
    result = compute_stats(open_db(), Period(since, until), by, include_test=include_test)
    if as_json:
        print_json(result)
        return
    span = f"{since or '最早'} 至 {until or '今'}"
    click.echo(f"期间：{span}" + ("（含测试消息）" if include_test else ""))
    click.echo("\n".join(summary_text(result)))
    if by:
        click.echo("")
        click.echo("\n".join(group_table(result["groups"])))


@click.command()
@click.option("--since", callback=day_option, required=True, help="First day, YYYY-MM-DD.")
@click.option("--until", callback=day_option, required=True, help="Last day, YYYY-MM-DD.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None,
              help="Default: from OUT's extension, else xlsx.")
@click.option("--include-test", is_flag=True, help=INCLUDE_TEST_HELP)
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def export(since: date, until: date, fmt: str | None, include_test: bool, out: str) -> None:
    """Write the consultation ledger (法律咨询台账) to OUT (.xlsx, or .csv with --format csv).

    OUT's folder is created if missing (out/ is ignored by git: `legalbot export … out/台账.xlsx`)."""
    from bot.reporting.export import export_ledger
    if since > until:
        raise click.BadParameter("--since 不能晚于 --until")
    fmt = fmt or ("csv" if out.lower().endswith(".csv") else "xlsx")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    from bot.cli.mediation import extra_sheets
    count = export_ledger(open_db(), Period(since, until), out, fmt, include_test=include_test,
                          extra_sheets=extra_sheets(Period(since, until), include_test))
    click.echo(f"已写入 {out}：{count} 条咨询记录（{since} 至 {until}）", err=True)


@click.command()
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="The report's year.")
@click.option("--charts", "charts_dir", type=click.Path(file_okay=False),
              help="Also write PNG charts (monthly trend, categories) into this folder.")
@click.option("--include-test", is_flag=True, help=INCLUDE_TEST_HELP)
@click.option("--json", "as_json", is_flag=True, help="The paragraph and its figures as JSON.")
def report(year: int, charts_dir: str | None, include_test: bool, as_json: bool) -> None:
    """The paragraph for the annual rule-of-law report, with the figures behind it."""
    from bot.reporting.report import NO_CJK_FONT, build_report, cjk_font, draw_charts
    from bot.reporting.register_report import draw_chart, paragraphs
    result = build_report(open_db(), year, include_test=include_test)
    if charts_dir:
        result["charts"] = [str(p) for p in draw_charts(result, charts_dir)]
        if result["mediation"]["found"]:     # a chart of the year's cases, when there are any
            result["mediation"]["chart"] = str(draw_chart(result, charts_dir))
        result["chart_font"] = cjk_font()
        if result["chart_font"] is None:
            click.echo(NO_CJK_FONT, err=True)
    if as_json:
        print_json(result)
        return
    click.echo("\n".join([result["text"], *paragraphs(result)]))
    for path in [*result.get("charts", []), *filter(None, [result["mediation"].get("chart")])]:
        click.echo(f"图表：{path}", err=True)


def register(main: click.Group) -> None:
    main.add_command(stats)
    main.add_command(export)
    main.add_command(report)
