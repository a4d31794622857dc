"""The web console with Flask's test client: logins, CSRF, roles, answering, export."""
from __future__ import annotations

import io
import re
import time

import openpyxl
import pytest
from click.testing import CliRunner

from bot import create_app
from bot.cli import main
from bot.core.config import load_config
from bot.app.console.auth import add_user
from bot.reporting.stats import Period, compute_stats, legal_rows, consultation_rows, summarize
from tests.conftest import test_overrides as overrides_for
from tests.seed_records import seed

PASSWORD = "correct horse 42"


@pytest.fixture
def tickets(db, config):
    ids = seed(db, config)
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    add_user(db, "qin", PASSWORD, "adviser", time.time(), adviser_name="覃律师")   # 古坡村
    return ids


def csrf(client, path="/console/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def login(client, username, password=PASSWORD):
    return client.post("/console/login", data={"username": username, "password": password,
                                               "csrf_token": csrf(client)})


def test_pages_need_a_login(client):
    response = client.get("/console/tickets")
    assert response.status_code == 302 and "/console/login" in response.location


def test_staff_logs_in_and_sees_the_dashboard(client, tickets):
    assert login(client, "sifasuo").status_code == 302
    page = client.get("/console/").get_data(as_text=True)
    assert "概况" in page and "sifasuo" in page


def test_dashboard_figures_match_the_database(client, tickets, db):
    login(client, "sifasuo")
    page = client.get("/console/?since=2026-01-01&until=2026-12-31").get_data(as_text=True)
    figures = summarize(legal_rows(consultation_rows(db, Period.year(2026))))
    assert f'id="fig-total">{figures["total"]}<' in page
    assert f'id="fig-tickets">{figures["tickets"]}<' in page
    assert 'id="fig-rate">66.7%<' in page


def test_wrong_password_is_refused_without_saying_which_part(client, tickets):
    response = login(client, "sifasuo", "wrong password")
    assert response.status_code == 401 and "用户名或密码不对" in response.get_data(as_text=True)
    assert login(client, "nobody", "wrong password").status_code == 401


def test_repeated_failures_lock_the_login(client, tickets, config):
    for _ in range(config.console.login_max_failures):
        login(client, "sifasuo", "guess")
    response = login(client, "sifasuo")        # even the right password waits now
    assert response.status_code == 429


def login_from(client, address, password):
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"          # nginx, on the same machine
    page = client.get("/console/login", headers={"X-Forwarded-For": address}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/console/login", headers={"X-Forwarded-For": address},
                       data={"username": "sifasuo", "password": password, "csrf_token": token})


def test_behind_a_trusted_proxy_each_client_address_has_its_own_login_limit(tmp_path):
    app = create_app(load_config(overrides=overrides_for(tmp_path, app={"trusted_proxies": 1}),
                                 environ={}))
    add_user(app.extensions["legalbot"].open_db(), "sifasuo", PASSWORD, "staff", time.time())
    limit = app.extensions["legalbot"].config.console.login_max_failures
    for _ in range(limit):
        login_from(app.test_client(), "203.0.113.5", "guess")
    assert login_from(app.test_client(), "203.0.113.5", PASSWORD).status_code == 429
    assert login_from(app.test_client(), "198.51.100.7", PASSWORD).status_code == 302


def test_without_a_trusted_proxy_a_forged_address_does_not_escape_the_limit(client, tickets, config):
    for n in range(config.console.login_max_failures):
        login_from(client, f"203.0.113.{n}", "guess")
    assert login_from(client, "198.51.100.7", PASSWORD).status_code == 429


def test_passwords_are_stored_hashed(tickets, db):
    stored = next(db.query("SELECT password_hash FROM console_users WHERE username = 'qin'"))
    assert PASSWORD not in stored["password_hash"] and stored["password_hash"].startswith("scrypt:")


def test_a_post_without_the_csrf_token_is_rejected(client, tickets):
    response = client.post("/console/login", data={"username": "sifasuo", "password": PASSWORD})
    assert response.status_code == 400
    login(client, "sifasuo")
    response = client.post(f"/console/tickets/{tickets['GUPO']}/answer",
                           data={"answer": "伪造的答复", "csrf_token": "forged"})
    assert response.status_code == 400


def test_the_session_cookie_is_httponly_and_samesite(client, tickets):
    cookie = login(client, "sifasuo").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_production_cookies_are_secure(tmp_path):
    config = load_config(overrides=overrides_for(tmp_path, app={"environment": "production"}),
                         environ={})
    app = create_app(config, warm=False)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.test_client().get("/simulator").status_code == 404


def test_production_without_a_secret_key_keeps_the_console_off(tmp_path):
    overrides = overrides_for(tmp_path, app={"environment": "production"})
    overrides["console"]["secret_key"] = ""
    app = create_app(load_config(overrides=overrides, environ={}), warm=False)
    assert app.test_client().get("/console/login").status_code == 404


def test_an_adviser_sees_only_their_villages_tickets(client, tickets):
    login(client, "qin")
    listing = client.get("/console/tickets?status=all").get_data(as_text=True)
    assert f"#{tickets['GUPO']}" in listing and f"#{tickets['DANIAN']}" not in listing
    assert client.get(f"/console/tickets/{tickets['GUPO']}").status_code == 200
    assert client.get(f"/console/tickets/{tickets['DANIAN']}").status_code == 403


def test_an_adviser_cannot_read_another_villages_consultations(client, tickets, db):
    login(client, "qin")
    other = next(db.query("SELECT id FROM consultations WHERE village = '大年村'"))["id"]
    assert client.get(f"/console/consultations/{other}").status_code == 403
    page = client.get("/console/consultations?village=大年村").get_data(as_text=True)
    assert 'id="consultation-total">0 条' in page


def test_an_adviser_cannot_download_the_ledger(client, tickets):
    login(client, "qin")
    assert client.get("/console/export/download?since=2026-01-01&until=2026-12-31").status_code == 403


def test_an_adviser_answers_like_in_wechat(client, tickets, db):
    login(client, "qin")
    page = f"/console/tickets/{tickets['GUPO']}"
    response = client.post(f"{page}/answer", data={"answer": "可以向劳动监察大队投诉。",
                                                    "csrf_token": csrf(client, page)})
    assert response.status_code == 302
    row = next(db.query("SELECT status, answer FROM tickets WHERE id = ?", [tickets["GUPO"]]))
    assert (row["status"], row["answer"]) == ("answered", "可以向劳动监察大队投诉。")
    event = list(db.query("SELECT actor FROM ticket_events WHERE ticket_id = ?", [tickets["GUPO"]]))
    assert event[-1]["actor"] == "覃律师"


def test_an_empty_answer_is_explained_not_saved(client, tickets, db):
    login(client, "qin")
    page = f"/console/tickets/{tickets['GUPO']}"
    client.post(f"{page}/answer", data={"answer": "  ", "csrf_token": csrf(client, page)})
    assert "答复内容是空的" in client.get(page).get_data(as_text=True)
    assert next(db.query("SELECT status FROM tickets WHERE id = ?", [tickets["GUPO"]]))["status"] == "notified"


def test_staff_answer_goes_out_as_the_sifasuo(client, tickets, db):
    login(client, "sifasuo")
    page = f"/console/tickets/{tickets['GUPO']}"
    client.post(f"{page}/answer", data={"answer": "请到司法所面谈。", "csrf_token": csrf(client, page)})
    event = list(db.query("SELECT actor FROM ticket_events WHERE ticket_id = ?", [tickets["GUPO"]]))
    assert event[-1]["actor"] == "大年司法所"


def test_staff_close_a_ticket_whose_answer_reached_the_villager(client, tickets, db):
    login(client, "sifasuo")
    page = f"/console/tickets/{tickets['GUPO']}"
    client.post(f"{page}/answer", data={"answer": "请到司法所面谈。", "csrf_token": csrf(client, page)})
    assert 'id="close-form"' not in client.get(page).get_data(as_text=True)     # not delivered yet
    db.execute("UPDATE tickets SET status = 'delivered', delivered_at = ? WHERE id = ?", [time.time(), tickets["GUPO"]])
    db.conn.commit()
    assert 'id="close-form"' in client.get(page).get_data(as_text=True)
    response = client.post(f"{page}/close", data={"csrf_token": csrf(client, page)})
    assert response.status_code == 302 and "已办结" in client.get(page).get_data(as_text=True)
    row = next(db.query("SELECT status FROM tickets WHERE id = ?", [tickets["GUPO"]]))
    event = list(db.query("SELECT actor, to_status FROM ticket_events WHERE ticket_id = ?", [tickets["GUPO"]]))
    assert (row["status"], event[-1]["actor"], event[-1]["to_status"]) == ("closed", "sifasuo", "closed")


def test_an_adviser_cannot_close_another_villages_ticket(client, tickets, db):
    login(client, "qin")                                  # 古坡村's adviser; DANIAN is 大年村's
    db.execute("UPDATE tickets SET status = 'delivered' WHERE id = ?", [tickets["DANIAN"]])
    db.conn.commit()
    client.post(f"/console/tickets/{tickets['DANIAN']}/close", data={"csrf_token": csrf(client, "/console/")})
    assert next(db.query("SELECT status FROM tickets WHERE id = ?", [tickets["DANIAN"]]))["status"] == "delivered"


def test_staff_downloads_the_ledger(client, tickets):
    login(client, "sifasuo")
    response = client.get("/console/export/download?since=2026-01-01&until=2026-12-31")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book["台账"].max_row == 8


def test_consultation_search_finds_words_in_questions(client, tickets):
    login(client, "sifasuo")
    page = client.get("/console/consultations?q=宅基地").get_data(as_text=True)
    assert 'id="consultation-total">1 条' in page and "138****5678" in page


def test_knowledge_pages_list_entries_and_statutes(client, tickets, app):
    login(client, "sifasuo")
    kb = app.extensions["legalbot"].knowledge
    entry = kb.entries[0]
    assert entry.questions[0] in client.get("/console/knowledge").get_data(as_text=True)
    assert client.get(f"/console/knowledge/{entry.id}").status_code == 200
    statute = client.get("/console/statutes?q=民法典第1079条").get_data(as_text=True)
    assert "感情确已破裂" in statute


def test_a_bad_date_in_the_filter_is_explained(client, tickets):
    login(client, "sifasuo")
    page = client.get("/console/?since=yesterday").get_data(as_text=True)
    assert "YYYY-MM-DD" in page


def test_login_only_returns_to_console_pages(client, tickets):
    response = client.post("/console/login", data={"username": "sifasuo", "password": PASSWORD,
                                                   "next": "https://evil.example/",
                                                   "csrf_token": csrf(client)})
    assert response.location.endswith("/console/")


def test_add_user_command_creates_an_adviser_account(config, monkeypatch, db):
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    result = CliRunner().invoke(main, ["console", "add-user", "wei", "--role", "adviser",
                                       "--adviser", "韦律师", "--password-stdin"],
                                input="a long password\n")
    assert result.exit_code == 0, result.output
    row = next(db.query("SELECT role, adviser_id FROM console_users WHERE username = 'wei'"))
    assert row["role"] == "adviser" and row["adviser_id"] is not None


def test_add_user_refuses_an_unknown_adviser_and_a_short_password(config, monkeypatch):
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    unknown = CliRunner().invoke(main, ["console", "add-user", "x", "--role", "adviser",
                                        "--adviser", "没有这个人", "--password-stdin"],
                                 input="a long password\n")
    assert unknown.exit_code == 1 and "没有名为" in unknown.output
    short = CliRunner().invoke(main, ["console", "add-user", "y", "--role", "staff",
                                      "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "至少" in short.output


def test_console_pages_send_security_headers(client):
    response = client.get("/console/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_webhook_reply_carries_no_browser_headers(client):
    response = client.get("/wechat")
    assert "Content-Security-Policy" not in response.headers
