"""The knowledge a process serves, kept current without a restart.

knowledge/faq/*.toml are files; entries published from the console are rows (bot/learning/drafts.py).
Each process serves one ``Snapshot`` — the knowledge base with both, and the matcher and law
index built from it — and replaces it when the published entries change:

- every web request calls ``poll``: at most every POLL_SECONDS it reads ``kb_version`` (one
  primary-key read), otherwise it only reads the clock;
- a new version starts one build in a background thread of this process: knowledge base,
  matcher and law index are built off to the side and swapped in with one assignment, so
  requests go on being answered from the old snapshot meanwhile and never see a half-built one.
  Two workers building the same law index take turns on a file lock: the second reads what the
  first wrote to the disk cache (bot/retrieval/lawsearch.py) instead of segmenting again;
- a request pins the snapshot it first reads (``pin``), so the matcher's decision and the entry
  it names come from the same build even when a swap lands mid-request.

The files do not change under a running process (new files are a deploy), so their checks stay
strict at start-up as before; a published entry that fails the load checks later (say its law
was repealed) is logged and left out, never served.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from bot.core.config import Config

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0       # a published entry reaches every worker within this plus one build
RETRY_SECONDS = 60.0     # after a failed build


class Snapshot:
    """One consistent build: the knowledge base, and the matcher and law index made from it
    (each built on first use, or at once by ``complete``)."""

    def __init__(self, version: int, knowledge, config: Config):
        from bot.kb.knowledge import today
        self.version, self.knowledge, self.config = version, knowledge, config
        self.day = today()          # what is in force was judged on this day (township time)
        self._parts: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _part(self, name: str, build: Callable[[], Any]) -> Any:
        found = self._parts.get(name)
        if found is None:
            with self._lock:
                found = self._parts.get(name)
                if found is None:
                    found = self._parts[name] = build()
        return found

    @property
    def matcher(self):
        return self._part("matcher", self._build_matcher)

    def _build_matcher(self):
        """The matcher, reading the configured knowledge directory's dictionaries."""
        from bot.retrieval.lexicons import lexicons_for
        from bot.retrieval.matcher import Matcher
        return Matcher(self.knowledge, self.config.matcher, lexicons_for(self.config))

    @property
    def law_index(self):
        from bot.retrieval.lexicons import lexicons_for
        return self._part("law_index", lambda: law_index_for(self.knowledge.statutes,
                                                              lexicons_for(self.config).dictionaries))

    def complete(self) -> "Snapshot":
        _ = self.matcher, self.law_index
        return self


def law_index_for(statutes, dictionaries=None):
    """The law index, built under a file lock beside its disk cache: of several processes
    rebuilding for the same change, one segments and the others load its result."""
    from bot.retrieval.lawsearch import LawIndex, default_cache_dir, usable_dir
    cache = default_cache_dir()
    if not usable_dir(cache):
        return LawIndex(statutes, dictionaries=dictionaries)
    with open(cache / "lawindex.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return LawIndex(statutes, dictionaries=dictionaries)


def read_knowledge_now(config: Config, db_path: Path | str, strict: bool = True) -> tuple[int, Any]:
    """(version, knowledge base): the files' entries and the published ones.

    The files are checked as always (``strict``: any error refuses); a published entry failing
    the load checks is left out and logged.
    """
    from bot.learning.drafts import read_published
    from bot.kb.knowledge import load_knowledge
    files = load_knowledge(config, strict=strict)
    version, published = read_published(db_path, files.statutes)
    if not published:
        return version, files
    kb = load_knowledge(config, strict=False, extra=published)
    for error in kb.errors:
        log.error("published entry not served: %s", error)
    return version, kb


def build_snapshot(config: Config, db_path: Path | str, strict: bool = True) -> Snapshot:
    version, kb = read_knowledge_now(config, db_path, strict)
    return Snapshot(version, kb, config)


class LiveKnowledge:
    """The snapshot this process serves, replaced (in the background) when kb_version moves."""

    def __init__(self, config: Config, db_path: Path | str):
        self.config, self.db_path = config, db_path
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._next_poll = 0.0
        self._building = False
        self._pid = os.getpid()
        self.builds = 0            # snapshots built by polling, in this process (for tests and logs)

    def current(self) -> Snapshot:
        """The pinned snapshot inside a request (pinned at its first use), else the latest."""
        local = self._local
        if getattr(local, "pinned", False):
            if local.snapshot is None:
                local.snapshot = self.latest()
            return local.snapshot
        return self.latest()

    def latest(self) -> Snapshot:
        found = self._snapshot
        if found is None:
            with self._lock:
                if self._snapshot is None:
                    self._snapshot = build_snapshot(self.config, self.db_path)
                found = self._snapshot
        return found

    def pin(self) -> None:
        """From now on this thread keeps the snapshot it reads first (until ``unpin``)."""
        self._local.pinned, self._local.snapshot = True, None

    def unpin(self) -> None:
        self._local.pinned, self._local.snapshot = False, None

    def begin_request(self, db_of: Callable[[], Any]) -> None:
        """A request begins: poll for a new version, then pin the snapshot it will use. All of the
        before-request hook's work is here: the webhook's own entry (bot/app/fastpath.py) calls it
        instead of the hook."""
        try:
            self.poll(db_of())
        except Exception:  # noqa: BLE001 - a failed check must not fail the request
            log.warning("checking the knowledge version failed", exc_info=True)
        self.pin()

    def poll(self, db, *, force: bool = False) -> None:
        """Start a rebuild if the published entries changed or the township's day did (a law takes
        effect, or a text lapses, at midnight: 商标法's 2019 text after 2026-12-31); reads the database
        at most every POLL_SECONDS (``force``: now, e.g. right after this process published)."""
        now = time.monotonic()
        if now < self._next_poll and not force:
            return
        self._next_poll = now + POLL_SECONDS
        if os.getpid() != self._pid:            # a forked worker: no build thread came along
            self._pid, self._building, self._lock = os.getpid(), False, threading.Lock()
        from bot.learning.drafts import current_version
        from bot.kb.knowledge import today
        serving = self._snapshot
        if serving is not None and (current_version(db) != serving.version or serving.day != today()):
            self._start_build()     # a new day may bring a law into force or end a text's term

    def _start_build(self) -> None:
        with self._lock:
            if self._building:
                return
            self._building = True
        threading.Thread(target=self._rebuild, name="legalbot-knowledge", daemon=True).start()

    def _rebuild(self) -> None:
        started = time.monotonic()
        try:
            fresh = build_snapshot(self.config, self.db_path, strict=False).complete()
            self._snapshot = fresh
            self.builds += 1
            log.info("knowledge version %s: %d entries, rebuilt in %.1f s", fresh.version,
                     len(fresh.knowledge.entries), time.monotonic() - started)
        except Exception:  # noqa: BLE001 - keep serving the snapshot we have
            log.exception("rebuilding the knowledge base failed; serving the previous one")
            self._next_poll = time.monotonic() + RETRY_SECONDS
        finally:
            self._building = False

    def wait_until_current(self, db, timeout: float = 60.0) -> Snapshot:
        """Poll until this process serves the database's version (tests, the command line)."""
        from bot.learning.drafts import current_version
        deadline = time.monotonic() + timeout
        while True:
            serving = self.latest()
            if serving.version == current_version(db) and not self._building:
                return serving
            if time.monotonic() > deadline:
                raise TimeoutError("the knowledge base was not rebuilt in time")
            self.poll(db, force=True)
            time.sleep(0.05)


class LivePart:
    """``Services.knowledge`` / ``.matcher`` / ``.law_index``: the part of the current snapshot.

    A non-data descriptor: a value set on the instance (tests do) is used instead."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, services, owner=None):
        if services is None:
            return self
        return getattr(services.live.current(), self.name)


def watch_knowledge(app, services) -> None:
    """Each request polls for a new version, then pins the snapshot it will use."""
    from bot import get_db

    @app.before_request
    def poll_and_pin() -> None:
        services.live.begin_request(get_db)

    @app.teardown_request
    def unpin(_exc: BaseException | None = None) -> None:
        services.live.unpin()
