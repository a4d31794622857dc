"""What the knowledge base lacks: unanswered questions grouped by wording, most frequent first."""
from __future__ import annotations

from bot.learning.gaps import Asked, group, likeness, wording
from bot.retrieval.lexicons import default_lexicons

WORDS = default_lexicons().dictionaries


def asked(*texts: str) -> list[Asked]:
    return [Asked(consultation_id=n, asked_at=1_800_000_000 + n, text=t) for n, t in enumerate(texts)]


def texts(gap) -> list[str]:
    return [q.text for q in gap.questions]


def test_questions_worded_alike_are_one_group_and_the_largest_comes_first():
    gaps = group(asked("我家的牛被毒死了", "离婚孩子归谁", "牛被人毒死了找谁赔", "离婚了孩子跟谁",
                       "我家的牛被毒死了", "宅基地被占了"), WORDS)
    assert [g.count for g in gaps] == [3, 2, 1]
    assert texts(gaps[0]) == ["我家的牛被毒死了", "我家的牛被毒死了", "牛被人毒死了找谁赔"]
    assert sorted(texts(gaps[1])) == ["离婚了孩子跟谁", "离婚孩子归谁"]


def test_legal_synonyms_bring_colloquial_wordings_together():
    assert likeness(wording("借钱不还怎么办", WORDS), wording("欠钱不还", WORDS)) >= 0.5
    assert [g.count for g in group(asked("借钱不还怎么办", "欠钱不还"), WORDS)] == [2]


def test_sharing_one_common_word_is_not_enough():
    assert [g.count for g in group(asked("离婚孩子归谁", "离婚财产怎么分"), WORDS)] == [1, 1]
    assert [g.count for g in group(asked("老板不给工资", "老板打人"), WORDS)] == [1, 1]


def test_a_group_does_not_grow_by_chaining():
    a, b, c = "宅基地被邻居占了", "邻居占了我家宅基地还砍了我家的树", "邻居砍了我家的树"
    assert likeness(wording(a, WORDS), wording(b, WORDS)) >= 0.5 and likeness(wording(b, WORDS), wording(c, WORDS)) >= 0.5
    assert likeness(wording(a, WORDS), wording(c, WORDS)) < 0.5
    gaps = group(asked(a, b, c), WORDS)
    assert [texts(g) for g in gaps] == [[a, b], [c]]


def test_chatter_alone_is_no_gap():
    assert group(asked("转人工", "你好", "谢谢"), WORDS) == []
