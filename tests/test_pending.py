"""The villager's pending question is a typed ``Pending``, stored as the same JSON as before."""
from __future__ import annotations

import json

from bot.core import users
from bot.core.store import connect

OPENID = "oPendingTyped0001"
NOW = 1_900_000_000.0


def fresh_db(tmp_path):
    return connect(tmp_path / "pending.db")


def test_a_pending_question_reads_back_as_the_kind_data_and_expiry_written(tmp_path):
    db = fresh_db(tmp_path)
    users.set_pending(db, OPENID, "clarify", {"faq_ids": ["a", "b"], "question": "彩礼"}, ttl=600, now=NOW)
    assert users.get_pending(db, OPENID, NOW + 1) == users.Pending(
        "clarify", {"faq_ids": ["a", "b"], "question": "彩礼"}, NOW + 600)


def test_a_pending_question_of_another_kind_or_past_its_expiry_is_not_pending(tmp_path):
    db = fresh_db(tmp_path)
    users.set_pending(db, OPENID, "offer", {"question": "土地"}, ttl=600, now=NOW)
    assert users.get_pending(db, OPENID, NOW + 600, kind="offer") is not None
    assert users.get_pending(db, OPENID, NOW + 1, kind="clarify") is None
    assert users.get_pending(db, OPENID, NOW + 601) is None


def test_a_row_written_before_the_dataclass_reads_back(tmp_path):
    """The stored shape did not change: rows written by the dict version still load."""
    db = fresh_db(tmp_path)
    stored = json.dumps({"kind": "more", "data": {"ticket_id": 7, "asked": True}, "expires": NOW + 60})
    users.update_user(db, OPENID, NOW, pending=stored)
    pending = users.get_pending(db, OPENID, NOW, kind="more")
    assert (pending.kind, pending.data, pending.expires) == ("more", {"ticket_id": 7, "asked": True}, NOW + 60)
    assert json.loads(pending.as_json()) == json.loads(stored)
