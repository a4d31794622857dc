"""Glosses (bot/kb/glosses.py): everyday questions written for single articles, validated when the
knowledge base is read and kept apart from the FAQ entries. Fixtures are small folders written
here (a statutes/ with one law in force and one repealed, a glosses/ beside it)."""
from __future__ import annotations

import json

import pytest

from bot.core.config import PROJECT_ROOT, load_config
from bot.kb.glosses import Gloss, load_glosses, read_glosses
from bot.kb.knowledge import KnowledgeError, load_knowledge, load_statutes

CIVIL = [(1, "第一条", "出租人应当履行租赁物的维修义务，但是当事人另有约定的除外。"),
         (2, "第二条", "饲养的动物造成他人损害的，动物饲养人应当承担侵权责任。"),
         (3, "第三条", "建造建筑物，不得妨碍相邻建筑物的通风、采光和日照。")]


def write_law(statutes, name: str, articles, in_force: bool = True) -> None:
    data = {"law": name, "title": "中华人民共和国" + name, "version_date": "2020-05-28",
            "status": "现行有效" if in_force else "已废止", "in_force": in_force,
            "articles": [{"number": n, "label": label, "chapter": "", "section": "", "text": text}
                         for n, label, text in articles]}
    (statutes / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def knowledge(tmp_path):
    """A knowledge folder: 民法典 (in force, three articles), 婚姻法 (repealed), no FAQ entries."""
    statutes = tmp_path / "knowledge" / "statutes"
    statutes.mkdir(parents=True)
    write_law(statutes, "民法典", CIVIL)
    write_law(statutes, "婚姻法", [(32, "第三十二条", "男女一方要求离婚的，可由有关部门进行调解。")], in_force=False)
    (tmp_path / "knowledge" / "faq").mkdir()
    return tmp_path / "knowledge"


def write_glosses(knowledge, name: str, body: str):
    folder = knowledge / "glosses"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body, encoding="utf-8")
    return folder


def gloss_toml(cite: str, *asks: str) -> str:
    return f'[[article]]\ncite = "{cite}"\nask = {json.dumps(list(asks), ensure_ascii=False)}\n\n'


def errors_for(knowledge, body: str) -> list[str]:
    folder = write_glosses(knowledge, "mine.toml", body)
    return read_glosses(folder, load_statutes(str(knowledge / "statutes")))[1]


def test_a_gloss_file_loads_as_typed_glosses(knowledge):
    folder = write_glosses(knowledge, "mine.toml", gloss_toml("民法典第1条", "房东不给修漏水的屋子怎么办", " 租的房子坏了谁修 "))
    [gloss] = load_glosses(folder, load_statutes(str(knowledge / "statutes")))
    assert gloss == Gloss("民法典第1条", ("房东不给修漏水的屋子怎么办", "租的房子坏了谁修"), "knowledge/glosses/mine.toml")


@pytest.mark.parametrize("cite,why", [
    ("民法典第99条", "民法典第99条]: is not in knowledge/statutes"),
    ("婚姻法第32条", "婚姻法第32条]: is of a law not in force"),
    ("民法典1", "民法典1]: cite is not canonical (write '民法典第1条')"),
    ("《民法典》第一条", "cite is not canonical (write '民法典第1条')"),
    ("高铁法第1条", "高铁法第1条]: is not in knowledge/statutes"),
])
def test_a_cite_we_cannot_serve_is_refused_naming_file_and_cite(knowledge, cite, why):
    errors = errors_for(knowledge, gloss_toml(cite, "房东不给修漏水的屋子怎么办"))
    assert len(errors) == 1 and errors[0].startswith("knowledge/glosses/mine.toml [") and why in errors[0]


def test_an_article_glossed_twice_is_refused_naming_both_files(knowledge):
    write_glosses(knowledge, "a.toml", gloss_toml("民法典第2条", "狗把人咬了谁赔钱"))
    errors = errors_for(knowledge, gloss_toml("民法典第2条", "养的牛顶伤了路人怎么办"))
    assert errors == ["knowledge/glosses/mine.toml [民法典第2条]: already glossed in knowledge/glosses/a.toml"]


@pytest.mark.parametrize("body,why", [
    ('[[article]]\ncite = "民法典第1条"\nask = ["房东不修', "cannot parse"),
    ('[[entry]]\ncite = "民法典第1条"\n', "unknown top-level key 'entry'"),
    ('article = "民法典第1条"\n', "article must be [[article]] tables"),
    ('[[article]]\ncite = "民法典第1条"\nask = ["房东不给修漏水的屋子"]\nanswer = "找房东"\n', "unknown key(s) answer"),
    ('[[article]]\nask = ["房东不给修漏水的屋子"]\n', "[article #1]: cite must be a citation"),
    (gloss_toml("民法典第1条"), "has 0 asks"),
    (gloss_toml("民法典第1条", "房东不修", "房东不管", "屋子漏水", "屋顶坏了", "墙裂开了"), "has 5 asks"),
    (gloss_toml("民法典第1条", "房东不修", "房东不修"), "repeats an ask"),
    (gloss_toml("民法典第1条", "漏水"), "ask '漏水' is not 4–60 characters"),
    (gloss_toml("民法典第1条", "房" * 61), "is not 4–60 characters"),
    ('[[article]]\ncite = "民法典第1条"\nask = "房东不给修漏水的屋子"\n', "ask must be a list of strings"),
])
def test_a_malformed_file_is_refused_with_a_clear_error(knowledge, body, why):
    errors = errors_for(knowledge, body)
    assert len(errors) == 1 and errors[0].startswith("knowledge/glosses/mine.toml") and why in errors[0]


def test_load_glosses_raises_on_any_fault_and_names_it(knowledge):
    folder = write_glosses(knowledge, "mine.toml", gloss_toml("民法典第1条", "房东不修房子") + gloss_toml("民法典第9条", "不存在的条文"))
    with pytest.raises(KnowledgeError, match=r"mine.toml \[民法典第9条\]"):
        load_glosses(folder, load_statutes(str(knowledge / "statutes")))


def config_for(knowledge):
    return load_config(overrides={"app": {"knowledge_dir": str(knowledge)}}, environ={})


def test_a_knowledge_folder_without_glosses_loads_with_none(knowledge):
    kb = load_knowledge(config_for(knowledge))
    assert kb.statutes.glosses == () and kb.errors == []


def test_glosses_travel_with_the_statutes_apart_from_the_faq_links(knowledge):
    write_glosses(knowledge, "mine.toml", gloss_toml("民法典第2条", "狗把人咬了谁赔钱"))
    kb = load_knowledge(config_for(knowledge))
    assert [g.citation for g in kb.statutes.glosses] == ["民法典第2条"]
    assert kb.statutes.links == () and kb.entries == []     # not an FAQ entry, not a link of one


def test_a_faulty_gloss_fails_a_strict_load_and_a_lenient_one_keeps_the_others(knowledge):
    write_glosses(knowledge, "mine.toml", gloss_toml("民法典第2条", "狗把人咬了谁赔钱") + gloss_toml("婚姻法第32条", "想离婚找谁调解"))
    with pytest.raises(KnowledgeError, match=r"婚姻法第32条\]: is of a law not in force"):
        load_knowledge(config_for(knowledge))
    kb = load_knowledge(config_for(knowledge), strict=False)
    assert [g.citation for g in kb.statutes.glosses] == ["民法典第2条"] and len(kb.errors) == 1


def test_the_shipped_glosses_are_valid():
    shipped = PROJECT_ROOT / "knowledge"
    glosses, errors = read_glosses(shipped / "glosses", load_statutes(str(shipped / "statutes")))
    assert errors == []
    assert len({g.citation for g in glosses}) == len(glosses)
