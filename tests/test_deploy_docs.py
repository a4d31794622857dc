"""docs/deploy.md's web unit, run as written (issue 14, items 4, 11 and 13).

The ExecStart line of `legalbot-web.service` is taken from the document, pointed at this
checkout's virtualenv and a free port, and run with a throwaway HOME. Then: gunicorn writes no
control socket into HOME (13: the unit and `legalbot serve` agree), its access log holds paths
without query strings (4: /wechat's carry signature, timestamp and nonce), and two clients
uploading byte by byte do not hold both sync workers (11).
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench.run import free_port
from tests.support import WeChatSender, text_xml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "deploy.md"
TOKEN = "DeployDocsToken7"


def exec_start(unit: str) -> list[str]:
    """The unit's ExecStart command, with its backslash continuations joined."""
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(rf"# /etc/systemd/system/{re.escape(unit)}\n(.*?)```", text, re.S).group(1)
    line = re.search(r"^ExecStart=((?:.*\\\n)*.*)$", block, re.M).group(1)
    return shlex.split(line.replace("\\\n", " "))


def localised(command: list[str], port: int) -> list[str]:
    """Point the documented paths at this checkout and the port at a free one."""
    venv_bin = str(Path(sys.executable).parent) + "/"
    out = [part.replace("/srv/legalbot/app/.venv/bin/", venv_bin) for part in command]
    return [part.replace("8000", str(port)) for part in out]


class HttpClient:
    """Enough of Flask's test client for WeChatSender, over real HTTP."""

    def __init__(self, port: int):
        self.port = port

    def post(self, path, query_string=None, data=b"", content_type="text/xml"):
        import requests
        response = requests.post(f"http://127.0.0.1:{self.port}{path}", params=query_string,
                                 data=data, headers={"Content-Type": content_type}, timeout=12)
        return Response(response)


class Response:
    def __init__(self, response):
        self.status_code, self._text = response.status_code, response.text

    def get_data(self, as_text=False):
        return self._text if as_text else self._text.encode()


@pytest.fixture(scope="module")
def unit(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unit")
    home = tmp / "home"
    home.mkdir()
    config = (ROOT / "config.toml").read_text(encoding="utf-8").replace("worker_thread = true",
                                                                        "worker_thread = false")
    (tmp / "config.toml").write_text(config, encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "LEGALBOT_"))}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), WECHAT_TOKEN=TOKEN, LEGALBOT_ENV="production",
               LEGALBOT_SECRET_KEY="k" * 40, LEGALBOT_DB=str(tmp / "unit.db"),
               LEGALBOT_CONFIG=str(tmp / "config.toml"))
    log = tmp / "unit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(localised(exec_start("legalbot-web.service"), port), cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_up(port, proc, log)
        yield {"port": port, "home": home, "log": log, "proc": proc}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_up(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the documented unit did not start")


def sender(port: int) -> WeChatSender:
    return WeChatSender(HttpClient(port), token=TOKEN)


def test_the_documented_unit_writes_no_control_socket(unit):
    assert sender(unit["port"]).reply_text(sender(unit["port"]).post(text_xml("你好", openid="oUnit1")))
    # gunicorn 27's Arbiter.run opens its control socket right after it forks the workers, before
    # either has imported the app, so it would be there by the time a worker answers; a second's
    # margin for a starved master (it was 3 s: the wait was a fixed cost of every run).
    time.sleep(1)
    assert not (unit["home"] / ".gunicorn").exists(), list((unit["home"] / ".gunicorn").iterdir())


def test_the_access_log_keeps_no_query_string(unit):
    wechat = sender(unit["port"])
    query = wechat.query()
    logged_before = len(wechat_lines(unit["log"]))
    assert wechat.post(text_xml("借钱不还怎么办", openid="oUnit2"), **query).status_code == 200
    deadline = time.monotonic() + 10                 # the worker writes its line after replying
    while len(lines := wechat_lines(unit["log"])) == logged_before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(lines) > logged_before, unit["log"].read_text(errors="replace")[-2000:]
    assert not [line for line in lines if "signature" in line or query["nonce"] in line], lines


def wechat_lines(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if "/wechat" in line]


def trickle(port: int, results: list, stop: threading.Event) -> None:
    """A POST whose body arrives a byte every quarter second."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        conn.sendall(b"POST /wechat?timestamp=1&nonce=1&signature=x HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: text/xml\r\nContent-Length: 400\r\n\r\n")
        while not stop.is_set():
            conn.sendall(b"<")
            time.sleep(0.25)
            conn.setblocking(False)
            try:
                answer = conn.recv(200)
            except BlockingIOError:
                answer = None
            finally:
                conn.setblocking(True)
            if answer is not None:
                results.append(answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed")
                return
    except OSError:
        results.append("closed")
    finally:
        conn.close()


def test_two_slow_uploads_do_not_hold_both_workers(unit):
    results, stop = [], threading.Event()
    slow = [threading.Thread(target=trickle, args=(unit["port"], results, stop), daemon=True) for _ in range(2)]
    for t in slow:
        t.start()
    time.sleep(1.0)                    # both sync workers are now reading a body byte by byte
    started = time.monotonic()
    try:
        wechat = sender(unit["port"])
        reply = wechat.reply_text(wechat.post(text_xml("宅基地被占了", openid="oUnit3")))
    finally:
        waited = time.monotonic() - started
        stop.set()
        for t in slow:
            t.join(10)
    assert reply and waited < 10, f"a plain message waited {waited:.1f}s behind two slow uploads"
    assert results and all(" 408 " in r or r == "closed" for r in results), results


def test_the_unit_and_legalbot_serve_are_the_same_command():
    command = exec_start("legalbot-web.service")
    assert Path(command[0]).name == "legalbot" and command[1] == "serve"
    from bot.cli.ops import gunicorn_options
    options = gunicorn_options("127.0.0.1", 8000, 2)
    assert options["control_socket_disable"] is True
    assert "%(r)s" not in options["access_log_format"] and "%(q)s" not in options["access_log_format"]
    assert "%(U)s" in options["access_log_format"]
