"""bot/learning/livekb.py: the cost per request of watching for published entries, and swapping a new
build in whole, never half-built, never mid-request."""
from __future__ import annotations

import threading
import time

import pytest

from bot.learning import drafts as dr
from bot.learning import livekb
from tests.learning_support import app, config, db, services, small_kb  # noqa: F401 (fixtures)


def version_reads(db) -> list[str]:
    seen: list[str] = []
    db.conn.set_trace_callback(lambda sql: seen.append(sql) if "kb_version" in sql else None)
    return seen


def test_polling_reads_the_version_at_most_every_few_seconds(services, db, monkeypatch):
    live = services.live
    live.latest()
    seen = version_reads(db)
    clock = [1000.0]
    monkeypatch.setattr(livekb.time, "monotonic", lambda: clock[0])
    for _ in range(1000):
        live.poll(db)
    assert len(seen) == 1
    clock[0] += livekb.POLL_SECONDS - 0.1
    live.poll(db)
    assert len(seen) == 1
    clock[0] += 0.2
    live.poll(db)
    assert len(seen) == 2


def test_an_unchanged_version_builds_nothing(services, db):
    live = services.live
    first = live.latest()
    for _ in range(3):
        live.poll(db, force=True)
    assert live.latest() is first and live.builds == 0


def test_a_request_keeps_the_snapshot_it_started_with(services, db):
    live = services.live
    live.pin()
    started = live.current()
    dr.bump_version(db, time.time())
    live.poll(db, force=True)
    deadline = time.monotonic() + 60
    while live.latest() is started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.latest() is not started            # the swap happened…
    assert live.current() is started               # …but this request still reads its own build
    assert services.matcher is started.matcher and services.knowledge is started.knowledge
    live.unpin()
    assert live.current() is live.latest()


def test_a_new_build_is_complete_before_anyone_sees_it(services, db):
    live = services.live
    old = live.latest()
    seen: list[livekb.Snapshot] = []
    stop = threading.Event()

    def watch() -> None:
        while True:
            stopping = stop.is_set()        # read before looking: one last look after the swap
            found = live.latest()
            if found is not old:
                seen.append(found)
                seen.append(frozenset(found._parts))
                return
            if stopping:
                return
    watcher = threading.Thread(target=watch)
    watcher.start()
    dr.bump_version(db, time.time())
    live.wait_until_current(db)
    stop.set()
    watcher.join()
    assert seen and seen[1] == {"matcher", "law_index"}


def test_a_failed_build_keeps_serving_the_last_good_one(services, db, monkeypatch):
    live = services.live
    good = live.latest()

    def broken(*_args, **_kwargs):
        raise RuntimeError("statutes unreadable")
    monkeypatch.setattr(livekb, "build_snapshot", broken)
    dr.bump_version(db, time.time())
    live.poll(db, force=True)
    deadline = time.monotonic() + 10
    while live._building and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live.latest() is good
    assert live._next_poll - time.monotonic() > livekb.POLL_SECONDS     # waits before trying again


def test_a_web_request_pins_and_releases_its_snapshot(app, services):
    client = app.test_client()
    assert client.get("/wechat").status_code == 403         # any request: poll, pin, unpin
    assert getattr(services.live._local, "pinned", False) is False


@pytest.mark.parametrize("name", ["knowledge", "matcher", "law_index"])
def test_a_value_set_on_the_services_is_used_instead(services, name):
    services.__dict__[name] = sentinel = object()
    assert getattr(services, name) is sentinel
