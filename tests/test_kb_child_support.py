"""The child-support entry (marriage.child_support): asked "一个月给多少", a villager reads the
amount in the first line, not only "能要" with the figures buried in a step."""
from __future__ import annotations

import tomllib

from bot.core.config import PROJECT_ROOT

FILE = PROJECT_ROOT / "knowledge" / "faq" / "marriage_family.toml"


def child_support() -> dict:
    entries = tomllib.loads(FILE.read_text(encoding="utf-8"))["entry"]
    return next(e for e in entries if e["id"] == "marriage.child_support")


def test_the_first_line_says_it_can_be_had_and_how_much():
    first = child_support()["answer"].strip().splitlines()[0]
    assert first.startswith("能要")
    assert "月总收入" in first and "20%到30%" in first and "50%" in first


def test_the_amount_rule_is_sourced_with_its_document_number():
    sources = " ".join(child_support()["other_sources"])
    assert "婚姻家庭编的解释（一）" in sources and "法释〔2020〕22号" in sources and "第四十九条" in sources
