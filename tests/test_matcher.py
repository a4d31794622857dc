"""The matcher's decisions on a small knowledge base of its own (tests/fixtures/kb)."""
from __future__ import annotations

import pytest

from bot.core.config import load_config
from bot.retrieval.matcher import reply_for
from tests.matcher_support import small_kb, small_matcher

CALIBRATED = dict(answer_min=0.44, answer_margin=0.02, clarify_min=0.30, clarify_margin=0.10,
                  clarify_min_weight=4.0)


@pytest.fixture(scope="module")
def matcher():
    return small_matcher(**CALIBRATED)


@pytest.mark.parametrize("question, faq_id", [
    ("彩礼给了婚没结成能要回来吗", "test.bride_price"),
    ("媳妇不同意离婚我能起诉吗", "test.divorce_lawsuit"),       # 媳妇 → 妻子, 不同意
    ("老板拖了三个月工钱不给", "test.unpaid_wages"),
    ("邻居的狗咬了我家娃 打疫苗谁出钱", "test.dog_bite"),
])
def test_a_clear_question_is_answered_with_its_entry(matcher, question, faq_id):
    decision = matcher.decide(question)
    assert (decision.action, decision.faq_id) == ("answer", faq_id)
    assert decision.citations == list(small_kb().by_id[faq_id].citations)


@pytest.mark.parametrize("typo, faq_id", [("彩里能要回来吗", "test.bride_price"),
                                          ("宅急地怎么申请", "test.homestead")])
def test_homophone_typos_are_read_as_the_legal_word(matcher, typo, faq_id):
    assert matcher.decide(typo).faq_id == faq_id


def test_a_run_across_a_real_word_is_not_corrected(matcher):
    assert matcher.correct_homophones("立遗嘱要怎么写") == "立遗嘱要怎么写"


def test_traditional_and_simplified_questions_decide_alike(matcher):
    simplified, traditional = matcher.decide("彩礼能要回来吗"), matcher.decide("彩禮能要回來嗎")
    assert (traditional.action, traditional.faq_id) == (simplified.action, simplified.faq_id)


def test_rare_words_outweigh_common_ones(matcher):
    query = matcher.query("宅基地怎么办")
    weights = {next(iter(alts[0][0])): weight for alts, weight in zip(query.groups, query.weights)}
    assert "怎么办" not in weights  # a function word: dropped
    assert weights["宅基地"] > min(matcher.idf.values())


def test_only_entries_sharing_a_word_are_scored(matcher):
    shortlisted = {matcher.entries[n].entry.id for n in matcher.shortlist(matcher.query("采伐证去哪办"))}
    assert "test.logging_permit" in shortlisted and "test.custody" not in shortlisted


def test_close_entries_are_offered_as_numbered_choices_when_none_is_clear():
    unsure = small_matcher(**{**CALIBRATED, "answer_min": 0.99, "lead_answer_min": 0.99, "agree_answer_min": 0.99})
    decision = unsure.decide("离婚了孩子归谁 要起诉吗")
    assert decision.action == "clarify"
    assert 1 <= len(decision.candidates) <= 3
    assert decision.candidates[0].faq_id in {"test.custody", "test.divorce_lawsuit"}


def test_a_question_sharing_no_informative_word_falls_back(matcher):
    decision = matcher.decide("股票怎么买")
    assert decision.action == "fallback" and decision.faq_id is None


@pytest.mark.parametrize("question", ["他现在拿着刀要砍我", "我不想活了", "老公正在打我 快来", "婆婆喝了农药"])
def test_danger_now_is_urgent(matcher, question):
    assert matcher.decide(question).action == "urgent"


def test_violence_in_the_past_is_a_question_not_an_emergency(matcher):
    assert matcher.decide("老公喝了酒就打我怎么办").action != "urgent"


@pytest.mark.parametrize("question, reason", [
    ("法院寄来了传票", "court"), ("转人工", "person"), ("我要找律师", "person"),
    ("儿子被派出所抓走了", "criminal"), ("村里要强拆我家房子", "land_taking"),
    ("网上被骗了五万块", "fraud"),
    ("大哥走了留下房子和欠款 嫂子改嫁 侄子要分地", "tangle"),
])
def test_matters_for_a_person_are_escalated_with_the_reason(matcher, question, reason):
    decision = matcher.decide(question)
    assert decision.action == "escalate" and decision.reason.startswith(reason)


def test_a_small_fraud_is_not_escalated_by_the_fraud_rule(matcher):
    assert matcher.decide("买东西被骗了50块").reason.startswith("fraud") is False


@pytest.mark.parametrize("message, kind", [("你好", "greeting"), ("谢谢！", "thanks"),
                                           ("你是谁", "identity"), ("帮助", "help"), ("哈哈哈", "greeting")])
def test_small_talk_is_chitchat_of_its_kind(matcher, message, kind):
    decision = matcher.decide(message)
    assert (decision.action, decision.reason) == ("chitchat", kind)


def test_a_greeting_before_a_question_does_not_hide_the_question(matcher):
    assert matcher.decide("你好，彩礼能要回来吗").action == "answer"


def test_as_json_has_exactly_the_designed_keys(matcher):
    shape = matcher.decide("彩礼能要回来吗").as_json()
    assert set(shape) == {"action", "faq_id", "score", "citations", "candidates", "category", "reply", "reason"}
    assert set(shape["candidates"][0]) == {"faq_id", "question", "citations", "score", "features"}


def test_features_as_json_rounds_every_share_and_keeps_every_count(matcher):
    """``Features.as_json`` is spelled out field by field: the same names, in the same order,
    as the named tuple's fields, shares to three decimals and counts (anchors, role,
    counterpart) as whole numbers."""
    from bot.retrieval.decision import Features
    features = Features(0.12345, 0.5, 1 / 3, 2 / 3, 0.0, 0.0004, 0.9996, 7.25, 2, -1, 0.66666, 1)
    generic = {name: round(value, 3) if isinstance(value, float) else value
               for name, value in zip(Features._fields, features)}
    assert list(features.as_json().items()) == list(generic.items())
    for decision in (matcher.decide(q) for q in ("彩礼能要回来吗", "邻居的狗咬了我家娃", "老板拖了三个月工钱不给")):
        for shown in decision.candidates:
            assert list(shown.features) == list(Features._fields)


def test_a_decisions_features_are_rounded_only_when_read(matcher):
    """The candidates a decision shows carry their features as a view that rounds them when
    first read (``ask --json``); the live path, which records only the entry and its score,
    never pays for it. Read, the view is ``Features.as_json``, key for key."""
    from bot.retrieval.decision import FeaturesShown
    decision = matcher.decide("邻居的狗咬了我家娃 打疫苗谁出钱")
    views = [c.features for c in decision.candidates]
    assert views and all(isinstance(v, FeaturesShown) and v.shown is None for v in views)
    for view in views:
        assert dict(view) == view.features.as_json() == view
        assert list(view) == list(view.features._fields) and len(view) == len(view.features._fields)
    shown = decision.as_json()["candidates"]
    assert [c["features"] for c in shown] == [v.features.as_json() for v in views]


def test_an_overlong_message_is_cut_before_matching(matcher):
    decision = matcher.decide("彩礼能要回来吗" + "啊" * 10_000)
    assert len(decision.question) == matcher.settings.max_question_chars


def test_replies_quote_the_article_for_answers_and_number_the_choices(matcher):
    config = load_config(environ={})
    answer = matcher.decide("彩礼给了婚没结成能要回来吗")
    assert "【法条】《民法典》第1042条" in reply_for(answer, small_kb(), config)
    unsure = small_matcher(**{**CALIBRATED, "answer_min": 0.99, "lead_answer_min": 0.99, "agree_answer_min": 0.99}).decide("离婚了孩子归谁 要起诉吗")
    text = reply_for(unsure, small_kb(), config)
    assert text.splitlines()[1].startswith("1. ") and "回复数字" in text
    assert "转人工" in reply_for(matcher.decide("股票怎么买"), small_kb(), config)
    assert "12356" in reply_for(matcher.decide("我不想活了"), small_kb(), config)


# --- neighbours the words alone cannot tell apart ----------------------------------------------

def entry(faq_id: str, questions: list[str], keywords: list[str], article: str = "民法典第1179条"):
    import datetime as dt
    from bot.kb.knowledge import FaqEntry
    return FaqEntry(id=faq_id, category="测试", questions=tuple(questions), keywords=tuple(keywords),
                    answer="测试答案。", citations=(article,), quote=article, other_sources=(),
                    needs_person=False, reviewed=dt.date(2026, 11, 30), source="tests")


def test_entries_tied_at_the_shortlist_cut_are_ranked_by_their_closest_phrasing():
    """Twenty entries share the question's words; the one holding the question itself is listed
    last and still reaches the shortlist (ties used to go to the entries listed first)."""
    from bot.core.config import MatcherSettings
    from bot.kb.knowledge import KnowledgeBase
    from bot.retrieval.matcher import SHORTLIST, Matcher
    others = [entry(f"tie.{n:02d}", [f"那个人打了招呼 第{n}回说了些什么话 要怎么处理才好呢"], ["处理"])
              for n in range(SHORTLIST + 8)]
    target = entry("tie.target", ["被人打了", "挨了打怎么办"], ["挨打"])
    matcher = Matcher(KnowledgeBase(others + [target], statutes=None), MatcherSettings())
    shortlisted = [matcher.entries[n].entry.id for n in matcher.shortlist(matcher.query("被人打了"))]
    assert "tie.target" in shortlisted
    assert shortlisted == [matcher.entries[n].entry.id for n in matcher.shortlist(matcher.query("被人打了"))]


def test_a_hotline_number_an_entry_names_tells_two_hotlines_apart():
    from bot.core.config import MatcherSettings
    from bot.kb.knowledge import KnowledgeBase
    from bot.retrieval.matcher import Matcher
    kb = KnowledgeBase([entry("line.legal", ["法律咨询打哪个电话", "12348热线是干什么的"], ["12348", "热线"], "法律援助法第1条"),
                        entry("line.security", ["发现间谍打哪个电话", "12339是什么电话"], ["12339", "举报"], "反间谍法第1条")],
                       statutes=None)
    matcher = Matcher(kb, MatcherSettings())
    assert matcher.decide("12348是什么电话").candidates[0].faq_id == "line.legal"
    assert matcher.decide("12339是什么电话").candidates[0].faq_id == "line.security"
    assert "2000" not in matcher.query("借了2000块不还").words   # a number no entry names stays out
