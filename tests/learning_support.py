"""Fixtures for the knowledge base learning from advisers' answers (bot/learning/drafts.py, bot/learning/livekb.py).

The app runs on a private knowledge/ holding the matcher tests' small FAQ (tests/fixtures/kb:
eight topics, none about lost property) beside the project's statutes and dictionaries, so a
question about a phone found by the road is one the bot cannot answer until an entry about it
is published. A villager's question goes through /wechat, the hand-over, and an adviser's answer,
as in production.
"""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from bot import create_app
from bot.learning import drafts as dr
from bot.escalation.advisers import get_adviser
from bot.core.config import PROJECT_ROOT, load_config
from bot.escalation.tickets import Ticket, answer_ticket, get_ticket
from tests.conftest import test_overrides
from tests.support import WeChatSender, text_xml

QUESTION = "在路边捡到别人的手机可以自己留着吗"
PARAPHRASE = "我捡到一个手机不想还给人家行不行"
ANSWER = "捡到东西要还给失主，不能自己留着；不知道是谁的，交给派出所。"
GOOD = dict(
    entry_id="property.lost_phone", category="侵权",
    questions=(QUESTION, "捡到东西不还给人家犯法吗", "路上捡了个钱包要交给谁", "捡到的东西一直没人认领归谁",
               "在街上捡到一部手机怎么办", "捡了别人掉的钱能不能自己花"),
    keywords=("捡到", "遗失物", "失主"),
    answer="不能。捡到别人的东西要还给失主。\n1. 知道失主的，及时通知失主来领。\n2. 不知道失主的，交给{police_station}。",
    citations=("民法典第314条",), quote="民法典第314条", excerpt="拾得遗失物，应当返还权利人。")
CITED = "【法条】《民法典》第314条：拾得遗失物，应当返还权利人。"


def private_knowledge(root: Path) -> Path:
    """knowledge/ with the small FAQ and the project's statutes and dictionaries."""
    kb = root / "knowledge"
    (kb / "faq").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "tests" / "fixtures" / "kb" / "faq" / "small.toml", kb / "faq" / "small.toml")
    for shared in ("statutes", "dict"):
        (kb / shared).symlink_to(PROJECT_ROOT / "knowledge" / shared)
    return kb


@pytest.fixture(scope="session")
def small_kb(tmp_path_factory) -> Path:
    return private_knowledge(tmp_path_factory.mktemp("learning"))


@pytest.fixture
def config(tmp_path, small_kb):
    return load_config(overrides=test_overrides(tmp_path, app={"knowledge_dir": str(small_kb)}), environ={})


@pytest.fixture
def app(config):
    app = create_app(config, warm=False)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def services(app):
    return app.extensions["legalbot"]


@pytest.fixture
def db(services):
    database = services.open_db()
    yield database
    database.conn.close()


@pytest.fixture
def villager(app):
    return Villager(WeChatSender(app.test_client()))


class Villager:
    """Sends text to /wechat as WeChat does and reads the reply's Content."""

    def __init__(self, sender: WeChatSender):
        self.sender = sender

    def says(self, text: str, openid: str = "oLearningVillager01") -> str:
        body = self.sender.post(text_xml(text, openid=openid)).get_data(as_text=True)
        found = re.search(r"<Content><!\[CDATA\[(.*)\]\]></Content>", body, re.S)
        return found.group(1) if found else body


def handed_over(villager: Villager, db, question: str = QUESTION, openid: str = "oLearningVillager01") -> Ticket:
    """The villager asks, the bot cannot answer, the villager takes the offer (1) and names
    古坡村 (2): a ticket for its adviser."""
    assert "答不上来" in villager.says(question, openid)
    villager.says("1", openid)
    villager.says("2", openid)
    [row] = db.execute("SELECT id FROM tickets WHERE openid = ? ORDER BY id DESC LIMIT 1", [openid]).fetchall()
    return get_ticket(db, row[0])


def answered(services, db, ticket: Ticket, text: str = ANSWER) -> Ticket:
    """The ticket's adviser answers it (as "答复 N …" and the console do)."""
    adviser = get_adviser(db, ticket.adviser_id)
    answer_ticket(services, db, ticket.id, adviser, text, time.time())
    return get_ticket(db, ticket.id)


def written(services, db, ticket: Ticket, author: str = "zhang", **changes) -> dr.Draft:
    """A draft made from the ticket and filled in by ``author`` (GOOD, with ``changes``)."""
    draft = dr.draft_from_ticket(db, services, ticket, author, time.time())
    fields = dr.DraftFields(**{**GOOD, **changes})
    return dr.save_draft(db, draft.id, fields, author, time.time(), services.knowledge.statutes)


def published(services, db, draft: dr.Draft, reviewer: str = "li") -> dr.Draft:
    """Published by ``reviewer``; returns once this process serves it."""
    done = dr.publish(db, draft.id, reviewer, services.knowledge, services.config, time.time())
    services.live.wait_until_current(db)
    return done
