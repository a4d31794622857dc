"""Which questions go to a person (bot.retrieval.triage) and the category a question without an answer
gets (bot.retrieval.categories), on the matcher's small knowledge base (tests/fixtures/kb) with one entry
marked ``needs_person``: real entries, real statutes, the real matcher and law search."""
from __future__ import annotations

import dataclasses

import pytest

from bot.retrieval import categories, triage as escalation
from bot.core.config import MatcherSettings
from bot.core.messages import Considered
from bot.kb.knowledge import KnowledgeBase
from bot.retrieval.lawsearch import LawIndex
from bot.retrieval.matcher import Matcher
from bot.app.services import Services
from bot.core.text import normalize
from tests.matcher_support import small_kb

SETTINGS = dict(answer_min=0.44, answer_margin=0.02, clarify_min=0.30, clarify_margin=0.10,
                clarify_min_weight=4.0)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """Services on the small knowledge base, where the dog-bite entry needs a person."""
    from bot.core.config import load_config
    from tests.conftest import test_overrides
    kb = small_kb()
    entries = [dataclasses.replace(e, needs_person=e.id == "test.dog_bite") for e in kb.entries]
    serious = KnowledgeBase(entries, kb.statutes)
    found = Services(load_config(overrides=test_overrides(tmp_path_factory.mktemp("esc")), environ={}))
    found.__dict__["knowledge"] = serious
    found.__dict__["matcher"] = Matcher(serious, MatcherSettings(**SETTINGS))
    found.__dict__["law_index"] = LawIndex(serious.statutes, cache_dir=None)
    return found


def decide(services, text: str):
    return escalation.decide(services, text, normalize(text))


def test_an_ordinary_question_keeps_the_faqs_answer(services):
    decision = decide(services, "彩礼给了婚没结成能要回来吗")
    assert (decision.action, decision.faq_id) == ("answer", "test.bride_price")


def test_an_entry_that_needs_a_person_is_answered_with_the_person_offered(services):
    """Asking what the rules are is not yet a serious matter: the general answer, and the
    adviser one tap away (handlers/text.py adds the offer)."""
    decision = decide(services, "邻居的狗咬了我家娃 打疫苗谁出钱")
    assert (decision.action, decision.faq_id) == ("answer", "test.dog_bite")
    assert escalation.offers_person(services.knowledge, decision)
    assert not escalation.offers_person(services.knowledge, decide(services, "彩礼给了婚没结成能要回来吗"))


def test_a_serious_matter_on_an_entry_that_needs_a_person_carries_its_general_answer(services):
    decision = decide(services, "邻居的狗把我娃咬成重伤住院了 打疫苗谁出钱")
    assert (decision.action, decision.faq_id) == ("escalate", "test.dog_bite")
    assert decision.citations == ["民法典第1245条"] and not decision.reason.startswith("needs a person")


def test_a_serious_matter_is_handed_over_with_its_reason_and_a_category(services):
    decision = decide(services, "我哥被公安抓了 说是盗窃 家里该怎么办")
    assert decision.action == "escalate" and decision.reason.startswith("criminal")
    assert decision.faq_id is None and decision.category      # inferred, never 未分类


def test_a_denied_arrest_is_an_ordinary_question(services):
    assert decide(services, "我哥被抓了").action == "escalate"
    assert decide(services, "我哥没被抓").action != "escalate"


def test_the_faq_view_shares_the_matchers_index_and_ignores_escalation_rules(services):
    view = escalation.faq_matcher(services.matcher)
    assert view is escalation.faq_matcher(services.matcher)
    assert view.entries is services.matcher.entries
    assert view.decide("法院寄来了传票").action != "escalate"
    assert services.matcher.decide("法院寄来了传票").action == "escalate"


def test_a_question_without_an_answer_gets_the_category_of_its_words(services):
    candidates = [Considered("test.homestead", 0.25), Considered("test.custody", 0.05)]
    assert categories.infer(services, "农村村民建房申请宅基地", candidates) == "土地与宅基地"
    assert categories.infer(services, "上山砍树要办采伐许可证吗", []) == "土地与宅基地"   # law search alone
    assert categories.infer(services, "", []) is None


def test_law_search_alone_names_a_category_through_the_entries_citing_its_articles(services):
    cmap = categories.category_map(services.knowledge)
    assert cmap.of_article("民法典第1245条", "民法典") == "侵权"
    assert cmap.of_article("民法典第9999条", "没有这部法") is None


def test_a_matcher_and_its_faq_view_are_freed_with_it():
    """The FAQ view and the category map live on the objects they were made from: a process
    that builds a new knowledge base (published drafts, tests) does not keep the old ones."""
    import gc
    import weakref
    kb = KnowledgeBase(list(small_kb().entries), small_kb().statutes)   # small_kb() is cached
    matcher = Matcher(kb, MatcherSettings(**SETTINGS))
    escalation.faq_matcher(matcher)
    categories.category_map(kb)
    gone_matcher, gone_kb = weakref.ref(matcher), weakref.ref(kb)
    del matcher, kb
    gc.collect()
    assert gone_matcher() is None and gone_kb() is None
