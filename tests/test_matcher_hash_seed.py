"""The matcher decides the same whatever the process's string-hash seed.

Every gunicorn worker, `legalbot ask` and the simulator run in processes of their own, each with
its own random seed for hashing strings, and so its own iteration order of every set of words. A
feature summed over a set in that order came out different in its last bits from one process to
the next; where two candidates tied on a measure, the tie went either way, and one question could
be answered by one worker and asked back by another. These tests run the shipped matcher under
two seeds and compare every feature's exact float and every decision.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Questions made from the test data and from pairs of the knowledge base's phrasings (two topics
# in one question share many words with many entries: the sums run over several terms each).
SCRIPT = r"""
import json, sys
from bot.cli.common import make_services
services = make_services()
matcher = services.matcher
phrasings = [entry.questions[0] for entry in services.knowledge.entries]
questions = [json.loads(line)["q"] for name in ("matcher_labelled.jsonl", "out_of_domain.jsonl")
             for line in open(f"tests/data/{name}", encoding="utf-8") if line.strip()]
questions += [a + "，" + b for a, b in zip(phrasings, phrasings[1:])]
for question in questions:
    early, query, candidates = matcher.examine(question)
    decision = matcher.decide(question)
    print(json.dumps([decision.action, decision.faq_id, decision.reason,
                      [(c.faq_id, [repr(v) for v in c.features]) for c in candidates]], ensure_ascii=False))
"""


def started_with_seed(seed: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def lines_of(process: subprocess.Popen) -> list[str]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]
    return out.splitlines()


def test_features_and_decisions_do_not_depend_on_the_hash_seed():
    runs = [started_with_seed(1), started_with_seed(2)]     # side by side: each loads the knowledge
    first, second = map(lines_of, runs)
    assert len(first) > 300
    differing = [(a, b) for a, b in zip(first, second) if a != b]
    assert not differing, differing[:3]
