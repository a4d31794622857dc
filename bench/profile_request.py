#!/usr/bin/env python3
"""The bot's cost per message in one process, without HTTP or a second worker: CPU ms a message.

`make bench` measures throughput against the bare endpoint on a shared, noisy machine; this
measures what one message costs the bot's own code, which moves much less with the load. The
messages are the bench's (bench/load.lua): signed plaintext text messages with distinct MsgIds
from 5,000 openids, the bench's questions in turn, through the Flask test client of the app
`make bench` serves (production settings, a fresh SQLite file). The bare endpoint gets the same
messages for scale. ``--profile`` prints where the bot's time goes (cProfile); ``--statements`` counts the SQL
statements a message costs (SQLite's trace, literals folded), most frequent first; ``--calls`` counts
the function calls a message, outside and inside the matcher's ``decide`` (both counts do not move
with the load: compare two trees with them). ``--callgrind`` counts the instructions of the measured
pass only (run the script under ``valgrind --tool=callgrind --instr-atstart=no``: it switches the
instrumentation on for that pass with ``callgrind_control`` and prints the count a message);
with ``--split`` it also prints how the count divides: the app (the WSGI entry), the reply pipeline
(``respond``) and the handlers' dispatch, each run under a C function of its own that nothing else
in a request calls, whose inclusive count callgrind_annotate reads.

    .venv/bin/python bench/profile_request.py [--messages 3000] [--profile | --statements | --calls]
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out \
        .venv/bin/python bench/profile_request.py --messages 400 --callgrind [--split]
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import contextvars
import functools
import io
import operator
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import bench_questions, bot_env, signed_query  # noqa: E402

OPENIDS = 5000


def bodies(count: int, questions: list[str], start: int = 0) -> list[bytes]:
    """The bench's message bodies, numbered from ``start`` (each MsgId used once)."""
    now = int(time.time())
    return [(f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA["
             f"oBench01{n % OPENIDS:06d}]]></FromUserName><CreateTime>{now}</CreateTime>"
             f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{questions[n % len(questions)]}]]>"
             f"</Content><MsgId>{1_000_000_000 + n}</MsgId></xml>").encode()
            for n in range(start, start + count)]


def send_all(client, messages: list[bytes], walls: list[float] | None = None) -> list[float]:
    """CPU ms of each request (the test client runs the app in this thread); the wall-clock ms
    (waits for the disk and for other processes included) go to ``walls``."""
    costs = []
    for body in messages:
        query = signed_query()
        started, wall = time.thread_time(), time.perf_counter()
        response = client.post(f"/wechat?{query}", data=body, content_type="text/xml")
        costs.append((time.thread_time() - started) * 1000)
        if walls is not None:
            walls.append((time.perf_counter() - wall) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"status {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return costs


def bot_client(workdir: Path):
    os.environ.update(bot_env(workdir))
    from bot import create_app
    return create_app().test_client()


def bare_client():
    from bench.bare_app import create_app
    return create_app().test_client()


def summary(costs: list[float]) -> str:
    ordered = sorted(costs)
    return (f"mean {statistics.fmean(costs):.3f} ms, median {statistics.median(costs):.3f} ms, "
            f"p90 {ordered[int(len(ordered) * 0.9)]:.3f} ms")


def profiled(client, messages: list[bytes], top: int) -> str:
    profile = cProfile.Profile()
    profile.enable()
    send_all(client, messages)
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def statements(client, messages: list[bytes], top: int) -> str:
    """SQL statements a message, by kind (numbers and quoted text folded to N and ?)."""
    counts: collections.Counter[str] = collections.Counter()
    db = client.application.extensions["legalbot"].request_db()   # the test client's thread's

    def seen(sql: str) -> None:
        folded = re.sub(r"'(?:[^']|'')*'", "?", " ".join(sql.split()))
        counts[re.sub(r"\b\d+(?:\.\d+)?\b", "N", folded)[:150]] += 1
    db.conn.set_trace_callback(seen)
    try:
        send_all(client, messages)
    finally:
        db.conn.set_trace_callback(None)
    lines = [f"{sum(counts.values()) / len(messages):.2f} statements a message "
             "(a trigger's run is traced as its INSERT once more)"]
    lines += [f"{n / len(messages):7.3f}  {sql}" for sql, n in counts.most_common(top)]
    return "\n".join(lines)


def calls(client, messages: list[bytes], top: int) -> str:
    """Python and C function calls a message inside the app, apart for the matcher's ``decide``:
    a count that does not move with the machine's load, for comparing two trees."""
    outside: collections.Counter[str] = collections.Counter()
    inside: collections.Counter[str] = collections.Counter()
    depth = {"app": 0, "decide": 0}

    def marker(code) -> str | None:
        if code.co_name == "__call__" and code.co_filename.endswith("flask/app.py"):   # the app, whichever
            return "app"                                          # entry answers (bot/app/fastpath.py)
        return "decide" if code.co_name == "decide" and code.co_filename.endswith("retrieval/matcher.py") else None

    def seen(frame, event, arg) -> None:
        if event in ("call", "return") and (mark := marker(frame.f_code)):
            depth[mark] += 1 if event == "call" else -1
        if depth["app"] and event in ("call", "c_call"):
            name = (f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_code.co_name}" if event == "call"
                    else f"C:{getattr(arg, '__qualname__', arg)}")
            (inside if depth["decide"] else outside)[name] += 1
    sys.setprofile(seen)
    try:
        send_all(client, messages)
    finally:
        sys.setprofile(None)

    def split(counter) -> str:
        c_calls = sum(n for name, n in counter.items() if name.startswith("C:"))
        return f"{(sum(counter.values()) - c_calls) / len(messages):.1f} Python + {c_calls / len(messages):.1f} C"
    lines = [f"calls a message: outside the matcher's decide {split(outside)}; inside it {split(inside)}"]
    lines += [f"{n / len(messages):8.2f}  {name}" for name, n in outside.most_common(top)]
    return "\n".join(lines)


# The C functions the three layers run under with --split (none is called elsewhere in a request).
LAYERS = {"app (WSGI entry)": "functools_reduce", "respond (reply pipeline)": "_operator_call",
          "dispatch (the handlers)": "context_run"}


def split_layers(client) -> None:
    """Run the app's entry under ``functools.reduce``, ``pipeline.respond`` under ``operator.call``
    and the handlers' dispatch under ``Context.run`` (a copy of the context: the handlers set no
    context variable read after them), so that callgrind counts each layer inclusively."""
    from bot.conversation import pipeline
    app = client.application
    entry, respond = app.wsgi_app, pipeline.respond
    app.wsgi_app = lambda environ, start: functools.reduce(lambda _, __: entry(environ, start), [0], None)
    pipeline.respond = lambda *args: operator.call(respond, *args)
    registry = app.extensions["legalbot"].registry
    dispatch = registry.dispatch
    registry.dispatch = lambda *args: contextvars.copy_context().run(dispatch, *args)


def layer_counts(out: str, messages: int) -> str:
    """Each layer's inclusive instructions a message, from callgrind_annotate."""
    dumps = [str(path) for path in sorted(Path(out).parent.glob(Path(out).name + ".*"))]
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", *dumps[-1:]],
                          capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in text.splitlines():
        for layer, function in LAYERS.items():
            if re.search(rf":{function}(?:\s|$)", line) and layer not in counts:
                counts[layer] = int(line.split()[0].replace(",", "")) / messages
    app, respond, dispatch = (counts.get(layer, 0.0) for layer in LAYERS)
    return (f"app {app:,.0f}: outside respond {app - respond:,.0f}, respond outside dispatch "
            f"{respond - dispatch:,.0f}, dispatch {dispatch:,.0f} (instructions a message)")


def instrumented(client, messages: list[bytes], out: str) -> str:
    """Instructions a message (valgrind's callgrind, instrumentation on for ``messages`` only):
    a count that does not move with the load, Flask's test client and SQLite's C code included."""
    def switch(state: str) -> None:
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    switch("on")
    send_all(client, messages)
    switch("off")
    subprocess.run(["callgrind_control", "-d", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
    totals = [int(line.split()[1]) for path in sorted(Path(out).parent.glob(Path(out).name + "*"))
              for line in path.read_text(errors="replace").splitlines() if line.startswith("totals:")]
    return (f"{sum(totals) / len(messages):,.0f} instructions a message over {len(messages)} messages"
            f" ({len(totals)} dumps in {out}*)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000, help="measured messages (after a warm-up pass)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--statements", action="store_true", help="count the SQL statements a message")
    parser.add_argument("--calls", action="store_true",
                        help="count the function calls a message, outside and inside the matcher's decide")
    parser.add_argument("--callgrind", metavar="OUT", nargs="?", const="/tmp/cg.out",
                        help="under valgrind: instructions a message of the measured pass (OUT: the"
                             " --callgrind-out-file given to valgrind)")
    parser.add_argument("--split", action="store_true",
                        help="with --callgrind: the count of the app, respond and dispatch apart")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    questions = bench_questions()
    warm = bodies(len(questions), questions)
    measured = bodies(args.messages, questions, start=len(warm))
    with tempfile.TemporaryDirectory() as tmp:
        bot = bot_client(Path(tmp))
        send_all(bot, warm)                   # memos fill, every question seen once
        if args.profile:
            print(profiled(bot, measured, args.top))
            return
        if args.statements:
            print(statements(bot, measured, args.top))
            return
        if args.calls:
            print(calls(bot, measured, args.top))
            return
        if args.callgrind:
            if args.split:
                split_layers(bot)
            print(instrumented(bot, measured, args.callgrind))
            if args.split:
                print(layer_counts(args.callgrind, len(measured)))
            return
        bot_walls: list[float] = []
        bot_costs = send_all(bot, measured, bot_walls)
    bare = bare_client()
    send_all(bare, warm[:200])
    bare_walls: list[float] = []
    bare_costs = send_all(bare, measured, bare_walls)
    print(f"{args.messages} messages, {len(questions)} distinct questions, {OPENIDS} openids")
    print(f"bot  CPU : {summary(bot_costs)}")
    print(f"bot  wall: {summary(bot_walls)}")
    print(f"bare CPU : {summary(bare_costs)}")
    print(f"bare wall: {summary(bare_walls)}")
    print(f"bot CPU per message / bare: {statistics.fmean(bot_costs) / statistics.fmean(bare_costs):.2f}x")


if __name__ == "__main__":
    main()
