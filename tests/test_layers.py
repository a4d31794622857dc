"""The import contract: which package may import which, and the handlers' one priority table.

bot/ is split by concern into packages stacked in layers (README, "Where things are"). A module
may import its own package and any layer below it, never one above: the knowledge base does not
know about tickets, the tickets do not know about the conversation, nothing but the command
line knows about the command line. Read from the source (every import, at the top or inside a
function), so a lazy import that points the wrong way is caught as well as a top-level one.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.conversation.dispatch import load_handlers
from handlers import DEFAULT_HANDLERS, PRIORITIES

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. Each may import only from its own row and the rows above it in this list.
LAYERS = (
    "bot.core",          # configuration, database, text, calendar, message and user types, masking
    "bot.kb",            # the knowledge base as written: loading and checking it
    "bot.retrieval",     # finding an answer: matcher, law search, triage
    "bot.escalation",    # advisers, routing, tickets, delivery, outbox, WeChat's API
    "bot.community",     # 人民调解 and the 普法 calendar
    "bot.reporting",     # counts, the ledger, the annual report, the registers
    "bot.learning",      # drafts, gaps, live reload of the knowledge base
    "bot.conversation",  # the handler registry, the reply pipeline, records, hand-over
    "handlers",          # one module per kind of incoming thing
    "bot.app",           # services (the wiring point), webhook, simulator, console, worker
    "bot",               # bot/__init__.py: create_app
    "bot.cli",           # the command line
)
# Flask's per-request accessors in bot/__init__.py: any layer may reach the request's database
# connection and services this way (inside a function, once the app exists).
ACCESSORS = {"get_db", "services"}


def layer_of(module: str) -> int:
    """The row of ``module`` in LAYERS: its longest matching package."""
    rows = [i for i, p in enumerate(LAYERS) if module == p or module.startswith(p + ".")]
    return max(rows, key=lambda i: len(LAYERS[i]))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every bot/handlers module ``path`` imports, by full dotted name; ``from bot import x``
    counts as bot.x when x is a module or package, and as an accessor use when x is get_db or services."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                if node.module == "bot" and alias.name in ACCESSORS:
                    continue
                found.add(child if is_module(child) else node.module)
    return {m for m in found if m.split(".")[0] in ("bot", "handlers")}


def is_module(name: str) -> bool:
    path = ROOT / name.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def upward_imports(paths) -> dict[str, list[str]]:
    wrong = {}
    for path in paths:
        here = module_name(path)
        up = sorted(m for m in imported(path) if layer_of(m) > layer_of(here))
        if up:
            wrong[here] = up
    return wrong


def sources() -> list[Path]:
    return sorted((ROOT / "bot").rglob("*.py")) + sorted((ROOT / "handlers").rglob("*.py"))


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports(sources()) == {}


def test_every_module_of_bot_sits_in_a_package_of_the_table():
    """A new flat module in bot/ would escape the contract: bot/__init__.py is the only one."""
    flat = sorted(p.name for p in (ROOT / "bot").glob("*.py"))
    packages = sorted(p.name for p in (ROOT / "bot").iterdir() if (p / "__init__.py").exists())
    assert flat == ["__init__.py"]
    assert sorted(f"bot.{name}" for name in packages) == sorted(p for p in LAYERS if p.startswith("bot."))


def test_the_contract_catches_an_upward_import(tmp_path, monkeypatch):
    """The check is not vacuous: a core module reaching up into tickets is reported."""
    fake_root = tmp_path
    (fake_root / "bot" / "core").mkdir(parents=True)
    (fake_root / "bot" / "escalation").mkdir()
    bad = fake_root / "bot" / "core" / "bad.py"
    bad.write_text("def f():\n    from bot.escalation.tickets import transition\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", fake_root)
    assert upward_imports([bad]) == {"bot.core.bad": ["bot.escalation.tickets"]}


def test_the_readme_layout_table_lists_the_layers_in_the_contract_order():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w/]+)/` \|", section, re.M)
    in_bot = [f"bot.{r.split('/', 1)[1]}" if r.startswith("bot/") else r for r in rows]
    table = [p for p in LAYERS if p != "bot"]
    assert [r for r in in_bot if r in table] == table


def test_the_readme_layout_table_names_every_module_of_each_package():
    """A newcomer finds a module from the README: each bot/ package's row names its modules."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `bot/(\w+)/` \| (.*?) \|$", section, re.M))
    unnamed = {}
    for package in sorted(p.name for p in (ROOT / "bot").iterdir() if (p / "__init__.py").exists()):
        names = [p.stem if p.suffix else p.name for p in (ROOT / "bot" / package).iterdir()
                 if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()]
        missing = sorted(n for n in names if not re.search(rf"(?<!\w){n}(?!\w)", rows.get(package, "")))
        if missing:
            unnamed[package] = missing
    assert unnamed == {}


def test_no_handler_imports_another_handler():
    """Shared pieces live in bot/ (or the package's own ``add`` and tables), not in a sibling."""
    sideways = {}
    for path in sorted((ROOT / "handlers").glob("*.py")):
        found = [m for m in imported(path) if m.startswith("handlers.")
                 and m not in ("handlers.add", "handlers.PRIORITIES")]
        if found:
            sideways[path.name] = found
    assert sideways == {}


def test_the_core_imports_no_handler_but_at_the_wiring_point():
    """Only bot/app/services.py names the handler modules (to load them); nothing in bot/ calls one."""
    importers = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "bot").rglob("*.py")
                       if any(m.split(".")[0] == "handlers" for m in imported(path)))
    assert importers == ["bot/app/services.py"]


def test_the_handlers_run_in_the_order_of_the_one_priority_table():
    registry = load_handlers(DEFAULT_HANDLERS)
    by_table = sorted(PRIORITIES, key=lambda name: (PRIORITIES[name], name))
    assert registry.names() == by_table


def test_the_danger_words_come_before_every_handler_of_ordinary_text():
    """Only the commands of bound advisers and mediators (who may quote danger words in an
    answer or a session note) run before someone in danger is given the numbers."""
    before = [name for name in PRIORITIES if PRIORITIES[name] < PRIORITIES["urgent"]]
    assert sorted(before) == ["adviser", "mediation.command"]
