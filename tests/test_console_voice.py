"""An adviser listens to a villager's voice question from the console (fetched from WeChat)."""
from __future__ import annotations

import time

import pytest

from bot.core.config import load_config
from bot.app.console.auth import add_user
from tests.conftest import test_overrides as overrides
from tests.test_console import PASSWORD, login

AMR = b"#!AMR\n" + bytes(range(64))


@pytest.fixture
def config(tmp_path, fake_wechat):
    return load_config(overrides=overrides(tmp_path, wechat={"api_base": fake_wechat.base}), environ={})


@pytest.fixture
def voice_ticket(db, app):
    services = app.extensions["legalbot"]
    from bot.escalation import advisers
    advisers.ensure_advisers(db, services.config, time.time())
    qin = advisers.adviser_by_name(db, "覃律师")
    add_user(db, "qin", PASSWORD, "adviser", time.time(), adviser_name="覃律师")   # 古坡村
    add_user(db, "wei", PASSWORD, "adviser", time.time(), adviser_name="韦律师")   # 大年村
    return db["tickets"].insert({"openid": "oVoice", "village": "古坡村", "adviser_id": qin.id,
                                 "media_id": "MEDIA-VOICE", "status": "notified",
                                 "created_at": time.time()}).last_pk


def test_the_adviser_downloads_the_voice_from_wechat(client, voice_ticket, fake_wechat):
    fake_wechat.media["MEDIA-VOICE"] = AMR
    login(client, "qin")
    page = client.get(f"/console/tickets/{voice_ticket}").get_data(as_text=True)
    assert "下载语音" in page
    response = client.get(f"/console/tickets/{voice_ticket}/voice")
    assert response.status_code == 200
    assert response.data == AMR
    assert response.mimetype == "audio/amr"


def test_an_expired_voice_is_explained(client, voice_ticket, fake_wechat):
    login(client, "qin")
    response = client.get(f"/console/tickets/{voice_ticket}/voice")
    assert response.status_code == 502
    assert "只保存3天" in response.get_data(as_text=True)


def test_another_villages_adviser_cannot_fetch_the_voice(client, voice_ticket, fake_wechat):
    fake_wechat.media["MEDIA-VOICE"] = AMR
    login(client, "wei")
    assert client.get(f"/console/tickets/{voice_ticket}/voice").status_code == 403
    assert not [c for c in fake_wechat.calls if c.path.endswith("/media/get")]
