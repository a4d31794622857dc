"""The knowledge checks' findings in Chinese for the console (bot/app/console/kbwording.py): the
errors a statute end date brings (商标法's 2019 text after 2026-12-31) are worded for staff, with
the dates, and never shown in the checker's English."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.app.console.kbwording import UNKNOWN, explain
from bot.core.config import load_config
from bot.kb.kbcheck import lapsed_gloss_errors
from bot.kb.knowledge import read_knowledge
from bot.learning import drafts as dr
from tests.learning_support import private_knowledge

FIRST_DAY_AFTER = dt.date(2027, 1, 1)
LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture
def knowledge_2027(tmp_path, monkeypatch):
    """The project's statutes judged on 2027-01-01, with one gloss of the lapsed 商标法 text."""
    monkeypatch.setattr("bot.kb.knowledge.today", lambda: FIRST_DAY_AFTER)
    base = private_knowledge(tmp_path)
    (base / "glosses").mkdir()
    (base / "glosses" / "zz_gloss.toml").write_text(
        '[[article]]\ncite = "商标法第57条"\nask = ["别人卖假冒我牌子的货怎么办"]\n', encoding="utf-8")
    config = load_config(overrides={"app": {"knowledge_dir": str(base)}}, environ={})
    return read_knowledge(config, day=FIRST_DAY_AFTER), config


def trademark_draft() -> dr.Draft:
    return dr.Draft(id=1, ticket_id=None, entry_id="consumer.trademark_copied", category="消费与合同",
                    questions=[f"别人用了我的商标{n}" for n in "一二三四五六七八"], keywords=["商标"],
                    answer="可以。别人未经许可用您的注册商标，属于侵权。\n1. 先留好证据。\n2. 到法院起诉。",
                    citations=["商标法第57条"], quote="商标法第57条", excerpt="有下列行为之一的，均属侵犯注册商标专用权：",
                    other_sources=[], needs_person=False, role=None, asked=None, status="draft",
                    author="zhang", editors=["zhang"])


def test_a_draft_citing_the_lapsed_text_is_told_so_in_chinese_with_its_dates(knowledge_2027):
    kb, config = knowledge_2027
    (problem,) = dr.problems(trademark_draft(), kb, config)
    assert problem.startswith("citation '商标法第57条' is of a law not in force (the 2019-04-23 text")
    shown = explain(problem)
    assert shown == ("“商标法第57条”引的是2019-04-23的文本，只施行到2026-12-31，已失效，不能再引用；"
                     "请按修订后的新文本引用（条号可能变了）。")
    assert not LATIN.search(shown)


def test_a_gloss_of_the_lapsed_text_is_worded_in_chinese_with_its_article(knowledge_2027):
    kb, _ = knowledge_2027
    (error,) = [e for e in lapsed_gloss_errors(kb.statutes) if "zz_gloss" in e]
    shown = explain(error)
    assert shown != UNKNOWN and not LATIN.search(shown)
    assert shown.startswith("“商标法第57条”的村民问法是按2019-04-23的文本写的") and "只施行到2026-12-31" in shown
    assert explain(error.split(": ", 1)[1]).startswith("村民问法是按2019-04-23的文本写的")   # without its place


def test_a_law_not_yet_in_force_keeps_its_own_wording():
    assert explain("citation '医疗保障法第1条' is of a law not in force") == "“医疗保障法第1条”所在的法律现在不施行，不能引用。"
