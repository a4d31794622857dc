"""The app's long-lived services, built once per process and shared by web, worker and CLI.

Loading the knowledge base, jieba's dictionary and the law index costs time; it is paid once
per process (lazily, on first use, or eagerly by ``warm()``), never per request.
"""
from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

from bot.config import Config, resolve_db_path
from bot import store


class Services:
    def __init__(self, config: Config, handler_modules: list[str] | None = None):
        self.config = config
        self.db_path: Path = resolve_db_path(config)
        self._handler_modules = handler_modules
        self._lock = threading.Lock()

    def open_db(self):
        """A new connection (one per thread or request)."""
        return store.connect(self.db_path)

    @cached_property
    def knowledge(self):
        from bot.knowledge import load_knowledge
        return load_knowledge(self.config)

    @cached_property
    def matcher(self):
        from bot.matcher import Matcher
        return Matcher(self.knowledge, self.config.matcher)

    @cached_property
    def law_index(self):
        from bot.lawsearch import LawIndex
        return LawIndex(self.knowledge.statutes)

    @cached_property
    def registry(self):
        from bot.dispatch import load_handlers
        from handlers import DEFAULT_HANDLERS
        return load_handlers(self._handler_modules or DEFAULT_HANDLERS)

    def warm(self) -> "Services":
        """Load everything now (at start-up), so the first villager does not wait."""
        with self._lock:
            _ = self.knowledge, self.matcher, self.law_index, self.registry
        return self
