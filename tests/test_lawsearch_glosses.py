"""Law search with glosses: an everyday question reaches the article its gloss was written for,
the index cache follows the gloss files, and the shipped seed never depends on them."""
from __future__ import annotations

from bot.kb.knowledge import load_knowledge
from bot.retrieval import lawsearch
from bot.retrieval.lawsearch import LawIndex
from tests.test_glosses import config_for, gloss_toml, knowledge, write_glosses  # noqa: F401 (fixture)

DOG = gloss_toml("民法典第2条", "家里的狗咬伤了过路的小孩要赔医药费吗", "养的牛顶伤了人谁负责")
QUESTION = "小孩被狗咬伤了，医药费谁出"


def statutes_of(knowledge):
    return load_knowledge(config_for(knowledge)).statutes


def test_a_gloss_lets_an_everyday_question_find_the_article_its_words_do_not_reach(knowledge, tmp_path):
    assert LawIndex(statutes_of(knowledge), cache_dir=tmp_path / "a").search(QUESTION) == []
    write_glosses(knowledge, "mine.toml", DOG)
    hits = LawIndex(statutes_of(knowledge), cache_dir=tmp_path / "b").search(QUESTION)
    assert hits[0].citation == "民法典第2条"


def test_the_index_is_rebuilt_when_a_gloss_file_changes(knowledge, tmp_path):
    cache = tmp_path / "cache"
    write_glosses(knowledge, "mine.toml", DOG)
    assert LawIndex(statutes_of(knowledge), cache_dir=cache).search(QUESTION)[0].citation == "民法典第2条"
    write_glosses(knowledge, "mine.toml", gloss_toml("民法典第3条", "小孩被狗咬伤了医药费谁出啊"))
    assert LawIndex(statutes_of(knowledge), cache_dir=cache).search(QUESTION)[0].citation == "民法典第3条"
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


def test_the_seed_holds_no_gloss_so_a_gloss_change_never_needs_a_new_seed(knowledge, tmp_path):
    """The seed (`legalbot law index --seed`) holds the statutes' words only: glosses, like the FAQ,
    are segmented when a cache is built, so a seed written before a gloss changed stays current."""
    words = lawsearch.shipped_dictionaries()
    before = lawsearch.write_seed(statutes_of(knowledge), words, tmp_path / "before").read_bytes()
    write_glosses(knowledge, "mine.toml", DOG)
    assert lawsearch.write_seed(statutes_of(knowledge), words, tmp_path / "after").read_bytes() == before
