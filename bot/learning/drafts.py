"""Draft FAQ entries from advisers' answers: the knowledge base learns, and nothing unreviewed
reaches a villager.

An answered ticket can become a draft entry (``draft_from_ticket``): the villager's question,
scrubbed of names, numbers and places below the village (``bot.core.privacy.scrub_text``), is its
first phrasing; the adviser's answer, scrubbed too, its answer; the ticket's category its
category; the articles the answer names, the ticket's suggestions and law search's best are
offered as citations. An answer marked 不适合推广 (one person's case) is never proposed.

A draft is published only when it passes what the files' entries pass — the load checks
(``bot.kb.knowledge.entry_check``: citations held and in force, quote, excerpt verbatim,
placeholders, length) and `kb check`'s editorial rules (``bot.kb.kbcheck``: the answer's shape,
phrasings, duplicates, the corrections register) — with at least one citation, and only by an
account that has not changed it since it was last published (``publish``). Published entries are
rows of ``kb_drafts``; bot/learning/livekb.py serves them beside knowledge/faq/*.toml and every process
picks a change up through ``kb_version``; `legalbot kb export-drafts` writes them as TOML to be
committed and reviewed as code.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Iterable

from bot.kb.knowledge import (KnowledgeBase, FaqEntry, Statutes, build_entry, entry_check,
                           schema_errors, today, value_errors)
from bot.core.store import fetch_one, transaction

log = logging.getLogger(__name__)

# A learned entry's phrasings: the villager's question and the reviewer's rewordings (kbcheck
# holds the number, MIN_LEARNED_QUESTIONS, so `kb check` asks the same of a published entry).
ANSWERED_STATUSES = ("answered", "delivered", "closed")
SUGGESTED = 5
ENTRY_ID_PREFIX = "learned.ticket_"
SOURCE_PREFIX = "db:kb_drafts/"


class DraftStatus(StrEnum):
    DRAFT = "draft"                # being written; never served
    PUBLISHED = "published"        # reviewed and served
    UNPUBLISHED = "unpublished"    # taken down; editable, publishable again after a review
    DELETED = "deleted"            # was published once: kept so its consultations keep a name


EDITABLE = (DraftStatus.DRAFT.value, DraftStatus.UNPUBLISHED.value)


class DraftError(ValueError):
    """What a person asked for cannot be done; the message (Chinese) says why."""


@dataclass
class Draft:
    """One row of kb_drafts: a draft entry, or a published one with who wrote and reviewed it."""

    id: int
    ticket_id: int | None
    entry_id: str
    category: str | None
    questions: list[str]
    keywords: list[str]
    answer: str
    citations: list[str]
    quote: str | None
    excerpt: str | None
    other_sources: list[str]
    needs_person: bool
    role: str | None
    asked: str | None
    status: str
    author: str
    editors: list[str]
    reviewer: str | None = None
    reviewed_on: str | None = None
    basis: dict[str, str] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0
    published_at: float | None = None
    unpublished_at: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Draft":
        lists = {k: json.loads(row[k] or "[]") for k in ("questions", "keywords", "citations",
                                                         "other_sources", "editors")}
        plain = {k: row[k] for k in cls.__dataclass_fields__ if k not in lists and k in row}
        plain.update(needs_person=bool(row["needs_person"]), basis=json.loads(row["basis"] or "{}"))
        return cls(**plain, **lists)

    @property
    def source(self) -> str:
        """Where an error names it, as a file names its entries."""
        return f"{SOURCE_PREFIX}{self.id}"

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE


@dataclass(frozen=True)
class DraftFields:
    """What a person edits on a draft (the console's form)."""

    entry_id: str
    category: str | None
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str
    citations: tuple[str, ...]
    quote: str | None
    excerpt: str | None
    needs_person: bool = False
    role: str | None = None
    other_sources: tuple[str, ...] = ()


# ---- reading --------------------------------------------------------------------------------

def get_draft(db, draft_id: int) -> Draft | None:
    row = fetch_one(db, "SELECT * FROM kb_drafts WHERE id = ?", [draft_id])
    return Draft.from_row(row) if row else None


def draft_for_ticket(db, ticket_id: int) -> Draft | None:
    row = fetch_one(db, "SELECT * FROM kb_drafts WHERE ticket_id = ?", [ticket_id])
    return Draft.from_row(row) if row else None


def list_drafts(db, statuses: Iterable[str]) -> list[Draft]:
    """Drafts in these statuses, most recently changed first."""
    statuses = list(statuses)
    rows = db.execute(f"SELECT * FROM kb_drafts WHERE status IN ({','.join('?' * len(statuses))})"
                      " ORDER BY updated_at DESC, id DESC", statuses)
    names = [c[0] for c in rows.description]
    return [Draft.from_row(dict(zip(names, r))) for r in rows.fetchall()]


def not_general_by(db, ticket_id: int) -> str | None:
    """Who marked this ticket's answer 不适合推广 (None: nobody)."""
    row = db.execute("SELECT marked_by FROM kb_not_general WHERE ticket_id = ?", [ticket_id]).fetchone()
    return row[0] if row else None


def proposal_rows(db, limit: int = 200) -> list[dict[str, Any]]:
    """Answered tickets that could become entries: not purged, not marked, no draft yet, newest first."""
    rows = db.execute(
        "SELECT t.* FROM tickets t WHERE t.status IN ('answered', 'delivered', 'closed')"
        " AND t.purged = 0 AND t.answer IS NOT NULL AND t.answer != ''"
        " AND NOT EXISTS (SELECT 1 FROM kb_drafts d WHERE d.ticket_id = t.id)"
        " AND NOT EXISTS (SELECT 1 FROM kb_not_general n WHERE n.ticket_id = t.id)"
        " ORDER BY t.answered_at DESC, t.id DESC LIMIT ?", [limit])
    names = [c[0] for c in rows.description]
    return [dict(zip(names, r)) for r in rows.fetchall()]


# ---- the version every process compares (bot/learning/livekb.py) -------------------------------------

def current_version(db) -> int:
    """One primary-key read: the number of changes made to the published entries."""
    row = db.execute("SELECT version FROM kb_version WHERE id = 1").fetchone()
    return row[0] if row else 0


def bump_version(db, now: float) -> None:
    db.execute("INSERT INTO kb_version (id, version, changed_at) VALUES (1, 1, ?) ON CONFLICT(id)"
               " DO UPDATE SET version = version + 1, changed_at = excluded.changed_at", [now])


# ---- from a ticket to a draft -----------------------------------------------------------------

def mark_not_general(db, ticket_id: int, username: str, now: float, *, general: bool = False) -> None:
    """不适合推广: the answer is never proposed as a draft (``general=True`` takes the mark back)."""
    with transaction(db):
        if general:
            db.execute("DELETE FROM kb_not_general WHERE ticket_id = ?", [ticket_id])
        else:
            db.execute("INSERT OR IGNORE INTO kb_not_general (ticket_id, marked_by, at) VALUES (?, ?, ?)",
                       [ticket_id, username, now])


def draft_from_ticket(db, services, ticket, username: str, now: float) -> Draft:
    """The ticket's draft (made now if it has none): the villager's question and the adviser's
    answer, scrubbed, as its first phrasing and its answer; the ticket's category."""
    from bot.core.privacy import scrub_text
    existing = draft_for_ticket(db, ticket.id)
    if existing is not None:
        return existing
    if ticket.status not in ANSWERED_STATUSES or not (ticket.answer or "").strip():
        raise DraftError(f"咨询 #{ticket.id} 还没有答复，答复以后才能转为常见问题。")
    if not_general_by(db, ticket.id):
        raise DraftError(f"咨询 #{ticket.id} 的答复已标记为不适合推广。")
    keep, words = keep_names(services.config), services.lexicons.dictionaries
    asked = scrub_text(ticket.question, keep, words).strip()
    with transaction(db):
        db.execute(
            "INSERT OR IGNORE INTO kb_drafts (ticket_id, entry_id, category, questions, answer, asked,"
            " author, editors, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ticket.id, f"{ENTRY_ID_PREFIX}{ticket.id}", ticket.category,
             json.dumps([asked] if asked else [], ensure_ascii=False),
             scrub_text(ticket.answer, keep, words).strip(), asked or None, username,
             json.dumps([username]), now, now])
    return draft_for_ticket(db, ticket.id)


def keep_names(config) -> tuple[str, ...]:
    """Place names a scrub keeps: the villages and the township (a place is removed only below
    the village)."""
    return (*config.village_names, *(v for k, v in config.local.items() if k in ("township", "county")))


def suggest_citations(services, ticket, draft: Draft | None = None, k: int = SUGGESTED) -> list[str]:
    """Articles to cite: those the adviser's answer names, the ticket's suggestions, then law
    search's best for the question — in force, held, each once."""
    statutes = services.knowledge.statutes
    found = statutes.mentions(ticket.answer or "") + list(ticket.suggested or [])
    text = " ".join(x for x in (ticket.question, draft.answer if draft else "") if x)
    try:
        found += [hit.citation for hit in services.law_index.search(text, k=k)] if text.strip() else []
    except Exception:  # noqa: BLE001 - law search is an aid; the draft is written without it
        log.warning("law search unavailable for a draft", exc_info=True)
    held = [c for c in dict.fromkeys(found) if statutes.in_force(c)]
    return [statutes.get(c).citation for c in held][: k + 2]


def first_sentence(text: str, limit: int = 150) -> str | None:
    """The article's opening sentence (to 。 or ；), as an excerpt to start from; None if longer."""
    for n, char in enumerate(text[:limit]):
        if char in "。；":
            return text[: n + 1]
    return text if len(text) <= limit else None


# ---- editing ----------------------------------------------------------------------------------

def save_draft(db, draft_id: int, fields: DraftFields, username: str, now: float,
               statutes: Statutes | None = None) -> Draft:
    """Save an editable draft; whoever changes it may not publish it (``publish``).

    With ``statutes``: a citation typed loosely (民法典314) is written canonically, the first
    citation becomes the quote when none is chosen, and an empty excerpt starts as the quoted
    article's first sentence — for the reviewer to check, like everything else.
    """
    draft = get_draft(db, draft_id)
    if draft is None or not draft.editable:
        raise DraftError("这条草稿已发布或已删除，不能再改；要改请先撤下。")
    fields = completed(fields, statutes) if statutes is not None else fields
    editors = draft.editors if username in draft.editors else [*draft.editors, username]
    try:
        with transaction(db):
            db.execute(
                "UPDATE kb_drafts SET entry_id = ?, category = ?, questions = ?, keywords = ?, answer = ?,"
                " citations = ?, quote = ?, excerpt = ?, needs_person = ?, role = ?, other_sources = ?,"
                " editors = ?, updated_at = ? WHERE id = ? AND status IN (?, ?)",
                [fields.entry_id, fields.category or None, as_json(fields.questions),
                 as_json(fields.keywords), fields.answer, as_json(fields.citations),
                 fields.quote or None, fields.excerpt or None, int(fields.needs_person),
                 fields.role or None, as_json(fields.other_sources), as_json(editors), now,
                 draft_id, *EDITABLE])
    except sqlite3.IntegrityError:
        raise DraftError(f"编号 {fields.entry_id} 已被另一条草稿使用，请换一个。") from None
    return get_draft(db, draft_id)


def as_json(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def completed(fields: DraftFields, statutes: Statutes) -> DraftFields:
    """Canonical citations; the quote and the excerpt filled in when left empty."""
    citations = tuple(dict.fromkeys(canonical(c, statutes) for c in fields.citations))
    quote = canonical(fields.quote, statutes) if fields.quote else (citations[0] if citations else None)
    excerpt = fields.excerpt
    article = statutes.get(quote) if quote else None
    if not excerpt and article is not None and not article.damage:
        excerpt = first_sentence(article.text)
    return DraftFields(fields.entry_id, fields.category, fields.questions, fields.keywords, fields.answer,
                       citations, quote, excerpt, fields.needs_person, fields.role, fields.other_sources)


def canonical(citation: str, statutes: Statutes) -> str:
    article = statutes.get(citation.strip())
    return article.citation if article is not None else citation.strip()


# ---- the checks a draft must pass ---------------------------------------------------------------

def laws_cited(citations: Iterable[str], statutes: Statutes) -> dict[str, str]:
    """Each cited law with the version_date of its text held now (the review's ``basis``)."""
    laws = [statutes.get(c).law for c in citations if statutes.get(c) is not None]
    return {law: statutes.laws[law].version_date for law in dict.fromkeys(laws)}


def raw_of(draft: Draft, statutes: Statutes, reviewer: str | None = None,
           day: dt.date | None = None) -> dict[str, Any]:
    """The draft as a knowledge/faq [[entry]] table: checked by the same code as the files'.

    A published entry carries its review (day, the law texts it was checked against); a draft is
    judged as if reviewed today against the texts held now, as publishing it would record."""
    recorded = not draft.editable and draft.reviewed_on
    day = day or (dt.date.fromisoformat(draft.reviewed_on) if recorded else today())
    raw: dict[str, Any] = {
        "id": draft.entry_id, "category": draft.category or "", "questions": list(draft.questions),
        "keywords": list(draft.keywords), "answer": draft.answer, "citations": list(draft.citations),
        "other_sources": list(draft.other_sources), "needs_person": draft.needs_person, "reviewed": day,
        "basis": draft.basis if recorded else laws_cited(draft.citations, statutes),
        "provenance": provenance_of(draft, reviewer or (draft.reviewer if recorded else None), day)}
    optional = {"quote": draft.quote, "excerpt": draft.excerpt, "role": draft.role}
    return raw | {k: v for k, v in optional.items() if v}


def provenance_of(draft: Draft, reviewer: str | None, day: dt.date) -> dict[str, Any]:
    found: dict[str, Any] = {"author": draft.author}
    if draft.ticket_id is not None:
        found["ticket"] = draft.ticket_id
    return found | ({"reviewer": reviewer, "published": day} if reviewer else {})


def entry_of(draft: Draft, statutes: Statutes) -> FaqEntry | None:
    """The draft as an FaqEntry; None while its fields are not even well-formed."""
    raw = raw_of(draft, statutes)
    if schema_errors(raw, draft.source) or value_errors(raw, draft.source):
        return None
    return build_entry(raw, draft.source)


def problems(draft: Draft, kb: KnowledgeBase, config) -> list[str]:
    """Why the draft may not be published yet (English lines, as `kb check` words them, without
    the place; the console shows them in Chinese, bot/app/console/kbwording.py). Empty: it may."""
    from bot.kb.kbcheck import MIN_LEARNED_QUESTIONS
    place = f"{draft.source} [{draft.entry_id}]"
    raw = raw_of(draft, kb.statutes)
    found = [e.removeprefix(f"{place}: ") for e in schema_errors(raw, place) or value_errors(raw, place)]
    found = [e for e in found if not e.startswith("needs at least")]    # the load minimum: 3
    if len(draft.questions) < MIN_LEARNED_QUESTIONS:
        found.append(f"has {len(draft.questions)} questions, needs at least {MIN_LEARNED_QUESTIONS} phrasings")
    found += [] if draft.citations else ["cites no article"]
    other = kb.by_id.get(draft.entry_id)
    if other is not None and other.source != draft.source:
        found.append(f"id also used in {other.source}")
    if found:
        return list(dict.fromkeys(found))
    entry = build_entry(raw, draft.source)
    return [e.removeprefix(f"{place}: ") for e in entry_check(entry, kb, config) + editorial(entry, kb, config)]


def editorial(entry: FaqEntry, kb: KnowledgeBase, config) -> list[str]:
    """`kb check`'s editorial errors about this entry, with the knowledge base around it (so a
    phrasing another entry already has is found)."""
    from bot.kb.kbcheck import editorial_errors
    trial = KnowledgeBase([*(e for e in kb.entries if e.id != entry.id), entry], kb.statutes,
                          kb.scope, kb.directory)
    place = f"{entry.source} [{entry.id}]"
    return [line for line in editorial_errors(trial, config) if line.startswith(f"{place}: ")]


# ---- publishing -------------------------------------------------------------------------------

def may_publish(draft: Draft, username: str) -> bool:
    """Four eyes: not whoever changed it since it was last published (its author, at first)."""
    return draft.editable and username not in draft.editors


def publish(db, draft_id: int, username: str, kb: KnowledgeBase, config, now: float) -> Draft:
    """Publish a draft that passes every check, reviewed by ``username``; every process serves it
    within a minute (bot/learning/livekb.py). Refused, with the reason, otherwise."""
    draft = get_draft(db, draft_id)
    if draft is None or not draft.editable:
        raise DraftError("这条草稿已发布或已删除。")
    if not may_publish(draft, username):
        raise DraftError("写过或改过这条草稿的人不能自己发布，请另一位工作人员或法律顾问审核发布。")
    if problems(draft, kb, config):
        raise DraftError("这条草稿还有问题没改好（见下方检查结果），不能发布。")
    day = today()
    with transaction(db):
        changed = db.execute(
            "UPDATE kb_drafts SET status = 'published', reviewer = ?, reviewed_on = ?, basis = ?,"
            " editors = '[]', published_at = ?, updated_at = ? WHERE id = ? AND updated_at = ?"
            " AND status IN (?, ?)",
            [username, day.isoformat(), json.dumps(laws_cited(draft.citations, kb.statutes), ensure_ascii=False),
             now, now, draft_id, draft.updated_at, *EDITABLE]).rowcount
        if not changed:
            raise DraftError("这条草稿刚刚被人改过，请刷新后重新审核。")
        bump_version(db, now)
    return get_draft(db, draft_id)


def unpublish(db, draft_id: int, now: float) -> Draft:
    """Take a published entry down (it becomes an editable draft again); served no more."""
    with transaction(db):
        changed = db.execute("UPDATE kb_drafts SET status = 'unpublished', unpublished_at = ?, updated_at = ?"
                             " WHERE id = ? AND status = 'published'", [now, now, draft_id]).rowcount
        if not changed:
            raise DraftError("这一条没有在发布中。")
        bump_version(db, now)
    return get_draft(db, draft_id)


def delete(db, draft_id: int, now: float) -> None:
    """Delete a draft; one that was ever published is kept as 'deleted' (hidden, never served),
    so the consultations it answered still show what answered them. A published one is taken
    down first, in the same transaction."""
    with transaction(db):
        draft = get_draft(db, draft_id)
        if draft is None or draft.status == DraftStatus.DELETED:
            raise DraftError("没有这条草稿。")
        if draft.published_at is None:
            db.execute("DELETE FROM kb_drafts WHERE id = ?", [draft_id])
            return
        db.execute("UPDATE kb_drafts SET status = 'deleted', updated_at = ? WHERE id = ?", [now, draft_id])
        if draft.status == DraftStatus.PUBLISHED:
            bump_version(db, now)


# ---- what the bot serves ------------------------------------------------------------------------

def published_entries(db, statutes: Statutes) -> list[FaqEntry]:
    """The published rows as FaqEntry (a malformed row is logged and left out)."""
    entries = []
    for draft in list_drafts(db, [DraftStatus.PUBLISHED]):
        entry = entry_of(draft, statutes)
        if entry is None:
            log.error("published entry %s (%s) is malformed; not served", draft.entry_id, draft.source)
        else:
            entries.append(entry)
    return entries


def read_published(db_path: str | Path, statutes: Statutes) -> tuple[int, list[FaqEntry]]:
    """(version, published entries), read-only: a database that does not exist yet, or predates
    these tables, has none (nothing is created by reading)."""
    if str(db_path) == ":memory:" or not Path(db_path).exists():
        return 0, []
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True, timeout=5)
    try:
        import sqlite_utils
        db = sqlite_utils.Database(conn)
        return current_version(db), published_entries(db, statutes)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0, []
        raise
    finally:
        conn.close()


# ---- privacy ------------------------------------------------------------------------------------

# ---- `legalbot kb export-drafts` ------------------------------------------------------------------

EXPORT_ORDER = ("id", "category", "role", "questions", "keywords", "answer", "citations", "quote",
                "excerpt", "other_sources", "needs_person", "reviewed", "basis", "provenance")


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def toml_answer(text: str) -> str:
    """The answer as knowledge/faq writes it: a multi-line string, one step per line."""
    inner = "".join(f"\\u{ord(c):04x}" if ord(c) < 32 and c != "\n" else c
                    for c in text.replace("\\", "\\\\").replace('"', '\\"'))
    return f'"""\n{inner}\n"""'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, dt.date)):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return toml_string(str(value))


def entry_table(entry: FaqEntry) -> str:
    """One [[entry]] in the knowledge/faq format."""
    values = {"id": entry.id, "category": entry.category, "role": entry.role,
              "questions": list(entry.questions), "keywords": list(entry.keywords),
              "answer": entry.answer, "citations": list(entry.citations), "quote": entry.quote,
              "excerpt": entry.excerpt, "other_sources": list(entry.other_sources),
              "needs_person": entry.needs_person, "reviewed": entry.reviewed,
              "basis": dict(entry.basis), "provenance": export_provenance(entry.provenance)}
    lines = ["[[entry]]"]
    for key in EXPORT_ORDER:
        value = values[key]
        if value is None or (key in ("basis", "provenance") and not value):
            continue
        if key == "questions":
            lines.append("questions = [\n" + "".join(f"  {toml_string(q)},\n" for q in value) + "]")
        else:
            lines.append(f"{key} = {toml_answer(value) if key == 'answer' else toml_value(value)}")
    return "\n".join(lines) + "\n"


def export_provenance(provenance: dict[str, Any]) -> dict[str, Any]:
    published = provenance.get("published")
    if isinstance(published, str):
        provenance = {**provenance, "published": dt.date.fromisoformat(published)}
    return {k: provenance[k] for k in ("ticket", "author", "reviewer", "published") if k in provenance}


def export_toml(entries: Iterable[FaqEntry]) -> str:
    head = ("# Entries learned from advisers' answers, published in the console (legalbot kb export-drafts).\n"
            "# Committed here, they are served from this file; the database's copies are then left out.\n")
    return head + "".join("\n" + entry_table(e) for e in entries)
