"""`legalbot law show` and `legalbot law search`: the statutes from the command line."""
from __future__ import annotations

import sys
import time
from typing import Iterator

import click

from bot.cli.common import print_json
from bot.retrieval import lawsearch
from bot.core.config import PROJECT_ROOT, load_config
from bot.core.text import Dictionaries, dictionaries_in
from bot.kb.knowledge import KnowledgeBase, format_article, knowledge_dir, load_knowledge
from bot.retrieval.lawsearch import LawHit, LawIndex

SNIPPET_CHARS = 60


@click.group("law")
def law() -> None:
    """The statutes: show an article verbatim, search articles by a question."""


def knowledge() -> KnowledgeBase:
    """The knowledge base, leniently: a broken FAQ entry (see `kb check`) must not hide the law."""
    return load_knowledge(load_config(), strict=False)


def dictionaries() -> Dictionaries:
    """The configured knowledge directory's words (its dict/, lawterms.toml included)."""
    return dictionaries_in(knowledge_dir(load_config()) / "dict")


@law.command("show")
@click.argument("citation", nargs=-1, required=True)
def show(citation: tuple[str, ...]) -> None:
    """Print an article verbatim: 民法典第1079条, 民法典1079, 《民法典》第一千零七十九条."""
    statutes = knowledge().statutes
    wanted = " ".join(citation)
    article = statutes.get(wanted)
    if article is None:
        named = statutes.cite(wanted)
        reason = f"{named} is not in knowledge/statutes" if named else "not a citation (try 民法典第1079条)"
        click.echo(f"{wanted}: {reason}", err=True)
        sys.exit(1)
    click.echo(format_article(article, statutes.law_of(article)))


def queries(args: tuple[str, ...]) -> Iterator[str]:
    """The question on the command line, or one question a line on stdin."""
    if args:
        yield " ".join(args)
        return
    for line in sys.stdin:
        if line.strip():
            yield line.strip()


def hit_line(rank: int, hit: LawHit) -> str:
    snippet = hit.text.replace("\n", " ")
    snippet = snippet if len(snippet) <= SNIPPET_CHARS else snippet[:SNIPPET_CHARS] + "…"
    return f"{rank}. {hit.citation}  ({hit.score:.2f})  {snippet}"


@law.command("search")
@click.option("--json", "as_json", is_flag=True, help="One JSON list of hits a line.")
@click.option("-k", "k", type=click.IntRange(1, 50), default=5, show_default=True)
@click.argument("query", nargs=-1)
def search(as_json: bool, k: int, query: tuple[str, ...]) -> None:
    """The most relevant articles for a question in plain words (or one a line on stdin)."""
    index = LawIndex(knowledge().statutes, dictionaries=dictionaries())
    for question in queries(query):
        hits = index.search(question, k=k)
        if as_json:
            print_json([h.as_json() for h in hits])
            continue
        click.echo(f"# {question}")
        for rank, hit in enumerate(hits, start=1):
            click.echo(hit_line(rank, hit))
        if not hits:
            click.echo("（没有找到相关法条）")


@law.command("index")
@click.option("--seed", is_flag=True, help="Also write the statutes' segmentation to knowledge/index/.")
def index_command(seed: bool) -> None:
    """Build law search's index into its disk cache now (a deployment step: start-up then reads it)."""
    statutes, words = knowledge().statutes, dictionaries()
    if seed:
        started = time.perf_counter()
        path = lawsearch.write_seed(statutes, words)
        click.echo(f"seed: {path.relative_to(PROJECT_ROOT)} ({path.stat().st_size // 1024} KB, "
                   f"{time.perf_counter() - started:.1f} s)")
    elif not lawsearch.seed_path(words).exists():
        click.echo("seed: none for the current dictionaries (a cold build segments every article; "
                   "`legalbot law index --seed` writes one)")
    started, cpu = time.perf_counter(), time.process_time()
    found = LawIndex(statutes, dictionaries=words)
    glossed = int((found.ask_ptr[1:] > found.ask_ptr[:-1]).sum())   # articles with a gloss
    click.echo(f"index: {len(found.articles)} articles ({glossed} glossed) in {time.perf_counter() - started:.2f} s "
               f"({time.process_time() - cpu:.2f} s CPU), cached in {lawsearch.default_cache_dir()}")


def register(main: click.Group) -> None:
    main.add_command(law)
