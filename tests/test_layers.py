"""The layers stay put: which module may import which, and the handlers' one priority table.

Read from the source (every import, at the top or inside a function), so a lazy import that
points the wrong way is caught as well as a top-level one.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.dispatch import load_handlers
from handlers import DEFAULT_HANDLERS, PRIORITIES

ROOT = Path(__file__).resolve().parent.parent
# The dispatch layer and what runs on top of it: the registry, the reply pipeline, the hand-over
# conversation and the handlers. The records, tickets and delivery sit below it.
ABOVE_RECORDS = ("bot.dispatch", "bot.conversation", "bot.replies", "bot.handover", "bot.webhook",
                 "handlers")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, by full dotted name (``from a import b`` gives a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def reaches(imports: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imports if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("module", ["records", "tickets", "delivery"])
def test_records_tickets_and_delivery_do_not_import_the_layers_above_them(module):
    assert reaches(imported_modules(ROOT / "bot" / f"{module}.py"), ABOVE_RECORDS) == []


def test_no_handler_imports_another_handler():
    """Shared pieces live in bot/ (or the package's own ``add`` and tables), not in a sibling."""
    sideways = {}
    for path in sorted((ROOT / "handlers").glob("*.py")):
        found = [m for m in reaches(imported_modules(path), ("handlers",))
                 if m not in ("handlers", "handlers.add", "handlers.PRIORITIES")]
        if found:
            sideways[path.name] = found
    assert sideways == {}


def test_the_core_imports_no_handler_but_at_the_wiring_point():
    """Only bot/services.py names the handler modules (to load them); nothing in bot/ calls one."""
    importers = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "bot").rglob("*.py")
                       if reaches(imported_modules(path), ("handlers",)))
    assert importers == ["bot/services.py"]


def test_nothing_but_the_command_line_imports_the_command_line():
    """The CLI is thin over the library: the library never reaches up into it."""
    importers = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "bot").rglob("*.py")
                       if "cli" not in path.relative_to(ROOT).parts
                       and reaches(imported_modules(path), ("bot.cli",)))
    assert importers == []


def test_the_handlers_run_in_the_order_of_the_one_priority_table():
    registry = load_handlers(DEFAULT_HANDLERS)
    by_table = sorted(PRIORITIES, key=lambda name: (PRIORITIES[name], name))
    assert registry.names() == by_table


def test_the_danger_words_come_before_every_handler_of_ordinary_text():
    """Only the commands of bound advisers and mediators (who may quote danger words in an
    answer or a session note) run before someone in danger is given the numbers."""
    before = [name for name in PRIORITIES if PRIORITIES[name] < PRIORITIES["urgent"]]
    assert sorted(before) == ["adviser", "mediation.command"]
