"""`kb check`'s editorial rules: the answer's shape, the review record, the corrections register,
and `kb check --stale`. Each rule is shown catching a bad entry written to a private knowledge/."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.config import load_config
from bot.kb.kbcheck import run_check, shape_errors, stale_findings
from bot.kb.knowledge import load_knowledge, read_knowledge
from tests.test_knowledge_check import GOOD, error_lines, kb_dir, toml_entries  # noqa: F401 (fixture)

LOCAL = {"court": "示例县人民法院"}


def shape(answer: str) -> list[str]:
    from bot.kb.knowledge import FaqEntry
    entry = FaqEntry(id="t.x", category="婚姻家庭", questions=(), keywords=(), answer=answer, citations=(),
                     quote=None, other_sources=(), needs_person=False, reviewed=None, source="t")
    return shape_errors(entry, LOCAL)


def write(kb_dir, *entries: dict, rules: str | None = None) -> None:
    """The entries (a field set to None is left out) as knowledge/faq/zz_broken.toml, and the rules."""
    entries = tuple({k: v for k, v in e.items() if v is not None} for e in entries)
    (kb_dir / "faq" / "zz_broken.toml").write_text(toml_entries(*entries), encoding="utf-8")
    if rules is not None:
        (kb_dir / "corrections.toml").write_text(rules, encoding="utf-8")


def project_config(kb_dir):
    return load_config(overrides={"app": {"knowledge_dir": str(kb_dir)}}, environ={})


# --- the shape ------------------------------------------------------------------------------

def test_the_agreed_shape_passes():
    assert shape("可以。您可以去法院起诉。\n1. 先带上身份证。\n2. 到{court}立案。") == []


@pytest.mark.parametrize("answer,message", [
    ("可以" * 31 + "\n1. 甲。\n2. 乙。", "line 1 is 62 characters, at most 60"),
    ("1. 可以。\n1. 甲。\n2. 乙。", "line 1 must not be numbered"),
    ("（一）可以。\n1. 甲。\n2. 乙。", "line 1 must not be numbered"),
    ("可以。\n1. 只有一步。", "has 1 numbered steps after line 1, needs 2 to 5"),
    ("可以。\n" + "\n".join(f"{n}. 第{n}步。" for n in range(1, 7)), "has 6 numbered steps"),
    ("可以。\n1. 甲。\n3. 乙。", "line 3 must be step '2. …'"),
    ("可以。\n1、甲。\n2、乙。", "line 2 must be step '1. …' (digit, dot, space)"),
    ("可以。\n1. 甲。\n\n2. 乙。", "line 3 is blank"),
    ("可以。\n办理：到乡里。\n1. 甲。", "line 2 must be step '1. …'"),
    ("可以。\n1. " + "长" * 101 + "\n2. 乙。", "step 1 is 101 characters, at most 100"),
    ("可以。\n" + "\n".join(f"{n}. " + "长" * 90 for n in range(1, 5)), "characters with placeholders filled, at most 350"),
    ("可以。你可以去法院。\n1. 甲。\n2. 乙。", "answer says 你"),
    ("可以。\n1. 你们先商量。\n2. 乙。", "answer says 你"),
    ("可以。\n1. 甲。\n2. 不清楚的回复1转人工。", "answer promises a hand-over itself"),
])
def test_a_misshapen_answer_is_reported(answer, message):
    assert any(message in error for error in shape(answer)), shape(answer)


def test_placeholders_are_filled_before_counting():
    long_court = {"court": "很" * 400}
    from bot.kb.knowledge import FaqEntry
    entry = FaqEntry(id="t.x", category="婚姻家庭", questions=(), keywords=(), source="t",
                     answer="可以。\n1. 到{court}。\n2. 乙。", citations=(), quote=None, other_sources=(),
                     needs_person=False, reviewed=None)
    assert shape_errors(entry, LOCAL) == []
    assert any("at most 350" in e for e in shape_errors(entry, long_court))
    assert any("step 1 is 402 characters" in e for e in shape_errors(entry, long_court))


# --- the review record ----------------------------------------------------------------------

@pytest.mark.parametrize("change,message", [
    ({"questions": GOOD["questions"][:7]}, "has 7 questions, needs at least 8 phrasings"),
    ({"excerpt": None}, "excerpt is missing"),
    ({"reviewed": None}, "reviewed is missing"),
    ({"basis": None}, "basis is missing"),
    ({"basis": {"民法典": "2020-05-28", "婚姻法": "2001-04-28"}}, "basis names '婚姻法', which knowledge/statutes does not hold"),
    ({"basis": {"民法典": "2019-01-01"}}, "basis says 民法典 2019-01-01, statutes hold 2020-05-28"),
    ({"citations": ["民法典第1079条", "反家庭暴力法第23条"]}, "basis does not name 反家庭暴力法 (held: 2015-12-27)"),
    ({"answer": "你可以起诉。\n1. 甲。\n2. 乙。"}, "answer says 你"),
])
def test_kb_check_reports_an_editorial_fault(kb_dir, change, message):
    lines = error_lines(kb_dir, {k: v for k, v in {**GOOD, **change}.items() if v is not None})
    assert len(lines) == 1 and message in lines[0], lines


def test_editorial_faults_do_not_stop_the_app_from_serving_the_entry(kb_dir):
    write(kb_dir, {**GOOD, "answer": "你去法院起诉吧，这一行不分步骤。", "questions": GOOD["questions"][:3]})
    config = project_config(kb_dir)
    kb = load_knowledge(config)                       # strict: raises on any load error
    assert "test.divorce" in kb.by_id
    result = run_check(config)
    assert result.load == [] and any("[test.divorce]: answer says 你" in e for e in result.editorial)


def test_a_wrong_excerpt_keeps_the_entry_from_being_served(kb_dir):
    write(kb_dir, {**GOOD, "excerpt": "夫妻一方要求离婚的。"})
    config = project_config(kb_dir)
    assert "test.divorce" not in load_knowledge(config, strict=False).by_id
    result = run_check(config)
    assert [e for e in result.load if "test.divorce" in e] and not [e for e in result.editorial if "test.divorce" in e]


def test_a_duplicate_question_is_editorial_not_a_load_error(kb_dir):
    twin = {**GOOD, "id": "test.twin", "questions": [q + "呢" for q in GOOD["questions"][1:]] + [GOOD["questions"][0]]}
    write(kb_dir, GOOD, twin)
    config = project_config(kb_dir)
    assert {"test.divorce", "test.twin"} <= set(load_knowledge(config).by_id)
    assert any("[test.twin]: question '测试用的离婚问题一' repeats one of" in e for e in run_check(config).editorial)


def test_kb_check_summary_separates_load_errors_from_editorial(kb_dir):
    write(kb_dir, {**GOOD, "questions": GOOD["questions"][:7]}, {**GOOD, "id": "test.bad", "questions": [
        f"另一个问法{n}" for n in range(8)], "citations": ["民法典第9999条"], "quote": "民法典第9999条"})
    result = CliRunner().invoke(main, ["kb", "check", "--dir", str(kb_dir)])
    assert result.exit_code == 1
    assert "1 keep an entry from being served" in result.output


# --- the corrections register ---------------------------------------------------------------

BRIDE_RULE = '''
[[rule]]
name = "bride_price_interpretation"
entries = ["test.divorce"]
must_not_say = ["法释〔2023〕20号"]
must_say = ["法释〔2024〕1号"]
why = "彩礼规定是法释〔2024〕1号"
'''


def test_a_correction_rule_fires_on_the_fault_it_records(kb_dir):
    write(kb_dir, {**GOOD, "other_sources": ["最高人民法院关于彩礼的规定（法释〔2023〕20号）"]}, rules=BRIDE_RULE)
    lines = [e for e in run_check(project_config(kb_dir)).editorial if "correction rule" in e]
    assert lines == [
        "knowledge/faq/zz_broken.toml [test.divorce]: correction rule 'bride_price_interpretation': "
        "must not say '法释〔2023〕20号' (彩礼规定是法释〔2024〕1号)",
        "knowledge/faq/zz_broken.toml [test.divorce]: correction rule 'bride_price_interpretation': "
        "must say '法释〔2024〕1号' (彩礼规定是法释〔2024〕1号)"]


def test_a_correction_rule_passes_a_corrected_entry(kb_dir):
    write(kb_dir, {**GOOD, "other_sources": ["最高人民法院关于审理涉彩礼纠纷案件适用法律若干问题的规定（法释〔2024〕1号）"]},
          rules=BRIDE_RULE)
    assert [e for e in run_check(project_config(kb_dir)).errors if "zz_broken" in e or "corrections" in e] == []


def test_a_must_cite_rule_fires_when_the_citation_is_dropped(kb_dir):
    rule = ('[[rule]]\nname = "review_first"\nentries = ["test.divorce"]\n'
            'must_cite = ["民法典第1079条", "行政复议法第23条"]\nwhy = "复议前置"\n')
    write(kb_dir, GOOD, rules=rule)
    lines = [e for e in run_check(project_config(kb_dir)).editorial if "correction rule" in e]
    assert lines == ["knowledge/faq/zz_broken.toml [test.divorce]: correction rule 'review_first': "
                     "must cite 行政复议法第23条 (复议前置)"]


def test_a_rule_without_entries_applies_to_every_entry(kb_dir):
    rule = '[[rule]]\nname = "no_court_in_town"\nmust_not_say = ["{court}"]\nwhy = "测试"\n'
    write(kb_dir, GOOD, {**GOOD, "id": "test.other", "questions": [f"别的问法{n}" for n in range(8)]}, rules=rule)
    fired = [e for e in run_check(project_config(kb_dir)).editorial if "no_court_in_town" in e and "zz_broken" in e]
    assert len(fired) == 2


@pytest.mark.parametrize("rule,message", [
    ('[[rule]]\nname = "x"\nwhy = "w"\n', "checks nothing"),
    ('[[rule]]\nname = "x"\nmust_cite = ["民法典第1条"]\nwhy = "w"\n', "must_cite needs entries"),
    ('[[rule]]\nname = "x"\nmust_say = ["a"]\n', "'why' must be a string"),
    ('[[rule]]\nname = "x"\nmust_say = "a"\nwhy = "w"\n', "'must_say' must be a list of strings"),
    ('[[rule]]\nname = "x"\nmust_say = ["a"]\nwhy = "w"\nwhen = "y"\n', "unknown key 'when'"),
    ('[[rule]]\nname = "x"\nentries = ["no.such_entry"]\nmust_say = ["a"]\nwhy = "w"\n',
     "entry 'no.such_entry' does not exist"),
])
def test_a_malformed_rule_is_reported_by_name(kb_dir, rule, message):
    write(kb_dir, GOOD, rules=rule)
    lines = [e for e in run_check(project_config(kb_dir)).editorial if e.startswith("knowledge/corrections.toml [x]")]
    assert len(lines) == 1 and message in lines[0], lines


def test_the_project_register_is_well_formed_and_seeded():
    from bot.core.config import PROJECT_ROOT
    from bot.kb.kbcheck import read_rules
    rules, errors = read_rules(PROJECT_ROOT / "knowledge")
    assert errors == [] and "bride_price_interpretation" in {r.name for r in rules}


# --- kb check --stale -----------------------------------------------------------------------

def stale(kb_dir, day=dt.date(2026, 11, 30), **kw) -> list[str]:
    return [f for f in stale_findings(read_knowledge(project_config(kb_dir)), day, **kw) if "zz_broken" in f]


def test_a_fresh_entry_is_not_stale(kb_dir):
    write(kb_dir, GOOD)
    assert stale(kb_dir) == []


def test_an_entry_reviewed_against_an_older_text_is_stale(kb_dir):
    write(kb_dir, {**GOOD, "basis": {"民法典": "2019-01-01"}})
    assert stale(kb_dir) == ["knowledge/faq/zz_broken.toml [test.divorce]: cites 民法典, now the 2020-05-28 "
                             "text; reviewed against 2019-01-01"]


def test_an_old_review_is_stale_after_the_configured_age(kb_dir):
    write(kb_dir, {**GOOD, "reviewed": dt.date(2026, 1, 1)})
    assert stale(kb_dir) == []
    assert stale(kb_dir, max_age_days=300) == [
        "knowledge/faq/zz_broken.toml [test.divorce]: last reviewed 2026-01-01, more than 300 days ago"]


def test_an_entry_about_medical_insurance_is_listed_until_the_new_law_takes_effect(kb_dir):
    write(kb_dir, {**GOOD, "keywords": ["医保"], "questions": [f"新农合怎么交{n}" for n in range(8)]})
    (finding,) = stale(kb_dir)
    assert "医疗保障法 takes effect 2027-01-01" in finding and "医保, 新农合" in finding
    assert stale(kb_dir, day=dt.date(2027, 1, 1)) == []


def test_an_entry_citing_the_farmland_chapter_is_listed(kb_dir):
    write(kb_dir, {**GOOD, "citations": ["土地管理法第37条"], "quote": "土地管理法第37条", "excerpt": None,
                   "basis": {"土地管理法": "2019-08-26"}, "keywords": ["闲置"]})
    (finding,) = stale(kb_dir)
    assert "耕地保护和质量提升法 takes effect 2027-01-01 and touches it (土地管理法第37条" in finding


def test_kb_check_stale_exits_0_unless_strict(kb_dir):
    write(kb_dir, {**GOOD, "basis": {"民法典": "2019-01-01"}})
    args = ["kb", "check", "--stale", "--dir", str(kb_dir), "--today", "2026-11-30"]
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 0 and "[test.divorce]: cites 民法典" in plain.output
    assert CliRunner().invoke(main, [*args, "--strict"]).exit_code == 1


def test_kb_dump_json_keeps_the_design_keys_first(kb_dir):
    write(kb_dir, GOOD)
    dumped = json.loads(CliRunner().invoke(main, ["kb", "dump", "--json", "--dir", str(kb_dir)]).output)
    assert all(list(e)[:5] == ["id", "category", "questions", "citations", "answer"] for e in dumped)
