"""`legalbot ask`: a dry run of the webhook's own path, one JSON object per question.

The agreement test sends a table of texts (answers, commands, numbers, urgent words, hand-overs)
both through `ask --json` and, each from a new user, as a signed POST to /wechat, and asserts
the same reply and the same action.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.app.services import Services

KEYS = {"action", "faq_id", "score", "citations", "candidates", "category", "reply", "reason"}
STORY = "转人工 我家的地被邻居占了两分，他还在上面盖了猪圈"
TABLE = [
    "彩礼能要回来吗",                               # an answer
    "你好",                                        # small talk
    "查法条 民法典1079",                            # a command: the article
    "我的咨询",                                     # a command
    "5",                                           # a number answering nothing
    "他拿着刀要砍我",                               # danger now
    "转人工",                                       # a hand-over without the story
    STORY,                                         # a hand-over with it
    "我哥被公安抓了 说是盗窃 家里该怎么办",          # a matter for a person
    "股票怎么买",                                   # outside the service
    "😀",                                          # nothing to read
]


@pytest.fixture
def ask_json(monkeypatch, config):
    """`legalbot ask --json` run in-process on the test configuration (its own database path)."""
    monkeypatch.setattr("bot.cli.ask.make_services", lambda: Services(config))

    def run(lines: list[str]) -> list[dict]:
        result = CliRunner().invoke(main, ["ask", "--json"], input="\n".join(lines) + "\n")
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.output.splitlines()]
    return run


def test_ask_json_prints_one_designed_object_per_line_of_stdin(ask_json):
    rows = ask_json(["彩礼能要回来吗", "你好", "转人工"])
    assert [r["action"] for r in rows] == ["answer", "chitchat", "escalate"]
    assert all(set(r) == KEYS for r in rows)
    assert rows[0]["faq_id"] == "marriage.bride_price" and "【法条】" in rows[0]["reply"]
    assert "features" in rows[0]["candidates"][0] and rows[0]["reason"]


def test_ask_records_nothing_in_the_real_database(ask_json, config):
    ask_json(["彩礼能要回来吗", STORY, "他拿着刀要砍我"])
    from pathlib import Path
    assert not Path(config.app.db_path).exists()


def test_a_law_lookup_is_an_answer_citing_the_article(ask_json):
    [row] = ask_json(["查法条 民法典1079"])
    assert (row["action"], row["citations"]) == ("answer", ["民法典第1079条"])


def test_ask_agrees_with_the_webhook_on_every_kind_of_message(ask_json, wechat, db):
    asked = ask_json(TABLE)
    for number, (text, row) in enumerate(zip(TABLE, asked)):
        openid = f"oAgree{number:03d}"
        assert wechat.say(text, openid=openid) == row["reply"], text
        recorded = list(db.query("SELECT action, faq_id FROM consultations WHERE openid = ?", [openid]))
        if recorded:
            assert (recorded[0]["action"], recorded[0]["faq_id"]) == (row["action"], row["faq_id"]), text
    actions = dict(zip(TABLE, (r["action"] for r in asked)))
    assert actions["他拿着刀要砍我"] == "urgent" and actions[STORY] == "escalate"
    assert actions["我哥被公安抓了 说是盗窃 家里该怎么办"] == "escalate"
    assert actions["5"] == actions["我的咨询"] == "chitchat"


def test_ask_with_a_question_argument_prints_the_action_and_the_reply(monkeypatch, config):
    monkeypatch.setattr("bot.cli.ask.make_services", lambda: Services(config))
    result = CliRunner().invoke(main, ["ask", "他拿着刀要砍我"])
    assert result.exit_code == 0
    assert result.output.startswith("[urgent") and "110" in result.output
