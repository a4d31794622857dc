"""The matcher on the shipped knowledge base: questions written here, not taken from any eval set."""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys

import pytest

from bot.core.config import load_config
from bot.app.services import Services


@pytest.fixture(scope="module")
def matcher():
    return Services(load_config(environ={})).matcher


@pytest.mark.parametrize("question, faq_id", [
    ("走路被村里的狗咬了一口", "tort.dog_bite"),          # short, one topic: the wide lead answers it
    ("欠条放了好多年了还能要吗", "debt.limitation"),
    ("婆娘不肯离，我去法院告能判离吗", "marriage.divorce_lawsuit"),
    ("我想把责任田租给别人种", "land.transfer"),
])
def test_plain_questions_are_answered_from_the_right_entry(matcher, question, faq_id):
    decision = matcher.decide(question)
    assert (decision.action, decision.faq_id) == ("answer", faq_id)


@pytest.mark.parametrize("question", ["我想学开车", "猪肉多少钱一斤", "推荐个好看的电视剧",
                                      "我家的牛丢了", "附近哪里有银行"])
def test_questions_outside_the_law_are_not_answered(matcher, question):
    assert matcher.decide(question).action != "answer"


def test_entries_close_to_each_other_are_offered_as_choices(matcher):
    """The choices themselves, whatever the fitted answer thresholds: with answering turned off,
    the entries offered are the ones on the matter asked about."""
    unsure = copy.copy(matcher)
    unsure.settings = dataclasses.replace(matcher.settings, answer_min=1.5, lead_answer_min=1.5,
                                          agree_count=5, model_answer_min=1.5)
    decision = unsure.decide("村里一直不给我批宅基地盖房")
    assert decision.action == "clarify"
    assert 2 <= len(decision.candidates) <= 3
    assert all("宅基地" in " ".join(matcher.kb.by_id[c.faq_id].keywords) or "建房" in c.question or
               "宅基地" in c.question for c in decision.candidates)


@pytest.mark.parametrize("topic", ["离婚", "宅基地", "借钱", "工资", "打架"])
def test_a_single_topic_word_is_asked_back_with_the_topics_questions(matcher, topic):
    """"宅基地" alone names a topic; answering one of its entries would be a guess."""
    decision = matcher.decide(topic)
    assert decision.action == "clarify"
    assert 2 <= len(decision.candidates) <= 3


def test_a_single_word_whose_entries_quote_one_article_is_answered(matcher):
    """彩礼's entries all quote 民法典第1042条: whichever is first, the villager reads the same rule."""
    decision = matcher.decide("彩礼")
    assert decision.action == "answer" and decision.category == "婚姻家庭"
    assert matcher.kb.by_id[decision.faq_id].quoted == "民法典第1042条"


SAME_IN_EVERY_PROCESS = r"""
import json, sys
from bot.core.config import load_config
from bot.app.services import Services
matcher = Services(load_config(environ={})).matcher
print(json.dumps([matcher.decide(q).as_json() for q in sys.argv[1:]], ensure_ascii=False))
"""


def other_seeds(count: int) -> list[str]:
    """``count`` hash seeds, none of them the one this process may have been started with."""
    return [seed for seed in "1234" if seed != os.environ.get("PYTHONHASHSEED")][:count]


@pytest.mark.slow
def test_a_question_gets_the_same_decision_and_choices_in_every_worker(matcher):
    """Each gunicorn worker hashes words with its own seed: ties must not follow that order.
    Four seeds: this process's own (its matcher is the one the session built) and three fresh
    processes, each building its matcher under another seed, started together."""
    questions = ["老人每年都要刷脸认证吗", "私生子有没有继承权", "娃能跟妈姓吗"]
    here = json.dumps([matcher.decide(q).as_json() for q in questions], ensure_ascii=False)
    children = [subprocess.Popen([sys.executable, "-c", SAME_IN_EVERY_PROCESS, *questions],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "PYTHONHASHSEED": seed})
                for seed in other_seeds(3)]
    outputs = {here + "\n"}
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        outputs.add(out)
    assert len(outputs) == 1


@pytest.mark.parametrize("story, faq_id", [
    ("我老公前几年出去打工 一直没回来 也不给家里寄钱 电话也打不通 我想离婚 他人都找不到能离吗",
     "marriage.absent_spouse"),
    ("去年我借给村里一个亲戚三万块 当时写了借条 现在过了一年多他说没钱 一直拖着不还 能起诉他吗",
     "debt.unpaid_loan"),
    ("我家孩子放学路上被邻居家的狗咬了 缝了三针打了狂犬疫苗 邻居说是孩子先惹狗的 不肯出钱 医药费谁出",
     "tort.dog_bite"),
])
def test_a_long_story_is_answered_from_its_asking_clause(matcher, story, faq_id):
    """The story around the question (打工, 寄钱, 放学路上) does not drown the matter asked about."""
    decision = matcher.decide(story)
    assert (decision.action, decision.faq_id) == ("answer", faq_id)


def test_a_story_whose_question_clause_says_nothing_still_finds_its_matter(matcher):
    decision = matcher.decide("我家前年盖房的时候跟隔壁说好了留一条路 现在他家把路堵了 车都开不进来 我该怎么办")
    assert decision.action in ("answer", "clarify")
    assert decision.candidates[0].faq_id == "neighbor.passage"


@pytest.mark.parametrize("question", ["隔壁那户把我家宅基地占了一块", "我哥把爸妈留下的宅基地占了不让我盖房"])
def test_land_taken_by_a_neighbour_or_a_relative_is_not_answered_as_land_taken_by_the_village(matcher, question):
    """land.public_works_land is about the village or the township taking land; its phrasings
    name no neighbour and no relative, so the counterpart feature holds it down."""
    decision = matcher.decide(question).as_json()
    assert decision["faq_id"] != "land.public_works_land"
    village = next((c for c in decision["candidates"] if c["faq_id"] == "land.public_works_land"), None)
    assert village is None or village["features"]["counterpart"] == -1
