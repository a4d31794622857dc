"""A fake WeChat API server on 127.0.0.1 (random port): the only thing the tests fake.

It records every call and can be told to answer the next calls to a path with WeChat's errors
(45015 out of window, 40001 bad token, 45047 quota), to stall past the client's timeout, or to
be down altogether. Tokens behave like ``cgi-bin/stable_token``: the same token while valid,
a new one on ``force_refresh``; a call with any other token gets 40001.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

ERRMSG = {40001: "invalid credential, access_token is invalid or not latest",
          45015: "response out of time limit or subscription is canceled",
          45047: "out of response count limit", 40003: "invalid openid",
          45065: "clientmsgid exist"}
# serve_forever checks for shutdown() between polls; socketserver's default of 0.5 s made every
# test that stops a server wait up to half a second for nothing.
POLL_SECONDS = 0.02


@dataclass
class Call:
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)


class FakeWeChat:
    """Start with ``FakeWeChat().start()``; ``.base`` is the URL to put in WECHAT_API_BASE."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.token_serial = 0
        self.token = ""
        self.scripted: dict[str, list[Any]] = {}
        self.media: dict[str, bytes] = {}      # temporary media (a villager's voice) by MediaId
        self.mass_jobs: dict[str, int] = {}    # 群发 by clientmsgid → msg_id
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread: threading.Thread | None = None

    # -- control --------------------------------------------------------------------------
    def start(self) -> "FakeWeChat":
        self.thread = threading.Thread(target=self.server.serve_forever, args=(POLL_SECONDS,),
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Shut down: later calls find nothing listening (connection refused), like a dead host."""
        self.server.shutdown()
        self.server.server_close()

    def fail(self, path_end: str, errcode: int, times: int = 1) -> None:
        """The next ``times`` calls whose path ends with ``path_end`` answer ``errcode``."""
        self.scripted.setdefault(path_end, []).extend([errcode] * times)

    def stall(self, path_end: str, seconds: float, times: int = 1) -> None:
        """The next calls to ``path_end`` wait ``seconds`` before answering (past a timeout)."""
        self.scripted.setdefault(path_end, []).extend([("stall", seconds)] * times)

    def rotate_token(self) -> None:
        """Another party forced a refresh: the token everyone holds is now invalid."""
        with self.lock:
            self.token_serial += 1
            self.token = f"TOKEN-{self.token_serial}"

    def sent(self, path_end: str = "/message/custom/send") -> list[Call]:
        """Calls to ``path_end`` that WeChat accepted."""
        return [c for c in self.calls if c.path.endswith(path_end) and c.answer.get("errcode") == 0]

    def texts_to(self, openid: str) -> list[str]:
        return [c.body["text"]["content"] for c in self.sent()
                if c.body.get("touser") == openid and c.body.get("msgtype") == "text"]

    def voices_to(self, openid: str) -> list[str]:
        """MediaIds of voice messages sent to ``openid`` by customer-service message."""
        return [c.body["voice"]["media_id"] for c in self.sent()
                if c.body.get("touser") == openid and c.body.get("msgtype") == "voice"]

    # -- serving --------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        script = self._next_script(path)
        if isinstance(script, tuple) and "/message/mass/" in path:
            done = self.answer(path, query, body)    # a 群发 is taken, only its answer comes late
            time.sleep(script[1])
            return done
        if isinstance(script, tuple):
            time.sleep(script[1])
        elif script is not None:
            return {"errcode": script, "errmsg": ERRMSG.get(script, "error")}
        if path.endswith("/cgi-bin/stable_token"):
            return self._stable_token(body)
        if query.get("access_token") != self.token or not self.token:
            return {"errcode": 40001, "errmsg": ERRMSG[40001]}
        if "/message/mass/" in path:
            return self._mass(path, body)
        return {"errcode": 0, "errmsg": "ok", **({"msgid": len(self.calls)}
                                                 if "template" in path else {})}

    def _mass(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """群发: a sendall whose clientmsgid was already used is refused with 45065 and the first
        job's msg_id, as WeChat does for 24 hours; a preview just succeeds."""
        with self.lock:
            if path.endswith("/sendall") and body.get("clientmsgid") in self.mass_jobs:
                return {"errcode": 45065, "errmsg": ERRMSG[45065], "msg_id": self.mass_jobs[body["clientmsgid"]]}
            msg_id = 1000000 + len(self.calls)
            if path.endswith("/sendall"):
                self.mass_jobs[body.get("clientmsgid") or f"digest-{len(self.calls)}"] = msg_id
        return {"errcode": 0, "errmsg": "ok", "msg_id": msg_id, **({"msg_data_id": msg_id}
                                                                  if path.endswith("/sendall") else {})}

    def _next_script(self, path: str) -> Any:
        with self.lock:
            for end, queue in self.scripted.items():
                if path.endswith(end) and queue:
                    return queue.pop(0)
        return None

    def _stable_token(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("grant_type") != "client_credential" or not body.get("appid"):
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if body.get("force_refresh") or not self.token:
            self.rotate_token()
        return {"access_token": self.token, "expires_in": 7200}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw.decode("utf-8")) if raw else {}
                call = Call(url.path, query, body)
                with fake.lock:
                    fake.calls.append(call)
                call.answer = fake.answer(url.path, query, body)
                data = json.dumps(call.answer, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout)

            def do_GET(self):  # noqa: N802 - only cgi-bin/media/get: a file, or a JSON error
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                call = Call(url.path, query, {})
                with fake.lock:
                    fake.calls.append(call)
                media = fake.media.get(query.get("media_id", ""))
                valid = query.get("access_token") == fake.token and fake.token
                if url.path.endswith("/cgi-bin/media/get") and media is not None and valid:
                    call.answer = {"errcode": 0}
                    self._send(200, "audio/amr", media)
                    return
                call.answer = ({"errcode": 40001, "errmsg": ERRMSG[40001]} if not valid else
                               {"errcode": 40007, "errmsg": "invalid media_id"})
                self._send(200, "application/json", json.dumps(call.answer).encode())

            def _send(self, status: int, kind: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler
