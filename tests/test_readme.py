"""README works as written: commands with the path they are installed at, `make run PORT=`,
and files written where git ignores them."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_legalbot_command_in_the_readme_says_where_it_is_installed():
    spans = re.findall(r"`([^`\n]+)`", README)
    bare = [s for s in spans if re.match(r"legalbot\s+\S", s)]
    assert bare == []
    assert any(s.startswith(".venv/bin/legalbot stats") for s in spans)


def test_make_run_serves_on_the_port_given():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "legalbot serve --host 127.0.0.1 --port 8123" in dry


def test_the_readmes_export_and_charts_go_where_git_ignores_them():
    written = re.findall(r"legalbot (?:export [^`]* (\S+)|report [^`]*--charts (\S+))`", README)
    paths = [p for pair in written for p in pair if p]
    assert paths and all(p.startswith("out/") for p in paths)
    for path in paths:
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
