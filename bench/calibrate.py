"""Fit the [matcher] weights and thresholds on labelled questions, through the bot's own decision.

    .venv/bin/python bench/calibrate.py ../shared/eval/dev.jsonl ../shared/eval/real_dev.jsonl
    .venv/bin/python bench/calibrate.py --fit ../shared/eval/dev.jsonl ../shared/eval/real_dev.jsonl

A labelled file has one JSON object a line, {"q", "expect": answer|escalate|urgent|none,
"cite": [...], "topic"?, "accept"?} (the format ../shared/eval/score.py reads), and is judged the
same way: an answer is right when its citations overlap the labelled ones, a choice is right when
one of the offered entries' citations does, "none" must get small talk or the fallback.

Each question is read once (``Matcher.examine``: the early decision, or the reading and the
candidates with their features); every setting tried is then judged by calling
``bot.retrieval.decision.choose`` — the very function the bot runs — on those features. The settings that
change the features themselves (``READING``: ``nonlegal_weight``, ``unknown_weight``) are tried by
reading the questions again; ``background_weight`` is not searched (0.5, 0.6 and 0.9 tried by hand
on 2026-11-30 each did worse than 0.75), nor are the bounds every answering route obeys
(``BOUNDS``: a fit on a few hundred questions would drop them, since they cost answers on the very
questions it is fitted on and pay off on the others; the two-fold check is where they show).

It prints, per file, the figures score.py prints (split into topics the knowledge base has and
``new.*`` topics it does not have yet), the reliability table (top score band → how often the
top entry is right, how many were answered and how many of those rightly), and with --fit the
fitted values as a [matcher] table for config.toml, with a two-fold check: fitted on one half of
the questions, judged on the other, so the figure you read is not the one that was tuned.
Use it to choose config.toml's values; never tune single questions.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.retrieval import entrymodel  # noqa: E402
from bot.core.config import MatcherSettings, load_config  # noqa: E402
from bot.retrieval.decision import Candidate, Reading, choose_ranked, rank  # noqa: E402
from bot.kb.knowledge import load_knowledge  # noqa: E402
from bot.retrieval.matcher import Matcher  # noqa: E402

# Settings the search moves, with the values it tries (the decision's weights and thresholds).
GRID: dict[str, list[float]] = {
    "w_coverage": [x / 20 for x in range(0, 17)],
    "w_focus": [x / 20 for x in range(0, 11)],
    "w_closeness": [x / 20 for x in range(0, 17)],
    "w_shape": [x / 20 for x in range(0, 11)],
    "w_keywords": [x / 20 for x in range(0, 11)],
    "w_answer": [x / 20 for x in range(0, 11)],
    "w_chars": [x / 20 for x in range(0, 11)],
    "answer_min": [x / 100 for x in range(30, 91, 2)],
    "answer_margin": [x / 100 for x in range(0, 21)],
    "lead_answer_min": [x / 100 for x in range(20, 71, 2)],
    "lead_answer_margin": [x / 100 for x in range(4, 31, 2)],
    "clarify_min": [x / 100 for x in range(10, 51, 2)],
    "clarify_margin": [x / 100 for x in range(2, 31, 2)],
    "clarify_min_weight": [x / 2 for x in range(0, 21)],
    "agree_answer_min": [x / 100 for x in range(20, 71, 2)],
    "agree_count": [2, 3, 4, 5],
    "w_model": [x / 10 for x in range(0, 16)],
    "model_answer_min": [x / 100 for x in range(30, 101, 5)],
    "model_score_min": [x / 100 for x in range(10, 71, 2)],
    "counterpart_penalty": [x / 100 for x in range(0, 31, 2)],
}
# The settings that change how a question is read (so the questions are read again for each).
READING = {"nonlegal_weight": [0.3, 0.5], "unknown_weight": [0.3, 0.6, 1.0]}
BANDS = [(x / 10, (x + 1) / 10) for x in range(10)]


@dataclass
class Observation:
    """One labelled question as the matcher read it."""

    item: dict
    early: str | None                 # urgent | escalate | chitchat decided before the FAQ
    reading: Reading | None
    candidates: list[Candidate]
    ranked: dict[tuple, list] = field(default_factory=dict)   # rankings by the weights they used

    @property
    def group(self) -> str:
        return "new" if str(self.item.get("topic", "")).startswith("new.") else "kb"


def load_items(path: str | Path) -> list[dict]:
    """The labelled questions of a file, each marked with the file's name (for split figures)."""
    return [{**json.loads(line), "file": Path(path).name} for line in open(path, encoding="utf-8") if line.strip()]


def observe(matcher: Matcher, items: Iterable[dict]) -> list[Observation]:
    rows = []
    for item in items:
        early, query, candidates = matcher.examine(item["q"])
        rows.append(Observation(item, early.action if early else None,
                                query.reading if query else None, candidates))
    return rows


def hit(citations: Iterable[str], wanted: Iterable[str]) -> bool:
    return bool(set(citations or ()) & set(wanted or ()))


WEIGHTS = ("w_coverage", "w_focus", "w_closeness", "w_shape", "w_keywords", "w_answer", "w_chars", "w_model", "role_penalty",
           "counterpart_penalty")


def ranked_for(obs: Observation, s: Any) -> list:
    """``bot.retrieval.decision.rank`` of the question's candidates; remembered on the observation per set
    of weights, since the search tries many thresholds with the same weights. (Remembered by
    ``id(obs)`` in a module table, as it was, a freed observation's id taken by a new one read
    with other settings returned another question's ranking.)"""
    key = tuple(getattr(s, name) for name in WEIGHTS)
    found = obs.ranked.get(key)
    if found is None:
        found = obs.ranked[key] = rank(obs.candidates, s)
    return found


def judge(obs: Observation, s: Any) -> tuple[str, float, bool]:
    """(outcome, top score, top entry right?) for one question under settings ``s``.

    Outcomes: ok, wrong, choice (the right entry among the choices), badchoice (choices without
    it, or choices for a question that must get none), miss, unsafe (answered where it must not)."""
    item = obs.item
    if obs.early:
        action, chosen, ranked = obs.early, [], []
    else:
        ranked = ranked_for(obs, s)
        verdict = choose_ranked(obs.reading, ranked, s)
        action, chosen = verdict.action, verdict.chosen
    top = ranked[0][0] if ranked else 0.0
    top_right = bool(ranked) and hit(ranked[0][1].citations, item.get("cite"))
    return outcome(item, action, chosen), top, top_right


def outcome(item: dict, action: str, chosen: list[Candidate]) -> str:
    expect = item["expect"]
    if expect == "answer":
        if action == "answer":
            return "ok" if hit(chosen[0].citations, item["cite"]) else "wrong"
        if action in item.get("accept", ()):
            return "ok"
        if action == "clarify":
            return "choice" if any(hit(c.citations, item["cite"]) for c in chosen) else "badchoice"
        return "miss"
    if expect == "escalate":
        return "ok" if action in ("escalate", "urgent") else ("unsafe" if action == "answer" else "miss")
    if expect == "urgent":
        return "ok" if action == "urgent" else "miss"
    return "ok" if action in ("chitchat", "fallback") else ("unsafe" if action == "answer" else "badchoice")


def tally(observations: list[Observation], s: Any) -> Counter:
    counts: Counter = Counter()
    for obs in observations:
        result, _, top_right = judge(obs, s)
        kind = obs.item["expect"]
        if kind == "answer":
            kind = obs.group
            counts[f"{kind}:rank1"] += top_right
        counts[kind] += 1
        counts[f"{kind}:{result}"] += 1
    return counts


def objective(counts: Counter, penalty: float) -> float:
    """Right answers, plus half a point for the right choice, less ``penalty`` per wrong or unsafe
    answer and a quarter point per choice that holds no right entry (a list of wrong topics, or
    a list offered for a question the service does not handle)."""
    right = sum(counts[f"{g}:ok"] for g in ("kb", "new"))
    choice = sum(counts[f"{g}:choice"] for g in ("kb", "new"))
    wrong = sum(counts[k] for k in counts if k.endswith(":wrong") or k.endswith(":unsafe"))
    useless = sum(counts[k] for k in counts if k.endswith(":badchoice"))
    return right + 0.5 * choice - penalty * wrong - 0.25 * useless


# Coordinate ascent stops at the nearest local optimum, and where it ends depends most on how
# much the ranking leans on the entry model: the search also starts from these values of w_model.
STARTS = {"w_model": [0.2, 0.7]}


def search(observations: list[Observation], s: MatcherSettings, penalty: float,
           rounds: int = 3) -> MatcherSettings:
    """The best of coordinate ascents from ``s`` and from ``s`` with each of STARTS' values."""
    starts = [s] + [dataclasses.replace(s, **{name: value}) for name, values in STARTS.items()
                    for value in values if getattr(s, name) != value]
    found = [ascend(observations, start, penalty, rounds) for start in starts]
    return max(found, key=lambda fitted: objective(tally(observations, fitted), penalty))


def ascend(observations: list[Observation], s: MatcherSettings, penalty: float,
           rounds: int = 3) -> MatcherSettings:
    """Coordinate ascent over GRID: each setting in turn takes its best value, the others held."""
    best = objective(tally(observations, s), penalty)
    for _ in range(rounds):
        improved = False
        for name, values in GRID.items():
            for value in values:
                trial = try_replace(s, name, value)
                if trial is None:
                    continue
                score = objective(tally(observations, trial), penalty)
                if score > best + 1e-9:
                    best, s, improved = score, trial, True
        if not improved:
            break
    return s


def try_replace(s: MatcherSettings, name: str, value: float) -> MatcherSettings | None:
    try:
        return dataclasses.replace(s, **{name: value})
    except ValueError:   # ConfigError: e.g. clarify_min above answer_min
        return None


def fit(matcher_for, items: list[dict], s: MatcherSettings, penalty: float,
        reading: bool = True) -> tuple[MatcherSettings, list[Observation]]:
    """The best reading settings (the questions read again for each; with ``reading`` false, the
    given ones) with the best decision settings for them."""
    best = None
    grid = READING.values() if reading else [[getattr(s, name)] for name in READING]
    for values in itertools.product(*grid):
        trial = dataclasses.replace(s, **dict(zip(READING, values)))
        observations = observe(matcher_for(trial), items)
        fitted = search(observations, trial, penalty)
        score = objective(tally(observations, fitted), penalty)
        if best is None or score > best[0]:
            best = (score, fitted, observations)
    return best[1], best[2]


def two_fold(matcher, items: list[dict], s: MatcherSettings, penalty: float, seeds: Iterable[int] = (5,)) -> list[str]:
    """Fit the decision settings on one half, judge on the other, both ways round, for each seed
    of the random split: per file, the figures of every held-out half added up, then each
    half's share answered right and wrong (the spread says how far one split's figures go)."""
    observations = observe(matcher, items)
    judged: dict[str, Counter] = {}
    halves: dict[str, list[str]] = {}
    for seed in seeds:
        order = list(range(len(items)))
        random.Random(seed).shuffle(order)
        split = [sorted(order[::2]), sorted(order[1::2])]
        for fit_half, test_half in (split, split[::-1]):
            fitted = search([observations[i] for i in fit_half], s, penalty)
            for name in dict.fromkeys(o.item.get("file", "") for o in observations):
                counts = tally([observations[i] for i in test_half if observations[i].item.get("file", "") == name], fitted)
                judged[name] = judged.get(name, Counter()) + counts
                halves.setdefault(name, []).append(half_figures(counts))
    held_out = sum(objective(counts, penalty) for counts in judged.values())
    return [f"{summary(f'held-out halves of {name}', counts)}\n  each half: {'; '.join(halves[name])}"
            for name, counts in judged.items()] + [f"held-out objective (penalty {penalty}): {held_out:.1f}"]


def half_figures(c: Counter) -> str:
    n_in = c["kb"] + c["new"]
    total = n_in + c["escalate"] + c["urgent"] + c["none"]
    wrong = c["kb:wrong"] + c["new:wrong"] + c["escalate:unsafe"] + c["none:unsafe"]
    return f"{pct(c['kb:ok'] + c['new:ok'], n_in)} right, {pct(wrong, total)} wrong"


def pct(a: float, b: float) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def summary(name: str, c: Counter) -> str:
    """score.py's figures, split into the knowledge base's topics and the new.* ones."""
    lines = [f"{name}:"]
    for group, label in (("kb", "topics with an entry"), ("new", "new.* topics")):
        n = c[group]
        if n:
            lines.append(f"  {label} ({n}): answered right {pct(c[group + ':ok'], n)}, wrong {c[group + ':wrong']}, "
                         f"right or the right choice {pct(c[group + ':ok'] + c[group + ':choice'], n)}, "
                         f"right entry first {pct(c[group + ':rank1'], n)}")
    n_in = c["kb"] + c["new"]
    ok = c["kb:ok"] + c["new:ok"]
    choice = c["kb:choice"] + c["new:choice"]
    wrong = c["kb:wrong"] + c["new:wrong"] + c["escalate:unsafe"] + c["none:unsafe"]
    total = n_in + c["escalate"] + c["urgent"] + c["none"]
    lines.append(f"  all in scope ({n_in}): answered right {pct(ok, n_in)}, right or the right choice "
                 f"{pct(ok + choice, n_in)}; wrong or unsafe {wrong} of {total} = {pct(wrong, total)}; "
                 f"escalate {c['escalate:ok']}/{c['escalate']}, none {c['none:ok']}/{c['none']}")
    return "\n".join(lines)


def reliability(observations: list[Observation], s: Any) -> str:
    """Top score band → questions, share whose top entry is right, answered, answered right."""
    rows = [f"{'band':>9} {'n':>4} {'top right':>9} {'answered':>8} {'right':>6}"]
    judged = [(judge(o, s), o) for o in observations if o.item["expect"] == "answer" and not o.early]
    for low, high in BANDS:
        band = [(r, top_right) for (r, top, top_right), _ in judged if low <= top < high or (high == 1.0 and top >= 1.0)]
        if not band:
            continue
        answered = [r for r, _ in band if r in ("ok", "wrong")]
        rows.append(f"{low:.1f}–{high:.1f} {len(band):>4} {pct(sum(t for _, t in band), len(band)):>9} "
                    f"{len(answered):>8} {pct(answered.count('ok'), len(answered)):>6}")
    return "\n".join(rows)


# Bounds on every route that the search keeps as configured (config.toml explains why).
BOUNDS = ("answer_floor", "lead_min", "model_rival_margin")


def as_toml(s: MatcherSettings) -> str:
    names = ["background_weight", *READING, *GRID, *BOUNDS]
    return "\n".join(f"{n} = {getattr(s, n)}" for n in names)


def misses(observations: list[Observation], s: Any) -> list[str]:
    lines = []
    for obs in observations:
        result, top, _ = judge(obs, s)
        if result not in ("ok",):
            lines.append(f"{result:6} {top:.2f} {obs.item.get('topic', obs.item['expect']):32} {obs.item['q'][:70]}")
    return lines


def print_model_report(matcher: Matcher) -> None:
    """The entry model on held-out phrasings of the knowledge base, at the shipped L2 and around
    it: the L2 is chosen here, on the knowledge base's own phrasings, never on labelled questions."""
    print(f"entry model, {len(matcher.entries)} entries; held-out phrasings (own entry first among "
          f"it and its {entrymodel.HELD_OUT_RIVALS} nearest):")
    for l2 in sorted({entrymodel.L2, 1e-4, 3e-4, 1e-3, 3e-3}):
        r = entrymodel.cross_validation(matcher.entries, matcher.postings, matcher.idf, l2)
        mark = "  (shipped)" if l2 == entrymodel.L2 else ""
        print(f"  L2 {l2:g}: right {r['right']:.1%} of {r['phrasings']}, temperature {r['temperature']}, "
              f"log-loss {r['nll']:.3f}, AUROC of the top probability {r['auroc']:.3f}{mark}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--fit", action="store_true", help="search the settings and print them")
    parser.add_argument("--penalty", type=float, default=3.0,
                        help="right answers one wrong or unsafe answer costs in the search (default 3)")
    parser.add_argument("--knowledge", help="another knowledge directory (default: config's)")
    parser.add_argument("--misses", action="store_true", help="list every question not judged ok")
    parser.add_argument("--keep-reading", action="store_true",
                        help="with --fit: keep config's reading settings, fit only the decision (faster)")
    parser.add_argument("--seeds", type=int, default=1, help="random splits for the two-fold check (default 1)")
    parser.add_argument("--first-seed", type=int, default=5,
                        help="the first split's seed (default 5; the next splits take the following seeds)")
    parser.add_argument("--two-fold", action="store_true", help="the two-fold check of config's settings, without --fit")
    parser.add_argument("--model", action="store_true",
                        help="the entry model's cross-validation on the knowledge base's phrasings, for several L2")
    args = parser.parse_args()
    config = load_config()
    kb = load_knowledge(config, args.knowledge, strict=False)
    matcher_for = lambda s: Matcher(kb, s)  # noqa: E731
    files = {path: load_items(path) for path in args.paths}
    settings = config.matcher
    if args.model:
        print_model_report(matcher_for(settings))
    if args.fit:
        everything = [item for items in files.values() for item in items]
        settings, _ = fit(matcher_for, everything, settings, args.penalty, not args.keep_reading)
        print("[matcher] fitted on all files (penalty %s):\n%s\n" % (args.penalty, as_toml(settings)))
    if args.fit or args.two_fold:
        everything = [item for items in files.values() for item in items]
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        for line in two_fold(matcher_for(settings), everything, settings, args.penalty, seeds):
            print(line)
        print()
    matcher = matcher_for(settings)
    for path, items in files.items():
        observations = observe(matcher, items)
        print(summary(Path(path).name, tally(observations, settings)))
        print(reliability(observations, settings))
        if args.misses:
            print("\n".join(misses(observations, settings)))
        print()


if __name__ == "__main__":
    main()
