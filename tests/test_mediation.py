"""人民调解: a dispute becomes a case for the village's committee; mediators keep the 调解台账.

Through the real webhook (signed WeChat XML, real SQLite): the offer under an answer, "调解",
the village, the applicant's phone; a mediator bound like an adviser, recording sessions and the
outcome by WeChat command; the state machine; who may see what; a purge that keeps the counts.
"""
from __future__ import annotations

import json
import time

import pytest

from bot.escalation import advisers as adv
from bot.community import mediation
from bot.core.config import ConfigError, load_config
from bot.retrieval.disputes import DisputeRulesError, Kind, load_rules, parse_rules
from bot.conversation import mediation_offers
from bot.kb.knowledge import knowledge_dir, shown_citation
from bot.community.mediation import MediationError, NewCase, Party, Source, Status
from bot.reporting.mediation_stats import mediation_stats
from bot.reporting.stats import Period
from tests.conftest import test_overrides as overrides_for

BOUNDARY = "隔壁把界桩往我家地里挪了，两家为地界吵起来了"
VILLAGER = "oVillagerBoundary01"
MEDIATOR = "oMediatorGupo0001"


def bind(db, config, name: str, openid: str) -> None:
    adv.ensure_advisers(db, config, time.time())
    adv.bind(db, adv.new_bind_code(db, name, time.time()), openid, time.time())


def offered(reply: str) -> bool:
    return "人民调解委员会" in reply and "回复“调解”" in reply


# ---- the offer and the villager's side --------------------------------------------------------

def test_a_boundary_dispute_is_answered_and_offered_free_mediation(wechat):
    reply = wechat.say(BOUNDARY, openid=VILLAGER)
    assert "【法条】" in reply and offered(reply)
    assert "不收费（《人民调解法》第4条）" in reply      # as 【法条】 writes a law: in book-title marks
    assert "msgmenucontent=%E8%B0%83%E8%A7%A3" in reply        # one tap sends "调解"


def test_the_offer_cites_an_article_that_says_it_is_free(app):
    article = app.extensions["legalbot"].knowledge.statutes.get("人民调解法第4条")
    assert article is not None and "不收取任何费用" in article.text
    assert shown_citation(article) == mediation_offers.LAW_SHOWN and article.citation == mediation_offers.LAW


def test_the_console_form_names_the_law_in_book_title_marks(client, db):
    from bot.app.console.auth import add_user
    from tests.test_console import PASSWORD, login
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    login(client, "sifasuo")
    page = client.get("/console/mediation/new").get_data(as_text=True)
    assert "双方自愿（《人民调解法》第4条）" in page


def test_a_general_question_naming_no_one_gets_no_offer(wechat):
    reply = wechat.say("借钱不还怎么办", openid="oVillagerGeneral1")
    assert "【法条】" in reply and not offered(reply)


def test_accepting_opens_a_case_for_the_village_committee(wechat, db, config):
    wechat.say(BOUNDARY, openid=VILLAGER)
    asked = wechat.say("调解", openid=VILLAGER)
    assert "哪个村" in asked and mediation.list_cases(db) == []
    opened = wechat.say("2", openid=VILLAGER)
    [case] = mediation.list_cases(db)
    assert f"调解#{case.id}" in opened and "古坡村人民调解委员会" in opened and "您是古坡村的" in opened
    assert (case.village, case.kind, case.found_via, case.status) == ("古坡村", "land", "villager", "open")
    assert case.summary == BOUNDARY and case.consultation_id is not None and not case.is_test
    told = wechat.say("电话13812345678，对方是隔壁老王", openid=VILLAGER)
    assert f"调解#{case.id}" in told
    parties = mediation.get_case(db, case.id).parties
    assert parties[0].phone == "13812345678" and parties[1].name == "隔壁老王"


def test_a_known_village_opens_the_case_at_once_and_the_mediators_are_told(wechat, db):
    wechat.say("改村", openid=VILLAGER)
    wechat.say("1", openid=VILLAGER)                                  # 大年村
    wechat.say(BOUNDARY, openid=VILLAGER)
    opened = wechat.say("调解", openid=VILLAGER)
    [case] = mediation.list_cases(db)
    assert case.village == "大年村" and "大年村人民调解委员会" in opened
    told = {json.loads(r["payload"])["adviser_id"] for r in db.query(
        "SELECT payload FROM outbox WHERE kind = 'notify_mediator'")}
    names = {adv.get_adviser(db, i).name for i in told}
    assert names == {"大年村调委会主任", "韦律师"}


def test_mediation_without_an_offer_asks_what_the_dispute_is(wechat, db):
    reply = wechat.say("我要调解", openid="oVillagerNoOffer1")
    assert "说说是什么纠纷" in reply and mediation.list_cases(db) == []


def test_the_offer_leaves_the_village_question_its_numbers(wechat, db):
    """The offer keeps no pending question: after a first answer that offers mediation and asks
    the village, "3" names the village, and "调解" then opens the case there at once."""
    reply = wechat.say("隔壁把我家出门的路堵死了，不让我过", openid="oVillagerNumbers1")
    assert offered(reply) and "您是哪个村的" in reply
    assert "您是长安村的" in wechat.say("3", openid="oVillagerNumbers1")
    assert mediation.list_cases(db) == []
    wechat.say("调解", openid="oVillagerNumbers1")
    [case] = mediation.list_cases(db)
    assert (case.village, case.kind) == ("长安村", "neighbour")


def test_my_cases_shows_where_they_stand(wechat):
    wechat.say(BOUNDARY, openid=VILLAGER)
    wechat.say("调解", openid=VILLAGER)
    wechat.say("2", openid=VILLAGER)
    assert "土地——待调解" in wechat.say("我的调解", openid=VILLAGER)


# ---- the mediator's side ----------------------------------------------------------------------

def open_gupo_case(db, config, **extra) -> mediation.Case:
    new = NewCase(village="古坡村", kind=Kind.LAND, found_via=Source.INSPECTION, summary="两家争地界",
                  parties=[Party("申请人", "韦大强", "13812345678"), Party("对方", "覃二", "13900001111")],
                  **extra)
    return mediation.open_case(db, config, new, time.time(), actor="staff", via="console")


def test_a_mediator_records_two_sessions_and_success_by_wechat(wechat, db, config):
    case = open_gupo_case(db, config)
    bind(db, config, "古坡村调委会主任", MEDIATOR)
    assert f"调解#{case.id}" in wechat.say("调解待办", openid=MEDIATOR)
    assert "第1次" in wechat.say(f"调解 {case.id} 记录 双方在村委会谈了一次", openid=MEDIATOR)
    assert "第2次" in wechat.say(f"调解 {case.id} 记录 现场量了地界", openid=MEDIATOR)
    done = wechat.say(f"调解 {case.id} 成功 协议已签", openid=MEDIATOR)
    assert "调解成功" in done and "调解2次" in done and "（《人民调解法》第33条）" in done
    case = mediation.get_case(db, case.id)
    assert (case.status, case.sessions, case.agreement, case.judicial_confirmation) == ("succeeded", 2, True, False)
    assert case.mediator == "古坡村调委会主任"
    kinds = [e["kind"] for e in mediation.case_events(db, case.id)]
    assert kinds == ["opened", "session", "status", "session", "status"]
    assert "不能再记录" in wechat.say(f"调解 {case.id} 记录 又谈了", openid=MEDIATOR)


def test_binding_tells_a_mediator_about_their_cases_not_tickets(wechat, db, config):
    adv.ensure_advisers(db, config, time.time())
    open_gupo_case(db, config)
    helper = wechat.say(f"绑定 {adv.new_bind_code(db, '古坡村调委会主任', time.time())}", openid=MEDIATOR)
    assert "古坡村人民调解委员会的调解案件也会发给您，现在有1件待调解" in helper and "咨询会发给您" not in helper
    adviser = wechat.say(f"绑定 {adv.new_bind_code(db, '覃律师', time.time())}", openid="oAdviserQin0002")
    assert "古坡村的咨询会发给您" in adviser and "调解案件也会发给您" in adviser


def test_a_mediator_acts_only_on_their_committees_villages(wechat, db, config):
    bind(db, config, "古坡村调委会主任", MEDIATOR)
    other = mediation.open_case(db, config, NewCase(village="大年村", kind=Kind.OTHER,
                                                    found_via=Source.INSPECTION), time.time(),
                                actor="staff", via="console")
    assert "没有找到您负责的调解案件" in wechat.say(f"调解 {other.id} 成功", openid=MEDIATOR)
    assert mediation.get_case(db, other.id).status == "open"
    assert "目前没有待调解" in wechat.say("调解待办", openid=MEDIATOR)


def test_an_adviser_who_is_no_mediator_cannot_record(wechat, db, config, tmp_path):
    case = open_gupo_case(db, config)
    adv.add_adviser(db, "外村律师", "", [], time.time())
    adv.bind(db, adv.new_bind_code(db, "外村律师", time.time()), "oOtherAdviser01", time.time())
    assert "不是人民调解委员会的调解员" in wechat.say(f"调解 {case.id} 成功", openid="oOtherAdviser01")


def test_a_villagers_command_like_words_are_no_command(wechat, db, config):
    case = open_gupo_case(db, config)
    wechat.say(f"调解 {case.id} 成功", openid="oJustAVillager01")
    assert mediation.get_case(db, case.id).status == "open"


def test_outcome_words_set_agreement_and_judicial_confirmation(wechat, db, config):
    bind(db, config, "古坡村调委会主任", MEDIATOR)
    first, second, third = (open_gupo_case(db, config) for _ in range(3))
    wechat.say(f"调解 {first.id} 成功 签了协议，双方申请司法确认", openid=MEDIATOR)
    wechat.say(f"调解 {second.id} 成功 口头协议", openid=MEDIATOR)
    wechat.say(f"调解 {third.id} 未成功 对方不同意", openid=MEDIATOR)
    got = [mediation.get_case(db, c.id) for c in (first, second, third)]
    assert [(c.status, c.agreement, c.judicial_confirmation, c.sessions) for c in got] == [
        ("succeeded", True, True, 1), ("succeeded", False, False, 1), ("failed", False, False, 0)]
    assert "转诉讼或仲裁" in wechat.say(f"调解 {third.id} 转诉讼", openid=MEDIATOR)


def test_an_adviser_refers_a_ticket_to_mediation(wechat, db, config):
    from bot.escalation import tickets
    bind(db, config, "覃律师", "oAdviserQin0001")
    from bot.conversation.dispatch import Context
    services = wechat.client.application.extensions["legalbot"]
    ctx = Context(services=services, db=db, now=time.time())
    ticket = tickets.open_ticket(ctx, "oVillagerTicket1", "古坡村", tickets.TicketRequest(
        question="邻居的猪圈盖到我家宅基地上了", category="土地与宅基地"))
    reply = wechat.say(f"转调解 {ticket.id}", openid="oAdviserQin0001")
    [case] = mediation.list_cases(db)
    assert f"调解#{case.id}" in reply and case.found_via == "ticket" and case.ticket_id == ticket.id
    assert case.openid == "oVillagerTicket1" and case.village == "古坡村"


# ---- the state machine and classification --------------------------------------------------

def test_every_move_is_declared_and_closed_cases_stay_closed(db, config):
    case = open_gupo_case(db, config)
    backup = adv.backup_adviser(db)
    mediation.close_case(db, config, case.id, Status.WITHDRAWN, backup, time.time(), actor="t", via="t")
    for outcome in (Status.SUCCEEDED, Status.FAILED, Status.REFERRED):
        with pytest.raises(MediationError):
            mediation.close_case(db, config, case.id, outcome, backup, time.time(), actor="t", via="t")
    with pytest.raises(MediationError):
        mediation.record_session(db, config, case.id, backup, time.time(), actor="t", via="t")
    assert mediation.TRANSITIONS[Status.FAILED] == frozenset({Status.REFERRED})


def test_two_outcomes_at_once_make_one(db, config):
    case = open_gupo_case(db, config)
    assert mediation.transition(db, case.id, Status.SUCCEEDED, time.time(), actor="a", via="t")
    assert not mediation.transition(db, case.id, Status.FAILED, time.time(), actor="b", via="t")
    assert [e["to_status"] for e in mediation.case_events(db, case.id) if e["kind"] == "status"] == ["succeeded"]


@pytest.mark.parametrize("faq_id, words, kind", [
    ("land.ownership_dispute", "两家为地界吵，他把界桩挪了", Kind.LAND),
    ("land.ownership_dispute", "别人说我家自留山有一片是他的", Kind.FOREST),
    ("neighbor.water", "上面田的人不让我放水下来灌田", Kind.WATER),
    ("neighbor.water", "邻居家的水往我家院子里排", Kind.NEIGHBOUR),
    ("land.homestead", "隔壁建房占了我家宅基地", Kind.HOMESTEAD),
    ("marriage.custody", "老公要把孩子带走", Kind.MARRIAGE),
    ("debt.unpaid_loan", "朋友借了我五千块不还", Kind.OTHER),
])
def test_disputes_are_sorted_into_the_reports_kinds(config, faq_id, words, kind):
    assert load_rules(str(knowledge_dir(config))).classify(faq_id, words) == kind


@pytest.mark.parametrize("faq_id, words", [
    ("debt.unpaid_loan", "借钱不还怎么办"),                  # names no one
    ("marriage.domestic_violence", "老公喝醉了打我"),          # violence: never sent to mediation
    ("land.ownership_dispute", "邻居拿刀威胁我不许种地"),       # violence words
    ("criminal.detained_relative", "他被公安抓了"),            # not a dispute entry
    ("neighbor.passage", "其他路都走不通"),                    # 其他 names no one
])
def test_no_offer_without_another_party_or_with_violence(config, faq_id, words):
    assert load_rules(str(knowledge_dir(config))).classify(faq_id, words) is None


def test_the_shipped_rules_name_only_entries_the_knowledge_base_has(app, config):
    from bot.retrieval.disputes import unknown_entries
    kb = app.extensions["legalbot"].knowledge
    assert unknown_entries(load_rules(str(knowledge_dir(config))), kb.by_id) == []


def test_malformed_rules_are_refused_with_the_kind_named(tmp_path):
    with pytest.raises(DisputeRulesError, match="forest"):
        parse_rules({"parties": ["他"], "kind": [{"key": "forest", "entries": "land.x"}]}, tmp_path / "d.toml")
    with pytest.raises(DisputeRulesError, match="each kind exactly once"):
        parse_rules({"parties": ["他"], "kind": [{"key": "land"}]}, tmp_path / "d.toml")


# ---- configuration ----------------------------------------------------------------------------

def test_a_committee_of_an_unknown_village_is_refused(tmp_path):
    bad = {"mediation": {"committees": [{"village": "月亮村", "mediators": [{"name": "甲"}]}]}}
    with pytest.raises(ConfigError, match="月亮村"):
        load_config(overrides=overrides_for(tmp_path, **bad), environ={})


def test_a_committee_needs_a_mediator_with_a_known_role(tmp_path):
    for committee, message in (({"village": "古坡村", "mediators": []}, "at least one mediator"),
                               ({"village": "古坡村", "mediators": [{"name": "甲", "role": "村霸"}]}, "role")):
        with pytest.raises(ConfigError, match=message):
            load_config(overrides=overrides_for(tmp_path, mediation={"committees": [committee]}), environ={})


def test_a_law_helper_mediator_gets_an_account_bound_like_an_advisers(db, config):
    adv.ensure_advisers(db, config, time.time())
    helper = adv.adviser_by_name(db, "古坡村调委会主任")
    assert helper is not None and helper.villages == [] and not helper.is_backup
    assert config.mediation.villages_of("覃律师") == ["古坡村"]
    assert mediation.mediator_villages(config, helper) == ["古坡村"]
    assert mediation.mediator_villages(config, adv.backup_adviser(db)) is None


# ---- privacy ----------------------------------------------------------------------------------

def test_purge_keeps_the_mediation_counts_and_removes_the_parties(db, config):
    from bot.core.privacy import purge
    from bot.reporting.register_report import ledger_sheets
    case = open_gupo_case(db, config)
    backup = adv.backup_adviser(db)
    mediation.record_session(db, config, case.id, backup, time.time(), actor="t", via="t", note="韦大强来了")
    mediation.close_case(db, config, case.id, Status.SUCCEEDED, backup, time.time(), actor="t", via="t")
    before = mediation_stats(db, Period(), config.village_names)
    purge(db, older_than_seconds=0, now=time.time() + 10)
    after = mediation.get_case(db, case.id)
    assert after.parties == [] and after.summary == "" and after.status == "succeeded"
    assert all(e["note"] is None for e in mediation.case_events(db, case.id))
    assert mediation_stats(db, Period(), config.village_names) == before
    sheet = ledger_sheets(db, Period(), village_names=config.village_names)[0]["lines"]
    assert "韦" not in json.dumps(sheet, ensure_ascii=False) and sheet[1][10] == "调解成功"


def test_lists_and_exports_mask_the_parties(db, config):
    from bot.reporting.register_report import ledger_sheets
    open_gupo_case(db, config)
    cell = ledger_sheets(db, Period(), village_names=config.village_names)[0]["lines"][1][7]
    assert cell == "申请人：韦** 138****5678；对方：覃* 139****1111"
