"""What the library reads comes from the configured knowledge_dir, also when a caller passes
nothing: a matcher built without lexicons reads its knowledge base's own dict/, a reply without
trigger phrases reads the configuration's, and the law names a citation is read against are the
configured statutes', never the shipped folder's.

Each test builds a copy of the knowledge directory with one thing changed (an invented law, a
synonym, a greeting) and checks that the copy's version is the one used.
"""
from __future__ import annotations

import json
import shutil

from bot import create_app
from bot.core.config import PROJECT_ROOT, load_config, shipped_knowledge_dir
from bot.kb.knowledge import KnowledgeBase, knowledge_dir, load_knowledge
from bot.retrieval.matcher import Decision, Matcher, reply_for
from tests.conftest import test_overrides as overrides_for
from tests.learning_support import private_knowledge
from tests.support import WeChatSender
from tests.test_lexicons_config import BRIDE_PRICE_QUESTION, knowledge_with_new_word

SHIPPED_STATUTES = PROJECT_ROOT / "knowledge" / "statutes"
NEW_LAW = "村道养护条例"      # invented: no shipped statute has this name
GREETING = "您好！这里是测试乡的问答机。"


def config_on(tmp_path, kb):
    return load_config(overrides=overrides_for(tmp_path, app={"knowledge_dir": str(kb)}), environ={})


def knowledge_with_new_law(root):
    """A knowledge directory whose statutes/ holds the shipped laws (and their list of laws not
    held) and NEW_LAW (one article)."""
    kb = private_knowledge(root)
    (kb / "statutes").unlink()
    (kb / "statutes").mkdir()
    for path in [*SHIPPED_STATUTES.glob("*.json"), SHIPPED_STATUTES / "not_held.txt"]:
        (kb / "statutes" / path.name).symlink_to(path)
    data = json.loads((SHIPPED_STATUTES / "户口登记条例.json").read_text(encoding="utf-8"))
    data.update(law=NEW_LAW, title=NEW_LAW, articles=data["articles"][:1])
    (kb / "statutes" / f"{NEW_LAW}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return kb


def test_a_lookup_reads_law_names_from_the_configured_statutes(tmp_path):
    """"查法条 看看<law>第99条": the words before a law's name are dropped for the configured
    laws, so the villager is told which article of which law is missing."""
    app = create_app(config_on(tmp_path, knowledge_with_new_law(tmp_path)), warm=False)
    wechat = WeChatSender(app.test_client())
    assert f"没有查到“{NEW_LAW}第99条”" in wechat.say(f"查法条 看看{NEW_LAW}第99条", openid="oKD1")
    assert f"{NEW_LAW}》第一条" in wechat.say(f"查法条 {NEW_LAW}第1条", openid="oKD1")


def test_a_copied_knowledge_dir_keeps_the_laws_not_held_apart(tmp_path):
    app = create_app(config_on(tmp_path, knowledge_with_new_law(tmp_path)), warm=False)
    reply = WeChatSender(app.test_client()).say("查法条 高等教育法第5条", openid="oKD1")
    assert reply.startswith("没有查到“高等教育法第5条”")


def test_a_matcher_given_no_lexicons_reads_its_knowledge_bases_dict(tmp_path):
    config = config_on(tmp_path, knowledge_with_new_word(tmp_path))
    kb = load_knowledge(config)
    assert Matcher(kb, config.matcher, model_cache=None).decide(BRIDE_PRICE_QUESTION).faq_id == "test.bride_price"


def test_a_reply_given_no_triggers_reads_the_configured_dict(tmp_path):
    kb = private_knowledge(tmp_path)
    (kb / "dict").unlink()
    shutil.copytree(PROJECT_ROOT / "knowledge" / "dict", kb / "dict")
    path = kb / "dict" / "triggers.toml"
    shipped = 'reply = "您好！我是{township}法律咨询小助手。'
    text = path.read_text(encoding="utf-8")
    assert shipped in text
    path.write_text(text.replace(shipped, f'reply = "{GREETING}', 1), encoding="utf-8")
    config = config_on(tmp_path, kb)
    greeting = Decision("chitchat", reason="greeting")
    assert reply_for(greeting, load_knowledge(config), config).startswith(GREETING)


def test_the_app_and_the_command_line_hand_their_own_words_to_every_matcher_and_law_index():
    """The library's defaults (a kb's own folder, the shipped dict/ for a bare law index) are for
    tests and benches: every Matcher and LawIndex that bot/ or handlers/ builds is given the
    configured folder's lexicons or dictionaries."""
    import ast
    built, bare = 0, []
    for path in [*(PROJECT_ROOT / "bot").rglob("*.py"), *(PROJECT_ROOT / "handlers").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node.func, "id", getattr(node.func, "attr", "")) if isinstance(node, ast.Call) else ""
            given = {"Matcher": ("lexicons", 3), "LawIndex": ("dictionaries", 99)}.get(name)
            if given:
                built += 1
                if not (len(node.args) >= given[1] or any(k.arg == given[0] for k in node.keywords)):
                    bare.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert built >= 3 and bare == []


def test_the_shipped_knowledge_folder_is_named_in_one_place():
    """What is built in code without a configuration takes the shipped folder from
    bot/core/config.py's shipped_knowledge_dir ([app] knowledge_dir's default); no other module of
    bot/ or handlers/ spells out a path to knowledge/, so none can read it behind the
    configuration's back. The law index's seed (knowledge/index: the shipped statutes' words, looked
    up by their digest and the dictionaries' key) is data, not the configured folder."""
    import re
    spelled = re.compile(r"""(?:parents\[\d\]|PROJECT_ROOT|ROOT)\s*/\s*["']knowledge["']""")
    allowed = {("bot/retrieval/lawsearch.py", "SEED_DIR")}
    found = []
    for path in [*(PROJECT_ROOT / "bot").rglob("*.py"), *(PROJECT_ROOT / "handlers").rglob("*.py")]:
        name = str(path.relative_to(PROJECT_ROOT))
        for line in path.read_text(encoding="utf-8").splitlines():
            if spelled.search(line) and not any(name == f and line.startswith(v) for f, v in allowed):
                found.append(f"{name}: {line.strip()}")
    assert found == []
    assert knowledge_dir(load_config(environ={})) == KnowledgeBase([], None).directory == shipped_knowledge_dir()
