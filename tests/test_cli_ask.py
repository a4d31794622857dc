"""`legalbot ask`: the same decisions and replies as the webhook, one JSON object per question."""
from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli import main


def test_ask_json_prints_one_designed_object_per_line_of_stdin():
    result = CliRunner().invoke(main, ["ask", "--json"], input="彩礼能要回来吗\n你好\n转人工\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["action"] for r in rows] == ["answer", "chitchat", "escalate"]
    assert set(rows[0]) == {"action", "faq_id", "score", "citations", "candidates", "category", "reply", "reason"}
    assert "民法典第1042条" in rows[0]["citations"] and "【法条】" in rows[0]["reply"]


def test_ask_with_a_question_argument_prints_the_action_and_the_reply():
    result = CliRunner().invoke(main, ["ask", "他拿着刀要砍我"])
    assert result.exit_code == 0
    assert result.output.startswith("[urgent") and "110" in result.output
