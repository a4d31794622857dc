"""The suite's shared knowledge (tests/session_knowledge.py) is shared only where a fresh build
would be the same: a test of learning, a temporary knowledge copy or an edited file builds its own."""
import os
import sqlite3

from bot import create_app
from bot.learning import livekb
from bot.core.config import load_config
from tests import session_knowledge
from tests.conftest import test_overrides as overrides_for


def config_in(tmp_path, **extra):
    return load_config(overrides=overrides_for(tmp_path, **extra), environ={})


def test_apps_on_fresh_databases_serve_the_same_snapshot(tmp_path):
    assert livekb.build_snapshot is session_knowledge.build_snapshot_once
    first = create_app(config_in(tmp_path / "a")).extensions["legalbot"].live.latest()
    second = create_app(config_in(tmp_path / "b")).extensions["legalbot"].live.latest()
    assert first is second


def test_a_database_that_had_a_published_entry_is_not_shared(tmp_path):
    config = config_in(tmp_path)
    path = tmp_path / "legalbot.db"
    assert session_knowledge.snapshot_key(config, path) is not None
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE kb_version (id INTEGER PRIMARY KEY, version INTEGER, changed_at REAL)")
    conn.execute("CREATE TABLE kb_drafts (status TEXT)")
    conn.execute("INSERT INTO kb_version VALUES (1, 1, 0)")
    conn.commit()
    conn.close()
    assert session_knowledge.snapshot_key(config, path) is None


def test_a_knowledge_copy_outside_the_project_is_never_shared(tmp_path):
    config = config_in(tmp_path, app={"knowledge_dir": str(tmp_path / "kb")})
    assert session_knowledge.snapshot_key(config, tmp_path / "legalbot.db") is None


def test_other_matcher_settings_make_another_key(tmp_path):
    usual = session_knowledge.snapshot_key(config_in(tmp_path), tmp_path / "x.db")
    other = session_knowledge.snapshot_key(config_in(tmp_path, matcher={"max_question_chars": 7}),
                                           tmp_path / "x.db")
    assert usual != other


def test_editing_a_file_changes_the_stamp(tmp_path):
    entry = tmp_path / "faq.toml"
    entry.write_text("a = 1\n", encoding="utf-8")
    before = session_knowledge.files_stamp(tmp_path)
    entry.write_text("a = 22\n", encoding="utf-8")
    os.utime(entry, ns=(1, 1))
    assert session_knowledge.files_stamp(tmp_path) != before


def test_a_snapshot_is_not_shared_once_the_lexicons_were_read_anew(tmp_path, monkeypatch):
    """Copied dict/ folders can push the shipped one out of the few the process keeps; the next
    app reads it anew, and its matcher must read with the same objects as its handlers."""
    from functools import lru_cache
    from bot.core import text
    from bot.retrieval import lexicons
    before = create_app(config_in(tmp_path / "a")).extensions["legalbot"].lexicons.triggers
    monkeypatch.setattr(text, "_built", {})          # as if pushed out by other folders
    for name in ("load_triggers", "load_lexicon", "load_counterparts"):
        monkeypatch.setattr(lexicons, name, lru_cache(maxsize=4)(getattr(lexicons, name).__wrapped__))
    second = create_app(config_in(tmp_path / "b")).extensions["legalbot"]
    assert second.lexicons.triggers is not before
    assert second.matcher.triggers is second.lexicons.triggers
    assert second.matcher.dictionaries is second.lexicons.dictionaries


# --- glosses read once per process (tests/session_knowledge.py) ----------------------------

def glosses_folder(tmp_path, text: str):
    folder = tmp_path / "glosses"
    folder.mkdir(exist_ok=True)
    (folder / "a.toml").write_text(text, encoding="utf-8")
    return folder


GOOD_GLOSS = '[[article]]\ncite = "民法典第1079条"\nask = ["老公不同意离婚能离吗"]\n'


def shipped_statutes():
    from bot.core.config import PROJECT_ROOT
    from bot.kb.knowledge import load_statutes
    return load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes"))


def test_a_glosses_folder_read_again_is_not_parsed_again(tmp_path, monkeypatch):
    from bot.kb import glosses
    statutes, folder = shipped_statutes(), glosses_folder(tmp_path, GOOD_GLOSS)
    first = glosses.read_glosses(folder, statutes)
    parsed = []
    monkeypatch.setattr(glosses, "read_file", lambda *args: parsed.append(args) or ([], []))
    assert glosses.read_glosses(folder, statutes) == first and parsed == []
    assert [g.citation for g in first[0]] == ["民法典第1079条"] and first[1] == []


def test_an_edited_gloss_file_is_read_and_checked_again(tmp_path):
    from bot.kb import glosses
    statutes = shipped_statutes()
    assert glosses.read_glosses(glosses_folder(tmp_path, GOOD_GLOSS), statutes)[1] == []
    edited = GOOD_GLOSS.replace("民法典第1079条", "民法典第9999条")
    found, errors = glosses.read_glosses(glosses_folder(tmp_path, edited), statutes)
    assert found == [] and len(errors) == 1
    assert errors[0].endswith("glosses/a.toml [民法典第9999条]: is not in knowledge/statutes")


def test_glosses_are_checked_again_against_other_statutes_or_another_day(tmp_path):
    """The same file is judged afresh when the statutes lack the law or the day is another."""
    import datetime as dt
    from bot.kb import glosses
    from bot.kb.knowledge import Statutes
    statutes, folder = shipped_statutes(), glosses_folder(tmp_path, GOOD_GLOSS)
    assert glosses.read_glosses(folder, statutes)[1] == []
    without = Statutes([law for law in statutes.laws.values() if law.law != "民法典"],
                       [a for a in statutes.articles if a.law != "民法典"], not_held=statutes.not_held)
    assert glosses.read_glosses(folder, without)[1] != []
    before_the_code = statutes.as_of(dt.date(2019, 1, 1))       # 民法典 took effect 2021-01-01
    assert "not in force" in " ".join(glosses.read_glosses(folder, before_the_code)[1])
