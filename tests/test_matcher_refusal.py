"""Saying no: questions that are not legal, or outside the service, never get an FAQ answer; the
homophone pass never turns a word the dictionary knows into a legal one; and an answer written for
one side of a matter is not given to the other side.

The out-of-domain questions are this project's own (tests/data/out_of_domain.jsonl), not taken
from any evaluation set."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.core.config import MatcherSettings, load_config
from bot.kb.knowledge import FaqEntry, KnowledgeBase
from bot.retrieval.matcher import Matcher
from bot.app.services import Services
from bot.core.text import normalize
from bot.retrieval.lexicons import default_lexicons
from tests.matcher_support import small_matcher

OUT_OF_DOMAIN = [json.loads(line) for line in
                 (Path(__file__).parent / "data" / "out_of_domain.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]


@pytest.fixture(scope="module")
def shipped():
    return Services(load_config(environ={})).matcher


@pytest.mark.parametrize("item", OUT_OF_DOMAIN, ids=lambda item: item["q"])
def test_out_of_domain_questions_are_never_answered_from_the_faq(shipped, item):
    assert shipped.decide(item["q"]).action != "answer"


@pytest.mark.parametrize("item", [i for i in OUT_OF_DOMAIN if i["kind"] == "outside"], ids=lambda item: item["q"])
def test_fields_outside_the_service_get_the_fallback_not_a_list_of_choices(shipped, item):
    decision = shipped.decide(item["q"])
    assert decision.action == "fallback"
    assert decision.reason == f"outside the service ({shipped.query(item['q']).reading.outside})"
    assert decision.reason.startswith(f"outside the service ({item['field']}")


@pytest.mark.parametrize("item", [i for i in OUT_OF_DOMAIN if i["kind"] == "not_legal"], ids=lambda item: item["q"])
def test_a_question_without_legal_content_is_told_the_bot_cannot_answer(shipped, item):
    assert shipped.decide(item["q"]).action in ("fallback", "chitchat")


def test_the_moon_is_not_a_water_pipe(shipped):
    """"谁管" sounds like 水管, but 谁 is a question word: the question is left as written."""
    assert shipped.correct_homophones("月亮归谁管") == "月亮归谁管"
    decision = shipped.decide("月亮归谁管")
    assert (decision.action, decision.reason) == ("fallback", "no legal word")


def test_mars_land_does_not_get_the_custody_answer(shipped):
    decision = shipped.decide("火星上的地归谁")
    assert decision.action == "fallback" and decision.faq_id is None


@pytest.mark.parametrize("question", ["我家狗怎么训都不听 邻居说狗咬了他家孩子要我赔",
                                      "电动车在楼道里充电多久会被罚款", "狗主人不拴狗 吓到了老人怎么处理纠纷"])
def test_an_everyday_ask_that_names_a_legal_matter_stays_a_legal_question(question):
    """An ask about using a thing is refused only when nothing in the message is a legal
    matter: 咬 and 赔, 罚款, 纠纷 bring it back (the thing itself, 狗, does not)."""
    assert default_lexicons().question.everyday_ask(normalize(question).replace(" ", "")) is None


def test_a_thing_alone_does_not_make_an_everyday_ask_legal():
    lexicon = default_lexicons().question
    assert "狗" in lexicon.legal and "狗" in lexicon.things
    assert lexicon.everyday_ask("狗喂什么长得快") == "everyday: 喂什么"


def test_an_everyday_table_without_things_is_refused():
    import tomllib
    from bot.core.text import DICT_DIR, DictionaryError
    from bot.retrieval.question import build_lexicon
    data = tomllib.loads((DICT_DIR / "question.toml").read_text(encoding="utf-8"))
    data["everyday"] = {"asks": ["怎么训"]}
    with pytest.raises(DictionaryError, match=r"\[everyday\] things"):
        build_lexicon(data)


@pytest.mark.parametrize("sentence", ["月亮归谁管", "遗嘱要怎么写", "明天记得带钥匙", "这个西瓜甜不甜",
                                      "他们家的水管破了", "老师说要交资料费", "上午去赶集买菜"])
def test_the_homophone_pass_never_rewrites_a_known_word(sentence):
    matcher = small_matcher()
    corrected = matcher.correct_homophones(normalize(sentence))
    known = matcher.dictionaries.tokenizer.FREQ
    for word in matcher.dictionaries.tokenizer.lcut(normalize(sentence), HMM=False):
        if len(word) > 1 and known.get(word):
            assert word in corrected, f"{word} was rewritten in {corrected}"


def test_a_mistyped_legal_word_is_still_corrected():
    assert small_matcher().correct_homophones("宅急地怎么申请") == "宅基地怎么申请"


# --- roles: the answer is about the side the asker is on -------------------------------------

def faq(faq_id: str, role: str | None, questions: list[str], keywords: list[str], article: str) -> FaqEntry:
    return FaqEntry(id=faq_id, category="测试", questions=tuple(questions), keywords=tuple(keywords),
                    answer="测试答案。", citations=(article,), quote=article, other_sources=(),
                    needs_person=False, reviewed=dt.date(2026, 11, 30), source="tests", role=role)


SIDES = [
    faq("fight.hit", "victim", ["被人打伤了怎么办", "挨了打能要赔偿吗", "被打了去哪里验伤"],
        ["被打", "打伤", "赔偿"], "民法典第1179条"),
    faq("fight.hitter", "wrongdoer", ["把人打伤了要赔多少", "打了人会被拘留吗", "打伤别人怎么私了"],
        ["打伤", "打人", "赔偿"], "治安管理处罚法第51条"),
    faq("iou.lender", "creditor", ["借条丢了还能要回钱吗", "借出去的钱没有借条怎么要", "欠条找不到了怎么办"],
        ["借条", "欠条", "要钱"], "民法典第675条"),
    faq("iou.borrower", "debtor", ["欠的钱还不上怎么办", "欠钱没能力还会坐牢吗", "借了钱还不起能分期吗"],
        ["欠钱", "还不上", "分期"], "民法典第676条"),
]


@pytest.fixture(scope="module")
def sides():
    return Matcher(KnowledgeBase(SIDES, statutes=None), MatcherSettings(
        answer_min=0.5, answer_margin=0.03, lead_answer_min=0.35, lead_answer_margin=0.1,
        clarify_min=0.1, clarify_margin=0.3, clarify_min_weight=0.0))


@pytest.mark.parametrize("question, wrong_side", [
    ("我被人打伤了要他赔多少", "fight.hitter"),
    ("孩子在学校被同学打伤了", "fight.hitter"),
    ("我把人打伤了要赔多少", "fight.hit"),
    ("欠条丢了怎么办", "iou.borrower"),
    ("别人欠我钱借条找不到了", "iou.borrower"),
    ("我欠钱还不上了怎么办", "iou.lender"),
])
def test_the_other_sides_entry_is_neither_answered_nor_offered(sides, question, wrong_side):
    decision = sides.decide(question)
    assert decision.faq_id != wrong_side
    if decision.action == "clarify":
        assert wrong_side not in [c.faq_id for c in decision.candidates]
    shown = {c.faq_id: c.features["role"] for c in sides.decide(question).candidates}
    assert shown.get(wrong_side, -1) == -1


def test_a_question_naming_no_side_sees_both_sides(sides):
    decision = sides.decide("打伤了赔偿怎么算")
    assert {c.features["role"] for c in decision.candidates} == {0}


@pytest.mark.parametrize("question, role", [
    ("我家孩子在学校欺负别人", "wrongdoer"), ("老师说我儿子霸凌同学", "wrongdoer"),
    ("孩子在学校被同学欺负了", "victim"), ("我被同学霸凌了", "victim"),
])
def test_bullying_is_read_from_the_side_the_asker_is_on(question, role):
    assert default_lexicons().question.roles_of(normalize(question)) == frozenset({role})
