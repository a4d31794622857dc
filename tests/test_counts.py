"""Counts staff can trust (issue 13, "Where we stand" 4): the conversation that used to count a
clarified-then-escalated question twice, the replies "2", "5" and "exit" as consultations, every
escalation as 未分类 and most consultations as 未登记 — sent through the real webhook, then
`legalbot stats --json` must count exactly the questions asked, each with a category and the
village."""
from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from bot import create_app
from bot.cli import main
from bot.core.config import load_config
from tests.conftest import test_overrides as overrides_for
from tests.support import WeChatSender, event_xml

VILLAGER = "oCounted01"
STORY = "邻居把我家的地占了两分 还在上面盖了猪圈"


@pytest.fixture
def unsure(tmp_path):
    """The real app with answer thresholds no score reaches: every question is asked back."""
    settings = {"answer_min": 1.01, "lead_answer_min": 1.01, "agree_count": 5, "model_answer_min": 1.01}
    config = load_config(overrides=overrides_for(tmp_path, matcher=settings), environ={})
    app = create_app(config)
    db = app.extensions["legalbot"].open_db()
    yield WeChatSender(app.test_client()), db, config
    db.conn.close()


def converse(wechat: WeChatSender) -> int:
    """The conversation; returns how many questions the villager asked."""
    say = lambda text: wechat.say(text, openid=VILLAGER)         # noqa: E731
    assert "您想问的是" in say("彩礼能要回来吗")                  # 1: asked back ...
    assert "哪个村" in say("1")                                   # ... chosen; the village asked once
    assert "古坡村" in say("2")
    say("5")                                                     # a stray number
    say("exit")                                                  # a quit word
    assert "您想问的是" in say("老人去世了 留下的房子怎么分")        # 2: asked back ...
    assert "#" in say("都不是")                                   # ... handed over
    tap = event_xml("CLICK", key="TOPIC_MARRIAGE", openid=VILLAGER, create_time=int(time.time()) + 1)
    wechat.post(tap)                                             # a menu tap
    say("3")                                                     # 3: an example chosen
    say("转人工")                                                 # a request ...
    assert "#" in say(STORY)                                     # 4: ... and the story
    say("查法条 民法典1079")                                      # a command
    say("我的咨询")                                               # a command
    return 4


def stats(config, *args: str) -> dict:
    result = CliRunner().invoke(main, ["stats", "--json", *args],
                                env={"LEGALBOT_DB": config.app.db_path})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_stats_count_each_question_once_with_its_category_and_village(unsure):
    wechat, db, config = unsure
    asked = converse(wechat)
    overall = stats(config)
    assert overall["consultations"] == asked and overall["people"] == 1
    assert overall["by_action"] == {"answer": 2, "escalate": 2}
    by_category = stats(config, "--by", "category")["groups"]
    assert "未分类" not in by_category and sum(g["consultations"] for g in by_category.values()) == asked
    assert set(stats(config, "--by", "village")["groups"]) == {"古坡村"}
    tickets = list(db.query("SELECT question, status FROM tickets ORDER BY id"))
    assert [t["question"] for t in tickets] == ["老人去世了 留下的房子怎么分", STORY]
    assert stats(config)["tickets"] == 2


def test_a_hand_over_still_being_told_or_withdrawn_is_no_ticket_in_the_figures(unsure):
    wechat, _, config = unsure
    wechat.say("转人工 " + STORY, openid="oCounted02")           # waits for the village
    wechat.say("转人工 " + STORY, openid="oCounted03")
    wechat.say("1", openid="oCounted03")
    wechat.say("取消", openid="oCounted03")                      # sent, then withdrawn
    overall = stats(config)
    assert overall["consultations"] == 2 and overall["escalated"] == 2
    assert overall["tickets"] == 0
