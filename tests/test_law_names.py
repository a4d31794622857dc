"""A law we do not hold is not taken for the held law its name ends with.

高等教育法 ends with 教育法 and 军人保险法 with 保险法: reading "高等教育法第5条" as 教育法第5条 would
show a villager an article of another law under the name they asked for. The laws not held whose
names end with a held one are listed in knowledge/statutes/not_held.txt (scripts/import_statutes.py),
read with the statutes and checked when they are loaded.
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.config import PROJECT_ROOT
from bot.kb.knowledge import FaqEntry, KnowledgeError, load_statutes, mention_errors, parse_citation
from handlers.lookup import lookup_decision, lookup_text

SHIPPED = PROJECT_ROOT / "knowledge" / "statutes"
NOT_HELD = [("高等教育法第5条", "教育法"), ("军人保险法第3条", "保险法")]


@pytest.fixture(scope="module")
def statutes():
    return load_statutes(str(SHIPPED))


def statutes_folder(tmp_path, not_held: str | None):
    """A statutes folder holding the shipped 教育法 alone, and not_held.txt if given."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "教育法.json").symlink_to(SHIPPED / "教育法.json")
    if not_held is not None:
        (tmp_path / "not_held.txt").write_text(not_held, encoding="utf-8")
    return str(tmp_path)


@pytest.mark.parametrize("query,held", NOT_HELD)
def test_a_lookup_of_a_law_not_held_says_so_instead_of_quoting_the_held_law(statutes, query, held):
    reply = lookup_text(query, statutes)
    assert reply.startswith(f"没有查到“{query}”")
    assert f"还没有收《{query.split('第')[0]}》" in reply and f"收了《{held}》" in reply
    assert f"《中华人民共和国{held}》" not in reply
    assert lookup_decision(query, statutes).action == "fallback"


def test_a_villager_asking_for_a_law_not_held_in_chat_gets_the_plain_not_found_reply(wechat):
    reply = wechat.say("查法条 高等教育法第5条")
    assert reply.startswith("没有查到“高等教育法第5条”") and "中华人民共和国教育法" not in reply


def test_law_show_refuses_a_law_not_held_by_its_own_name():
    result = CliRunner().invoke(main, ["law", "show", "高等教育法第5条"])
    assert result.exit_code == 1
    assert "高等教育法第5条 is not in knowledge/statutes" in result.output
    assert "教育必须" not in result.output


def test_a_held_law_is_still_found_under_its_full_title(statutes):
    assert lookup_text("《中华人民共和国教育法》第五条", statutes).startswith("《中华人民共和国教育法》第五条")
    assert statutes.get("义务教育法第2条").law == "义务教育法"


def test_a_missing_article_of_a_held_law_is_told_apart_from_a_law_not_held(statutes):
    reply = lookup_text("民法典第9999条", statutes)
    assert reply.startswith("没有查到“民法典第9999条”") and "《民法典》" in reply
    assert "还没有收" not in reply


def test_an_article_deleted_by_an_amendment_is_said_to_be_deleted(statutes):
    reply = lookup_text("刑法第一百九十九条", statutes)
    assert reply.startswith("没有查到“刑法第199条”：这一条已经被删除") and "核对条号" not in reply
    assert "核对条号" in lookup_text("刑法第198条之一", statutes)


def test_the_laws_not_held_are_read_with_the_statutes(tmp_path):
    statutes = load_statutes(statutes_folder(tmp_path, "# comment\n\n高等教育法\n 职业教育法 \n"))
    assert set(statutes.not_held) == {"高等教育法", "职业教育法"}
    assert statutes.get("高等教育法第5条") is None and statutes.get("教育法第5条") is not None
    assert statutes.cite("高等教育法第5条") == "高等教育法第5条"
    assert statutes.mentions("依照高等教育法第五条和教育法第五条") == ["高等教育法第5条", "教育法第5条"]


def test_without_the_list_no_law_is_taken_for_not_held(tmp_path):
    statutes = load_statutes(statutes_folder(tmp_path, None))
    assert statutes.not_held == () and statutes.get("教育法第5条") is not None


@pytest.mark.parametrize("line,problem", [
    ("高等教育 法", "is not a law's short name"), ("教育法", "is held in statutes/"),
])
def test_a_bad_line_in_the_list_is_refused_at_load_naming_the_file_and_line(tmp_path, line, problem):
    folder = statutes_folder(tmp_path, f"# laws not held\n高等教育法\n{line}\n")
    with pytest.raises(KnowledgeError) as raised:
        load_statutes(folder)
    [error] = raised.value.errors
    shown = (tmp_path / "not_held.txt").relative_to(tmp_path.parent.parent)   # as knowledge/statutes/not_held.txt
    assert error.startswith(f"{shown}:3: ") and problem in error


def test_kb_check_reports_a_bad_list_instead_of_failing(tmp_path):
    kb = tmp_path / "knowledge"
    (kb / "faq").mkdir(parents=True)
    statutes_folder(kb / "statutes", "教育法\n")
    result = CliRunner().invoke(main, ["kb", "check", "--dir", str(kb)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)   # not a traceback
    assert "knowledge/statutes/not_held.txt:1: '教育法' is held in statutes/" in result.output


def test_parse_citation_reads_a_law_not_held_as_itself():
    assert parse_citation("高等教育法第5条", laws=["教育法"], not_held=["高等教育法"]) is None
    assert parse_citation("查高等教育法第5条", known=["教育法"], not_held=["高等教育法"]) == "高等教育法第5条"
    assert parse_citation("义务教育法第5条", known=["教育法", "义务教育法"], not_held=["高等教育法"]) == "义务教育法第5条"


def test_an_answer_naming_an_article_of_a_law_not_held_is_refused(statutes):
    answer = "学校要按高等教育法第五条办。"
    entry = FaqEntry(id="school.aim", category="纠纷解决与法律服务", questions=("a", "b", "c"), keywords=(),
                     answer=answer, citations=("教育法第5条",), quote="教育法第5条", other_sources=(),
                     needs_person=False, reviewed=None, source="knowledge/faq/test.toml")
    assert mention_errors(entry, statutes) == [
        "knowledge/faq/test.toml [school.aim]: answer names '高等教育法第5条', which is not an in-force "
        "article in knowledge/statutes"]
