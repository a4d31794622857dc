"""`legalbot kb export-drafts DIR` and `legalbot stats --gaps`: the learned entries and the gaps
from the command line, thin over bot/learning/drafts.py and bot/learning/gaps.py."""
from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import make_services, print_json
from bot.core.config import Config, load_config, resolve_db_path
from bot.reporting.stats import Period

EXPORT_FILE = "learned.toml"


def published_for_check(config: Config, directory: str | None = None) -> list:
    """The entries published in the database, for `kb check` to check beside the files'."""
    from bot.learning.drafts import read_published
    from bot.kb.knowledge import KnowledgeError, knowledge_dir, load_statutes
    statutes = knowledge_dir(config, directory) / "statutes"
    try:
        return read_published(resolve_db_path(config), load_statutes(str(statutes)))[1] if statutes.is_dir() else []
    except KnowledgeError:   # the statutes cannot be read: `kb check` reports why
        return []


@click.command("export-drafts")
@click.argument("directory", type=click.Path(file_okay=False))
def export_drafts(directory: str) -> None:
    """Write the entries published in the console to DIRECTORY/learned.toml, in the knowledge/faq
    format, to be committed into knowledge/faq/ and reviewed as code (`kb check` reads them back)."""
    from bot.learning.drafts import export_toml
    entries = published_for_check(load_config())
    out = Path(directory) / EXPORT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(export_toml(entries), encoding="utf-8")
    click.echo(f"已写入 {out}：{len(entries)} 条已发布的常见问题", err=True)


def show_gaps(period: Period, include_test: bool, as_json: bool) -> None:
    """`stats --gaps`: the questions the bot could not answer, grouped, most frequent first."""
    from bot.learning import gaps
    from bot.learning.drafts import keep_names
    services = make_services()
    db = services.open_db()
    words = services.lexicons.dictionaries
    found = gaps.group(gaps.unanswered(db, period, include_test), words)
    groups = gaps.gaps_json(found, keep_names(services.config), words, gaps.answering_entry(services))
    if as_json:
        print_json({**period.as_json(), "questions": sum(g.count for g in found), "groups": groups})
        return
    click.echo(f"答不上来的问题：{sum(g.count for g in found)} 次，{len(found)} 类（问得多的在前）")
    for n, group in enumerate(groups, start=1):
        now = f"（现在已能答复：{group['answered_now_by']}）" if group["answered_now_by"] else ""
        click.echo(f"{n:>3}. {group['count']:>4} 次  {group['category'] or '未分类'}  {group['question']}{now}")
        for example in group["examples"]:
            click.echo(f"{'':>15}也有人问：{example}")


def register(main: click.Group) -> None:
    from bot.cli.kb import kb
    kb.add_command(export_drafts)
