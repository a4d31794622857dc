"""Law search with glosses: an everyday question reaches the article its gloss was written for,
the index cache follows the gloss files, and the shipped seed never depends on them."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from bot.kb.knowledge import load_knowledge
from bot.retrieval import lawsearch
from bot.retrieval.lawsearch import LawIndex
from tests.test_glosses import config_for, gloss_toml, knowledge, write_glosses  # noqa: F401 (fixture)

DOG = gloss_toml("民法典第2条", "家里的狗咬伤了过路的小孩要赔医药费吗", "养的牛顶伤了人谁负责")
QUESTION = "小孩被狗咬伤了，医药费谁出"


def statutes_of(knowledge):
    return load_knowledge(config_for(knowledge)).statutes


def test_a_gloss_lets_an_everyday_question_find_the_article_its_words_do_not_reach(knowledge, tmp_path):
    plain = LawIndex(statutes_of(knowledge), cache_dir=tmp_path / "a", min_evidence=0)
    assert plain.search(QUESTION)[0].citation != "民法典第2条"
    write_glosses(knowledge, "mine.toml", DOG)
    glossed = LawIndex(statutes_of(knowledge), cache_dir=tmp_path / "b", min_evidence=0)
    assert glossed.search(QUESTION)[0].citation == "民法典第2条"


def test_a_gloss_alone_is_no_evidence_for_showing_articles(knowledge, tmp_path):
    """Small talk full of a gloss's words (几点, 怎么办) must stay unanswered: only the statutes' and
    the FAQ's words count towards MIN_EVIDENCE; a gloss reorders what they let through."""
    write_glosses(knowledge, "mine.toml", gloss_toml("民法典第3条", "你们几点下班怎么办"))
    index = LawIndex(statutes_of(knowledge), cache_dir=tmp_path)
    assert index.scores("你们几点下班")[1] == 0 and index.search("你们几点下班") == []
    assert index.candidates("你们几点下班").ids[0] == index.position["民法典第3条"]   # ranked, not shown


def test_the_index_is_rebuilt_when_a_gloss_file_changes(knowledge, tmp_path):
    cache = tmp_path / "cache"
    write_glosses(knowledge, "mine.toml", DOG)
    assert LawIndex(statutes_of(knowledge), cache_dir=cache, min_evidence=0).search(QUESTION)[0].citation == "民法典第2条"
    write_glosses(knowledge, "mine.toml", gloss_toml("民法典第3条", "小孩被狗咬伤了医药费谁出啊"))
    assert LawIndex(statutes_of(knowledge), cache_dir=cache, min_evidence=0).search(QUESTION)[0].citation == "民法典第3条"
    assert len(list(cache.glob("lawindex-*.npz"))) == 2


def test_the_cache_key_changes_with_a_glosss_words_not_with_its_file(knowledge):
    words = lawsearch.shipped_dictionaries()
    keys = []
    for name, body in (("a.toml", DOG), ("b.toml", DOG), ("b.toml", DOG.replace("牛", "羊"))):
        for old in (knowledge / "glosses").glob("*.toml") if (knowledge / "glosses").exists() else ():
            old.unlink()
        write_glosses(knowledge, name, body)
        keys.append(lawsearch.cache_key(statutes_of(knowledge), words))
    assert keys[0] == keys[1] != keys[2]


def cut_while_building(monkeypatch, statutes, **where) -> tuple[list[str], list[str]]:
    """(the strings jieba cut while the index was built, its hits for QUESTION). Only this thread's
    cuts count: the dictionaries are shared by the process, and a background build left by an
    earlier test in the same worker (an app's warm-up) may be cutting other strings meanwhile."""
    cut, words, me = [], lawsearch.shipped_dictionaries(), threading.get_ident()
    real = words.cut

    def recorded(normalized):
        if threading.get_ident() == me:
            cut.append(normalized)
        return real(normalized)
    monkeypatch.setattr(words, "cut", recorded)
    index = LawIndex(statutes, min_evidence=0, **where)
    while_building = list(cut)
    return while_building, [h.citation for h in index.search(QUESTION)]


def test_a_seed_older_than_the_glosses_costs_only_the_segmenting_of_what_changed(knowledge, tmp_path, monkeypatch):
    """`legalbot law index --seed` writes the glosses' words too; after a gloss changes the old seed
    still serves every other string, and the search is the same as with no seed at all."""
    write_glosses(knowledge, "mine.toml", DOG)
    lawsearch.write_seed(statutes_of(knowledge), lawsearch.shipped_dictionaries(), tmp_path / "seed")
    fresh, _ = cut_while_building(monkeypatch, statutes_of(knowledge), cache_dir=tmp_path / "a", seed_dir=tmp_path / "seed")
    assert fresh == []
    write_glosses(knowledge, "mine.toml", gloss_toml("民法典第3条", "小孩被狗咬伤了医药费谁出啊"))
    stale, stale_hits = cut_while_building(monkeypatch, statutes_of(knowledge), cache_dir=tmp_path / "b",
                                           seed_dir=tmp_path / "seed")
    assert stale and all("狗咬伤" in block for block in stale)
    _, unseeded_hits = cut_while_building(monkeypatch, statutes_of(knowledge), cache_dir=None, seed_dir=None)
    assert stale_hits == unseeded_hits and stale_hits[0] == "民法典第3条"


def test_nearest_gloss_is_how_close_the_question_is_to_an_articles_closest_ask(knowledge, tmp_path):
    write_glosses(knowledge, "mine.toml", DOG + gloss_toml("民法典第3条", "邻居盖楼挡住了我家的太阳"))
    index = LawIndex(statutes_of(knowledge), cache_dir=tmp_path)
    ids = np.array([index.position[c] for c in ("民法典第2条", "民法典第3条", "民法典第1条")])
    near = index.nearest_gloss(index.read("养的牛顶伤了人谁负责").compact, ids)
    assert near[0] == 1.0 and 0.0 < near[1] < 0.5 and near[2] == 0.0     # 第1条 has no gloss


def test_the_glosses_questions_survive_the_disk_cache(knowledge, tmp_path, monkeypatch):
    write_glosses(knowledge, "mine.toml", DOG)
    built = LawIndex(statutes_of(knowledge), cache_dir=tmp_path)
    monkeypatch.setattr(lawsearch, "build", lambda *a, **kw: pytest.fail("built again"))
    cached = LawIndex(statutes_of(knowledge), cache_dir=tmp_path)
    assert cached.asks == built.asks and list(cached.ask_ptr) == list(built.ask_ptr) == [0, 0, 2, 2]


def only(feature: str) -> list[float]:
    return [1.0 if name == feature else 0.0 for name in lawsearch.FEATURES]


def test_the_second_stage_orders_by_the_nearest_gloss_when_weighted_so(knowledge, tmp_path):
    """第2条 holds the question's words itself; 第3条's gloss is worded like the question."""
    write_glosses(knowledge, "mine.toml", gloss_toml("民法典第3条", "饲养的动物造成损害了"))
    statutes, question = statutes_of(knowledge), "饲养的动物造成他人损害"
    first = LawIndex(statutes, cache_dir=tmp_path, min_evidence=0, rerank=only("first_stage")).search(question)
    near = LawIndex(statutes, cache_dir=tmp_path, min_evidence=0, rerank=only("nearest_gloss")).search(question)
    assert first[0].citation == "民法典第2条" and near[0].citation == "民法典第3条"


def test_best_asks_score_each_gloss_question_alone_not_an_articles_questions_summed(knowledge, tmp_path):
    """第2条's one question holds the whole situation; 第3条's three each share one word with it:
    summed in the gloss field they could match, alone only 第2条's question covers the question."""
    write_glosses(knowledge, "mine.toml", gloss_toml("民法典第2条", "邻居的树倒下砸坏了我家的车")
                  + gloss_toml("民法典第3条", "邻居占了我的地", "大树归谁所有", "买的车有质量问题"))
    index = LawIndex(statutes_of(knowledge), cache_dir=tmp_path)
    ids = np.array([index.position[c] for c in ("民法典第2条", "民法典第3条", "民法典第1条")])
    best, covered = index.best_asks(index.read("邻居家的树倒了砸坏我的车"), ids)
    assert best[0] == 1.0 and 0.0 < best[1] < best[0] and best[2] == 0.0      # 第1条 has no gloss
    assert covered[0] > 2 * covered[1] > 0.0 and covered[2] == 0.0


def test_best_asks_read_only_the_candidates_questions(knowledge, tmp_path):
    """ask_best is a share of the best question among the candidates given: 第3条's question
    scores higher, but it is not a candidate here, so 第2条's is the measure (1.0)."""
    write_glosses(knowledge, "mine.toml", gloss_toml("民法典第2条", "邻居的树倒了")
                  + gloss_toml("民法典第3条", "邻居家的树倒了砸坏我的车"))
    index = LawIndex(statutes_of(knowledge), cache_dir=tmp_path)
    reading = index.read("邻居家的树倒了砸坏我的车")
    both = index.best_asks(reading, np.array([index.position["民法典第2条"], index.position["民法典第3条"]]))
    alone = index.best_asks(reading, np.array([index.position["民法典第2条"]]))
    assert both[0][1] == 1.0 > both[0][0] > 0 and alone[0][0] == 1.0
    assert alone[1][0] == both[1][0] > 0                                  # coverage does not depend on the others


def test_the_one_by_one_questions_survive_the_disk_cache(knowledge, tmp_path, monkeypatch):
    write_glosses(knowledge, "mine.toml", DOG)
    built = LawIndex(statutes_of(knowledge), cache_dir=tmp_path)
    monkeypatch.setattr(lawsearch, "build", lambda *a, **kw: pytest.fail("built again"))
    cached = LawIndex(statutes_of(knowledge), cache_dir=tmp_path)
    ids = np.arange(len(cached.articles))
    reading = cached.read(QUESTION)
    for a, b in zip(built.best_asks(reading, ids), cached.best_asks(built.read(QUESTION), ids)):
        assert np.array_equal(a, b) and a.max() > 0


def test_an_index_without_glosses_has_no_ask_evidence(knowledge, tmp_path):
    index = LawIndex(statutes_of(knowledge), cache_dir=tmp_path, min_evidence=0)
    found = index.candidates("邻居家的树倒了砸坏我的车")
    columns = [lawsearch.FEATURES.index(name) for name in ("ask_best", "ask_coverage")]
    assert len(found.ids) and not found.features[:, columns].any()
