"""The knowledge base: citations, statutes, composing a reply, loading with validation."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.core.config import load_config
from bot.kb.knowledge import (FaqEntry, KnowledgeBase, KnowledgeError, chinese_number, compose_reply,
                           find_citations, format_article, load_knowledge, load_statutes,
                           parse_citation, shorten, utf8_len)
from bot.core.config import PROJECT_ROOT

STATUTES = str(PROJECT_ROOT / "knowledge" / "statutes")


@pytest.fixture(scope="module")
def statutes():
    return load_statutes(STATUTES)


@pytest.fixture
def config(tmp_path):
    return load_config(overrides={"app": {"db_path": str(tmp_path / "x.db")}}, environ={})


def entry(**fields) -> FaqEntry:
    base = dict(id="marriage.divorce_lawsuit", category="婚姻家庭",
                questions=("老婆不肯离婚能起诉吗", "分居两年能判离吗", "去法院离婚要什么条件"),
                keywords=("起诉离婚",), answer="可以去{court}起诉离婚。", citations=("民法典第1079条",),
                quote=None, other_sources=(), needs_person=False, reviewed=dt.date(2026, 11, 1),
                source="knowledge/faq/test.toml")
    return FaqEntry(**{**base, **fields})


@pytest.mark.parametrize("spelling", [
    "民法典第1079条", "民法典1079", "《民法典》第一千零七十九条", "《中华人民共和国民法典》第1079条",
    "中华人民共和国民法典第一千零七十九条", "民法典 第 1079 条", "查法条 民法典1079", "查民法典第1079条",
])
def test_parse_citation_accepts_the_usual_spellings(spelling, statutes):
    assert parse_citation(spelling, known=statutes.laws) == "民法典第1079条"


def test_parse_citation_keeps_the_full_name_of_a_longer_law():
    assert parse_citation("农村土地承包经营纠纷调解仲裁法第三条") == "农村土地承包经营纠纷调解仲裁法第3条"
    assert parse_citation("《劳动争议调解仲裁法》第二十七条") == "劳动争议调解仲裁法第27条"


def test_parse_citation_returns_none_without_a_law_and_number():
    assert parse_citation("老婆不肯离婚怎么办") is None
    assert parse_citation("第1079条") is None


def test_parse_citation_with_known_laws_rejects_an_unknown_law():
    assert parse_citation("工伤保险条例第14条") == "工伤保险条例第14条"
    assert parse_citation("工伤保险条例第14条", laws=["民法典"]) is None
    assert parse_citation("工伤保险条例第14条", known=["民法典"]) == "工伤保险条例第14条"


def test_words_before_a_law_are_dropped_only_for_the_laws_given():
    """The law names come from the caller (its configured statutes), not from the shipped folder:
    a folder without 民法典 keeps "查民法典" as written."""
    assert parse_citation("查民法典第1079条", known=["民法典"]) == "民法典第1079条"
    assert parse_citation("查民法典第1079条", known=["刑法"]) == "查民法典第1079条"
    assert find_citations("另见水利法第3条", known=["水利法"]) == ["水利法第3条"]
    assert find_citations("另见水利法第3条") == ["另见水利法第3条"]


@pytest.mark.parametrize("spelling", [
    "刑法第133条之一", "刑法第一百三十三条之一", "刑法133条之一", "《中华人民共和国刑法》第一百三十三条之一",
    "查法条 刑法 第133条 之一",
])
def test_parse_citation_keeps_the_suffix_of_an_article_added_by_amendment(spelling, statutes):
    assert parse_citation(spelling, known=statutes.laws) == "刑法第133条之一"


def test_find_citations_in_prose_keeps_suffixes_and_ignores_zhi_guiding(statutes):
    found = find_citations("依照刑法第二百七十六条之一、民法典第1079条之规定", known=statutes.laws)
    assert found == ["刑法第276条之一", "民法典第1079条"]


def test_a_bare_suffixed_citation_is_recognised_as_a_lookup():
    from handlers.lookup import lookup_query
    assert lookup_query("刑法第133条之一") == "刑法第133条之一"
    assert lookup_query("刑法133条之一") == "刑法133条之一"


def test_a_suffixed_article_is_a_separate_article_from_its_base(statutes):
    drunk = statutes.get("刑法第一百三十三条之一")
    assert drunk.citation == "刑法第133条之一" and drunk.suffix == "之一"
    assert statutes.get("刑法第133条").text.startswith("违反交通运输管理法规，因而发生重大事故")


def test_format_article_says_when_a_law_is_not_yet_in_force(statutes):
    article = statutes.get("医疗保障法第1条")
    law = statutes.law_of(article)
    assert "【尚未施行，自2027-01-01起施行】" in format_article(article, law, dt.date(2026, 11, 30))
    assert "尚未施行" not in format_article(article, law, dt.date(2027, 1, 1))


def test_format_article_names_the_amendment_applied(statutes):
    article = statutes.get("刑法第390条")
    assert "【本条已按中华人民共和国刑法修正案（十二）修改】" in format_article(article, statutes.law_of(article))


@pytest.mark.parametrize("numeral,value", [("十", 10), ("二十一", 21), ("一百零一", 101),
                                           ("一千零七十九", 1079), ("1260", 1260), ("第", None)])
def test_chinese_number_reads_article_numbers(numeral, value):
    assert chinese_number(numeral) == value


def test_find_citations_in_prose_needs_both_di_and_tiao(statutes):
    found = find_citations("法律规定3个月内办好，另见民法典第1079条和《工伤保险条例》第十四条。", known=statutes.laws)
    assert found == ["民法典第1079条", "工伤保险条例第14条"]


def test_statutes_hold_the_article_verbatim(statutes):
    article = statutes.get("民法典第1079条")
    assert article.label == "第一千零七十九条"
    assert article.chapter == "第四章 离婚"
    assert "（四）因感情不和分居满二年；" in article.text
    assert statutes.get("《民法典》第一千零七十九条") is article


def test_statutes_return_none_for_an_article_we_do_not_hold(statutes):
    assert statutes.get("民法典第9999条") is None
    assert statutes.get("工伤保险条例第14条") is None


def test_format_article_names_law_chapter_and_version(statutes):
    article = statutes.get("民法典第1079条")
    shown = format_article(article, statutes.law_of(article))
    assert shown.splitlines()[0] == "《中华人民共和国民法典》第一千零七十九条（民法典第1079条）"
    assert "第四章 离婚" in shown and "2020-05-28" in shown
    assert shown.endswith(article.text)


def test_shorten_cuts_at_a_sentence_boundary_and_keeps_the_words():
    text = "第一句话说完了。第二句话也说完了；第三句话很长很长很长很长。"
    cut = shorten(text, utf8_len("第一句话说完了。第二句话") + 6)
    assert cut == "第一句话说完了。……"
    assert shorten(text, 1000) == text


def test_shorten_falls_back_to_a_clause_boundary():
    text = "甲乙丙丁，戊己庚辛，壬癸子丑寅卯辰巳午未申酉戌亥。"
    assert shorten(text, utf8_len("甲乙丙丁，戊己庚辛，") + 6) == "甲乙丙丁，戊己庚辛……"


def test_compose_reply_quotes_the_article_and_adds_the_disclaimer(config, statutes):
    kb = KnowledgeBase([entry()], statutes)
    reply = compose_reply(entry(), kb, config)
    answer, rest = reply.split("\n\n", 1)
    assert answer == "可以去示例县人民法院起诉离婚。"
    assert rest.startswith("【法条】《民法典》第1079条：夫妻一方要求离婚的")
    assert rest.endswith("\n" + config.reply.disclaimer)
    assert statutes.get("民法典第1079条").text in reply


def test_compose_reply_quotes_the_chosen_article(config, statutes):
    chosen = entry(citations=("民法典第1079条", "民法典第1076条"), quote="民法典第1076条")
    reply = compose_reply(chosen, KnowledgeBase([chosen], statutes), config)
    assert "【法条】《民法典》第1076条：夫妻双方自愿离婚的" in reply


def test_compose_reply_shortens_a_long_article_to_fit(config, statutes):
    long_answer = "离婚的事要慢慢说清楚。" * 40
    tight = entry(answer=long_answer)
    reply = compose_reply(tight, KnowledgeBase([tight], statutes), config)
    assert utf8_len(reply) <= config.reply.max_bytes
    quoted = reply.split("【法条】《民法典》第1079条：", 1)[1].split("\n" + config.reply.disclaimer)[0]
    assert quoted.endswith("……")
    assert statutes.get("民法典第1079条").text.startswith(quoted.removesuffix("……"))


def test_compose_reply_keeps_a_long_quote_short_enough_for_a_phone(config, statutes):
    long_article = entry(citations=("土地管理法第62条",))
    reply = compose_reply(long_article, KnowledgeBase([long_article], statutes), config)
    quoted = reply.split("【法条】《土地管理法》第62条：", 1)[1].split("\n" + config.reply.disclaimer)[0]
    assert utf8_len(quoted) <= config.reply.quote_max_bytes
    assert quoted.endswith("……")
    assert statutes.get("土地管理法第62条").text.startswith(quoted.removesuffix("……"))


def test_compose_reply_quotes_the_excerpt_under_the_law_title(config, statutes):
    sentence = "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。"
    excerpted = entry(quote="民法典第1079条", excerpt=sentence)
    reply = compose_reply(excerpted, KnowledgeBase([excerpted], statutes), config)
    assert reply == (f"可以去示例县人民法院起诉离婚。\n\n【法条】《民法典》第1079条：{sentence}……\n"
                     f"{config.reply.disclaimer}")


def quoted_part(reply: str, header: str, config) -> str:
    return reply.split(header, 1)[1].split("\n" + config.reply.disclaimer)[0]


def test_compose_reply_marks_an_excerpt_that_stops_before_the_article_ends(config, statutes):
    items = ("有下列情形之一的，申请人应当先向行政复议机关申请行政复议，对行政复议决定不服的，可以再依法向人民法院提起行政诉讼：\n"
             "（一）对当场作出的行政处罚决定不服；\n（二）对行政机关作出的侵犯其已经依法取得的自然资源的所有权或者使用权的决定不服；")
    first_items = entry(category="土地与宅基地", citations=("行政复议法第23条",), quote="行政复议法第23条", excerpt=items)
    reply = compose_reply(first_items, KnowledgeBase([first_items], statutes), config)
    assert quoted_part(reply, "【法条】《行政复议法》第23条：", config) == items + "……"


def test_compose_reply_marks_an_excerpt_that_starts_inside_the_article(config, statutes):
    last = "对前款规定的情形，行政机关在作出行政行为时应当告知公民、法人或者其他组织先向行政复议机关申请行政复议。"
    closing = entry(category="土地与宅基地", citations=("行政复议法第23条",), quote="行政复议法第23条", excerpt=last)
    reply = compose_reply(closing, KnowledgeBase([closing], statutes), config)
    assert quoted_part(reply, "【法条】《行政复议法》第23条：", config) == "……" + last


def test_compose_reply_marks_both_ends_of_an_excerpt_from_the_middle(config, statutes):
    middle = "禁止重婚。禁止有配偶者与他人同居。"
    bigamy = entry(citations=("民法典第1042条",), quote="民法典第1042条", excerpt=middle)
    reply = compose_reply(bigamy, KnowledgeBase([bigamy], statutes), config)
    assert quoted_part(reply, "【法条】《民法典》第1042条：", config) == "……" + middle + "……"


def test_compose_reply_shows_a_whole_article_excerpt_without_marks(config, statutes):
    free = entry(category="纠纷解决与法律服务", citations=("人民调解法第4条",), quote="人民调解法第4条",
                 excerpt="人民调解委员会调解民间纠纷，不收取任何费用。")
    reply = compose_reply(free, KnowledgeBase([free], statutes), config)
    assert quoted_part(reply, "【法条】《人民调解法》第4条：", config) == "人民调解委员会调解民间纠纷，不收取任何费用。"


def test_compose_reply_shows_a_suffixed_article_with_its_suffix(config, statutes):
    drunk = entry(category="交通", citations=("刑法第133条之一",), quote="刑法第133条之一",
                  excerpt="在道路上驾驶机动车，有下列情形之一的，处拘役，并处罚金：\n（一）追逐竞驶，情节恶劣的；")
    reply = compose_reply(drunk, KnowledgeBase([drunk], statutes), config)
    assert "【法条】《刑法》第133条之一：在道路上驾驶机动车" in reply


def test_compose_reply_without_a_citation_is_answer_and_disclaimer(config, statutes):
    local = entry(category="便民服务", citations=())
    reply = compose_reply(local, KnowledgeBase([local], statutes), config)
    assert reply == f"可以去示例县人民法院起诉离婚。\n{config.reply.disclaimer}"


def test_every_entry_of_the_project_composes_within_the_reply_limit(config):
    kb = load_knowledge(config, strict=False)
    too_long = [e.id for e in kb.entries if utf8_len(compose_reply(e, kb, config)) > config.reply.max_bytes]
    assert kb.entries and too_long == []


def test_load_knowledge_is_strict_by_default(config, tmp_path):
    broken = tmp_path / "kb"
    (broken / "faq").mkdir(parents=True)
    (broken / "statutes").symlink_to(STATUTES)
    (broken / "faq" / "bad.toml").write_text(
        '[[entry]]\nid = "x.y"\ncategory = "婚姻家庭"\nquestions = ["a1", "b2", "c3"]\nkeywords = []\n'
        'answer = "好"\ncitations = ["民法典第9999条"]\nquote = "民法典第9999条"\nneeds_person = false\n'
        'reviewed = 2026-11-01\n',
        encoding="utf-8")
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(config, broken)
    assert raised.value.errors == [
        "kb/faq/bad.toml [x.y]: citation '民法典第9999条' is not in knowledge/statutes"]
    assert load_knowledge(config, broken, strict=False).entries == []


def test_knowledge_dir_comes_from_config(tmp_path):
    (tmp_path / "faq").mkdir()
    (tmp_path / "statutes").symlink_to(STATUTES)
    config = load_config(overrides={"app": {"knowledge_dir": str(tmp_path)}}, environ={})
    kb = load_knowledge(config)
    assert kb.entries == [] and kb.directory == tmp_path
    assert kb.statutes.get("民法典第1079条") is not None


def test_entries_are_linked_to_the_statutes_for_law_search(config):
    kb = load_knowledge(config, strict=False)
    cited = {c for link in kb.statutes.links for c in link.citations}
    assert cited == {c for e in kb.entries for c in e.citations}
    assert dataclasses.is_dataclass(kb.statutes.links[0])
