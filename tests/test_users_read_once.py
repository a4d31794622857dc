"""While one message is answered the villager's row is read once (bot.core.users.read_once), and
every write to it makes the next read fresh: through bot.core.users, through bot.escalation.delivery's counter,
through another connection to the same file, and not kept from inside a rolled-back transaction.
Inside a write transaction the row is read once and kept, as each write leaves it, until the
transaction ends; a savepoint undone forgets it.
The last test is the conversation that went wrong without it: an answer that offers the
adviser must not then ask for the village (the offer's "1" would become a village)."""
from __future__ import annotations

import time

import pytest

from bot.escalation import delivery
from bot.core import users
from bot.core.store import connect, fetch_one, transaction
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures

NOW = 1_900_000_000.0
OPENID = "oReadOnce0001"


@pytest.fixture
def two_dbs(tmp_path):
    first, second = connect(tmp_path / "bot.db"), connect(tmp_path / "bot.db")
    users.touch_inbound(first, OPENID, NOW)
    yield first, second
    first.conn.close()
    second.conn.close()


def test_the_row_is_read_once_while_a_message_is_answered(two_dbs):
    db, _ = two_dbs
    with users.read_once():
        before = users.get_user(db, OPENID)
        db.execute("UPDATE users SET village = '古坡村' WHERE openid = ?", [OPENID])  # behind its back
        assert users.get_user(db, OPENID) is before
    assert users.get_village(db, OPENID) == "古坡村"              # outside: always read afresh


def test_a_pending_question_written_is_read_back_in_the_same_message(two_dbs):
    db, _ = two_dbs
    with users.read_once():
        assert users.get_pending(db, OPENID, NOW) is None
        users.set_pending(db, OPENID, users.PersonOffered("q"), 600, NOW)
        assert users.get_pending(db, OPENID, NOW).kind == "offer"
        users.clear_pending(db, OPENID, NOW)
        assert users.get_pending(db, OPENID, NOW) is None


def test_the_customer_service_counter_is_read_back_after_a_send(two_dbs):
    db, _ = two_dbs
    with users.read_once():
        assert users.get_user(db, OPENID)["cs_sent_since_inbound"] == 0
        delivery.count_cs_sent(db, OPENID)
        assert users.get_user(db, OPENID)["cs_sent_since_inbound"] == 1


def test_a_write_through_another_connection_is_seen_by_the_first(two_dbs):
    first, second = two_dbs
    with users.read_once():
        assert users.get_village(first, OPENID) is None
        users.set_village(second, OPENID, "长安村", NOW)
        assert users.get_village(first, OPENID) == "长安村"


def test_a_row_written_in_a_rolled_back_transaction_is_not_kept(two_dbs):
    db, _ = two_dbs
    with users.read_once():
        with pytest.raises(RuntimeError), transaction(db):
            users.set_village(db, OPENID, "大年村", NOW)
            assert users.get_village(db, OPENID) == "大年村"
            raise RuntimeError("roll back")
        assert users.get_village(db, OPENID) is None


def statements(db, start: str) -> list[str]:
    """Every statement this connection runs from now on that starts so (a read or a write of users)."""
    seen: list[str] = []
    db.conn.set_trace_callback(lambda sql: seen.append(sql) if sql.startswith(start) else None)
    return seen


def selects_of_users(db) -> list[str]:
    return statements(db, "SELECT * FROM users")


def test_inside_a_transaction_the_row_is_read_once_until_it_ends(two_dbs):
    db, _ = two_dbs
    reads = selects_of_users(db)
    with users.read_once(), transaction(db):
        first = users.get_user(db, OPENID)
        assert users.get_user(db, OPENID) is first
        assert users.get_pending(db, OPENID, NOW) is None
    assert len(reads) == 1


def test_a_write_inside_the_transaction_is_seen_by_the_next_read_without_reading_again(two_dbs):
    db, _ = two_dbs
    reads = selects_of_users(db)
    with users.read_once(), transaction(db):
        assert users.get_village(db, OPENID) is None
        users.set_village(db, OPENID, "古坡村", NOW)
        assert users.get_village(db, OPENID) == "古坡村"
        users.set_pending(db, OPENID, users.PersonOffered("q"), 600, NOW)
        assert users.get_pending(db, OPENID, NOW).kind == "offer"
        assert users.get_village(db, OPENID) == "古坡村"
    assert len(reads) == 1


def test_a_new_villager_written_inside_the_transaction_is_seen_whole(two_dbs):
    db, _ = two_dbs
    with users.read_once(), transaction(db):
        assert users.get_user(db, "oReadOnceNew") is None
        users.touch_inbound(db, "oReadOnceNew", NOW)
        row = users.get_user(db, "oReadOnceNew")
        assert row == fetch_one(db, "SELECT * FROM users WHERE openid = ?", ["oReadOnceNew"])
        assert row["subscribed"] == 1 and row["last_inbound_at"] == NOW


def test_a_row_kept_in_one_transaction_is_read_afresh_in_the_next(two_dbs):
    first, second = two_dbs
    with users.read_once():
        with transaction(first):
            assert users.get_village(first, OPENID) is None
        second.execute("UPDATE users SET village = '长安村' WHERE openid = ?", [OPENID])   # behind its back
        with transaction(first):
            assert users.get_village(first, OPENID) == "长安村"


def test_a_write_in_an_undone_savepoint_is_not_seen_by_the_rest_of_the_transaction(two_dbs):
    db, _ = two_dbs
    with users.read_once(), transaction(db):
        assert users.get_village(db, OPENID) is None
        with pytest.raises(RuntimeError), transaction(db):
            users.set_village(db, OPENID, "大年村", NOW)
            raise RuntimeError("undo the savepoint")
        assert users.get_village(db, OPENID) is None


# ---- the reply's changes to the row held and written as one statement (users.holding) -----

def writes_of_users(db) -> list[str]:
    return statements(db, "INSERT INTO users")


def the_replys_changes(db, openid: str) -> None:
    """What a reply does to a new villager's row: the 普法 line, the village asked, the window."""
    users.update_user(db, openid, NOW, publicity_noted="【普法】今天是宪法日")
    users.set_pending(db, openid, users.VillageAsked(None), 600, NOW, village_asked_at=NOW)
    users.touch_inbound(db, openid, NOW)


def test_the_replys_changes_to_a_new_villagers_row_are_one_write_seen_at_once(two_dbs):
    db, other = two_dbs
    writes = writes_of_users(db)
    with users.read_once(), transaction(db), users.holding(db, "oHeld0001"):
        assert users.get_user(db, "oHeld0001") is None
        users.update_user(db, "oHeld0001", NOW, publicity_noted="【普法】今天是宪法日")
        assert users.get_user(db, "oHeld0001")["publicity_noted"] == "【普法】今天是宪法日"
        users.set_pending(db, "oHeld0001", users.VillageAsked(None), 600, NOW, village_asked_at=NOW)
        assert users.get_pending(db, "oHeld0001", NOW).kind == "village"
        users.touch_inbound(db, "oHeld0001", NOW)
        held = dict(users.get_user(db, "oHeld0001"))
        assert writes == []
    assert len(writes) == 1
    with transaction(other):                                  # the same changes, one by one
        the_replys_changes(other, "oHeld0002")
    written = fetch_one(db, "SELECT * FROM users WHERE openid = ?", ["oHeld0001"])
    one_by_one = fetch_one(db, "SELECT * FROM users WHERE openid = ?", ["oHeld0002"])
    assert written == {**one_by_one, "openid": "oHeld0001"}
    assert held == written


def test_a_known_villagers_changes_are_written_over_the_row_they_change(two_dbs):
    db, _ = two_dbs
    users.set_village(db, OPENID, "古坡村", NOW)
    with users.read_once(), transaction(db), users.holding(db, OPENID):
        the_replys_changes(db, OPENID)
        assert users.get_village(db, OPENID) == "古坡村"
    row = fetch_one(db, "SELECT * FROM users WHERE openid = ?", [OPENID])
    assert (row["village"], row["publicity_noted"], row["village_asked_at"]) == ("古坡村", "【普法】今天是宪法日", NOW)


def test_changes_held_before_a_nested_transaction_outlive_it_being_undone(two_dbs):
    db, _ = two_dbs
    with users.read_once(), transaction(db), users.holding(db, OPENID):
        users.set_village(db, OPENID, "大年村", NOW)
        with pytest.raises(RuntimeError), transaction(db):
            users.set_pending(db, OPENID, users.PersonOffered("q"), 600, NOW)
            assert users.get_pending(db, OPENID, NOW).kind == "offer"
            raise RuntimeError("undo the savepoint")
        assert users.get_pending(db, OPENID, NOW) is None and users.get_village(db, OPENID) == "大年村"
    row = fetch_one(db, "SELECT * FROM users WHERE openid = ?", [OPENID])
    assert (row["village"], row["pending"]) == ("大年村", None)


def test_nothing_held_is_written_when_the_block_fails(two_dbs):
    db, _ = two_dbs
    with pytest.raises(RuntimeError), users.read_once(), transaction(db), users.holding(db, OPENID):
        users.set_village(db, OPENID, "大年村", NOW)
        raise RuntimeError("roll back")
    assert users.get_village(db, OPENID) is None


def test_without_a_message_scope_nothing_is_held(two_dbs):
    db, _ = two_dbs
    with transaction(db), users.holding(db, OPENID):
        users.set_village(db, OPENID, "长安村", NOW)
        assert fetch_one(db, "SELECT village FROM users WHERE openid = ?", [OPENID])["village"] == "长安村"


def test_a_new_villager_offered_the_adviser_is_not_asked_for_the_village(wechat, db, app):
    """A needs_person answer leaves the offer pending; asking the village after it would replace
    the offer, and the villager's "1" would pick the first village instead of the adviser."""
    question = "土地承包纠纷可以申请仲裁吗"
    with app.app_context():
        services = app.extensions["legalbot"]
        assert services.knowledge.by_id[services.matcher.decide(question).faq_id].needs_person
    answered = wechat.say(question, openid="oReadOnce0002")
    assert "回复1" in answered and "哪个村" not in answered
    assert users.get_pending(db, "oReadOnce0002", time.time()).kind == "offer"
    told = wechat.say("1", openid="oReadOnce0002")
    [ticket] = list(db.query("SELECT question FROM tickets"))
    assert ticket["question"] == question and "哪个村" in told
