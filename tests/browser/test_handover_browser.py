"""Two hand-overs walked in real headless Chromium, in the simulator, then checked on the console's
ticket page as staff see it: 转人工 then the story; a question the bot cannot answer, then "1".
The app runs with thresholds no score reaches, so every legal question is one it cannot answer."""
from __future__ import annotations

import time

import pytest

from bot.escalation import advisers as adv
from bot.core.config import load_config
from bot.app.console.auth import add_user
from tests.browser.conftest import PASSWORD, log_in, screenshot, villager_says
from tests.conftest import test_overrides as overrides_for

pytestmark = pytest.mark.browser

STORY = "我家的地被邻居占了两分，他还在上面盖了猪圈"
UNANSWERED = "邻居家的树长过来挡了我家的光，叶子还掉进我家院子"


@pytest.fixture
def config(tmp_path):
    settings = {"answer_min": 1.01, "lead_answer_min": 1.01, "clarify_min": 1.01, "agree_count": 5}
    return load_config(overrides=overrides_for(tmp_path, matcher=settings), environ={})


@pytest.fixture
def staff(live, db, config):
    adv.ensure_advisers(db, config, time.time())
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    return live


def simulator_ticket(db) -> dict:
    [row] = list(db.query("SELECT * FROM tickets WHERE openid LIKE 'oSimulator%'"))
    return row


def ticket_page(chromium, base: str, ticket_id: int):
    console = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    log_in(console, base, "sifasuo")
    console.goto(f"{base}/console/tickets/{ticket_id}")
    return console


def test_asking_for_a_person_then_telling_the_story_makes_a_ticket_of_the_story(page, chromium,
                                                                                 staff, db):
    base, _ = staff
    page.goto(f"{base}/simulator")
    assert "说说是什么事" in villager_says(page, "转人工")
    assert "哪个村" in villager_says(page, STORY)
    told = villager_says(page, "2")
    screenshot(page, "handover-story-simulator")
    ticket = simulator_ticket(db)
    assert f"#{ticket['id']}" in told and "古坡村" in told
    console = ticket_page(chromium, base, ticket["id"])
    screenshot(console, "handover-story-ticket")
    assert console.inner_text("#ticket-question") == STORY
    facts = console.inner_text(".facts")
    assert ticket["category"] and ticket["category"] in facts and "未分类" not in facts
    console.context.close()


def test_a_question_the_bot_cannot_answer_then_1_makes_a_ticket(page, chromium, staff, db):
    base, _ = staff
    page.goto(f"{base}/simulator")
    assert "回复1" in villager_says(page, UNANSWERED)
    assert "哪个村" in villager_says(page, "1")
    told = villager_says(page, "5")
    ticket = simulator_ticket(db)
    assert f"#{ticket['id']}" in told and "东岭村" in told
    console = ticket_page(chromium, base, ticket["id"])
    assert console.inner_text("#ticket-question") == UNANSWERED
    assert "未分类" not in console.inner_text(".facts")
    console.context.close()
