#!/usr/bin/env python3
"""`make bench`: the bot under load, beside the Flask + wechatpy ceiling, in one run.

Prints figures and ratios (the machine is shared and noisy: read the ratios). The bot and the
bare endpoint are measured in alternating rounds (three by default); the round with the median
ratio is reported in full, with every round's ratio:
  * gunicorn (2 workers) serving the real bot, driven by wrk with signed text messages, each
    with its own MsgId, at 16 connections for 20 s: consultations recorded per second, p99;
  * the same load against a bare endpoint that only checks, parses and echoes;
  * start-up to first reply; memory per worker after the load;
  * the matcher alone (bench/matcher_bench.py): median per question, shipped KB and 10x.

The load comes from wrk (Debian: apt-get install wrk; `make bench` installs it when run as root)
or, without it, from bench/pyload.py, which sends the same requests and reports the same figures
(lower absolute req/s: it shares the cores with the server). BENCH_LOAD=wrk|python picks one; the
output names the one used. Only 127.0.0.1 is ever contacted.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "benchtoken"
EXTRA = ["你好", "谢谢", "借钱不还怎么办", "离婚孩子归谁", "宅基地怎么申请", "老板拖欠工资",
         "被狗咬了谁赔", "彩礼能要回来吗", "邻居不让过路", "股票怎么买"]


def bench_questions() -> list[str]:
    """Hundreds of distinct questions (three phrasings of every FAQ entry, some small talk), so
    the load is not ten questions repeated and no per-process cache can flatter the figures."""
    sys.path.insert(0, str(ROOT))
    from bot.core.config import load_config
    from bot.kb.knowledge import load_knowledge
    kb = load_knowledge(load_config(environ={}))
    return [q for entry in kb.entries for q in entry.questions[:3]] + EXTRA


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_query(timestamp: int | None = None, nonce: str | None = None) -> str:
    """A signed query string with a fresh nonce: the bot takes a (timestamp, nonce) for one
    message body only (bot/core/replay.py), as WeChat signs every request afresh."""
    timestamp = str(timestamp or int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return urllib.parse.urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce})


def write_queries(path: Path, count: int) -> Path:
    """``count`` signed query strings, one a line, for wrk's requests to take in turn."""
    timestamp, prefix = int(time.time()), secrets.token_hex(4)
    path.write_text("\n".join(signed_query(timestamp, f"{prefix}{i:x}") for i in range(count)) + "\n")
    return path


def probe_body(msg_id: int) -> bytes:
    return (f"<xml><ToUserName>gh_bench</ToUserName><FromUserName>oProbe</FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
            f"<Content>你好</Content><MsgId>{msg_id}</MsgId></xml>").encode()


def first_reply(port: int, deadline: float) -> float | None:
    """Poll until the server answers a signed message; return when it did."""
    msg_id = 1
    while time.time() < deadline:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/wechat?{signed_query()}",
                                         data=probe_body(msg_id), headers={"Content-Type": "text/xml"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                if resp.status == 200 and b"<xml>" in resp.read():
                    return time.time()
        except OSError:
            pass
        msg_id += 1
        time.sleep(0.05)
    return None


def start_server(app_spec: str, port: int, env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    started = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--preload", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--no-control-socket", app_spec],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ready = first_reply(port, started + 60)
    if ready is None:
        proc.kill()
        raise SystemExit(f"{app_spec} did not answer: {proc.stderr.read().decode()[-2000:]}")
    return proc, ready - started


def worker_pids(master_pid: int) -> list[int]:
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.M):
            pids.append(int(status.parent.name))
    return pids


def worker_memory_mb(master_pid: int) -> dict[str, list[float]]:
    """RSS and PSS of each worker: PSS shares the preloaded pages (jieba, pypinyin) fairly."""
    out: dict[str, list[float]] = {"rss": [], "pss": []}
    for pid in worker_pids(master_pid):
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for key in ("rss", "pss"):
            kb = int(re.search(rf"^{key.capitalize()}:\s+(\d+)", text, re.M).group(1))
            out[key].append(round(kb / 1024, 1))
    return out


def run_wrk(port: int, seconds: int, connections: int) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/wechat"
    with tempfile.TemporaryDirectory() as tmp:
        queries = write_queries(Path(tmp) / "queries.txt", seconds * 8000)   # > any rate seen
        env = {**os.environ, "BENCH_QUESTIONS": "|".join(bench_questions()),
               "BENCH_QUERIES": str(queries), "BENCH_THREADS": "2"}
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                              "-s", str(ROOT / "bench" / "load.lua"), url],
                             capture_output=True, text=True, env=env, check=True).stdout
    return parse_wrk(out)


def load_generator() -> str:
    """wrk when installed (or BENCH_LOAD says which), else the Python fallback."""
    return os.environ.get("BENCH_LOAD") or ("wrk" if shutil.which("wrk") else "python")


def run_load(port: int, seconds: int, connections: int) -> dict[str, float]:
    if load_generator() == "wrk":
        return run_wrk(port, seconds, connections)
    questions = bench_questions()          # also puts the project on sys.path
    from bench.pyload import run_python_load
    return run_python_load(port, seconds, connections, questions)


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    pct = {p: to_ms(v, u) for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": total, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": pct.get("50"), "p90_ms": pct.get("90"), "p99_ms": pct.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0}


def bot_env(workdir: Path) -> dict[str, str]:
    config = (ROOT / "config.toml").read_text(encoding="utf-8")
    config = config.replace("worker_thread = true", "worker_thread = false")
    (workdir / "config.toml").write_text(config, encoding="utf-8")
    return {"WECHAT_TOKEN": TOKEN, "LEGALBOT_DB": str(workdir / "bench.db"),     # a token is set:
            "LEGALBOT_CONFIG": str(workdir / "config.toml"), "LEGALBOT_ENV": "production"}  # production


def count_consultations(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT count(*) FROM consultations WHERE openid LIKE 'oBench%'").fetchone()[0]


def measure(app_spec: str, env: dict[str, str], seconds: int, connections: int) -> dict:
    port = free_port()
    proc, startup = start_server(app_spec, port, env)
    try:
        load = run_load(port, seconds, connections)
        memory = worker_memory_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {**load, "startup_s": round(startup, 2), "worker_rss_mb": memory["rss"],
            "worker_pss_mb": memory["pss"]}


def matcher_figures() -> dict:
    sys.path.insert(0, str(ROOT))
    try:
        from bench.matcher_bench import run
    except ImportError as exc:
        return {"error": f"matcher bench unavailable: {exc}"}
    return run()


def measure_round(seconds: int, connections: int) -> dict:
    """The bot, then the bare endpoint, each on a fresh server (and the bot on a fresh database)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = bot_env(Path(tmp))
        bot = measure("bot:create_app()", env, seconds, connections)
        bot["consultations_per_s"] = round(count_consultations(Path(env["LEGALBOT_DB"])) / seconds, 1)
    bare = measure("bench.bare_app:create_app()", {}, seconds, connections)
    return {"bot": bot, "bare": bare, "ratio_bot_to_bare": round(bot["rps"] / bare["rps"], 3)}


def median_round(rounds: list[dict]) -> dict:
    """The round whose bot/bare ratio is the median: its figures are reported in full."""
    return sorted(rounds, key=lambda r: r["ratio_bot_to_bare"])[(len(rounds) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3,
                        help="bot and bare alternate this many times; the median round is reported")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-matcher", action="store_true",
                        help="skip the matcher alone (its 10x knowledge base takes minutes to build)")
    args = parser.parse_args()
    if load_generator() == "wrk" and not shutil.which("wrk"):
        raise SystemExit("BENCH_LOAD=wrk but wrk is not installed: apt-get install wrk")
    rounds = [measure_round(args.seconds, args.connections) for _ in range(max(1, args.rounds))]
    matcher = {"skipped": "--no-matcher"} if args.no_matcher else matcher_figures()
    result = {**median_round(rounds), "matcher": matcher,
              "ratios_by_round": [r["ratio_bot_to_bare"] for r in rounds],
              "load_generator": load_generator()}
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else report(result, args))


def report(r: dict, args) -> str:
    bot, bare, m = r["bot"], r["bare"], r["matcher"]
    why = "BENCH_LOAD=python" if shutil.which("wrk") else "wrk is not installed"
    generator = ("wrk" if r["load_generator"] == "wrk" else
                 f"Python (bench/pyload.py, {why}; req/s lower than wrk's, compare the ratio)")
    lines = [
        f"load generator: {generator}",
        f"load: {args.connections} connections, {args.seconds} s, signed text messages with distinct MsgIds, "
        f"{len(bench_questions())} distinct questions",
        f"bot : {bot['rps']:.0f} req/s, {bot['consultations_per_s']:.0f} consultations/s recorded, "
        f"p50 {bot['p50_ms']:.1f} ms, p99 {bot['p99_ms']:.1f} ms, non-2xx {bot['non_2xx']}  (target ≥800/s, p99 <50 ms)",
        f"bare: {bare['rps']:.0f} req/s, p99 {bare['p99_ms']:.1f} ms (Flask + wechatpy parse and echo)",
        f"ratio bot/bare throughput: {r['ratio_bot_to_bare']:.3f}, the median of {len(r['ratios_by_round'])} "
        f"alternating rounds {r['ratios_by_round']}  (target ≥0.30)",
        f"start-up to first reply: bot {bot['startup_s']:.2f} s, bare {bare['startup_s']:.2f} s",
        f"memory per worker after load: bot PSS {bot['worker_pss_mb']} MB (RSS {bot['worker_rss_mb']}), "
        f"bare PSS {bare['worker_pss_mb']} MB  (target <200 MB; PSS counts shared preloaded pages once)",
        f"matcher: {json.dumps(m, ensure_ascii=False)}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
