"""`legalbot kb check` fails loudly, naming file and entry, on every kind of broken entry."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.config import PROJECT_ROOT, load_config
from bot.kb.knowledge import load_knowledge
from bot.kb import kbcheck

EXCERPT_1079 = "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。"
GOOD = {
    "id": "test.divorce", "category": "婚姻家庭",
    "questions": [f"测试用的离婚问题{n}" for n in "一二三四五六七八"],
    "keywords": ["离婚"],
    "answer": "可以。对方不同意离婚，您可以到法院起诉离婚。\n1. 先找村调委会调解。\n2. 调解不成，到{court}起诉。",
    "citations": ["民法典第1079条"], "quote": "民法典第1079条", "excerpt": EXCERPT_1079,
    "needs_person": False, "reviewed": dt.date(2026, 11, 1), "basis": {"民法典": "2020-05-28"},
}


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, int)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}"
                                for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)


def toml_entries(*entries: dict) -> str:
    blocks = ["[[entry]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in e.items()) for e in entries]
    return "\n".join(blocks)


@pytest.fixture
def kb_dir(tmp_path):
    """A private copy of the project's knowledge/ to break."""
    copy = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", copy)
    return copy


def run_check(kb_dir):
    return CliRunner().invoke(main, ["kb", "check", "--dir", str(kb_dir)])


def error_lines(kb_dir, *entries: dict) -> list[str]:
    (kb_dir / "faq" / "zz_broken.toml").write_text(toml_entries(*entries), encoding="utf-8")
    return [line for line in run_check(kb_dir).output.splitlines() if "zz_broken.toml" in line]


def test_the_project_knowledge_base_passes_kb_check():
    result = CliRunner().invoke(main, ["kb", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("kb check: OK")


def test_every_project_entry_passes_the_load_checks_and_is_served():
    from bot.kb.kbcheck import run_check
    config = load_config(environ={})
    assert run_check(config).load == []
    assert len(load_knowledge(config).entries) >= 149


def test_a_good_entry_adds_no_error(kb_dir):
    assert error_lines(kb_dir, GOOD) == []


def test_kb_check_exits_1_and_names_file_and_entry(kb_dir):
    (kb_dir / "faq" / "zz_broken.toml").write_text(
        toml_entries({**GOOD, "citations": ["民法典第9999条"]}), encoding="utf-8")
    result = run_check(kb_dir)
    assert result.exit_code == 1
    assert ("knowledge/faq/zz_broken.toml [test.divorce]: citation '民法典第9999条' is not in "
            "knowledge/statutes") in result.output.splitlines()


@pytest.mark.parametrize("change,message", [
    ({"category": "刑事"}, "category '刑事' is not one of"),
    ({"citations": ["民法典1079"], "quote": "民法典1079"}, "citation '民法典1079' is not canonical (write '民法典第1079条')"),
    ({"citations": ["《民法典》第1079条"], "quote": "《民法典》第1079条"}, "is not canonical"),
    ({"citations": ["工伤保险条例第14条"], "quote": "工伤保险条例第14条"}, "citation '工伤保险条例第14条' is not in knowledge/statutes"),
    ({"quote": "民法典第1076条"}, "quote '民法典第1076条' is not among its citations"),
    ({"quote": None}, "quote is required when there are citations"),
    ({"category": "交通", "role": "bystander"}, "role 'bystander' is not one of victim, wrongdoer"),
    ({"basis": {"民法典": "2020年5月28日"}}, "basis '民法典' = '2020年5月28日' must be a date"),
    ({"excerpt": "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向法院提起离婚诉讼。"},
     "excerpt of 民法典第1079条 is not verbatim in the article: the first 26 characters match"),
    ({"excerpt": "可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。"}, "must start where a sentence starts"),
    ({"excerpt": "夫妻一方要求离婚的，可以由有关组织进行调解"}, "must end with 。 or ；"),
    ({"excerpt": "离" * 151}, "excerpt is 151 characters, at most 150"),
    ({"excerpt": "禁止重婚。", "quote": "民法典第1079条"}, "is not verbatim in the article"),
    ({"answer": "去找{mayor}。"}, "placeholder {mayor} is not a key of [local]"),
    ({"answer": "长" * 700}, "shorten the answer"),
    ({"answer": "按《工伤保险条例》第十四条认定工伤。"}, "answer names '工伤保险条例第14条'"),
    ({"questions": ["只有一个问法"]}, "needs at least 3 questions"),
    ({"reviewed": "2026-11-01"}, "'reviewed' must be date, got str"),
    ({"basis": "民法典"}, "'basis' must be dict, got str"),
    ({"needs_person": "no"}, "'needs_person' must be bool"),
    ({"citation": ["民法典第1079条"]}, "unknown field 'citation'"),
    ({"id": "Bad Id"}, "id 'Bad Id' must look like area.topic"),
    ({"answer": "  "}, "answer is empty"),
    ({"citations": [], "quote": None, "excerpt": None}, "cites no article"),
])
def test_kb_check_reports_a_broken_entry(kb_dir, change, message):
    lines = error_lines(kb_dir, {k: v for k, v in {**GOOD, **change}.items() if v is not None})
    assert len(lines) == 1 and message in lines[0], lines


def test_kb_check_reports_a_missing_field(kb_dir):
    broken = {k: v for k, v in GOOD.items() if k != "needs_person"}
    assert error_lines(kb_dir, broken) == [
        "knowledge/faq/zz_broken.toml [test.divorce]: missing field 'needs_person'"]


def test_kb_check_reports_a_duplicate_id_and_question(kb_dir):
    twin = {**GOOD, "questions": ["另一个问题甲", "另一个问题乙", "测试用的离婚问题一！"]}
    lines = error_lines(kb_dir, GOOD, twin)
    assert any("id also used in knowledge/faq/zz_broken.toml" in line for line in lines)
    assert any("question '测试用的离婚问题一！' repeats one of" in line for line in lines)


def test_kb_check_reports_a_toml_syntax_error(kb_dir):
    (kb_dir / "faq" / "zz_broken.toml").write_text("[[entry]]\nid = \n", encoding="utf-8")
    result = run_check(kb_dir)
    assert result.exit_code == 1
    assert "knowledge/faq/zz_broken.toml [-]: cannot parse" in result.output


def test_kb_check_reports_a_law_not_in_force(kb_dir):
    repealed = {"law": "婚姻法", "title": "中华人民共和国婚姻法", "version_date": "2001-04-28",
                "status": "已废止", "in_force": False, "provenance": {},
                "articles": [{"number": 32, "label": "第三十二条", "chapter": "", "section": "",
                              "text": "男女一方要求离婚的，可由有关部门进行调解或直接向人民法院提出离婚诉讼。"}]}
    (kb_dir / "statutes" / "婚姻法.json").write_text(json.dumps(repealed, ensure_ascii=False), encoding="utf-8")
    lines = error_lines(kb_dir, {**GOOD, "citations": ["婚姻法第32条"], "quote": "婚姻法第32条"})
    assert lines == ["knowledge/faq/zz_broken.toml [test.divorce]: citation '婚姻法第32条' is of a law not in force"]


def test_kb_check_reports_an_uncovered_scope_topic(kb_dir):
    with (kb_dir / "scope.toml").open("a", encoding="utf-8") as scope:
        scope.write('\n[[topic]]\nid = "test.nowhere"\ntitle = "没人写的话题"\narticles = ["民法典第1条"]\n'
                    '\n[[topic]]\nid = "test.divorce"\ntitle = "测试离婚"\narticles = ["民法典第1076条"]\n')
    (kb_dir / "faq" / "zz_broken.toml").write_text(toml_entries(GOOD), encoding="utf-8")
    output = run_check(kb_dir).output
    assert "knowledge/scope.toml [test.nowhere]: topic 没人写的话题 has no entry" in output
    assert ("knowledge/faq/zz_broken.toml [test.divorce]: topic 测试离婚 must cite one of "
            "民法典第1076条") in output


def test_the_check_reports_missing_statutes(tmp_path):
    (tmp_path / "faq").mkdir()
    config = load_config(overrides={"app": {"knowledge_dir": str(tmp_path)}}, environ={})
    assert kbcheck.run_check(config).errors == [f"{tmp_path / 'statutes'}: no statutes found"]


def test_kb_dump_json_prints_the_entries_in_the_design_shape(kb_dir):
    (kb_dir / "faq" / "zz_broken.toml").write_text(toml_entries({**GOOD, "role": "victim"}), encoding="utf-8")
    result = CliRunner().invoke(main, ["kb", "dump", "--json", "--dir", str(kb_dir)])
    dumped = json.loads(result.output)
    (mine,) = [e for e in dumped if e["id"] == "test.divorce"]
    assert {k: mine[k] for k in ("id", "category", "questions", "citations", "answer")} == {
        "id": "test.divorce", "category": "婚姻家庭", "questions": GOOD["questions"],
        "citations": ["民法典第1079条"], "answer": GOOD["answer"]}
    assert (mine["quote"], mine["excerpt"], mine["role"]) == ("民法典第1079条", EXCERPT_1079, "victim")
    assert (mine["basis"], mine["reviewed"]) == ({"民法典": "2020-05-28"}, "2026-11-01")
    assert all({"id", "category", "questions", "citations", "answer"} <= set(e) for e in dumped)
