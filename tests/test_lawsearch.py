"""Law search (colloquial questions find the right articles), `law show|search`, and 查法条 in chat."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot import lawsearch
from bot.cli import main
from bot.config import PROJECT_ROOT, load_config
from bot.knowledge import Article, FaqLink, Law, Statutes, load_knowledge, load_statutes
from bot.lawsearch import Bm25, LawIndex
from handlers.lookup import lookup_query, lookup_text

LOAN_ARTICLES = {"民法典第667条", "民法典第668条", "民法典第675条", "民法典第679条", "民法典第680条"}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    kb = load_knowledge(load_config(environ={}), strict=False)
    return LawIndex(kb.statutes, cache_dir=tmp_path_factory.mktemp("cache"))


def law(name: str, in_force: bool = True) -> Law:
    return Law(name, "中华人民共和国" + name, "2020-01-01", "现行有效" if in_force else "已废止",
               in_force, {}, "")


def article(name: str, number: int, text: str, chapter: str = "") -> Article:
    return Article(name, number, f"第{number}条", chapter, "", text)


def tiny_statutes(links=()) -> Statutes:
    articles = [article("民法典", 1, "借款人应当按照约定的期限返还借款。", "借款合同"),
                article("民法典", 2, "饲养的动物造成他人损害的，动物饲养人应当承担侵权责任。"),
                article("民法典", 3, "建造建筑物，不得妨碍相邻建筑物的通风、采光和日照。"),
                article("婚姻法", 32, "男女一方要求离婚的，可由有关部门进行调解。")]
    return Statutes([law("民法典"), law("婚姻法", in_force=False)], articles, links)


def test_colleague_who_does_not_repay_finds_the_loan_articles(index):
    hits = index.search("同事借钱不还", k=5)
    assert {h.citation for h in hits} & LOAN_ARTICLES
    assert hits[0].citation in LOAN_ARTICLES


@pytest.mark.parametrize("question,right", [
    ("老公天天打我", {"反家庭暴力法第23条", "反家庭暴力法第13条", "民法典第1079条"}),
    ("邻居盖新房挡住我家阳光", {"民法典第293条"}),
    ("网上买的鞋子不想要了能退吗", {"消费者权益保护法第25条"}),
    ("想砍自家山上的树卖", {"森林法第56条", "森林法第57条"}),
])
def test_colloquial_questions_find_a_right_article_in_the_top_five(index, question, right):
    assert {h.citation for h in index.search(question, k=5)} & right


def test_a_question_naming_an_article_gets_it_first(index):
    assert index.search("民法典1079说的是什么")[0].citation == "民法典第1079条"


def test_k_limits_the_hits_and_nothing_matching_gives_none(index):
    assert len(index.search("离婚", k=3)) == 3
    assert index.search("？？？", k=5) == []


def test_hits_have_the_json_shape(index):
    hit = index.search("借钱不还", k=1)[0].as_json()
    assert set(hit) == {"citation", "law", "article", "text", "score"}
    assert hit["text"] == load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes")).get(hit["citation"]).text


def test_laws_not_in_force_are_never_suggested(tmp_path):
    index = LawIndex(tiny_statutes(), cache_dir=tmp_path)
    assert [h.citation for h in index.search("离婚 调解")] == []


def test_an_faq_phrasing_lifts_the_article_its_entry_cites(tmp_path):
    plain = LawIndex(tiny_statutes(), cache_dir=tmp_path)
    assert plain.search("被狗咬了") == []
    link = FaqLink("tort.dog_bite", ("民法典第2条",), "民法典第2条", ("被狗咬了谁赔", "狗咬人"))
    linked = LawIndex(tiny_statutes([link]), cache_dir=tmp_path)
    assert linked.search("被狗咬了")[0].citation == "民法典第2条"


def test_article_words_are_cached_on_disk_and_reused(tmp_path, monkeypatch):
    LawIndex(tiny_statutes(), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("lawindex-*.json"))) == 1
    monkeypatch.setattr(lawsearch, "article_words", lambda a: pytest.fail("segmented again"))
    assert LawIndex(tiny_statutes(), cache_dir=tmp_path).search("采光")[0].citation == "民法典第3条"


def test_the_cache_key_changes_with_the_text():
    changed = Statutes([law("民法典")], [article("民法典", 1, "另一段话。")])
    assert lawsearch.cache_key(tiny_statutes()) != lawsearch.cache_key(changed)


def test_bm25_prefers_the_document_with_the_rarer_word():
    bm25 = Bm25([["借款", "合同"], ["合同", "履行"], ["合同", "解除"]])
    scores = bm25.scores({"借款": 1.0, "合同": 1.0})
    assert max(scores, key=scores.get) == 0 and all(0 < s <= 1 for s in scores.values())


# --- the command line -------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["民法典第1079条", "民法典1079", "《民法典》第一千零七十九条"])
def test_law_show_prints_the_article_verbatim(spelling):
    result = CliRunner().invoke(main, ["law", "show", spelling])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "《中华人民共和国民法典》第一千零七十九条（民法典第1079条）"
    assert lines[1] == "第四章 离婚；2020-05-28 版本"
    assert "\n".join(lines[2:]) == load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes")).get(
        "民法典第1079条").text


def test_law_show_refuses_an_article_we_do_not_hold():
    result = CliRunner().invoke(main, ["law", "show", "工伤保险条例第14条"])
    assert result.exit_code == 1
    assert "工伤保险条例第14条 is not in knowledge/statutes" in result.output


def test_law_search_json_reads_one_query_a_line_from_stdin():
    result = CliRunner().invoke(main, ["law", "search", "--json", "-k", "3"],
                                input="同事借钱不还\n\n被狗咬了\n")
    lists = [json.loads(line) for line in result.output.splitlines()]
    assert len(lists) == 2 and all(len(hits) == 3 for hits in lists)
    assert {h["citation"] for h in lists[0]} & LOAN_ARTICLES


def test_law_search_prints_ranked_lines_for_people():
    result = CliRunner().invoke(main, ["law", "search", "-k", "2", "借钱不还"])
    lines = result.output.splitlines()
    assert lines[0] == "# 借钱不还" and lines[1].startswith("1. 民法典第") and len(lines) == 3


# --- 查法条 in chat ----------------------------------------------------------------------------

@pytest.mark.parametrize("message,query", [
    ("查法条 民法典1079", "民法典1079"), ("查法条：《民法典》第一千零七十九条", "《民法典》第一千零七十九条"),
    ("民法典第1079条", "民法典第1079条"), ("查法条", ""), ("老婆要离婚怎么办", None),
])
def test_lookup_query_recognises_a_lookup(message, query):
    assert lookup_query(message) == query


def test_lookup_text_says_plainly_what_is_not_held():
    statutes = load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes"))
    assert "没有查到“工伤保险条例第14条”" in lookup_text("工伤保险条例第14条", statutes)
    assert "查法条 民法典1079" in lookup_text("", statutes)


def test_chat_lookup_returns_the_article_verbatim(wechat):
    reply = wechat.say("查法条 民法典1079")
    assert reply.startswith("《中华人民共和国民法典》第一千零七十九条")
    assert "（四）因感情不和分居满二年；" in reply


def test_chat_lookup_of_a_long_article_is_split_and_loses_nothing(wechat):
    article = load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes")).get("食品安全法第126条")
    first = wechat.say("查法条 食品安全法第126条")
    rest = wechat.say("更多")
    assert len(first.encode()) <= 2048 and first.endswith("看下一段）")
    shown = first.rsplit("\n\n（", 1)[0] + "\n" + rest
    assert article.text.replace("\n", "") in shown.replace("\n", "")
