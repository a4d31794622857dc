"""`legalbot kb export-drafts`, `kb check` over published entries, and `stats --gaps`."""
from __future__ import annotations

import json
import shutil
import tomllib
from dataclasses import replace

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.config import PROJECT_ROOT
from bot.learning.drafts import get_draft
from bot.kb.knowledge import read_entries
from tests.learning_support import (QUESTION, answered, handed_over, published, written)
from tests.learning_support import app, config, db, services, small_kb, villager  # noqa: F401 (fixtures)


@pytest.fixture
def entry(villager, services, db):
    """One entry published from the console, learned from ticket #1."""
    draft = published(services, db, written(services, db, answered(services, db, handed_over(villager, db))))
    return services.knowledge.by_id[draft.entry_id]


def run(config, *args: str):
    return CliRunner().invoke(main, list(args), env={"LEGALBOT_DB": str(config.app.db_path)})


def check_lines(config, directory) -> tuple[int, list[str]]:
    result = run(config, "kb", "check", "--dir", str(directory))
    return result.exit_code, [line for line in result.output.splitlines() if not line.startswith("kb check:")]


def test_export_drafts_writes_the_knowledge_faq_format(entry, config, tmp_path):
    result = run(config, "kb", "export-drafts", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "learned.toml").read_text(encoding="utf-8")
    [raw] = tomllib.loads(text)["entry"]
    assert raw["id"] == "property.lost_phone" and raw["questions"][0] == QUESTION
    assert raw["provenance"] == {"ticket": entry.provenance["ticket"], "author": "zhang", "reviewer": "li",
                                 "published": entry.reviewed}
    assert 'answer = """\n不能。捡到别人的东西要还给失主。\n1. ' in text


def test_kb_export_drafts_round_trips_through_kb_check(entry, config, tmp_path):
    """Exported into a copy of knowledge/faq, the entry reads back as it was served, and `kb check`
    finds nothing new: the export is ready to be committed."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    _, before = check_lines(config, knowledge)
    assert run(config, "kb", "export-drafts", str(knowledge / "faq")).exit_code == 0
    [read] = read_entries(knowledge / "faq" / "learned.toml", knowledge)[0]
    assert read == replace(entry, source="knowledge/faq/learned.toml")
    _, after = check_lines(config, knowledge)
    assert after == before and not [line for line in after if "learned" in line or "lost_phone" in line]


def test_kb_check_checks_the_published_entries_too(entry, config, db, small_kb):
    draft_id = db.execute("SELECT id FROM kb_drafts WHERE entry_id = ?", [entry.id]).fetchone()[0]
    db.execute("UPDATE kb_drafts SET excerpt = '拾得遗失物应当返还。', answer = '你要还。' WHERE id = ?",
               [draft_id])
    code, lines = check_lines(config, small_kb)
    mine = [line for line in lines if line.startswith(f"db:kb_drafts/{draft_id} [property.lost_phone]")]
    assert code == 1
    assert any("is not verbatim in the article" in line for line in mine), lines
    assert get_draft(db, draft_id).status == "published"


def test_stats_gaps_lists_unanswered_questions_grouped_and_masked(villager, config):
    for n, question in enumerate(["在路边捡到别人的手机可以自己留着吗，我电话13912345678",
                                  "捡到别人的手机能自己留着吗", "邻居家的树挡了我家的光"]):
        villager.says(question, f"oGapVillager{n:05d}")
    result = run(config, "stats", "--gaps", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["questions"] == 3 and [g["count"] for g in report["groups"]] == [2, 1]
    assert "13912345678" not in result.output and "树挡了我家的光" in report["groups"][1]["question"]
    text = run(config, "stats", "--gaps")
    assert text.exit_code == 0 and "2 次" in text.output and "13912345678" not in text.output


def test_stats_gaps_leaves_out_what_the_bot_answered(villager, config):
    villager.says("借钱给别人他一直拖着不还", "oAnsweredVillager1")
    assert json.loads(run(config, "stats", "--gaps", "--json").output)["groups"] == []
