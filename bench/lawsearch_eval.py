#!/usr/bin/env python3
"""How well `law search` finds a right article for real colloquial questions, and how fast.

Reads tests/data/lawsearch_questions.jsonl (one {"question", "articles"} a line: the articles
any one of which answers it), searches each question and prints the top-1 and top-k hit rates,
the time per query, and the misses. `--no-faq` switches the FAQ boosts off, to see what the
law's own words alone achieve.

    .venv/bin/python bench/lawsearch_eval.py [--k 5] [--no-faq] [FILE]
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.knowledge import Statutes, load_knowledge  # noqa: E402
from bot.lawsearch import LawIndex  # noqa: E402

DEFAULT_FILE = ROOT / "tests" / "data" / "lawsearch_questions.jsonl"


def read_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_index(use_faq: bool) -> tuple[LawIndex, float]:
    statutes = load_knowledge(load_config(), strict=False).statutes
    if not use_faq:
        statutes = Statutes(statutes.laws.values(), statutes.articles)
    started = time.perf_counter()
    index = LawIndex(statutes)
    return index, time.perf_counter() - started


def rank_of_first_right(index: LawIndex, item: dict, k: int) -> tuple[int | None, float, list[str]]:
    started = time.perf_counter()
    hits = index.search(item["question"], k=k)
    elapsed = time.perf_counter() - started
    found = [h.citation for h in hits]
    rank = next((i for i, c in enumerate(found, start=1) if c in item["articles"]), None)
    return rank, elapsed, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--no-faq", action="store_true", help="articles' own words only")
    args = parser.parse_args()
    questions = read_questions(args.file)
    index, build_seconds = build_index(not args.no_faq)
    index.search("预热")  # the first query loads jieba's dictionary; not a query's cost
    gc.collect()          # nor is collecting the garbage the build left behind
    results = [rank_of_first_right(index, q, args.k) for q in questions]
    ranks = [r for r, _, _ in results]
    times_ms = sorted(t * 1000 for _, t, _ in results)
    n = len(questions)
    print(f"questions: {n}   index built in {build_seconds:.2f} s   faq boosts: {not args.no_faq}")
    print(f"top-1: {sum(r == 1 for r in ranks)}/{n} = {sum(r == 1 for r in ranks) / n:.0%}")
    print(f"top-{args.k}: {sum(r is not None for r in ranks)}/{n} = {sum(r is not None for r in ranks) / n:.0%}")
    print(f"ms/query: mean {statistics.mean(times_ms):.2f}   median {statistics.median(times_ms):.2f}   "
          f"p95 {times_ms[int(0.95 * (n - 1))]:.2f}   max {times_ms[-1]:.2f}")
    for item, (rank, _, found) in zip(questions, results):
        if rank is None:
            print(f"MISS {item['question']}  want {' | '.join(item['articles'])}  got {' '.join(found)}")


if __name__ == "__main__":
    main()
