"""`legalbot serve --port P` with the four WECHAT_* variables, driven over real HTTP by a client
that signs and encrypts with wechatpy itself (gunicorn, two workers, one SQLite file).

A real account's secrets run only in production (development refuses them), and with the AES
key set only safe-mode requests are answered."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from bench.run import free_port
from bot.core.store import connect

from tests.support import (VECTOR_AES_KEY, VECTOR_APPID, VECTOR_TOKEN, WeChatSender, event_xml,
                           text_xml)

pytestmark = pytest.mark.slow
LEGALBOT = Path(sys.executable).with_name("legalbot")


class HttpResponse:
    """Just enough of a Flask test response for WeChatSender."""

    def __init__(self, response: requests.Response):
        self.status_code, self._response = response.status_code, response

    def get_data(self, as_text: bool = False):
        return self._response.text if as_text else self._response.content


class HttpClient:
    """A test-client-shaped wrapper over requests, pointed at the running server."""

    def __init__(self, base: str):
        self.base = base

    def post(self, path, query_string=None, data=b"", content_type="text/xml"):
        return HttpResponse(requests.post(self.base + path, params=query_string, data=data,
                                          headers={"Content-Type": content_type}, timeout=15))

    def get(self, path, query_string=None):
        return HttpResponse(requests.get(self.base + path, params=query_string, timeout=15))


def wait_until_up(base: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"legalbot serve exited: {process.stdout.read()}")
        try:
            requests.get(base + "/wechat", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError("legalbot serve did not start")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port, tmp = free_port(), tmp_path_factory.mktemp("serve")
    env = {**os.environ, "WECHAT_TOKEN": VECTOR_TOKEN, "WECHAT_APPID": VECTOR_APPID,
           "WECHAT_APPSECRET": "test-secret", "WECHAT_AES_KEY": VECTOR_AES_KEY,
           "WECHAT_API_BASE": "http://127.0.0.1:9", "LEGALBOT_DB": str(tmp / "serve.db"),
           "LEGALBOT_ENV": "production", "LEGALBOT_SECRET_KEY": "s" * 40}
    process = subprocess.Popen([str(LEGALBOT), "serve", "--port", str(port), "--workers", "2"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield {"base": base, "db": tmp / "serve.db"}
    finally:
        process.terminate()
        process.wait(15)


@pytest.fixture
def sender(server):
    return WeChatSender(HttpClient(server["base"]), mode="safe")


def test_served_url_check_echoes(sender):
    response = sender.client.get("/wechat", query_string={**sender.query(), "echostr": "ok-123"})
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok-123")


def test_served_safe_mode_message_gets_an_encrypted_reply(sender):
    response = sender.post(text_xml("借钱不还怎么办", openid="oServe1"))
    body = ET.fromstring(response.get_data(as_text=True))
    assert response.status_code == 200 and body.findtext("Encrypt")
    reply = ET.fromstring(sender.reply_xml(response))
    assert reply.findtext("ToUserName") == "oServe1" and reply.findtext("Content")


def test_served_compatible_mode_is_answered_and_plaintext_refused(sender):
    sender.mode = "compatible"
    assert sender.reply_text(sender.post(event_xml("subscribe", openid="oServecompatible")))
    sender.mode = "plain"
    assert sender.post(event_xml("subscribe", openid="oServeplain")).status_code == 403


def test_development_with_these_secrets_refuses_to_serve(tmp_path):
    env = {**os.environ, "WECHAT_TOKEN": VECTOR_TOKEN, "LEGALBOT_DB": str(tmp_path / "dev.db"),
           "LEGALBOT_ENV": "development"}
    result = subprocess.run([str(LEGALBOT), "serve", "--port", str(free_port())], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "LEGALBOT_ENV" in result.stderr


def test_served_concurrent_retries_get_one_reply_and_one_record(sender, server):
    xml = text_xml("宅基地被邻居占了怎么办", openid="oServe2", msg_id=555000111)
    with ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(lambda _: sender.reply_xml(sender.post(xml)), range(4)))
    assert len(set(texts)) == 1 and ET.fromstring(texts[0]).findtext("Content")
    db = connect(server["db"])
    assert db.execute("SELECT COUNT(*) FROM messages WHERE dedupe_key = 'msg:oServe2:555000111'").fetchone()[0] == 1
    db.conn.close()


def test_served_refusals(sender):
    sender.mode = "plain"
    assert sender.post(text_xml("你好"), signature="0" * 40).status_code == 403
    assert sender.post(text_xml("法" * 30000)).status_code == 413
    wrong_key = WeChatSender(sender.client, mode="safe", aes_key="B" * 43)
    assert wrong_key.post(text_xml("你好")).status_code == 403
    garbage = {**sender.query(), "encrypt_type": "aes", "msg_signature": "0" * 40}
    assert sender.client.post("/wechat", query_string=garbage, data=b"hello").status_code == 400
