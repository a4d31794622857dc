"""bench/calibrate.py's two-fold check reports the objective on the held-out halves, so two
variants of the matcher can be compared on questions neither was fitted on."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from bench import calibrate
from bot.core.config import MatcherSettings
from tests.matcher_support import small_matcher

LABELLED = Path(__file__).parent / "data" / "matcher_labelled.jsonl"
START = MatcherSettings(answer_min=0.6, answer_margin=0.05, lead_answer_min=0.45, lead_answer_margin=0.15,
                        clarify_min=0.3, clarify_margin=0.1, clarify_min_weight=4.0)


def test_the_two_fold_check_ends_with_the_held_out_objective():
    items = calibrate.load_items(LABELLED)
    lines = calibrate.two_fold(small_matcher(**dataclasses.asdict(START)), items, START, 4.0, seeds=(5,))
    found = re.fullmatch(r"held-out objective \(penalty 4\.0\): (-?\d+\.\d)", lines[-1])
    assert found, lines[-1]
    # each question is held out once per seed: at most one point for each question to answer
    assert float(found.group(1)) <= sum(1 for item in items if item["expect"] == "answer")
    assert lines[0].startswith("held-out halves of matcher_labelled.jsonl:")
