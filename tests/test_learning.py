"""The knowledge base learns from advisers' answers: a draft is made from an answered ticket,
never answers a villager, is published only by someone who did not write it, and is then served
by the running app without a restart; unpublishing and deleting lose no consultation."""
from __future__ import annotations

import time

import pytest

from bot.learning import drafts as dr
from bot.reporting.export import ledger_rows
from bot.core.privacy import purge
from bot.reporting.stats import Period, compute_stats
from tests.learning_support import (CITED, GOOD, PARAPHRASE, QUESTION, answered, handed_over, published,
                                    written)
from tests.learning_support import app, config, db, services, small_kb, villager  # noqa: F401 (fixtures)


@pytest.fixture
def ticket(villager, services, db):
    return answered(services, db, handed_over(villager, db))


def learned_answers(db, faq_id: str = "property.lost_phone") -> int:
    return db.execute("SELECT COUNT(*) FROM consultations WHERE faq_id = ?", [faq_id]).fetchone()[0]


def test_an_answered_ticket_becomes_a_draft_with_its_question_answer_and_category(ticket, services, db):
    draft = dr.draft_from_ticket(db, services, ticket, "zhang", time.time())
    assert draft.questions == [QUESTION] and draft.asked == QUESTION
    assert draft.answer == ticket.answer and draft.category == ticket.category
    assert draft.status == "draft" and draft.author == "zhang" and draft.editors == ["zhang"]
    assert dr.draft_from_ticket(db, services, ticket, "li", time.time()).id == draft.id   # one per ticket


def test_the_suggested_citations_come_from_statute_search(ticket, services, db):
    draft = dr.draft_from_ticket(db, services, ticket, "zhang", time.time())
    suggested = dr.suggest_citations(services, ticket, draft)
    assert "民法典第314条" in suggested[:3]       # 拾得遗失物，应当返还权利人
    assert all(services.knowledge.statutes.in_force(c) for c in suggested)


def test_an_unanswered_ticket_cannot_become_a_draft(villager, services, db):
    waiting = handed_over(villager, db)
    with pytest.raises(dr.DraftError, match="还没有答复"):
        dr.draft_from_ticket(db, services, waiting, "zhang", time.time())


def test_an_answer_marked_not_general_is_never_proposed(ticket, services, db):
    assert [r["id"] for r in dr.proposal_rows(db)] == [ticket.id]
    dr.mark_not_general(db, ticket.id, "qin", time.time())
    assert dr.proposal_rows(db) == []
    with pytest.raises(dr.DraftError, match="不适合推广"):
        dr.draft_from_ticket(db, services, ticket, "zhang", time.time())
    dr.mark_not_general(db, ticket.id, "qin", time.time(), general=True)
    assert [r["id"] for r in dr.proposal_rows(db)] == [ticket.id]


def test_masking_removes_phone_and_id_numbers_names_and_hamlets_from_the_draft(villager, services, db):
    question = "我叫韦秀英，电话13912345678，身份证450123199001011234，住古坡村弄怀屯，" + QUESTION
    ticket = answered(services, db, handed_over(villager, db, question),
                      "韦秀英您好，" + GOOD["answer"] + "有事打139-1234-5678。")
    draft = dr.draft_from_ticket(db, services, ticket, "zhang", time.time())
    shown = " ".join([*draft.questions, draft.asked, draft.answer])
    for private in ("韦秀英", "秀英", "13912345678", "1234-5678", "450123199001011234", "弄怀"):
        assert private not in shown
    assert draft.questions[0] == "我叫某人，电话，身份证，住古坡村，" + QUESTION
    assert draft.answer.startswith("某人您好，不能。")


def test_an_unpublished_draft_is_never_answered(ticket, villager, services, db):
    draft = written(services, db, ticket)
    assert dr.problems(draft, services.knowledge, services.config) == []      # ready, but not published
    services.live.wait_until_current(db)
    for n, question in enumerate([QUESTION, *GOOD["questions"][1:]]):
        reply = villager.says(question, f"oNewVillager{n:06d}")
        assert CITED not in reply and "失主" not in reply
    assert learned_answers(db) == 0
    assert "property.lost_phone" not in services.knowledge.by_id
    assert "property.lost_phone" not in services.matcher.kb.by_id


def test_the_author_cannot_publish_alone(ticket, services, db):
    draft = written(services, db, ticket, author="zhang")
    with pytest.raises(dr.DraftError, match="不能自己发布"):
        dr.publish(db, draft.id, "zhang", services.knowledge, services.config, time.time())
    edited = dr.save_draft(db, draft.id, dr.DraftFields(**GOOD), "li", time.time())
    with pytest.raises(dr.DraftError, match="不能自己发布"):      # whoever changed it may not either
        dr.publish(db, edited.id, "li", services.knowledge, services.config, time.time())
    assert dr.get_draft(db, draft.id).status == "draft" and dr.current_version(db) == 0
    done = dr.publish(db, draft.id, "wei", services.knowledge, services.config, time.time())
    assert (done.status, done.author, done.reviewer, done.ticket_id) == ("published", "zhang", "wei", ticket.id)
    assert done.reviewed_on and done.published_at and done.basis == {"民法典": "2020-05-28"}


@pytest.mark.parametrize("change,problem", [
    ({"questions": GOOD["questions"][:4]}, "has 4 questions, needs at least 5 phrasings"),
    ({"citations": (), "quote": None, "excerpt": None}, "cites no article"),
    ({"excerpt": "拾得遗失物应当返还权利人。"}, "is not verbatim in the article"),
    ({"answer": "不能，要还给失主。"}, "numbered steps after line 1"),
    ({"answer": GOOD["answer"].replace("捡到", "你捡到")}, "answer says 你"),
    ({"citations": ("民法典第9999条",), "quote": "民法典第9999条"}, "is not in knowledge/statutes"),
    ({"questions": (*GOOD["questions"][:5], "借钱给别人他一直拖着不还")}, "repeats one of"),
    ({"entry_id": "test.homestead"}, "id also used in"),
])
def test_a_draft_is_held_to_the_knowledge_bases_own_checks(ticket, services, db, change, problem):
    draft = written(services, db, ticket, **change)
    found = dr.problems(draft, services.knowledge, services.config)
    assert any(problem in p for p in found), found
    with pytest.raises(dr.DraftError, match="还有问题"):
        dr.publish(db, draft.id, "li", services.knowledge, services.config, time.time())


def test_a_published_entry_is_answered_with_its_citation_without_a_restart(ticket, villager, services, db):
    before = services.matcher
    entry = published(services, db, written(services, db, ticket))
    assert services.matcher is not before                    # swapped in, not built per request
    for n, question in enumerate([QUESTION, PARAPHRASE]):
        reply = villager.says(question, f"oLaterVillager{n:05d}")
        assert reply.startswith("不能。捡到别人的东西要还给失主。") and CITED in reply
    assert learned_answers(db) == 2
    assert services.knowledge.by_id["property.lost_phone"].provenance == {
        "author": "zhang", "ticket": ticket.id, "reviewer": "li",
        "published": services.knowledge.by_id["property.lost_phone"].reviewed}
    assert entry.status == "published"


def test_a_change_is_built_once_per_process_not_per_request(ticket, villager, services, db):
    villager.says(QUESTION, "oWarmingUp0000001")
    builds = services.live.builds
    published(services, db, written(services, db, ticket))
    for n in range(5):
        villager.says(PARAPHRASE, f"oManyVillagers{n:04d}")
    assert services.live.builds == builds + 1


def test_unpublishing_stops_the_answers_and_keeps_the_consultations_counted(ticket, villager, services, db):
    draft = published(services, db, written(services, db, ticket))
    assert CITED in villager.says(QUESTION, "oAskedBefore00001")
    dr.unpublish(db, draft.id, time.time())
    services.live.wait_until_current(db)
    assert CITED not in villager.says(QUESTION, "oAskedAfter000001")
    dr.delete(db, draft.id, time.time())
    services.live.wait_until_current(db)
    assert dr.get_draft(db, draft.id).status == "deleted"       # kept: the consultation names it
    stats = compute_stats(db, Period(), by="category", include_test=True)
    assert stats["answered_by_bot"] >= 1 and stats["groups"]["侵权"]["answered_by_bot"] == 1
    assert learned_answers(db) == 1
    ledger = [r for r in ledger_rows(db, Period()) if r["faq_id"] == "property.lost_phone"]
    assert [(r["action"], r["category"]) for r in ledger] == [("answer", "侵权")]


def test_a_draft_never_published_is_deleted_outright(ticket, services, db):
    draft = written(services, db, ticket)
    dr.delete(db, draft.id, time.time())
    assert dr.get_draft(db, draft.id) is None and dr.current_version(db) == 0


def test_purge_removes_the_masked_question_from_drafts_of_purged_tickets(ticket, services, db):
    draft = written(services, db, ticket, questions=(QUESTION, *GOOD["questions"][1:], "捡到手机交给谁"))
    purge(db, older_than_seconds=0, now=time.time() + 1)
    after = dr.get_draft(db, draft.id)
    assert after.asked is None and QUESTION not in after.questions
    assert len(after.questions) == len(draft.questions) - 1


def test_purge_leaves_a_published_entry_its_reviewed_phrasings(ticket, services, db):
    draft = published(services, db, written(services, db, ticket))
    purge(db, older_than_seconds=0, now=time.time() + 1)
    after = dr.get_draft(db, draft.id)
    assert after.asked is None and after.questions == draft.questions and after.status == "published"


def test_a_published_entry_that_no_longer_passes_the_load_checks_is_not_served(ticket, services, db):
    draft = published(services, db, written(services, db, ticket))
    db.execute("UPDATE kb_drafts SET excerpt = '拾得遗失物应当返还。' WHERE id = ?", [draft.id])
    dr.bump_version(db, time.time())
    services.live.wait_until_current(db)
    assert "property.lost_phone" not in services.knowledge.by_id
    assert "test.homestead" in services.knowledge.by_id
