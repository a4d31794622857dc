"""The trigger phrases and question words come from the configured knowledge_dir, not a global.

Two apps live in one process here: one on a knowledge directory whose dict/ is the shipped one
(a symlink, as the learning tests use), one on a copy whose triggers.toml has one more urgent
phrase. Only the second treats the phrase as an emergency; the shipped file is never touched.
"""
from __future__ import annotations

import shutil

from bot import create_app
from bot.core.config import PROJECT_ROOT, load_config
from bot.core.text import normalize
from tests.conftest import test_overrides as overrides_for
from tests.learning_support import Villager, private_knowledge
from tests.support import WeChatSender

CODE_WORD = "红灯笼暗号"   # invented: no shipped phrase or pattern matches it
EMERGENCY = "110报警"   # every urgent reply gives the police number, whoever was told
SHIPPED_TRIGGERS = PROJECT_ROOT / "knowledge" / "dict" / "triggers.toml"


def knowledge_with_code_word(root):
    """A knowledge directory whose dict/ is a real copy with CODE_WORD as an urgent phrase."""
    kb = private_knowledge(root)
    (kb / "dict").unlink()
    shutil.copytree(SHIPPED_TRIGGERS.parent, kb / "dict")
    path = kb / "dict" / "triggers.toml"
    original = path.read_text(encoding="utf-8")
    changed = original.replace('phrases = [\n  "救命",', f'phrases = [\n  "{CODE_WORD}", "救命",', 1)
    assert changed != original
    path.write_text(changed, encoding="utf-8")
    return kb


def app_on(tmp_path, kb):
    config = load_config(overrides=overrides_for(tmp_path, app={"knowledge_dir": str(kb)}), environ={})
    app = create_app(config, warm=False)
    app.config["TESTING"] = True
    return app


def test_a_trigger_phrase_added_in_the_configured_dict_makes_only_that_app_urgent(tmp_path):
    shipped_before = SHIPPED_TRIGGERS.read_bytes()
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    shipped = app_on(tmp_path / "a", private_knowledge(tmp_path / "a"))
    changed = app_on(tmp_path / "b", knowledge_with_code_word(tmp_path / "b"))
    question = f"{CODE_WORD}，快点"

    assert changed.extensions["legalbot"].matcher.decide(question).action == "urgent"
    assert shipped.extensions["legalbot"].matcher.decide(question).action != "urgent"
    assert EMERGENCY in Villager(WeChatSender(changed.test_client())).says(question)
    assert EMERGENCY not in Villager(WeChatSender(shipped.test_client())).says(question)
    assert SHIPPED_TRIGGERS.read_bytes() == shipped_before


def test_apps_on_the_shipped_dict_share_one_set_of_lexicons(tmp_path):
    """A symlinked dict/ resolves to the shipped folder: read once, not once per app."""
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = app_on(tmp_path / "a", private_knowledge(tmp_path / "a")).extensions["legalbot"]
    second = app_on(tmp_path / "b", private_knowledge(tmp_path / "b")).extensions["legalbot"]
    assert first.lexicons.triggers is second.lexicons.triggers
    assert first.lexicons.question is second.lexicons.question
    assert first.lexicons.triggers.urgent_reason(normalize(CODE_WORD)) is None
