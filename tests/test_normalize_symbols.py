"""``normalize`` turns every symbol into a space, whatever character it is.

The folding looks up only characters outside the common ideographs, ASCII letters and digits;
this pins that it folds exactly what a look-up of every character would, over all of Unicode."""
from __future__ import annotations

import sys

from bot.core import text as tx


def folded_one_by_one(text: str) -> str:
    return "".join(" " if tx._is_symbol(c) else c for c in text)


def test_symbols_fold_as_a_look_up_of_every_character_would():
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    assert tx._fold_symbols(every) == folded_one_by_one(every)


def test_a_question_keeps_its_words_and_loses_its_symbols():
    assert tx.normalize("邻居占了我的地！！怎么办😭") == "邻居占了我的地 怎么办"
