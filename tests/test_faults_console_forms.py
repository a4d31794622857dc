"""Fuzzing the console's forms (hypothesis, Flask's test client, real SQLite).

Whatever is typed into the login form, the ticket answer form or the search boxes, the console
answers with a page or a redirect — never a 500 (the app runs in TESTING mode, so a crash would
raise here) — keeps CSRF enforced on every POST, never redirects off the console, never lets an
adviser touch another village's ticket, and never shows a villager's phone number unmasked.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.seed_records import PHONE
from tests.test_console import PASSWORD, tickets  # noqa: F401 - the seeded year as a fixture
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Form text as browsers send it: any character but lone surrogates (not encodable as UTF-8).
form_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
short_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
nasty = st.sampled_from(["", " ", "%", "_", "'", "\"", "\\", "%_%", "' OR 1=1 --", "<script>x</script>",
                         "{{7*7}}", "\x00", "\r\nSet-Cookie: a=b", "../../etc/passwd", "9" * 40,
                         "-1", "0", "2026-02-30", "2026-13-01", "99999-01-01", "1e9", "NaN", "宅基地"])
any_text = st.one_of(nasty, short_text)


def csrf(client, path: str = "/console/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, username: str) -> None:
    response = client.post("/console/login", data={"username": username, "password": PASSWORD,
                                                   "csrf_token": csrf(client)})
    assert response.status_code == 302


def ticket_state(db) -> list[tuple]:
    return [tuple(r.values()) for r in db.query("SELECT id, status, answer, adviser_id FROM tickets ORDER BY id")]


def assert_stays_on_the_console(response) -> None:
    if response.status_code in (301, 302, 303):
        location = response.headers["Location"]
        assert location.startswith("/console") or location.startswith("http://localhost/console"), location
        assert "\n" not in location and "\r" not in location


# --- the login form -------------------------------------------------------------------------

@FUZZ
@given(username=any_text, password=any_text, next_=any_text)
def test_fuzzed_logins_are_refused_politely(client, tickets, username, password, next_):
    token = csrf(client)
    response = client.post("/console/login", data={"username": username, "password": password,
                                                   "next": next_, "csrf_token": token})
    assert response.status_code in (401, 429), (username, password)
    assert_stays_on_the_console(response)
    assert client.get("/console/tickets").status_code == 302       # still not logged in


@FUZZ
@given(next_=any_text)
def test_the_right_password_with_any_next_lands_on_the_console(client, tickets, db, next_):
    db.execute("DELETE FROM login_failures")
    client.post("/console/logout", data={"csrf_token": csrf(client)})
    response = client.post("/console/login", data={"username": "sifasuo", "password": PASSWORD,
                                                   "next": next_, "csrf_token": csrf(client)})
    assert response.status_code == 302
    assert_stays_on_the_console(response)


@FUZZ
@given(token=any_text, username=any_text)
def test_a_login_with_a_forged_csrf_token_is_400(client, tickets, token, username):
    real = csrf(client)
    data = {"username": username, "password": PASSWORD}
    if token != real:
        data["csrf_token"] = token
    assert client.post("/console/login", data=data).status_code == 400


# --- the ticket answer form -----------------------------------------------------------------

@FUZZ
@given(answer=form_text, offset=st.integers(min_value=-3, max_value=3))
def test_fuzzed_answers_never_crash_and_only_touch_the_advisers_own_tickets(client, tickets, db,
                                                                            answer, offset):
    login(client, "qin")                       # 古坡村's adviser: GUPO and URGENT are theirs
    ticket_id = max(1, tickets["GUPO"] + offset)
    before = {row[0]: row for row in ticket_state(db)}
    page = f"/console/tickets/{tickets['GUPO']}"
    response = client.post(f"/console/tickets/{ticket_id}/answer",
                           data={"answer": answer, "csrf_token": csrf(client, page)})
    assert response.status_code in (302, 403, 404)
    assert_stays_on_the_console(response)
    after = {row[0]: row for row in ticket_state(db)}
    for tid, row in after.items():
        if row != before.get(tid):
            assert tid == ticket_id and response.status_code == 302
            assert row[1] == "answered" and row[2] == answer.strip() and answer.strip()
            village = next(db.query("SELECT village FROM tickets WHERE id = ?", [tid]))["village"]
            assert village == "古坡村"
    deliveries = db.execute("SELECT dedupe_key, count(*) FROM outbox WHERE kind = 'deliver_answer' "
                            "GROUP BY dedupe_key HAVING count(*) > 1").fetchall()
    assert deliveries == []


@FUZZ
@given(answer=form_text, token=any_text)
def test_an_answer_without_the_right_csrf_token_is_400_and_changes_nothing(client, tickets, db,
                                                                           answer, token):
    login(client, "sifasuo")
    real = csrf(client, f"/console/tickets/{tickets['GUPO']}")
    before = ticket_state(db)
    data = {"answer": answer or "答复"}
    if token != real:
        data["csrf_token"] = token
    response = client.post(f"/console/tickets/{tickets['GUPO']}/answer", data=data)
    assert response.status_code == 400
    assert ticket_state(db) == before


@FUZZ
@given(path=st.sampled_from(["/console/tickets/{}/reassign", "/console/logout"]), token=any_text)
def test_every_other_post_enforces_csrf_too(client, tickets, db, path, token):
    login(client, "qin")
    real = csrf(client, "/console/tickets")
    before = ticket_state(db)
    data = {} if token == real else {"csrf_token": token}
    assert client.post(path.format(tickets["GUPO"]), data=data).status_code == 400
    assert ticket_state(db) == before
    assert client.get("/console/tickets").status_code == 200        # still logged in


# --- the searches and filters ---------------------------------------------------------------

SEARCHES = {
    "/console/consultations": ["q", "action", "village", "since", "until", "page"],
    "/console/tickets": ["status", "village"],
    "/console/knowledge": ["q", "category"],
    "/console/statutes": ["q", "law", "page"],
    "/console/": ["since", "until"],
}


@FUZZ
@given(path=st.sampled_from(sorted(SEARCHES)), data=st.data(), who=st.sampled_from(["sifasuo", "qin"]))
def test_fuzzed_searches_answer_with_a_page(client, tickets, path, data, who):
    login(client, who)
    params = {name: data.draw(any_text, label=name) for name in SEARCHES[path]
              if data.draw(st.booleans(), label=f"use {name}")}
    response = client.get(path, query_string=params)
    assert response.status_code == 200, (path, params)
    page = response.get_data(as_text=True)
    assert PHONE not in page                                       # masked everywhere
    assert "<script>x</script>" not in page                        # escaped, never injected


@FUZZ
@given(params=st.fixed_dictionaries({"since": any_text, "until": any_text, "format": any_text}))
def test_fuzzed_export_filters_never_crash(client, tickets, params):
    login(client, "sifasuo")
    response = client.get("/console/export/download", query_string=params)
    assert response.status_code in (200, 400)


def test_searching_for_a_phone_number_never_reveals_it(client, tickets):
    login(client, "sifasuo")
    for path in ("/console/consultations", "/console/tickets"):
        page = client.get(path, query_string={"q": PHONE, "status": "all"}).get_data(as_text=True)
        assert PHONE not in page.replace(f'value="{PHONE}"', "")    # only the search box echoes it
    assert "138****5678" in client.get("/console/consultations",
                                       query_string={"q": "宅基地"}).get_data(as_text=True)
