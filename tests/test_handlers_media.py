"""Pictures, videos, locations, links and files get a kind request to write the question down."""
from __future__ import annotations

from pathlib import Path

import pytest
from tests.webhook_support import app, warm_services  # noqa: F401 - fixtures

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"


@pytest.mark.parametrize("name, kind", [
    ("msg_image.xml", "图片"), ("msg_video.xml", "视频"), ("msg_shortvideo.xml", "小视频"),
    ("msg_location.xml", "位置"), ("msg_link.xml", "链接"), ("msg_file.xml", "文件"),
])
def test_media_gets_a_kind_reply_asking_for_words(wechat, db, name, kind):
    response = wechat.post((FIXTURES / name).read_text(encoding="utf-8"))
    text = wechat.reply_text(response)
    assert kind in text and "文字" in text and "转人工" in text
    assert next(db.query("SELECT handler FROM messages"))["handler"] == "media"


def test_image_media_id_is_recorded(wechat, db):
    wechat.post((FIXTURES / "msg_image.xml").read_text(encoding="utf-8"))
    assert next(db.query("SELECT media_id FROM messages"))["media_id"] == "media_id"
