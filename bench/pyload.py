"""The load generator `make bench` falls back to when wrk is not installed.

It sends what bench/load.lua makes wrk send — signed text messages, each with its own MsgId and
signed query string, questions taken in turn, 5,000 openids per thread — on keep-alive
connections, and returns the figures ``bench.run.parse_wrk`` reads from wrk: requests, req/s,
p50/p90/p99 latency, non-2xx responses. Two processes (wrk's two threads), each with half the
connections as threads.

It is slower than wrk and shares the machine's cores with the server, so on a small machine the
absolute req/s come out lower than wrk's; the bot/bare ratio, measured with the same generator
on both, stays comparable. `make bench` says which generator it used.
"""
from __future__ import annotations

import http.client
import multiprocessing
import threading
import time

PROCESSES = 2


def message(tid: int, counter: int, question: str) -> bytes:
    """The body load.lua builds for request ``counter`` of thread ``tid``."""
    return (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<FromUserName><![CDATA[oBench{tid:02d}{counter % 5000:06d}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{question}]]></Content><MsgId>{tid * 1_000_000_000 + counter}</MsgId>"
            f"</xml>").encode()


def connection_loop(port: int, deadline: float, next_request, out: list) -> None:
    """One keep-alive connection sending until the deadline; (latency s, status) into ``out``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < deadline:
        path, body = next_request()
        started = time.monotonic()
        try:
            conn.request("POST", path, body, {"Content-Type": "text/xml"})
            response = conn.getresponse()
            response.read()
            out.append((time.monotonic() - started, response.status))
        except (OSError, http.client.HTTPException):
            out.append((time.monotonic() - started, 0))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def process_load(tid: int, port: int, seconds: float, threads: int, questions: list[str],
                 results) -> None:
    """One process (as one wrk thread): ``threads`` connections sharing a request counter."""
    from bench.run import signed_query
    lock, counter, out = threading.Lock(), [0], []

    def next_request() -> tuple[str, bytes]:
        with lock:
            counter[0] += 1
            n = counter[0]
        return f"/wechat?{signed_query()}", message(tid, n, questions[n % len(questions)])

    deadline = time.monotonic() + seconds
    workers = [threading.Thread(target=connection_loop, args=(port, deadline, next_request, out))
               for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(out)


def run_python_load(port: int, seconds: int, connections: int, questions: list[str]) -> dict:
    """wrk's figures for ``connections`` connections over ``seconds`` seconds."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    share = [connections // PROCESSES + (i < connections % PROCESSES) for i in range(PROCESSES)]
    procs = [context.Process(target=process_load, args=(tid, port, seconds, n, questions, results))
             for tid, n in enumerate(share, start=1) if n]
    for proc in procs:
        proc.start()
    samples = [s for _ in procs for s in results.get()]
    for proc in procs:
        proc.join()
    return figures(samples, seconds)


def figures(samples: list[tuple[float, int]], seconds: float) -> dict:
    latencies = sorted(latency * 1000 for latency, _ in samples)

    def pct(p: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2) if latencies else None
    return {"requests": len(samples), "rps": round(len(samples) / seconds, 2),
            "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
            "non_2xx": sum(1 for _, status in samples if not 200 <= status < 400)}
