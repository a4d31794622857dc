"""Calibrate the [matcher] thresholds on labelled questions (the same format score.py reads).

    .venv/bin/python bench/calibrate.py ../shared/eval/dev.jsonl

For each question whose expected action is "answer", it prints the top score, the margin over
the best rival that quotes a different article, and whether the top entry is right; then it
searches thresholds for the most right answers with at most --max-wrong wrong ones. Use it to
choose config.toml's values; do not tune on the questions you will be judged on.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_config  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.matcher import Matcher, same_answer  # noqa: E402


def observations(matcher: Matcher, items: list[dict]) -> list[tuple[float, float, bool, str]]:
    """(top score, margin over a rival answer, top right?, question) per in-scope question."""
    rows = []
    for item in items:
        if item["expect"] != "answer":
            continue
        ranked = matcher.ranked(matcher.query(item["q"]))
        if not ranked:
            rows.append((0.0, 0.0, False, item["q"]))
            continue
        top, entry = ranked[0][0], ranked[0][1].entry
        rival = next((s for s, it, _ in ranked[1:] if not same_answer(it.entry, entry)), 0.0)
        rows.append((top, top - rival, bool(set(entry.citations) & set(item["cite"])), item["q"]))
    return rows


def search(rows, max_wrong: int):
    best = None
    for a_min, margin in itertools.product([x / 100 for x in range(30, 80)], [x / 100 for x in range(0, 20)]):
        answered = [r for r in rows if r[0] >= a_min and r[1] >= margin]
        right, wrong = sum(r[2] for r in answered), sum(not r[2] for r in answered)
        if wrong <= max_wrong and (best is None or right > best[0]):
            best = (right, wrong, a_min, margin)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--max-wrong", type=int, default=1)
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args()
    config = load_config()
    matcher = Matcher(load_knowledge(config, strict=False), config.matcher)
    items = [json.loads(line) for line in open(args.path, encoding="utf-8") if line.strip()]
    rows = observations(matcher, items)
    for top, margin, right, question in sorted(rows):
        if args.verbose or not right:
            print(f"{top:.3f} {margin:+.3f} {'ok ' if right else 'BAD'} {question}")
    right, wrong, a_min, margin = search(rows, args.max_wrong)
    print(f"{len(rows)} in scope; best: answer_min={a_min} answer_margin={margin} → {right} right, {wrong} wrong")


if __name__ == "__main__":
    main()
