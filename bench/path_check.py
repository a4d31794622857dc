#!/usr/bin/env python3
"""The request path's behaviour as one fingerprint: replies and stored rows for a fixed batch.

A speed change to the request path must not change what a villager is sent or what is stored.
This sends a fixed batch through the app `make bench` serves (the Flask test client, production
settings, a fresh SQLite file, the clock stepped one second a message so that the run repeats
exactly): the bench's questions from returning and new villagers, and conversations that take
the other paths — numbered choices, 更多, the village asked and answered, 转人工 and its story,
调解, 查法条, menu taps, subscribe, voice and images, WeChat's retries of one MsgId, a replayed
query string. It prints a digest of every reply and every row of the tables the path writes
(``--dump FILE`` writes them as JSON to compare line by line). Run it from two trees; the
digests must be equal.

    .venv/bin/python bench/path_check.py [--messages 1200] [--dump /tmp/after.json]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import bench_questions, bot_env, signed_query  # noqa: E402

START = 1_796_000_000.0       # 2026-11-30 (UTC), a fixed clock
TABLES = ("messages", "consultations", "users", "tickets", "ticket_events", "mediation_offers",
          "mediation_cases", "mediation_events", "outbox", "request_nonces")
CONVERSATIONS = [
    ["借钱不还怎么办", "1", "更多", "大年村"],
    ["离婚孩子归谁", "2", "都不是"],
    ["转人工", "我家的地被邻居占了三年了，村里不管", "古坡村", "补充 他家还砍了我的树"],
    ["邻居家的牛把我的庄稼吃了他不赔", "调解", "13800001111 对方叫张三"],
    ["查法条 民法典1079", "查法条 民法典", "查法条 借钱不还"],
    ["我的咨询", "改村", "3", "普法"],
    ["他拿刀要砍我", "你好", "谢谢", "12", "取消"],
    ["老板拖欠工资三个月了", "更多", "更多", "我是石门村的"],
]
EVENTS = [("subscribe", ""), ("CLICK", "TOPIC_DEBT"), ("CLICK", "HUMAN"), ("CLICK", "HELP"),
          ("CLICK", "PUBLICITY"), ("CLICK", "EMERGENCY"), ("unsubscribe", ""), ("VIEW", "x")]


class Clock:
    """``time.time`` for the run: one second further at each message."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def text_body(openid: str, text: str, msg_id: int, now: int) -> bytes:
    return (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>").encode()


def other_body(openid: str, msg_type: str, extra: str, now: int) -> bytes:
    return (f"<xml><ToUserName>gh_bench</ToUserName><FromUserName>{openid}</FromUserName>"
            f"<CreateTime>{now}</CreateTime><MsgType>{msg_type}</MsgType>{extra}</xml>").encode()


def batch(count: int, questions: list[str]) -> list[bytes | tuple[str, bytes]]:
    """The messages in order; a tuple is a retry or a replay (same query string as the last)."""
    out: list = []
    msg_id, now = 5_000_000, int(START)
    for n in range(count):
        msg_id += 1
        out.append(text_body(f"oBench01{n % 300:06d}", questions[n % len(questions)], msg_id, now))
        if n % 97 == 0:
            out.append(("retry", out[-1]))
    for c, lines in enumerate(CONVERSATIONS):
        for line in lines:
            msg_id += 1
            out.append(text_body(f"oTalk{c:03d}", line, msg_id, now))
    for e, (event, key) in enumerate(EVENTS):
        out.append(other_body(f"oEvent{e % 3:03d}", "event", f"<Event>{event}</Event><EventKey>{key}</EventKey>",
                              now + e))
    out.append(other_body("oMedia001", "voice", "<MediaId>m1</MediaId><Format>amr</Format>"
                          "<Recognition>我家的狗把人咬了要赔多少</Recognition><MsgId>7000001</MsgId>", now))
    out.append(other_body("oMedia001", "voice", "<MediaId>m2</MediaId><Format>amr</Format><MsgId>7000002</MsgId>", now))
    out.append(other_body("oMedia001", "image", "<PicUrl>http://x/y</PicUrl><MediaId>m3</MediaId><MsgId>7000003</MsgId>", now))
    out.append(("replay", text_body("oMedia001", "换一条内容", 7000004, now)))
    return out


def send(client, clock: Clock, messages: list) -> list[dict]:
    """Each reply's status line, headers and body (a retry resends the last body with a fresh signature; a
    replay sends another body under the last query string)."""
    replies, query = [], ""
    for number, item in enumerate(messages):
        kind, body = item if isinstance(item, tuple) else ("new", item)
        clock.now += 1.0
        if kind != "replay":
            query = signed_query(int(clock.now), f"check{number:x}")
        response = client.post(f"/wechat?{query}", data=body, content_type="text/xml")
        replies.append({"kind": kind, "status": response.status, "headers": list(response.headers.items()),
                        "body": response.get_data(as_text=True)})
    return replies


def table_rows(db_path: Path) -> dict[str, list]:
    """Every row of the tables the request path writes, ``latency_ms`` left out (wall time)."""
    import sqlite3
    conn = sqlite3.connect(db_path)
    out = {}
    for table in TABLES:
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        names = [c[0] for c in cursor.description]
        out[table] = [{k: v for k, v in zip(names, row) if k not in ("latency_ms", "claimed_by")}
                      for row in cursor.fetchall()]
    conn.close()
    return out


def run(count: int) -> dict:
    clock = Clock()
    real_time = time.time
    time.time = clock
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.update(bot_env(Path(tmp)))
            from bot import create_app
            client = create_app().test_client()
            replies = send(client, clock, batch(count, bench_questions()))
            return {"replies": replies, "rows": table_rows(Path(tmp) / "bench.db")}
    finally:
        time.time = real_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1200, help="bench questions before the conversations")
    parser.add_argument("--dump", help="write the replies and rows as JSON here")
    args = parser.parse_args()
    result = run(args.messages)
    text = json.dumps(result, ensure_ascii=False, indent=0, sort_keys=True)
    if args.dump:
        Path(args.dump).write_text(text, encoding="utf-8")
    counts = {table: len(rows) for table, rows in result["rows"].items()}
    print(f"{len(result['replies'])} requests, rows {counts}")
    print(f"digest {hashlib.sha256(text.encode()).hexdigest()}")


if __name__ == "__main__":
    main()
