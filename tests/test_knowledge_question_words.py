"""knowledge/dict/question.toml as shipped: the ways villagers ask that mark the asking clause."""
from __future__ import annotations

import pytest

from bot.retrieval.lexicons import default_lexicons
from bot.retrieval.question import clauses, core_flags


def asking_clauses(text: str) -> list[str]:
    lexicons = default_lexicons()
    parts = clauses(text)
    flags = core_flags(parts, lexicons.question, lexicons.dictionaries.word_groups)
    return [part for part, flag in zip(parts, flags) if flag]


@pytest.mark.parametrize("text, asks", [
    ("他开车撞坏了我家院墙 说什么也不肯出钱 这种他赔不赔", "这种他赔不赔"),
    ("儿子在学校被同学推下楼梯 老师说什么都没看见 学校管不管", "学校管不管"),
    ("我在网上买了个东西 什么都没收到 这是不是被骗了", "这是不是被骗了"),
    ("去年借给他五千 他说什么时候有了再说 这钱几时能要回来", "这钱几时能要回来"),
])
def test_an_a_not_a_or_dialect_ask_is_read_as_the_asking_clause(text, asks):
    """The story's "什么" is not the question; "赔不赔", "管不管", "是不是", "几时" are."""
    assert asks in asking_clauses(text)


@pytest.mark.parametrize("text", ["别人在村群里说我偷了他家的鸡 我根本没有", "隔壁咬定是我打了他家娃 我冤枉"])
def test_being_accused_of_a_wrong_does_not_make_the_asker_the_wrongdoer(text):
    """"说我偷了" is what someone else claims: the asker may be the one wronged (a rumour)."""
    assert "wrongdoer" not in default_lexicons().question.roles_of(text)


def test_owning_up_to_a_wrong_still_makes_the_asker_the_wrongdoer():
    assert "wrongdoer" in default_lexicons().question.roles_of("我偷了邻居家的鸡 会被抓吗")
