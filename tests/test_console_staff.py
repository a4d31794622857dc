"""The console for staff: urgent tickets nobody was told about, who has each ticket, Chinese
wording only, test traffic left out, and the demo account's state."""
from __future__ import annotations

import re
import time

from bot import create_app
from bot.escalation import outbox
from bot.app import worker
from bot.core.config import load_config
from bot.app.console.auth import add_user
from bot.conversation.dispatch import Consultation, Context, Incoming
from bot.escalation import tickets as tk
from bot.escalation.tickets import NotifyAdviser
from bot.core import users
from tests.conftest import test_overrides as overrides_for
from tests.escalation_support import hand_over
from tests.seed_records import at
from tests.test_console import PASSWORD, login, tickets  # noqa: F401 (the seeded fixture)

# Words of the records that staff must never see on a page.
INTERNAL = ("villager", "webhook", "worker", "clarify", "with the reply", "faq_id", "simulator",
            "answer ·", "escalate", "{sifasuo}", "{township}")


def open_urgent(app, db, village="古坡村", openid="oVillagerUrgent"):
    """An urgent ticket through bot.conversation.handover, as handlers/urgent.py opens it (nobody bound)."""
    users.set_village(db, openid, village, time.time())
    consultation = Consultation(question="他又拿刀了", action="urgent")
    ctx = Context(services=app.extensions["legalbot"], db=db, now=time.time())
    _, ticket_id = hand_over(ctx, Incoming(openid, "text", "他又拿刀了"), consultation, urgent=True,
                             reason="urgent: 拿刀")
    return tk.get_ticket(db, ticket_id)


def page(client, path):
    return client.get(path).get_data(as_text=True)


def test_every_page_warns_of_an_urgent_ticket_nobody_was_told_about(client, tickets, app, db):
    ticket = open_urgent(app, db)
    login(client, "sifasuo")
    for path in ("/console/", "/console/tickets", "/console/consultations", "/console/knowledge",
                 "/console/export", f"/console/tickets/{tickets['GUPO']}"):
        html = page(client, path)
        assert 'id="urgent-banner"' in html and f"#{ticket.id} 古坡村" in html, path


def test_the_banner_goes_once_a_notification_has_gone_out(client, tickets, app, db):
    ticket = open_urgent(app, db)
    tk.transition(db, ticket.id, "notified", time.time(), actor="worker", note="urgent → 覃律师 by cs")
    login(client, "sifasuo")
    assert 'id="urgent-banner"' not in page(client, "/console/")


def test_an_adviser_sees_the_banner_only_for_their_villages(client, tickets, app, db):
    open_urgent(app, db, village="大年村")
    login(client, "qin")
    assert 'id="urgent-banner"' not in page(client, "/console/")


def test_tickets_show_their_assignee_in_the_list_and_the_detail(client, tickets, app, db):
    ticket = open_urgent(app, db)
    login(client, "sifasuo")
    listing = page(client, "/console/tickets?status=all")
    assert "负责：<span class=\"assignee\">覃律师（未绑定微信）</span>" in listing      # seeded GUPO
    assert "负责：<span class=\"assignee\">大年司法所（未绑定微信）</span>" in listing  # passed over
    detail = page(client, f"/console/tickets/{ticket.id}")
    assert re.search(r'id="ticket-assignee">大年司法所（未绑定微信）<', detail)


def test_a_tickets_history_reads_in_chinese(client, tickets, app, db):
    ticket = open_urgent(app, db)
    db.execute("INSERT INTO ticket_events (ticket_id, at, from_status, to_status, actor, note) "
               "VALUES (?, ?, 'answered', 'delivered', 'webhook', 'with the reply')",
               [ticket.id, time.time()])
    login(client, "sifasuo")
    history = page(client, f"/console/tickets/{ticket.id}").split("处理经过")[1]
    assert "村民 · 紧急求助（拿刀）" in history
    assert "覃律师还没有绑定微信，直接转给大年司法所" in history
    assert "随村民下一条消息的回复送达" in history
    for word in INTERNAL:
        assert word not in history


def test_a_consultation_names_its_entry_and_channel_in_chinese(client, tickets, app, db):
    kb = app.extensions["legalbot"].knowledge
    entry = kb.entries[0]
    row_id = db["consultations"].insert({
        "openid": "oSimulatorX", "asked_at": at("2026-05-01 10:00"), "channel": "simulator",
        "question": "借钱不还", "action": "answer", "faq_id": entry.id, "is_test": 1}).last_pk
    login(client, "sifasuo")
    html = page(client, f"/console/consultations/{row_id}")
    assert f">{entry.questions[0]}</a>" in html and f">{entry.id}<" not in html
    assert "模拟器（测试）" in html and '<span class="tag">测试</span>' in html


def test_knowledge_pages_fill_the_townships_own_names(client, tickets, app, config):
    kb = app.extensions["legalbot"].knowledge
    entry = next(e for e in kb.entries if "{sifasuo}" in e.answer)
    login(client, "sifasuo")
    html = page(client, f"/console/knowledge/{entry.id}")
    assert config.local["sifasuo"] in html and "{sifasuo}" not in html
    assert f">{entry.id}<" not in html


def test_the_dashboard_leaves_test_traffic_out_unless_ticked(client, tickets, db):
    db["consultations"].insert({"openid": "cli-villager", "asked_at": at("2026-05-01 10:00"),
                                "channel": "cli", "question": "借钱不还", "action": "answer",
                                "is_test": 1})
    login(client, "sifasuo")
    year = "since=2026-01-01&until=2026-12-31"
    assert 'id="fig-total">7<' in page(client, f"/console/?{year}")
    assert 'id="fig-total">8<' in page(client, f"/console/?{year}&include_test=1")
    assert 'id="consultation-total">10 条' in page(client, "/console/consultations?include_test=1")
    assert 'id="consultation-total">9 条' in page(client, "/console/consultations")


def test_the_dashboard_says_the_demo_account_sends_nothing(tmp_path):
    config = load_config(overrides=overrides_for(tmp_path, wechat={"appid": "", "appsecret": ""}),
                         environ={})
    app = create_app(config, warm=False)
    db = app.extensions["legalbot"].open_db()
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    outbox.enqueue(db, NotifyAdviser(ticket_id=1, adviser_id=1, reason="new"), time.time())
    client = app.test_client()
    login(client, "sifasuo")
    html = page(client, "/console/")
    assert 'id="demo-account"' in html and "没有配置公众号的 AppID 和 AppSecret" in html
    assert "等待发送 1" in html
    db.conn.close()


def test_the_voice_of_a_demo_account_is_not_fetched_from_wechat(tmp_path, fake_wechat):
    config = load_config(overrides=overrides_for(tmp_path, wechat={
        "appid": "", "appsecret": "", "api_base": fake_wechat.base}), environ={})
    app = create_app(config, warm=False)
    db = app.extensions["legalbot"].open_db()
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    ticket_id = db["tickets"].insert({"openid": "oV", "question": "", "media_id": "MEDIA-1",
                                      "status": "open", "created_at": time.time()}).last_pk
    client = app.test_client()
    login(client, "sifasuo")
    response = client.get(f"/console/tickets/{ticket_id}/voice")
    assert response.status_code == 503 and "演示账号" in response.get_data(as_text=True)
    assert fake_wechat.calls == []
    db.conn.close()



def test_a_ticket_says_whom_wechat_could_not_tell_and_why(client, tickets, app, db):
    ticket = open_urgent(app, db)
    login(client, "sifasuo")
    assert "大年乡值班室：等待发送" in page(client, f"/console/tickets/{ticket.id}")
    worker.run_once(app.extensions["legalbot"], db=db)
    html = page(client, f"/console/tickets/{ticket.id}")
    assert "大年乡值班室：没有发出（大年乡值班室还没有绑定微信）" in html
