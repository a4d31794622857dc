"""A statute text with a last day (``in_force_until``): 商标法's 2019 text is the law until
2026-12-31, and the revision adopted on 2026-06-26 takes over on 2027-01-01 (we do not hold it yet).

Every path that asks "is this in force?" is shown on both sides of that day, with the day injected:
citations in FAQ entries (`kb check`, `kb check --today`), the warning ahead (`kb check --stale`),
glosses, 查法条 lookups, and law search with its disk cache. Also the import's rules for such a
text, and its correction of the source's chapter for 刑事诉讼法 259–276.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.config import PROJECT_ROOT, load_config
from bot.kb.kbcheck import run_check, stale_findings
from bot.kb.knowledge import (Article, KnowledgeError, Law, Statutes, format_article, load_statutes,
                              read_knowledge)
from bot.retrieval import lawsearch
from bot.retrieval.lawsearch import LawIndex
from tests.learning_support import app, config, db, services, small_kb  # noqa: F401 (fixtures)
from tests.test_knowledge_check import GOOD, kb_dir, toml_entries  # noqa: F401 (fixture)

STATUTES_DIR = PROJECT_ROOT / "knowledge" / "statutes"
LAST_DAY, FIRST_DAY_AFTER, TODAY = dt.date(2026, 12, 31), dt.date(2027, 1, 1), dt.date(2026, 11, 30)
EXCERPT_57 = "有下列行为之一的，均属侵犯注册商标专用权："
TRADEMARK_ENTRY = {
    **GOOD, "id": "test.trademark", "category": "消费与合同",
    "questions": [f"别人用了我的商标{n}" for n in "一二三四五六七八"], "keywords": ["商标"],
    "answer": "可以。别人未经许可用您的注册商标，属于侵权。\n1. 先留好证据。\n2. 到{court}起诉。",
    "citations": ["商标法第57条"], "quote": "商标法第57条", "excerpt": "（三）销售侵犯注册商标专用权的商品的；",
    "basis": {"商标法": "2019-04-23"},
}


def statutes() -> Statutes:
    return load_statutes(str(STATUTES_DIR))


def dated_law(name: str, until: str = "", version: str = "2019-04-23", effective: str = "1983-03-01") -> Law:
    return Law(name, "中华人民共和国" + name, version, "现行有效", True, {}, "", effective, until)


# --- the law and its end date --------------------------------------------------------------

def test_a_text_with_an_end_date_is_in_force_through_its_last_day_only():
    law = dated_law("商标法", until="2026-12-31")
    assert law.in_force_on(TODAY) and law.in_force_on(LAST_DAY)
    assert not law.in_force_on(FIRST_DAY_AFTER) and law.ended_before(FIRST_DAY_AFTER)
    assert dated_law("民法典").in_force_on(dt.date(2099, 1, 1))        # no end date: no end


def test_the_trademark_law_is_citable_until_2026_12_31_and_not_after():
    held = statutes()
    assert held.in_force("商标法第57条", on=LAST_DAY)
    assert not held.in_force("商标法第57条", on=FIRST_DAY_AFTER)
    assert held.as_of(FIRST_DAY_AFTER).in_force("商标法第57条") is False
    assert held.as_of(FIRST_DAY_AFTER).in_force("医疗保障法第1条")      # the day both dates meet


def test_on_2027_01_01_the_only_held_text_not_in_force_is_the_2019_trademark_law():
    held = statutes()
    assert {name for name, law in held.laws.items() if not law.in_force_on(FIRST_DAY_AFTER)} == {"商标法"}


def test_a_misspelt_end_date_is_refused_at_load_naming_the_file(tmp_path):
    data = json.loads((STATUTES_DIR / "商标法.json").read_text(encoding="utf-8"))
    data["in_force_until"] = "2026-12-3l"
    (tmp_path / "商标法.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"商标法.json: in_force_until '2026-12-3l' must be a date"):
        load_statutes(str(tmp_path))


def test_an_end_date_before_the_text_starts_is_refused(tmp_path):
    data = json.loads((STATUTES_DIR / "商标法.json").read_text(encoding="utf-8"))
    data["in_force_until"] = "2018-01-01"
    (tmp_path / "商标法.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="is before the text takes effect"):
        load_statutes(str(tmp_path))


# --- FAQ entries: kb check and kb check --stale ---------------------------------------------

def write_entry(kb_dir, entry: dict) -> None:
    (kb_dir / "faq" / "zz_broken.toml").write_text(toml_entries(entry), encoding="utf-8")


def check_lines(kb_dir, *options: str) -> list[str]:
    result = CliRunner().invoke(main, ["kb", "check", "--dir", str(kb_dir), *options])
    return [line for line in result.output.splitlines() if "zz_broken" in line]


def test_an_entry_citing_the_2019_trademark_text_passes_until_its_last_day(kb_dir):
    write_entry(kb_dir, TRADEMARK_ENTRY)
    assert check_lines(kb_dir, "--today", "2026-12-31") == []


def test_an_entry_citing_the_lapsed_trademark_text_is_an_error_from_2027(kb_dir):
    write_entry(kb_dir, TRADEMARK_ENTRY)
    assert check_lines(kb_dir, "--today", "2027-01-01") == [
        "knowledge/faq/zz_broken.toml [test.trademark]: citation '商标法第57条' is of a law not in force "
        "(the 2019-04-23 text, in force only until 2026-12-31)"]
    config = load_config(overrides={"app": {"knowledge_dir": str(kb_dir)}}, environ={})
    assert "test.trademark" in read_knowledge(config, day=FIRST_DAY_AFTER).rejected
    assert "test.trademark" not in read_knowledge(config, day=TODAY).rejected


def test_an_answer_naming_the_lapsed_text_is_an_error_from_2027(kb_dir):
    write_entry(kb_dir, {**TRADEMARK_ENTRY, "answer": TRADEMARK_ENTRY["answer"] + "\n3. 依据是商标法第五十七条。"})
    lines = check_lines(kb_dir, "--today", "2027-01-01")
    assert any("answer names '商标法第57条'" in line for line in lines)


def stale(kb_dir, day: dt.date) -> list[str]:
    config = load_config(overrides={"app": {"knowledge_dir": str(kb_dir)}}, environ={})
    return [f for f in stale_findings(read_knowledge(config), day) if "zz_" in f]


def test_kb_check_stale_warns_ahead_of_the_last_day_and_not_after(kb_dir):
    write_entry(kb_dir, TRADEMARK_ENTRY)
    (finding,) = stale(kb_dir, TODAY)
    assert finding == ("knowledge/faq/zz_broken.toml [test.trademark]: cites 商标法, whose 2019-04-23 text is in "
                       "force only until 2026-12-31; the text replacing it is not held: import it and review "
                       "before then (articles may be renumbered)")
    assert stale(kb_dir, FIRST_DAY_AFTER) == []     # from then on `kb check` itself refuses it


# --- glosses -------------------------------------------------------------------------------

def write_gloss(kb_dir) -> None:
    for other in (kb_dir / "glosses").glob("*.toml"):     # a gloss of the same article elsewhere would clash
        if "商标法第57条" in other.read_text(encoding="utf-8"):
            other.unlink()
    (kb_dir / "glosses" / "zz_gloss.toml").write_text(
        '[[article]]\ncite = "商标法第57条"\nask = ["别人卖假冒我牌子的货怎么办"]\n', encoding="utf-8")


def test_a_gloss_of_the_lapsed_text_fails_kb_check_but_not_the_load(kb_dir):
    write_gloss(kb_dir)
    config = load_config(overrides={"app": {"knowledge_dir": str(kb_dir)}}, environ={})
    assert [e for e in run_check(config, day=TODAY).errors if "zz_gloss" in e] == []
    after = run_check(config, day=FIRST_DAY_AFTER)
    assert [e for e in after.load if "zz_gloss" in e] == []      # a search aid never stops the bot
    assert [e for e in after.editorial if "zz_gloss" in e] == [
        "knowledge/glosses/zz_gloss.toml [商标法第57条]: glosses a law not in force (the 2019-04-23 text, in force "
        "only until 2026-12-31): rewrite it for the text in force"]


def test_kb_check_stale_lists_each_gloss_file_citing_a_lapsing_text(kb_dir):
    write_gloss(kb_dir)
    assert stale(kb_dir, TODAY) == [
        "knowledge/glosses/zz_gloss.toml: 1 gloss(es) cite 商标法, whose 2019-04-23 text is in force only until "
        "2026-12-31; the text replacing it is not held: import it and review before then (articles may be renumbered)"]


# --- 查法条 ----------------------------------------------------------------------------------

def test_the_lookup_shows_the_2019_text_as_the_law_until_its_last_day_and_says_when_it_ends():
    held = statutes()
    article = held.get("商标法第57条")
    shown = format_article(article, held.law_of(article), LAST_DAY)
    assert EXCERPT_57 in shown and "已失效" not in shown
    assert "【现行文本，施行到2026-12-31；之后施行修订后的新文本，条文和条号可能变了】" in shown


def test_from_2027_the_lookup_says_the_text_has_lapsed_above_it(monkeypatch):
    from handlers.lookup import lookup_text
    monkeypatch.setattr("bot.kb.knowledge.today", lambda: FIRST_DAY_AFTER)
    reply = lookup_text("商标法第57条", statutes())
    lines = reply.split("\n")
    assert lines[2].startswith("【已失效：这是2019-04-23的文本，只施行到2026-12-31，之后施行修订后的新文本")
    assert "请问村里的法律顾问" in lines[2] and reply.index("已失效") < reply.index(EXCERPT_57)


# --- law search and its disk cache ---------------------------------------------------------

def two_laws() -> Statutes:
    articles = [Article("商标法", 57, "第五十七条", "", "", "未经商标注册人的许可，在同一种商品上使用与其注册商标相同的商标的，属于侵犯注册商标专用权。"),
                Article("民法典", 1, "第一条", "", "", "借款人应当按照约定的期限返还借款。")]
    return Statutes([dated_law("商标法", until="2026-12-31"), dated_law("民法典", version="2020-05-28")], articles)


def test_law_search_leaves_the_lapsed_text_out_and_keys_a_new_cache(tmp_path):
    words = lawsearch.shipped_dictionaries()
    before, after = two_laws().as_of(LAST_DAY), two_laws().as_of(FIRST_DAY_AFTER)
    assert lawsearch.cache_key(before, words) != lawsearch.cache_key(after, words)
    old = LawIndex(before, cache_dir=tmp_path, min_evidence=0)
    assert old.search("别人在同一种商品上用我的注册商标")[0].citation == "商标法第57条"
    new = LawIndex(after, cache_dir=tmp_path, min_evidence=0)       # the same cache directory
    assert [a.citation for a in new.articles] == ["民法典第1条"]
    assert all(h.law != "商标法" for h in new.search("别人在同一种商品上用我的注册商标"))
    assert len(list(tmp_path.glob("lawindex-*.npz"))) == 2


def test_the_shipped_trademark_law_is_searchable_today_only():
    held = statutes()
    assert "商标法第57条" in {a.citation for a in lawsearch.searchable(held.as_of(LAST_DAY))}
    assert "商标法第57条" not in {a.citation for a in lawsearch.searchable(held.as_of(FIRST_DAY_AFTER))}


# --- the import ----------------------------------------------------------------------------

def source_db(*rows: tuple) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.execute("CREATE TABLE laws (law_id TEXT, law_name TEXT, version_date TEXT, effective_date TEXT, status TEXT)")
    db.executemany("INSERT INTO laws VALUES (?, ?, ?, ?, ?)", rows)
    return db


def test_the_import_ends_a_replaced_text_the_day_before_its_revision_takes_effect():
    from scripts.import_statutes import find_law, replacement
    db = source_db(("a", "中华人民共和国商标法", "2019-04-23", "1983-03-01", "历史版本"),
                   ("b", "中华人民共和国商标法", "2026-06-26", "2027-01-01", "现行有效"))
    held = find_law(db, "商标法")
    assert held["law_id"] == "a" and replacement(db, "商标法", held)["law_id"] == "b"


def test_the_import_refuses_a_replaced_text_with_no_revision_to_take_over():
    from scripts.import_statutes import find_law, replacement
    db = source_db(("a", "中华人民共和国商标法", "2019-04-23", "1983-03-01", "历史版本"))
    with pytest.raises(SystemExit, match="no later in-force text"):
        replacement(db, "商标法", find_law(db, "商标法"))


def test_the_shipped_trademark_file_records_the_revision_replacing_it():
    data = json.loads((STATUTES_DIR / "商标法.json").read_text(encoding="utf-8"))
    assert data["in_force_until"] == "2026-12-31"
    assert data["provenance"]["replaced_by"] == {"law_id": "2e6489c7de9d", "version_date": "2026-06-26",
                                                 "effective_date": "2027-01-01"}


# --- 刑事诉讼法: the chapter of articles 259–276 -----------------------------------------------

def test_the_import_takes_a_new_parts_heading_over_the_sources_stale_chapter():
    from scripts.import_statutes import chapter_corrections, chapters_from_headings
    articles = [{"number": 1, "chapter": "第五章 审判监督程序", "section": "", "headings_after": ["第四编 执 行"]},
                {"number": 2, "chapter": "第五章 审判监督程序", "section": "", "headings_after": []},
                {"number": 3, "chapter": "第五章 审判监督程序", "section": "", "headings_after": ["第五编 特别程序",
                                                                                       "第一章 未成年人"]},
                {"number": 4, "chapter": "第一章 未成年人", "section": "", "headings_after": []}]
    chapters_from_headings(articles)
    assert [a["chapter"] for a in articles] == ["第五章 审判监督程序", "第四编 执行", "第四编 执行", "第一章 未成年人"]
    assert chapter_corrections(articles) == [{"articles": "第2条–第3条", "chapter": "第四编 执行",
                                              "source_chapter": "第五章 审判监督程序"}]


def test_a_heading_the_source_already_follows_changes_nothing():
    from scripts.import_statutes import chapters_from_headings
    articles = [{"number": 1, "chapter": "第一章 总则", "section": "", "headings_after": ["第二章 管 辖"]},
                {"number": 2, "chapter": "第二章 管辖", "section": "", "headings_after": []}]
    chapters_from_headings(articles)
    assert [a["chapter"] for a in articles] == ["第一章 总则", "第二章 管辖"]


def test_criminal_procedure_articles_259_to_276_are_in_part_four_execution():
    held = statutes()
    assert held.get("刑事诉讼法第258条").chapter == "第五章 审判监督程序"
    assert {held.get(f"刑事诉讼法第{n}条").chapter for n in range(259, 277)} == {"第四编 执行"}
    assert held.get("刑事诉讼法第259条").text.startswith("判决和裁定在发生法律效力后执行。")
    assert held.get("刑事诉讼法第277条").chapter == "第一章 未成年人刑事案件诉讼程序"


# --- a running process: the day changes under it -------------------------------------------

def test_a_running_process_rebuilds_its_knowledge_when_the_day_changes(services, db, monkeypatch):
    import time
    live = services.live
    first = live.latest()
    live.poll(db, force=True)
    assert live.builds == 0                       # same version, same day: nothing to do
    monkeypatch.setattr("bot.kb.knowledge.today", lambda: first.day + dt.timedelta(days=1))
    live.poll(db, force=True)
    deadline = time.monotonic() + 60
    while live.latest() is first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.latest() is not first and live.latest().day == first.day + dt.timedelta(days=1)
