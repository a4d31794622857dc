"""The console's side of learning: a ticket's answer offered as a draft, the draft edited and
checked in Chinese, published by a second account, and the unanswered questions grouped."""
from __future__ import annotations

import re
import time

import pytest

from bot.learning import drafts as dr
from bot.escalation.advisers import ensure_advisers
from bot.app.console.auth import add_user
from tests.learning_support import (GOOD, QUESTION, answered, handed_over, written)
from tests.learning_support import app, config, db, services, small_kb, villager  # noqa: F401 (fixtures)

PASSWORD = "correct horse 42"


@pytest.fixture
def accounts(db, config):
    ensure_advisers(db, config, time.time())
    add_user(db, "zhang", PASSWORD, "staff", time.time())
    add_user(db, "li", PASSWORD, "staff", time.time())
    add_user(db, "qin", PASSWORD, "adviser", time.time(), adviser_name="覃律师")   # 古坡村
    add_user(db, "wei", PASSWORD, "adviser", time.time(), adviser_name="韦律师")   # 大年村


@pytest.fixture
def ticket(villager, services, db, accounts):
    return answered(services, db, handed_over(villager, db))      # a 古坡村 ticket


def browser(app, username: str):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, path: str, **form):
    token = csrf_of(client.get("/console/drafts").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **form}, follow_redirects=True)


def form_of(**changes) -> dict:
    fields = {**GOOD, **changes}
    return {"entry_id": fields["entry_id"], "category": fields["category"],
            "questions": "\n".join(fields["questions"]), "keywords": "、".join(fields["keywords"]),
            "answer": fields["answer"], "citations": "、".join(fields["citations"]),
            "quote": fields["quote"] or "", "excerpt": fields["excerpt"] or ""}


def test_the_ticket_page_offers_the_answer_as_a_draft(app, ticket):
    page = browser(app, "qin").get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "转为常见问题草稿" in page and "不适合推广" in page


def test_staff_turn_it_into_a_draft_and_a_second_account_publishes(app, ticket, services, db):
    zhang = browser(app, "zhang")
    page = post(zhang, f"/console/tickets/{ticket.id}/draft").get_data(as_text=True)
    draft = dr.draft_for_ticket(db, ticket.id)
    assert f"草稿 #{draft.id}" in page and "民法典第314条" in page          # suggested from statute search
    assert "至少要引用一条法条" in page and "问法" in page                   # the checks, in Chinese
    page = post(zhang, f"/console/drafts/{draft.id}", **form_of()).get_data(as_text=True)
    assert "检查通过" in page and "不能自己发布" in page and 'id="publish"' not in page
    assert "【法条】《民法典》第314条：拾得遗失物，应当返还权利人。" in page     # the preview
    refused = post(zhang, f"/console/drafts/{draft.id}/publish").get_data(as_text=True)
    assert "不能自己发布" in refused and dr.get_draft(db, draft.id).status == "draft"
    page = post(browser(app, "qin"), f"/console/drafts/{draft.id}/publish").get_data(as_text=True)
    assert "已发布" in page and dr.get_draft(db, draft.id).reviewer == "qin"
    services.live.wait_until_current(db)
    entry_page = zhang.get("/console/knowledge/property.lost_phone").get_data(as_text=True)
    assert f"来自咨询 #{ticket.id}，zhang 整理，qin 于" in entry_page


def test_a_badly_shaped_answer_is_explained_in_chinese(app, ticket, db):
    zhang = browser(app, "zhang")
    post(zhang, f"/console/tickets/{ticket.id}/draft")
    draft = dr.draft_for_ticket(db, ticket.id)
    page = post(zhang, f"/console/drafts/{draft.id}", **form_of(
        answer="你不能留着。\n1、还给失主。", excerpt="拾得遗失物应当返还权利人。")).get_data(as_text=True)
    problems = re.search(r'<ul id="draft-problems">(.*?)</ul>', page, re.S).group(1)
    assert "原文摘录和民法典第314条的原文不一致" in problems
    assert not re.search(r"[A-Za-z]{4,}", problems)                          # no English reaches staff


def test_an_adviser_of_another_village_sees_neither_the_ticket_nor_its_draft(app, ticket, services, db):
    draft = written(services, db, ticket)
    wei = browser(app, "wei")
    assert wei.get(f"/console/drafts/{draft.id}").status_code == 403
    assert post(wei, f"/console/tickets/{ticket.id}/draft").status_code == 403
    assert QUESTION not in wei.get("/console/drafts").get_data(as_text=True)


def test_an_adviser_marks_an_answer_not_general(app, ticket, db):
    qin = browser(app, "qin")
    page = post(qin, f"/console/tickets/{ticket.id}/not-general").get_data(as_text=True)
    assert "已标记为不适合推广" in page and dr.not_general_by(db, ticket.id) == "qin"
    assert "可以整理成常见问题的答复 <small>0 条" in qin.get("/console/drafts").get_data(as_text=True)


def test_the_gaps_page_groups_unanswered_questions_for_staff_only(app, villager, accounts):
    for n, question in enumerate(["捡到别人的手机能自己留着吗，我叫韦秀英", "在路边捡到别人的手机可以自己留着吗",
                                  "邻居家的树挡了我家的光"]):
        villager.says(question, f"oGapVillager{n:05d}")
    page = browser(app, "zhang").get("/console/gaps").get_data(as_text=True)
    assert "3 次，2 类" in page and page.index("2 次") < page.index("1 次")
    assert "韦秀英" not in page
    assert browser(app, "qin").get("/console/gaps").status_code == 403
