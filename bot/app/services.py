"""The app's long-lived services, built once per process and shared by web, worker and CLI.

Loading the knowledge base, jieba's dictionary and the law index costs time; it is paid once
per process (lazily, on first use, or eagerly by ``warm()``), never per request. When entries
are published from the console, each process builds them once more, in the background, and
swaps them in (bot/learning/livekb.py): ``knowledge``, ``matcher`` and ``law_index`` are the parts of the
snapshot being served.
"""
from __future__ import annotations

import gc
import os
import threading
from functools import cached_property
from pathlib import Path

from bot.core.config import Config, resolve_db_path
from bot.core import store
from bot.learning.livekb import LiveKnowledge, LivePart


class Services:
    def __init__(self, config: Config, handler_modules: list[str] | None = None):
        self.config = config
        self.db_path: Path = resolve_db_path(config)
        self._handler_modules = handler_modules
        self._lock = threading.Lock()
        self._local = threading.local()

    def open_db(self):
        """A new connection, owned and closed by the caller (CLI commands, the worker, tests)."""
        return store.connect(self.db_path)

    def request_db(self):
        """This thread's long-lived connection, for web requests.

        Opening a connection costs more than answering a question, and closing the last one to
        a WAL database checkpoints and deletes the WAL file, so each thread keeps one. It is
        opened lazily and keyed by process id, so a connection never crosses a fork.
        """
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:
            self._local.db, self._local.pid = store.connect(self.db_path), pid
        return self._local.db

    knowledge = LivePart()
    matcher = LivePart()
    law_index = LivePart()

    @cached_property
    def live(self) -> LiveKnowledge:
        return LiveKnowledge(self.config, self.db_path)

    @cached_property
    def lexicons(self):
        """The configured knowledge_dir's dictionaries (jieba's words, stopwords, synonyms, trigger,
        question and counterpart words: bot/retrieval/lexicons.py), for handlers and commands."""
        from bot.retrieval.lexicons import lexicons_for
        return lexicons_for(self.config)

    @cached_property
    def registry(self):
        from bot.conversation.dispatch import load_handlers
        from handlers import DEFAULT_HANDLERS
        return load_handlers(self._handler_modules or DEFAULT_HANDLERS)

    def warm(self) -> "Services":
        """Load everything now (at start-up), so the first villager does not wait."""
        with self._lock:
            _ = self.knowledge, self.matcher, self.law_index, self.registry
        settle_heap()
        return self


_HEAP_SETTLED = False


def settle_heap() -> None:
    """Move what start-up loaded (jieba's and pypinyin's dictionaries: millions of objects) out of
    the garbage collector's sight. They live as long as the process; scanning them in every full
    collection cost more than answering a question, and with gunicorn's --preload, untouched
    pages stay shared between the workers instead of being copied when the collector writes.

    Once per process: frozen objects are never collected, so freezing again after a second app
    was built (the test suite builds hundreds) would keep every earlier app for good. A flag
    says so, not ``gc.get_freeze_count()``, which walks every frozen object (14 ms a call); a
    forked worker inherits both the flag and the frozen heap."""
    global _HEAP_SETTLED
    if _HEAP_SETTLED:
        return
    gc.collect()
    gc.freeze()
    _HEAP_SETTLED = True
