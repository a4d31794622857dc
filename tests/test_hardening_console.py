"""Issue 14 in the console: sessions end at logout and with a new password (6), login limits per
username, per address and under concurrency, with X-Forwarded-For believed only from the proxy
(8), odd filters and a CR/LF in ``next`` are not a 500 (9), the open-redirect guard (test gap),
and who sees a villager's numbers on which page (7)."""
from __future__ import annotations

import re
import threading
import time

import pytest

from bot import create_app
from bot.escalation.advisers import backup_adviser
from bot.core.config import load_config
from bot.app.console import auth
from bot.app.console.auth import add_user
from tests.conftest import test_overrides as overrides_for
from tests.seed_records import PHONE
from tests.test_console import PASSWORD, csrf, login, tickets  # noqa: F401 - the seeded year

PER_USER = 10           # [console] login_max_failures_per_user
PER_ADDRESS = 20        # [console] login_max_failures_per_address
MASKED = PHONE[:3] + "****" + PHONE[-4:]


def logged_in(client) -> bool:
    return client.get("/console/").status_code == 200


# --- sessions (item 6) ------------------------------------------------------------------------

def test_logout_ends_the_accounts_other_sessions(app, tickets):
    office, phone = app.test_client(), app.test_client()
    login(office, "sifasuo"), login(phone, "sifasuo")
    assert logged_in(office) and logged_in(phone)
    office.post("/console/logout", data={"csrf_token": csrf(office, "/console/")})
    assert not logged_in(phone)
    assert not logged_in(office)


def test_a_new_password_ends_existing_sessions(app, tickets, db):
    client = app.test_client()
    login(client, "sifasuo")
    add_user(db, "sifasuo", "a brand new password", "staff", time.time())
    assert not logged_in(client)
    assert login(client, "sifasuo", "a brand new password").status_code == 302 and logged_in(client)


def test_a_stolen_cookie_stops_working_at_logout(app, tickets):
    client = app.test_client()
    login(client, "sifasuo")
    stolen = client.get_cookie("legalbot_console").value
    client.post("/console/logout", data={"csrf_token": csrf(client, "/console/")})
    thief = app.test_client()
    thief.set_cookie("legalbot_console", stolen)
    assert not logged_in(thief)


# --- login throttling (item 8) ----------------------------------------------------------------

def proxied_app(tmp_path):
    app = create_app(load_config(overrides=overrides_for(tmp_path, app={"trusted_proxies": 1}),
                                 environ={}), warm=False)
    add_user(app.extensions["legalbot"].open_db(), "sifasuo", PASSWORD, "staff", time.time())
    return app


def try_login(app, username, password, forwarded_for=None, peer="127.0.0.1"):
    """One login from a fresh browser; ``peer`` is who reaches gunicorn (nginx is 127.0.0.1)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = peer
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    form = client.get("/console/login", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return client.post("/console/login", headers=headers,
                       data={"username": username, "password": password, "csrf_token": token})


def test_one_username_tried_from_many_addresses_is_locked(tmp_path):
    app = proxied_app(tmp_path)
    for n in range(PER_USER):
        assert try_login(app, "sifasuo", "guess", f"203.0.113.{n}").status_code == 401
    assert try_login(app, "sifasuo", PASSWORD, "198.51.100.77").status_code == 429


def test_one_address_trying_many_usernames_is_locked(tmp_path):
    app = proxied_app(tmp_path)
    for n in range(PER_ADDRESS):
        assert try_login(app, f"user{n}", "Spring2026!", "203.0.113.50").status_code == 401
    assert try_login(app, "sifasuo", PASSWORD, "203.0.113.50").status_code == 429
    assert try_login(app, "sifasuo", PASSWORD, "198.51.100.8").status_code == 302


def test_a_forwarded_for_header_from_a_client_is_not_believed(tmp_path):
    """trusted_proxies = 1 but gunicorn reached directly: a new X-Forwarded-For per try must not
    make each try a new address."""
    app = proxied_app(tmp_path)
    limit = app.extensions["legalbot"].config.console.login_max_failures
    for n in range(limit):
        try_login(app, "sifasuo", "guess", f"203.0.113.{n}", peer="192.0.2.10")
    assert try_login(app, "sifasuo", PASSWORD, "198.51.100.9", peer="192.0.2.10").status_code == 429


def test_forty_concurrent_tries_check_at_most_the_limit(app, tickets, monkeypatch):
    checks, lock = [], threading.Lock()
    real_check = auth.check_password_hash

    def counting_check(stored, password):
        with lock:
            checks.append(password)
        time.sleep(0.02)                     # a real scrypt check takes this long and more
        return real_check(stored, password)
    monkeypatch.setattr(auth, "check_password_hash", counting_check)
    clients = [app.test_client() for _ in range(40)]
    tokens = [csrf(c) for c in clients]
    start, statuses = threading.Barrier(40), []

    def attempt(client, token):
        start.wait()
        statuses.append(client.post("/console/login", data={"username": "sifasuo", "password": "guess",
                                                            "csrf_token": token}).status_code)
    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    limit = app.extensions["legalbot"].config.console.login_max_failures
    assert len(statuses) == 40 and statuses.count(401) == len(checks)
    assert len(checks) <= limit, f"{len(checks)} passwords were checked; the limit is {limit}"


def test_the_configured_limits_are_the_ones_tested(config):
    assert (config.console.login_max_failures_per_user,
            config.console.login_max_failures_per_address) == (PER_USER, PER_ADDRESS)


# --- odd input is not a 500 (item 9) ----------------------------------------------------------

@pytest.mark.parametrize("path", ["/console/", "/console/consultations", "/console/export/download"])
@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01&until=9999-12-31"])
def test_the_far_future_is_a_date_not_a_500(client, tickets, path, query):
    login(client, "sifasuo")
    assert client.get(f"{path}?{query}").status_code == 200


@pytest.mark.parametrize("next_", ["/console/\r\nSet-Cookie: x=1", "/console/\nLocation: //evil.example",
                                   "/console\r", "/console/%0d%0aSet-Cookie:x=1"])
def test_a_line_break_in_next_lands_on_the_dashboard(client, tickets, next_):
    response = client.post("/console/login", data={"username": "sifasuo", "password": PASSWORD,
                                                   "next": next_, "csrf_token": csrf(client)})
    assert response.status_code == 302 and response.location.endswith("/console/")


# --- the open-redirect guard (test gap) -------------------------------------------------------

@pytest.mark.parametrize("next_", [
    "//evil.example/", "//evil.example/console", "/\\evil.example/", "\\\\evil.example",
    "%2F%2Fevil.example", "/%2F/evil.example", "/%5Cevil.example", "https://evil.example/console",
    "http:evil.example", "/console/../..//evil.example", "/console/..%2F..%2F%2Fevil.example",
    " //evil.example", "\t/console", "javascript:alert(1)",
])
def test_login_never_returns_off_the_console(client, tickets, next_):
    response = client.post("/console/login", data={"username": "sifasuo", "password": PASSWORD,
                                                   "next": next_, "csrf_token": csrf(client)})
    assert response.status_code == 302 and response.location.endswith("/console/"), response.location


def test_login_returns_to_the_console_page_asked_for(client, tickets):
    response = client.post("/console/login", data={"username": "sifasuo", "password": PASSWORD,
                                                   "next": "/console/consultations?q=%E5%AE%85",
                                                   "csrf_token": csrf(client)})
    assert response.location.endswith("/console/consultations?q=%E5%AE%85")


# --- who sees a villager's numbers (item 7) ---------------------------------------------------

def page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_village_adviser_sees_the_phone_to_call_back(client, tickets, db):
    add_user(db, "wei", PASSWORD, "adviser", time.time(), adviser_name="韦律师")   # 大年村
    login(client, "wei")
    assert PHONE in page(client, f"/console/tickets/{tickets['DANIAN']}")
    listing = page(client, "/console/tickets?status=all")
    assert PHONE not in listing and MASKED in listing


def test_staff_see_it_masked_unless_the_sifasuo_holds_the_ticket(client, tickets, db):
    login(client, "sifasuo")
    detail = page(client, f"/console/tickets/{tickets['DANIAN']}")
    assert PHONE not in detail and MASKED in detail
    db.execute("UPDATE tickets SET adviser_id = ? WHERE id = ?", [backup_adviser(db).id, tickets["DANIAN"]])
    assert PHONE in page(client, f"/console/tickets/{tickets['DANIAN']}")


def test_a_consultation_record_is_masked_for_everyone(client, tickets, db):
    login(client, "sifasuo")
    row = next(db.query("SELECT id FROM consultations WHERE question LIKE ?", [f"%{PHONE}%"]))
    record = page(client, f"/console/consultations/{row['id']}")
    assert PHONE not in record and MASKED in record


# --- the webhook and the console's sessions ---------------------------------------------------

def test_a_webhook_request_opens_no_console_session(app, wechat):
    """WeChat's requests never use the console's login, so they neither read nor sign its cookie."""
    seen = {}

    @app.before_request
    def note_session():
        from flask import request, session
        seen[request.path] = type(session._get_current_object()).__name__

    app.test_client().get("/console/login")
    assert wechat.say("你好"), "the webhook answered"
    assert seen["/console/login"] == "SecureCookieSession"
    assert seen["/wechat"] == "NullSession"


@pytest.mark.parametrize("path", ["/console/login", "/console/statutes", "/simulator"])
def test_a_query_string_byte_that_is_not_utf8_is_read_leniently_not_a_500(tmp_path, path):
    """Sent raw (not %-escaped), such a byte made werkzeug's strict decoding raise on every page."""
    app = create_app(load_config(overrides=overrides_for(tmp_path), environ={}), warm=False)
    app.config["TESTING"] = False          # a raised error becomes the 500 a browser would get
    answer = app.test_client().get(path, environ_overrides={"QUERY_STRING": "q=\xff&next=\xfe"})
    assert answer.status_code in (200, 302)
