"""The matcher's one reading of a question: the pieces other steps read instead of walking the
text again (typo stretches from the cut, the lexicons' words found in one scan)."""
from __future__ import annotations

from bot.retrieval.matcher import typo_spans
from tests.matcher_support import small_matcher


def test_typo_spans_are_runs_of_two_or_more_lone_chinese_characters_that_are_no_particle():
    # 宅 急 地 stand alone: one stretch; 怎么 is a word, 申请 too
    assert typo_spans(("宅", "急", "地", "怎么", "申请")) == [(0, 3)]
    # a particle (的), a space or a digit ends a stretch: 我 的 are particles, 彩 里 remain
    assert typo_spans(("我", "的", "彩", "里", " ", "2", "万")) == [(2, 4)]
    assert typo_spans(("彩", " ", "里")) == []
    assert typo_spans(("遗嘱", "要", "怎么", "写")) == []


def test_a_stretch_at_the_end_of_the_text_counts():
    assert typo_spans(("怎么", "彩", "里")) == [(2, 4)]


def test_the_homophone_pass_rewrites_only_inside_a_stretch():
    matcher = small_matcher()
    assert matcher.correct_homophones("我的彩里能要回来吗") == "我的彩礼能要回来吗"
    assert matcher.correct_homophones("月亮归谁管") == "月亮归谁管"
