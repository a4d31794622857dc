"""Every dictionary comes from the configured knowledge_dir, not a global: trigger phrases,
question words, jieba's user dictionary and the synonyms.

Two apps live in one process here: one on a knowledge directory whose dict/ is the shipped one
(a symlink, as the learning tests use), one on a copy with one word changed. Only the second
reads the word its way; the shipped files are never touched. The command line, pointed at the
copy by its configuration file, reads it the same way.
"""
from __future__ import annotations

import json
import re
import shutil

from click.testing import CliRunner

from bot import create_app
from bot.cli import main
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


# --- jieba's user dictionary and the synonyms -----------------------------------------------

NEW_WORD = "咚锵钱"                       # invented: no shipped dictionary knows it
BRIDE_PRICE_QUESTION = f"{NEW_WORD}能要回来吗"   # answerable only when it stands for 彩礼
SHIPPED_DICT = PROJECT_ROOT / "knowledge" / "dict"


def knowledge_with_new_word(root):
    """A knowledge directory whose dict/ is a copy where NEW_WORD is a user-dictionary word and a
    colloquial word for 彩礼."""
    kb = private_knowledge(root)
    (kb / "dict").unlink()
    shutil.copytree(SHIPPED_DICT, kb / "dict")
    path = kb / "dict" / "synonyms.toml"
    original = path.read_text(encoding="utf-8")
    changed = re.sub(r'^"彩礼" = \[', f'"彩礼" = ["{NEW_WORD}", ', original, count=1, flags=re.M)
    assert changed != original
    path.write_text(changed, encoding="utf-8")
    with (kb / "dict" / "userdict.txt").open("a", encoding="utf-8") as out:
        out.write(f"\n{NEW_WORD} 20 n\n")
    return kb


def shipped_dict_files() -> dict[str, bytes]:
    return {name: (SHIPPED_DICT / name).read_bytes() for name in ("synonyms.toml", "userdict.txt")}


def test_a_synonym_and_user_word_in_the_configured_dict_answer_only_in_that_app(tmp_path):
    before = shipped_dict_files()
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    shipped = app_on(tmp_path / "a", private_knowledge(tmp_path / "a")).extensions["legalbot"]
    changed = app_on(tmp_path / "b", knowledge_with_new_word(tmp_path / "b")).extensions["legalbot"]

    assert changed.matcher.decide(BRIDE_PRICE_QUESTION).faq_id == "test.bride_price"
    assert shipped.matcher.decide(BRIDE_PRICE_QUESTION).action == "fallback"
    assert NEW_WORD in changed.lexicons.dictionaries.tokens(BRIDE_PRICE_QUESTION)
    assert NEW_WORD not in shipped.lexicons.dictionaries.tokens(BRIDE_PRICE_QUESTION)
    assert shipped_dict_files() == before


def test_the_command_line_reads_the_dict_of_its_configured_knowledge_dir(tmp_path):
    kb = knowledge_with_new_word(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f'[app]\nknowledge_dir = "{kb}"\ndb_path = "{tmp_path / "cli.db"}"\n'
                      "worker_thread = false\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["ask", "--json", BRIDE_PRICE_QUESTION],
                                env={"LEGALBOT_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["faq_id"] == "test.bride_price"
