"""How long one decision takes: the shipped knowledge base, and a synthetic one ten times larger.

`make bench` runs bench/run.py, which calls ``run()``; run this file alone to print the figures.
Targets (issue 11): median at most 1 ms with the shipped knowledge base, at most 3 ms at 10×.
The questions are the knowledge base's own phrasings, slightly altered, plus small talk,
danger and hand-over messages, questions outside the service and long stories, so every path
of ``Matcher.decide`` is timed.
"""
from __future__ import annotations

import dataclasses
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.config import load_config  # noqa: E402
from bot.kb.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.retrieval.matcher import Matcher  # noqa: E402

EXTRA = ["你好", "谢谢", "转人工", "他拿着刀要砍我", "法院寄来传票了", "股票怎么买",
         "今天天气怎么样", "彩里能要回来吗", "宅急地能卖吗", "月亮归谁管", "我想申请一个专利",
         "我家前年盖房的时候跟隔壁说好了留一条路 现在他家把路堵了 还说那块地是他家的 我该怎么办",
         "老公在外面打工三年没回家 也不给家里钱 孩子上学要用钱 我想离婚 孩子归谁 能要抚养费吗"]
REPEATS = 3


def sample_questions(kb: KnowledgeBase, seed: int = 7) -> list[str]:
    """One phrasing per entry with a character dropped (a typist's slip), and the extras."""
    rng = random.Random(seed)
    questions = []
    for entry in kb.entries:
        q = rng.choice(entry.questions)
        cut = rng.randrange(len(q))
        questions.append(q[:cut] + q[cut + 1:])
    return questions + EXTRA


def synthetic(kb: KnowledgeBase, times: int = 10, seed: int = 11) -> KnowledgeBase:
    """``times`` as many entries: each copy mixes an entry's phrasings with another's words."""
    rng = random.Random(seed)
    entries = list(kb.entries)
    for copy in range(1, times):
        for entry in kb.entries:
            other = rng.choice(kb.entries)
            mixed = tuple(f"{q} {rng.choice(other.questions)[: rng.randint(2, 6)]}" for q in entry.questions)
            entries.append(dataclasses.replace(entry, id=f"{entry.id}.copy{copy}", questions=mixed,
                                               keywords=entry.keywords + other.keywords[:1]))
    return KnowledgeBase(entries, kb.statutes)


def median_ms(matcher: Matcher, questions: list[str]) -> tuple[float, float, float]:
    """Median and 95th percentile of one ``decide`` call in wall-clock milliseconds, and its
    median CPU milliseconds (this thread's CPU time: on a machine shared with other work the
    wall clock also counts the time the process waited for a core)."""
    timings, cpu = [], []
    for _ in range(REPEATS):
        for question in questions:
            started, started_cpu = time.perf_counter(), time.thread_time()
            matcher.decide(question)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)], statistics.median(cpu)


def timed_build(kb: KnowledgeBase, settings) -> tuple[Matcher, float]:
    started = time.perf_counter()
    matcher = Matcher(kb, settings)
    return matcher, time.perf_counter() - started


def run() -> dict[str, float]:
    """The figures: entries, build seconds, median and p95 decision time at 1× and 10×."""
    config = load_config()
    kb = load_knowledge(config, strict=False)
    questions = sample_questions(kb)
    big = synthetic(kb)
    small_matcher, small_build = timed_build(kb, config.matcher)
    small_matcher.decide("预热")  # jieba and the dictionaries are loaded once per process
    big_matcher, big_build = timed_build(big, config.matcher)
    small_median, small_p95, small_cpu = median_ms(small_matcher, questions)
    big_median, big_p95, big_cpu = median_ms(big_matcher, questions)
    return {"entries": len(kb.entries), "entries_10x": len(big.entries), "questions": len(questions),
            "build_s": round(small_build, 3), "build_10x_s": round(big_build, 3),
            "decide_median_ms": round(small_median, 3), "decide_p95_ms": round(small_p95, 3),
            "decide_10x_median_ms": round(big_median, 3), "decide_10x_p95_ms": round(big_p95, 3),
            "decide_cpu_median_ms": round(small_cpu, 3), "decide_10x_cpu_median_ms": round(big_cpu, 3),
            "ratio_10x": round(big_median / small_median, 2)}


def main() -> None:
    figures = run()
    print(f"matcher: {figures['entries']} entries, built in {figures['build_s']} s; "
          f"decide median {figures['decide_median_ms']} ms (p95 {figures['decide_p95_ms']} ms, "
          f"CPU median {figures['decide_cpu_median_ms']} ms), target ≤ 1 ms")
    print(f"matcher 10x: {figures['entries_10x']} entries, built in {figures['build_10x_s']} s; "
          f"decide median {figures['decide_10x_median_ms']} ms (p95 {figures['decide_10x_p95_ms']} ms, "
          f"CPU median {figures['decide_10x_cpu_median_ms']} ms), target ≤ 3 ms; 10x/1x = {figures['ratio_10x']}")


if __name__ == "__main__":
    main()
