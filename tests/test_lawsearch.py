"""Law search (colloquial questions find the right articles, citations taken literally, nothing
shown without evidence, the disk cache), `law show|search`, and 查法条 in chat."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from bot.retrieval import lawsearch
from bot.escalation import tickets
from bot.core import users
from bot.cli import main
from bot.core.config import PROJECT_ROOT, load_config
from bot.conversation.dispatch import Consultation, Incoming
from bot.kb.knowledge import Article, FaqLink, Law, Statutes, load_knowledge, load_statutes, read_law
from bot.retrieval.lawsearch import LawIndex
from bot.app.services import Services
from bot.core import text
from bot.core.text import DictionaryError
from bot.cli import law as law_cli
from handlers.lookup import lookup_query, lookup_text
from tests.escalation_support import START, VILLAGER, context, hand_over, make_services, open_db

SHIPPED_DICT = PROJECT_ROOT / "knowledge" / "dict"
SHIPPED_LAWTERMS = SHIPPED_DICT / "lawterms.toml"
LOAN_ARTICLES = {"民法典第667条", "民法典第668条", "民法典第675条", "民法典第679条", "民法典第680条"}
OWN_QUESTIONS = PROJECT_ROOT / "tests" / "data" / "lawsearch_questions.jsonl"
ADDED_LAWS_QUESTIONS = PROJECT_ROOT / "tests" / "data" / "lawsearch_added_laws.jsonl"


@pytest.fixture(scope="module")
def index():
    """The shipped statutes' index as the app has it (shared with the session's apps, read from
    the disk cache when one is there): these tests search it. Building it, into a fresh cache or
    from the seed, is pinned by the cache tests below, which build their own."""
    return Services(load_config(environ={})).law_index


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


def test_most_of_our_own_colloquial_questions_find_a_right_article(index):
    """tests/data/lawsearch_questions.jsonl: questions written for law search, not eval ones."""
    items = [json.loads(line) for line in OWN_QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    found = [bool({h.citation for h in index.search(i["question"])} & set(i["articles"])) for i in items]
    assert len(items) >= 70 and sum(found) / len(found) >= 0.85


def test_our_questions_on_the_added_laws_name_articles_in_force():
    """tests/data/lawsearch_added_laws.jsonl (measured by bench/lawsearch_eval.py) names real articles."""
    statutes = load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes"))
    items = [json.loads(line) for line in ADDED_LAWS_QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    assert len(items) >= 10 and all(statutes.in_force(c) for i in items for c in i["articles"])


# --- citations and named laws, taken literally ----------------------------------------------

@pytest.mark.parametrize("question,citation", [
    ("民法典1079说的是什么", "民法典第1079条"), ("民法典1079", "民法典第1079条"),
    ("劳动合同法第八十二条", "劳动合同法第82条"), ("《劳动合同法》第82条怎么规定的", "劳动合同法第82条"),
    ("旅游法第35条", "旅游法第35条"), ("《旅游法》第三十五条怎么规定的", "旅游法第35条"),
    ("著作权法第二十四条", "著作权法第24条"), ("种子法49", "种子法第49条"), ("公司法第47条", "公司法第47条"),
    ("教育法第29条", "教育法第29条"), ("义务教育法第29条", "义务教育法第29条"), ("专利法42", "专利法第42条"),
    ("合伙企业法第三十九条", "合伙企业法第39条"), ("传染病防治法第33条说了什么", "传染病防治法第33条"),
    ("反不正当竞争法第7条", "反不正当竞争法第7条"), ("农产品质量安全法第36条", "农产品质量安全法第36条"),
])
def test_a_question_citing_an_article_gets_it_first(index, question, citation):
    assert index.search(question)[0].citation == citation


def test_an_article_added_by_amendment_is_found_by_its_suffix(index):
    if index.statutes.get("刑法第133条之一") is None:
        pytest.skip("刑法 (with its articles 之一) is not in knowledge/statutes yet")
    assert index.search("刑法第133条之一")[0].citation == "刑法第133条之一"
    assert index.search("刑法第一百三十三条之一是什么")[0].citation == "刑法第133条之一"


@pytest.mark.parametrize("question,law", [
    ("旅行社带我们去购物点，不买东西导游就甩脸色", "旅游法"), ("发现村里有人得了传染病要不要报告", "传染病防治法"),
    ("卖菜的用了禁用农药，检出来超标", "农产品质量安全法"), ("公司股东没交够出资，公司欠钱要股东还吗", "公司法"),
])
def test_a_question_about_an_added_laws_matter_finds_that_law(index, question, law):
    assert any(h.law == law for h in index.search(question, k=5))


@pytest.mark.parametrize("question,other", [("高等教育法第5条", "教育法第5条"), ("军人保险法第3条讲什么", "保险法第3条")])
def test_a_law_we_do_not_hold_is_not_taken_for_the_one_its_name_ends_with(index, question, other):
    assert index.candidates(question).cited is None
    assert index.search(question)[0].citation != other


def test_the_laws_not_held_are_taken_from_the_statutes(tmp_path):
    held = Law("教育法", "中华人民共和国教育法", "2021-04-29", "现行有效", True, {}, str(tmp_path / "教育法.json"))
    articles = [article("教育法", 5, "教育必须为社会主义现代化建设服务。")]
    statutes = Statutes([held], articles)
    assert LawIndex(statutes, cache_dir=tmp_path, min_evidence=0.0).candidates("高等教育法第5条").cited == 0
    statutes = Statutes([held], articles, not_held=["高等教育法"])   # as load_statutes reads not_held.txt
    assert LawIndex(statutes, cache_dir=tmp_path, min_evidence=0.0).candidates("高等教育法第5条").cited is None


def test_a_law_named_without_an_article_is_searched_first(index):
    hits = index.search("劳动合同法第几条规定了试用期", k=5)
    assert hits and all(h.law == "劳动合同法" for h in hits)
    assert "试用期" in hits[0].text


# --- knowing when it does not know ----------------------------------------------------------

@pytest.mark.parametrize("message", ["转人工", "你好", "您好，在吗", "谢谢", "好的", "可以", "怎么办",
                                     "人工", "我要转人工客服", "？？？", "", "帮帮我",
                                     "你们几点下班"])
def test_a_message_without_a_matter_gets_no_articles(index, message):
    assert index.search(message, k=5) == []


@pytest.mark.parametrize("message", ["彩礼", "继承", "宅基地", "转人工 老板拖欠我三个月工资不给"])
def test_one_legal_word_or_a_story_after_chatter_still_gets_articles(index, message):
    assert index.search(message, k=3)


def test_a_pasted_document_is_searched_by_its_beginning(index):
    assert index.search("宅基地" + "。" * lawsearch.MAX_QUERY_CHARS)
    assert index.search("。" * lawsearch.MAX_QUERY_CHARS + "宅基地") == []


def test_the_threshold_is_what_silences(tmp_path):
    statutes = tiny_statutes()
    loose = LawIndex(statutes, cache_dir=tmp_path, min_evidence=0.0)
    strict = LawIndex(statutes, cache_dir=tmp_path, min_evidence=1e9)
    assert loose.search("采光") and strict.search("采光") == []
    assert strict.search("民法典第3条")[0].citation == "民法典第3条"   # a citation always counts


def test_k_limits_the_hits(index):
    assert len(index.search("离婚", k=3)) == 3
    assert index.search("离婚", k=0) == []


def test_hits_have_the_json_shape(index):
    hit = index.search("借钱不还", k=1)[0].as_json()
    assert set(hit) == {"citation", "law", "article", "text", "score"}
    assert hit["text"] == load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes")).get(hit["citation"]).text


def test_laws_not_in_force_are_never_suggested(tmp_path):
    index = LawIndex(tiny_statutes(), cache_dir=tmp_path, min_evidence=0.0)
    assert [h.citation for h in index.search("离婚 调解")] == []


def test_a_law_not_yet_in_force_is_never_suggested_even_for_its_own_words(index):
    waiting = [law for law in index.statutes.laws.values() if not law.in_force_on()] \
        if hasattr(next(iter(index.statutes.laws.values())), "in_force_on") else []
    if not waiting:
        pytest.skip("no law in knowledge/statutes is waiting to come into force")
    for law in waiting:
        own = next(a for a in index.statutes.articles if a.law == law.law and len(a.text) > 30)
        assert all(h.law != law.law for h in index.search(own.text, k=10))


def test_an_faq_phrasing_lifts_the_article_its_entry_cites(tmp_path):
    plain = LawIndex(tiny_statutes(), cache_dir=tmp_path, min_evidence=0.0)
    assert [h.citation for h in plain.search("水牛顶翻了摊子")[:1]] != ["民法典第2条"]
    link = FaqLink("tort.animal", ("民法典第2条",), "民法典第2条", ("水牛顶翻了路边的摊子谁赔", "牛顶翻"))
    linked = LawIndex(tiny_statutes([link]), cache_dir=tmp_path, min_evidence=0.0)
    assert linked.search("水牛顶翻了摊子")[0].citation == "民法典第2条"


# --- the second stage ------------------------------------------------------------------------

ANIMAL = "饲养的动物造成他人损害的，动物饲养人应当承担侵权责任。"


def test_an_article_with_garbled_source_text_yields_to_a_clean_one_that_matches_as_well(tmp_path):
    garbled = Article("民法典", 1, "第1条", "", "", ANIMAL, damage=("乱码",))
    statutes = Statutes([law("民法典")], [garbled, article("民法典", 2, ANIMAL)])
    hits = LawIndex(statutes, cache_dir=tmp_path, min_evidence=0.0).search("狗咬人 动物饲养人 损害")
    assert [h.citation for h in hits] == ["民法典第2条", "民法典第1条"]


def test_the_second_stage_weighs_each_feature_it_is_given(tmp_path):
    statutes = Statutes([law("民法典")], [Article("民法典", 1, "第1条", "", "", ANIMAL, damage=("乱码",)),
                                          article("民法典", 2, ANIMAL)])
    ignoring_damage = [w if name != "damaged" else 0.0 for name, w in zip(lawsearch.FEATURES, lawsearch.RERANK)]
    index = LawIndex(statutes, cache_dir=tmp_path, min_evidence=0.0, rerank=ignoring_damage)
    assert index.search("动物饲养人 损害")[0].citation == "民法典第1条"   # the first of equals, as before


def test_the_candidates_carry_one_row_of_features_each(index):
    found = index.candidates("同事借钱不还，我该怎么办", n=20)
    assert found.features.shape == (len(found.ids), len(lawsearch.FEATURES)) and 0 < len(found.ids) <= 20
    coverage = found.features[:, lawsearch.FEATURES.index("coverage")]
    assert found.features[0, 0] == 1.0 and ((0 <= coverage) & (coverage <= 1)).all()


def test_scores_say_how_much_weaker_each_later_hit_is(index):
    scores = [h.score for h in index.search("邻居盖房子挡住了我家的采光", k=5)]
    assert len(scores) == 5 and all(1 >= a >= b > 0 for a, b in zip(scores, scores[1:]))


def test_char_pairs_let_an_unsegmented_or_mistyped_term_meet(tmp_path):
    index = LawIndex(tiny_statutes(), cache_dir=tmp_path, min_evidence=0.0)
    assert index.search("通风采光受影响")[0].citation == "民法典第3条"
    assert index.search("被人家养的狗药了")[0].citation == "民法典第2条"   # 咬 typed as 药


def test_an_everyday_word_finds_the_laws_word_for_it(tmp_path):
    carrier = article("民法典", 4, "承运人对运输过程中货物的毁损、灭失承担赔偿责任。", "运输合同")
    statutes = Statutes([law("民法典")], [*tiny_statutes().articles[:3], carrier])
    index = LawIndex(statutes, cache_dir=tmp_path, min_evidence=0.0)
    assert index.search("快递公司把我的包裹弄丢了")[0].citation == "民法典第4条"
    assert lawsearch.everyday_words("房东不退押金", lawsearch.law_terms(SHIPPED_LAWTERMS), []) [:1] == ["出租人"]


def test_a_single_everyday_character_counts_only_as_a_word_of_its_own():
    table = {"狗": ("饲养的动物",), "物业": ("物业服务人",)}
    assert lawsearch.everyday_words("被狗咬了", table, ["狗", "咬"]) == ["饲养的动物"]
    assert lawsearch.everyday_words("狗尾巴草", table, ["狗尾巴草"]) == []
    assert lawsearch.everyday_words("小区物业不管", table, ["小区", "物业", "不管"]) == ["物业服务人"]


def test_a_malformed_law_terms_file_names_the_file(tmp_path):
    bad = tmp_path / "lawterms.toml"
    bad.write_text('[terms]\n"出租人" = []\n', encoding="utf-8")
    with pytest.raises(DictionaryError, match="lawterms.toml"):
        lawsearch.law_terms(bad)


INVENTED_WORD = "黑屋子症"   # no shipped dictionary or article holds it, nor any of its character pairs


def dict_with_law_term(root, lay: str, legal: str):
    """A copy of the shipped dict/ whose lawterms.toml is one line: ``lay`` stands for ``legal``."""
    folder = root / "dict"
    folder.mkdir(parents=True)
    for name in ("userdict.txt", "stopwords.txt", "synonyms.toml"):
        (folder / name).write_bytes((SHIPPED_DICT / name).read_bytes())
    (folder / "lawterms.toml").write_text(f'[terms]\n"{legal}" = ["{lay}"]\n', encoding="utf-8")
    return folder


def test_the_law_terms_come_from_the_dictionaries_folder_the_index_is_given(tmp_path):
    own = text.dictionaries_in(dict_with_law_term(tmp_path, INVENTED_WORD, "采光"))
    given = LawIndex(tiny_statutes(), cache_dir=tmp_path / "cache", min_evidence=0.0, dictionaries=own)
    shipped = LawIndex(tiny_statutes(), cache_dir=tmp_path / "cache", min_evidence=0.0)
    scores, evidence = given.scores(INVENTED_WORD)
    assert given.articles[int(np.argmax(scores))].citation == "民法典第3条" and evidence > 0
    assert shipped.scores(INVENTED_WORD)[1] == 0 and shipped.search(INVENTED_WORD) == []


def test_law_search_on_the_command_line_reads_the_configured_knowledge_dirs_dict(tmp_path, monkeypatch):
    kb = tmp_path / "kb"
    dict_with_law_term(kb, INVENTED_WORD, "采光")
    config = tmp_path / "config.toml"
    config.write_text(f'[app]\nknowledge_dir = "{kb}"\n', encoding="utf-8")
    monkeypatch.setenv("LEGALBOT_CONFIG", str(config))
    words = law_cli.dictionaries()
    assert words.directory == (kb / "dict").resolve()
    assert LawIndex(tiny_statutes(), cache_dir=None, dictionaries=words).scores(INVENTED_WORD)[1] > 0


def test_every_legal_word_in_law_terms_is_a_word_the_statutes_use():
    """lawterms.toml maps everyday words to the statutes' own words; a key no article holds
    (交通肇事 where 刑法 says 交通运输肇事) could only ever meet FAQ phrasings and headers."""
    statutes = load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes"))
    held = "".join(a.text for a in lawsearch.searchable(statutes))
    legal_words = {legal for legals in lawsearch.law_terms(SHIPPED_LAWTERMS).values() for legal in legals}
    assert len(legal_words) > 50 and sorted(w for w in legal_words if w not in held) == []


# --- the disk cache -------------------------------------------------------------------------

def write_law(directory, text: str) -> None:
    directory.mkdir(exist_ok=True)
    data = {"law": "民法典", "title": "中华人民共和国民法典", "version_date": "2020-05-28",
            "status": "现行有效", "in_force": True,
            "articles": [{"number": 1, "label": "第一条", "chapter": "", "section": "", "text": text},
                         {"number": 2, "label": "第二条", "chapter": "", "section": "",
                          "text": "饲养的动物造成他人损害的，动物饲养人应当承担侵权责任。"}]}
    (directory / "民法典.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def statutes_from(directory) -> Statutes:
    law_, articles = read_law(directory / "民法典.json")
    return Statutes([law_], articles)


def test_the_index_is_cached_on_disk_and_reused(tmp_path, monkeypatch):
    LawIndex(tiny_statutes(), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("lawindex-*.npz"))) == 1
    monkeypatch.setattr(lawsearch, "build", lambda *a, **kw: pytest.fail("built again"))
    assert LawIndex(tiny_statutes(), cache_dir=tmp_path, min_evidence=0).search("采光")[0].citation == "民法典第3条"


def test_the_index_is_rebuilt_when_a_statute_file_changes(tmp_path):
    statutes_dir, cache = tmp_path / "statutes", tmp_path / "cache"
    write_law(statutes_dir, "建造建筑物，不得妨碍相邻建筑物的通风、采光和日照。")
    before = LawIndex(statutes_from(statutes_dir), cache_dir=cache, min_evidence=0)
    assert before.search("采光")[0].citation == "民法典第1条" and before.search("宅基地") == []
    write_law(statutes_dir, "宅基地使用权人依法对集体所有的土地享有占有和使用的权利。")
    after = LawIndex(statutes_from(statutes_dir), cache_dir=cache, min_evidence=0)
    assert after.search("宅基地")[0].citation == "民法典第1条" and after.search("采光") == []
    assert len(list(cache.glob("lawindex-*.npz"))) == 2


def test_after_a_statute_changes_only_its_new_text_is_segmented(tmp_path, monkeypatch):
    statutes_dir, cache = tmp_path / "statutes", tmp_path / "cache"
    write_law(statutes_dir, "建造建筑物，不得妨碍相邻建筑物的通风、采光和日照。")
    LawIndex(statutes_from(statutes_dir), cache_dir=cache)
    segmented, words = [], lawsearch.shipped_dictionaries()
    real = words.cut
    monkeypatch.setattr(words, "cut", lambda normalized: segmented.append(normalized) or real(normalized))
    write_law(statutes_dir, "宅基地使用权人依法对集体所有的土地享有占有和使用的权利。")
    LawIndex(statutes_from(statutes_dir), cache_dir=cache)
    assert segmented == ["宅基地使用权人依法对集体所有的土地享有占有和使用的权利"]


def test_a_statute_is_cut_as_a_whole_would_be_though_each_clause_is_cut_once():
    words = lawsearch.shipped_dictionaries()
    segmenter = lawsearch.Segmenter(words, None)
    for raw in ("违反本法规定，处五日以上十日以下拘留；情节较重的，处十日以上十五日以下拘留。",
                "有下列情形之一的，劳动合同终止：（一）劳动合同期满的；（二）劳动者死亡的。",
                "违反本法规定，擅自出租宅基地使用权的，责令改正。"):
        normalized = lawsearch.text.normalize(raw)
        assert segmenter.words(normalized) == lawsearch.words_of(normalized, words)
    assert "违反本法规定" in segmenter.blocks


SEGMENTING_MODULE = """
import re
_SPACES = re.compile({spaces!r})


def normalize(text):
    return _squeeze(text.lower())


def _squeeze(text):
    return _SPACES.sub(" ", text)


def matcher_only(words):
    return {matcher!r}
"""


def module_digest(tmp_path, monkeypatch, name: str, **parts) -> str:
    (tmp_path / f"{name}.py").write_text(SEGMENTING_MODULE.format(**parts), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return lawsearch.code_digest([importlib.import_module(name).normalize])


def test_the_words_cache_key_follows_the_segmenting_code_not_the_rest_of_its_module(tmp_path, monkeypatch):
    first = module_digest(tmp_path, monkeypatch, "seg_a", spaces=r"\s+", matcher="a")
    assert module_digest(tmp_path, monkeypatch, "seg_b", spaces=r"\s+", matcher="b") == first
    assert module_digest(tmp_path, monkeypatch, "seg_c", spaces=r"\s{2,}", matcher="a") != first


@pytest.mark.slow
def test_the_words_cache_key_is_the_same_in_every_process():
    run = [sys.executable, "-c", "from bot.retrieval import lawsearch; print(lawsearch.segmentation_key(lawsearch.shipped_dictionaries()))"]
    keys = {subprocess.run(run, capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(keys) == 1 and keys != {""}


def cuts_while_building(monkeypatch, **where) -> list[str]:
    cut, words = [], lawsearch.shipped_dictionaries()
    real = words.cut
    monkeypatch.setattr(words, "cut", lambda normalized: cut.append(normalized) or real(normalized))
    index = LawIndex(tiny_statutes(), min_evidence=0.0, **where)
    while_building = list(cut)
    assert index.search("采光")[0].citation == "民法典第3条"
    return while_building


def test_a_seed_of_the_statutes_words_spares_segmenting_them_in_a_new_cache(tmp_path, monkeypatch):
    lawsearch.write_seed(tiny_statutes(), lawsearch.shipped_dictionaries(), tmp_path / "seed")
    assert cuts_while_building(monkeypatch, cache_dir=tmp_path / "a", seed_dir=tmp_path / "seed") == []
    assert cuts_while_building(monkeypatch, cache_dir=tmp_path / "b", seed_dir=None) != []


def test_the_seed_holds_the_faq_phrasings_words_too(tmp_path, monkeypatch):
    statutes = tiny_statutes([FaqLink("x.y", ("民法典第3条",), None, ("楼房挡住我家阳光了",))])
    lawsearch.write_seed(statutes, lawsearch.shipped_dictionaries(), tmp_path / "seed")
    cut, words = [], lawsearch.shipped_dictionaries()
    real = words.cut
    monkeypatch.setattr(words, "cut", lambda normalized: cut.append(normalized) or real(normalized))
    LawIndex(statutes, cache_dir=tmp_path / "cache", seed_dir=tmp_path / "seed", dictionaries=words)
    assert cut == []


def test_a_seed_written_for_other_dictionaries_is_not_read(tmp_path, monkeypatch):
    lawsearch.write_seed(tiny_statutes(), lawsearch.shipped_dictionaries(), tmp_path / "seed")
    [seed] = (tmp_path / "seed").iterdir()
    seed.rename(seed.with_name("lawwords-0123456789abcdef01234567.json.gz"))
    assert cuts_while_building(monkeypatch, cache_dir=None, seed_dir=tmp_path / "seed") != []


def test_writing_a_seed_replaces_the_one_of_earlier_dictionaries(tmp_path):
    (tmp_path / "lawwords-0123456789abcdef01234567.json.gz").write_bytes(b"old")
    words = lawsearch.shipped_dictionaries()
    path = lawsearch.write_seed(tiny_statutes(), words, tmp_path)
    assert list(tmp_path.iterdir()) == [path] and path == lawsearch.seed_path(words, tmp_path)


def test_the_shipped_seed_is_for_the_current_segmentation():
    """An edit of bot/core/text.py's cutting code or of userdict/stopwords changes the key; the seed
    must then be written again, or every new cache segments all articles (seconds at start-up)."""
    assert lawsearch.seed_path(lawsearch.shipped_dictionaries()).exists(), "run `.venv/bin/legalbot law index --seed` and commit knowledge/index/"


def test_a_damaged_cache_file_is_rebuilt_not_trusted(tmp_path):
    LawIndex(tiny_statutes(), cache_dir=tmp_path)
    [cached] = tmp_path.glob("lawindex-*.npz")
    cached.write_bytes(b"not an index")
    assert LawIndex(tiny_statutes(), cache_dir=tmp_path, min_evidence=0).search("采光")[0].citation == "民法典第3条"


def test_a_cache_directory_others_can_write_is_not_used(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    LawIndex(tiny_statutes(), cache_dir=shared)
    assert list(shared.iterdir()) == []


def test_the_cache_key_changes_with_the_text_and_the_faq():
    changed = Statutes([law("民法典")], [article("民法典", 1, "另一段话。")])
    link = FaqLink("x.y", ("民法典第1条",), None, ("借钱不还",))
    words = lawsearch.shipped_dictionaries()
    assert lawsearch.cache_key(tiny_statutes(), words) != lawsearch.cache_key(changed, words)
    assert lawsearch.cache_key(tiny_statutes(), words) != lawsearch.cache_key(tiny_statutes([link]), words)


def test_postings_prefer_the_document_with_the_rarer_word():
    vocab: dict[str, int] = {}
    field = lawsearch.encode([["借款", "合同"], ["合同", "履行"], ["合同", "解除"]], vocab)
    postings = lawsearch.build_postings([(field, 1.0, 0.75)], len(vocab), 1.2)
    scores = postings.scores([vocab["借款"], vocab["合同"]], [1.0, 1.0], normalize=True)
    assert int(scores.argmax()) == 0 and all(0 < s <= 1 for s in scores)


def test_fields_add_up_and_pool_into_groups():
    vocab: dict[str, int] = {}
    body = lawsearch.encode([["借款"], ["合同"], ["合同"]], vocab)
    faq = lawsearch.encode([[], ["借款"], []], vocab)
    both = lawsearch.build_postings([(body, 1.0, 0.75), (faq, 1.0, 0.75)], len(vocab), 1.2)
    scores = both.scores([vocab["借款"]], [1.0])
    assert scores[0] > 0 and scores[1] > 0 and scores[2] == 0
    groups = lawsearch.build_postings([(body.pooled(np.array([0, 0, 1]), 2), 1.0, 0.5)], len(vocab), 1.2)
    assert list(groups.scores([vocab["借款"]], [1.0]) > 0) == [True, False]


def test_pair_field_counts_the_pairs_char_pairs_gives_each_document():
    texts = ["借款合同 欠款", "a1借钱", "欠", "", "第3条 借款2万元，欠款", "欠款欠款"]
    vocab: dict[str, int] = {}
    field = lawsearch.pair_field(texts, vocab)
    names = {i: term for term, i in vocab.items()}
    rows = list(zip(field.terms, field.docs, field.counts))
    got = [sorted(names[t] for t, d, n in rows if d == doc for _ in range(n)) for doc in range(len(texts))]
    assert got == [sorted(lawsearch.char_pairs(t)) for t in texts] and field.size == len(texts)
    assert len({(t, d) for t, d, _ in rows}) == len(rows)   # tallied: each (pair, document) once


def test_merging_sorted_runs_is_np_unique_with_its_inverse():
    runs = np.concatenate([np.array([1, 5, 9, 12]), np.array([0, 5, 12]), np.array([3, 9])])
    keys, inverse = lawsearch.merged(runs)
    want_keys, want_inverse = np.unique(runs, return_inverse=True)
    assert np.array_equal(keys, want_keys) and np.array_equal(inverse, want_inverse.reshape(-1))


def test_a_tallied_field_pools_into_the_same_postings_as_its_tokens():
    vocab: dict[str, int] = {}
    body = lawsearch.encode([["借款", "借款", "合同"], ["合同"], ["借款", "履行"]], vocab)
    group_of = np.array([0, 1, 0])
    for field in (body, body.tallied()):
        pooled = lawsearch.build_postings([(field.pooled(group_of, 2), 1.0, 0.5)], len(vocab), 1.2)
        if field is body:
            want = pooled
    assert body.tallied().counts.tolist() == [2, 1, 1, 1, 1]
    for name in ("ptr", "docs", "impact", "ceiling"):
        assert np.array_equal(getattr(pooled, name), getattr(want, name))


def test_one_fields_postings_are_its_two_halves_merged():
    """build_postings skips the merge for a single field: the same postings as merging its halves."""
    vocab: dict[str, int] = {}
    body = lawsearch.pair_field(["借款合同 欠款", "欠款欠款", "合同"], vocab)
    alone = lawsearch.build_postings([(body, 1.0, 0.75)], len(vocab), 1.2)
    halves = lawsearch.build_postings([(body, 0.5, 0.75), (body, 0.5, 0.75)], len(vocab), 1.2)
    for name in ("ptr", "docs", "impact", "ceiling"):
        assert np.array_equal(getattr(alone, name), getattr(halves, name))
    assert alone.size == 3 and alone.impact.min() > 0


def test_hits_far_below_the_first_are_not_shown_to_a_reader():
    hits = [lawsearch.LawHit(f"民法典第{n}条", "民法典", "", "", score) for n, score in ((1, 0.6), (2, 0.2), (3, 0.01))]
    assert [h.citation for h in lawsearch.above_floor(hits)] == ["民法典第1条", "民法典第2条"]
    assert lawsearch.above_floor(hits, share=0.5) == hits[:1] and lawsearch.above_floor([]) == []


# --- tickets ----------------------------------------------------------------------------------

def ticket_suggestions(tmp_path, question: str) -> list[str]:
    services = make_services(tmp_path)
    db = open_db(services)
    users.set_village(db, VILLAGER, "大年村", START)
    consultation = Consultation(question=question, action="escalate", category=None)
    _, ticket_id = hand_over(context(services, db), Incoming(openid=VILLAGER, msg_type="text",
                                                             text=question), consultation)
    return tickets.get_ticket(db, ticket_id).suggested


def test_a_ticket_opened_by_zhuanrengong_alone_shows_no_articles(tmp_path):
    assert ticket_suggestions(tmp_path, "转人工") == []


def test_a_ticket_opened_with_a_story_shows_articles_of_the_storys_law(tmp_path):
    """The labour laws first; beside them only 拒不支付劳动报酬罪 (刑法第276条之一), the same matter's
    criminal side, which glossing 刑法 brought in reach of everyday words."""
    suggested = ticket_suggestions(tmp_path, "老板拖欠我三个月工资，一直不给，我想找人帮忙")
    labour = ("劳动合同法", "劳动法", "劳动争议调解仲裁法")
    assert suggested and suggested[0].startswith(labour)
    assert all(c.startswith(labour) or c == "刑法第276条之一" for c in suggested)


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


def test_law_search_json_takes_citations_literally_and_gives_chatter_nothing():
    result = CliRunner().invoke(main, ["law", "search", "--json", "-k", "5"],
                                input="民法典1079\n劳动合同法第八十二条\n转人工\n老板拖欠我三个月工资\n")
    citations = [[h["citation"] for h in json.loads(line)] for line in result.output.splitlines()]
    assert [found[:1] for found in citations[:3]] == [["民法典第1079条"], ["劳动合同法第82条"], []]
    assert citations[3] and citations[3][0].startswith(("劳动合同法", "劳动法"))


@pytest.mark.slow
def test_law_index_builds_the_cache_a_later_start_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("LEGALBOT_CACHE", str(tmp_path))
    result = CliRunner().invoke(main, ["law", "index"])
    assert result.exit_code == 0 and f"cached in {tmp_path}" in result.output
    [cached] = tmp_path.glob("lawindex-*.npz")
    monkeypatch.setattr(lawsearch, "build", lambda *a, **kw: pytest.fail("built again"))
    assert LawIndex(load_knowledge(load_config(environ={}), strict=False).statutes).search("同事借钱不还")


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
