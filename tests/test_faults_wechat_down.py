"""Fault: WeChat's API is down, then erroring, then back.

The outbox must keep every adviser notification and every adviser answer while WeChat cannot be
reached (rows stay, with their attempts and the error, and wait out a backoff), and deliver each
of them exactly once when it comes back. Only WeChat's HTTP API is faked (tests/fake_wechat.py,
on 127.0.0.1); the worker, the outbox, the tickets and SQLite are the real ones.
"""
from __future__ import annotations

import socket

import pytest

from bot.escalation import advisers as adv
from bot.escalation import outbox, tickets
from bot.core import users
from bot.app import worker
from bot.core.config import load_config
from bot.conversation.dispatch import Context
from bot.app.services import Services
from bot.escalation.wechat_api import WeChatClient
from tests.conftest import test_overrides as overrides_for
from tests.fake_wechat import FakeWeChat

START = 1_900_000_000.0          # an injected clock: the worker is always given `now`
WAITING_VILLAGERS = {"大年村": "oWait01", "古坡村": "oWait02", "长安村": "oWait03"}
ANSWERED_VILLAGERS = {"平寨村": "oAns01", "东岭村": "oAns02"}
DOWN_PASSES = 3
ERRORING_PASSES = 3


@pytest.fixture
def fake():
    server = FakeWeChat().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def services(tmp_path, fake):
    config = load_config(overrides=overrides_for(
        tmp_path, wechat={"api_base": fake.base, "account_type": "service_verified",
                          "adviser_template_id": "TPL-NEW-CASE"}), environ={})
    return Services(config)


@pytest.fixture
def db(services):
    database = services.open_db()
    yield database
    database.conn.close()


def dead_base() -> str:
    """A 127.0.0.1 address where nothing listens: connection refused, like a dead API."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def bind_adviser(db, config, name: str, openid: str) -> adv.Adviser:
    code = adv.new_bind_code(db, name, START, 72)
    adviser = adv.bind(db, code, openid, START)
    users.touch_inbound(db, openid, START)        # the adviser wrote recently: window open
    return adviser


def open_tickets(services, db) -> dict[str, int]:
    """One ticket per villager, each notifying the village's (bound) adviser; answer some."""
    ctx = Context(services=services, db=db, now=START)
    adv.ensure_advisers(db, services.config, START)
    ticket_ids = {}
    for village, openid in {**WAITING_VILLAGERS, **ANSWERED_VILLAGERS}.items():
        adviser = adv.adviser_for_village(db, village)
        bind_adviser(db, services.config, adviser.name, f"oAdv-{adviser.id}")
        users.touch_inbound(db, openid, START)    # the villager is inside the 48-hour window
        request = tickets.TicketRequest(question=f"{village}的邻居占了我家的地怎么办",
                                        category="土地与宅基地")
        ticket_ids[openid] = tickets.open_ticket(ctx, openid, village, request).id
    for village, openid in ANSWERED_VILLAGERS.items():
        adviser = adv.adviser_for_village(db, village)
        tickets.answer_ticket(services, db, ticket_ids[openid], adviser,
                              f"{village}：请先找村委会调解，带上宅基地证。", START + 60)
    return ticket_ids


def rows_by_kind(db) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in db.query("SELECT * FROM outbox ORDER BY id"):
        out.setdefault(row["kind"], []).append(row)
    return out


def run_passes(services, db, client, times: int, start: float) -> float:
    """Run the worker ``times`` times, each time past the longest possible backoff."""
    now = start
    for _ in range(times):
        now += services.config.outbox.backoff_max_seconds + 1
        worker.run_once(services, now=now, client=client, db=db)
    return now


def assert_kept_for_retry(db, passes: int) -> None:
    for row in db.query("SELECT * FROM outbox WHERE kind IN ('notify_adviser', 'deliver_answer')"):
        if row["status"] == "held":
            continue
        assert row["status"] == "pending", row
        assert row["attempts"] == passes, row
        assert row["last_error"], row
        assert row["sent_at"] is None


def test_outbox_keeps_everything_while_wechat_is_down_and_delivers_each_once_after(services, db, fake):
    ticket_ids = open_tickets(services, db)
    kinds = rows_by_kind(db)
    assert len(kinds["deliver_answer"]) == len(ANSWERED_VILLAGERS)
    assert len(kinds["notify_adviser"]) == len(WAITING_VILLAGERS) + len(ANSWERED_VILLAGERS)

    # Down: nothing listens at WeChat's address.
    down = WeChatClient(services.config, db, clock=lambda: START)
    down.base = dead_base()
    now = run_passes(services, db, down, DOWN_PASSES, START)
    assert fake.calls == []
    assert_kept_for_retry(db, DOWN_PASSES)

    # Erroring: WeChat answers, but with "system busy" (-1) to every call.
    for path in ("/stable_token", "/message/custom/send", "/message/template/send"):
        fake.fail(path, -1, times=100)
    healthy = WeChatClient(services.config, db, clock=lambda: now)
    now = run_passes(services, db, healthy, ERRORING_PASSES, now)
    assert fake.calls, "the erroring phase must really have reached the fake API"
    assert fake.sent() == [] and fake.sent("/template/send") == []
    assert_kept_for_retry(db, DOWN_PASSES + ERRORING_PASSES)

    # Back: WeChat works again. Before the backoff has passed, nothing is due.
    fake.scripted.clear()
    assert worker.run_once(services, now=now + 1, client=healthy, db=db).get("sent", 0) == 0
    assert fake.sent() == []
    for _ in range(3):  # past the backoff, then again: the extra passes must send nothing more
        now += services.config.outbox.backoff_max_seconds + 1
        worker.run_once(services, now=now, client=healthy, db=db)

    answers = {openid: fake.texts_to(openid) for openid in ANSWERED_VILLAGERS.values()}
    for openid, texts in answers.items():
        assert len(texts) == 1, (openid, texts)
        assert f"#{ticket_ids[openid]}" in texts[0] and "村委会调解" in texts[0]
    for openid in WAITING_VILLAGERS.values():
        assert fake.texts_to(openid) == []
        notes = [t for c in fake.sent() for t in [c.body["text"]["content"]]
                 if f"#{ticket_ids[openid]}" in t]
        assert len(notes) == 1, notes                      # the adviser was told once
        assert tickets.get_ticket(db, ticket_ids[openid]).status == "notified"
    for openid in ANSWERED_VILLAGERS.values():
        ticket = tickets.get_ticket(db, ticket_ids[openid])
        assert (ticket.status, ticket.delivered_via) == ("delivered", "cs")

    statuses = {(r["kind"], r["status"]) for r in db.query("SELECT kind, status FROM outbox")}
    # Notifications for tickets answered meanwhile are held on purpose (the adviser already
    # answered); nothing is left pending, sending or failed.
    assert statuses <= {("notify_adviser", "sent"), ("deliver_answer", "sent"),
                        ("notify_adviser", "held")}
    assert outbox.counts(db).get("sent") == len(WAITING_VILLAGERS) + len(ANSWERED_VILLAGERS)


def test_a_timeout_mid_send_is_retried_not_lost(services, db, fake):
    """WeChat stalls past the client's timeout once: that row is retried, the others sent once.

    WeChat's send API has no idempotency key, so a call it accepted after we stopped waiting may
    arrive twice (at least once, never zero times); only that one recipient may see a repeat.
    """
    services = Services(load_config(overrides=overrides_for(
        services.db_path.parent, wechat={"api_base": fake.base, "api_timeout_seconds": 0.5,
                                         "adviser_template_id": "TPL"}), environ={}))
    open_tickets(services, db)
    fake.stall("/message/custom/send", 1.5, times=1)
    client = WeChatClient(services.config, db, clock=lambda: START)
    now = run_passes(services, db, client, 1, START)
    retried = list(db.query("SELECT * FROM outbox WHERE last_error IS NOT NULL AND status != 'held'"))
    assert len(retried) == 1 and retried[0]["status"] == "pending"
    assert "timeout" in retried[0]["last_error"].lower() or "-2" in retried[0]["last_error"]
    run_passes(services, db, client, 2, now)
    stalled = next(c for c in fake.calls if c.path.endswith("/message/custom/send"))
    per_recipient: dict[str, int] = {}
    for call in fake.sent():
        per_recipient[call.body["touser"]] = per_recipient.get(call.body["touser"], 0) + 1
    assert all(n == 1 for who, n in per_recipient.items() if who != stalled.body["touser"])
    assert per_recipient[stalled.body["touser"]] >= 1
    for openid in ANSWERED_VILLAGERS.values():
        assert fake.texts_to(openid)
    assert {r["status"] for r in db.query("SELECT status FROM outbox")} <= {"sent", "held"}
