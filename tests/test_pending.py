"""The villager's pending question is a typed ``Pending`` (one dataclass per kind), stored as the
same JSON as before: the typed objects stop at bot/core/users.py."""
from __future__ import annotations

import dataclasses
import json

import pytest

from bot.core import users
from bot.core.store import connect

OPENID = "oPendingTyped0001"
NOW = 1_900_000_000.0


def fresh_db(tmp_path):
    return connect(tmp_path / "pending.db")


def test_a_pending_question_reads_back_as_the_typed_data_and_expiry_written(tmp_path):
    db = fresh_db(tmp_path)
    offered = users.ChoicesOffered(("a", "b"), question="彩礼", message_id=12, category="婚姻家庭")
    users.set_pending(db, OPENID, offered, ttl=600, now=NOW)
    pending = users.get_pending(db, OPENID, NOW + 1)
    assert pending == users.Pending(offered, NOW + 600)
    assert pending.kind == "clarify" and pending.data.faq_ids == ("a", "b")


def test_a_pending_question_of_another_kind_or_past_its_expiry_is_not_pending(tmp_path):
    db = fresh_db(tmp_path)
    users.set_pending(db, OPENID, users.PersonOffered("土地"), ttl=600, now=NOW)
    assert users.get_pending(db, OPENID, NOW + 600, kind="offer") is not None
    assert users.get_pending(db, OPENID, NOW + 1, kind="clarify") is None
    assert users.get_pending(db, OPENID, NOW + 601) is None


def test_a_row_written_by_the_dict_version_reads_back_typed(tmp_path):
    """The stored shape did not change: rows written before the dataclasses still load."""
    db = fresh_db(tmp_path)
    stored = json.dumps({"kind": "more", "data": {"ticket_id": 7, "asked": True}, "expires": NOW + 60})
    users.update_user(db, OPENID, NOW, pending=stored)
    pending = users.get_pending(db, OPENID, NOW, kind="more")
    assert (pending.kind, pending.data, pending.expires) == ("more", users.MoreExpected(7, True), NOW + 60)
    assert json.loads(pending.as_json()) == json.loads(stored)


@pytest.mark.parametrize("waiting", [
    users.ChoicesOffered(("land.homestead",)), users.PersonOffered("邻居占地", 3, "土地"),
    users.VillageAsked(None), users.VillageAsked(5), users.StoryAsked(6), users.MoreExpected(7),
    users.MediationVillageAsked(), users.MediationContactAsked(8),
])
def test_every_kind_survives_the_store(tmp_path, waiting):
    db = fresh_db(tmp_path)
    users.set_pending(db, OPENID, waiting, ttl=60, now=NOW)
    assert users.get_pending(db, OPENID, NOW, kind=waiting.KIND).data == waiting


@pytest.mark.parametrize("waiting", [
    users.ChoicesOffered(("a", "b"), "彩礼", 12, "婚姻家庭"), users.PersonOffered("邻居占地", 3, "土地"),
    users.VillageAsked(5), users.StoryAsked(6), users.MoreExpected(7, True),
    users.MediationVillageAsked(), users.MediationContactAsked(8),
])
def test_every_kind_is_stored_as_the_fields_asdict_gives(waiting):
    stored = json.loads(users.Pending(waiting, NOW).as_json())
    assert stored == json.loads(json.dumps({"kind": waiting.KIND, "data": dataclasses.asdict(waiting),
                                            "expires": NOW}))


@pytest.mark.parametrize("stored", [
    {"kind": "lottery", "data": {}, "expires": NOW + 60},                       # a kind since removed
    {"kind": "more", "data": {"ticket": 7}, "expires": NOW + 60},               # a field renamed since
    "{not json",
])
def test_a_pending_row_this_version_cannot_read_is_nothing_pending_not_an_error(tmp_path, stored):
    db = fresh_db(tmp_path)
    users.update_user(db, OPENID, NOW, pending=stored if isinstance(stored, str) else json.dumps(stored))
    assert users.get_pending(db, OPENID, NOW) is None
