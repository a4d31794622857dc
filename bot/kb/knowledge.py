"""The knowledge base: vetted FAQ entries and the verbatim statutes they cite.

Knowledge is data (knowledge/faq/*.toml, knowledge/local/*.toml, knowledge/statutes/*.json,
knowledge/scope.toml), validated when it is loaded: an answer that cites an article we do not
hold, or an article of a repealed law, must never reach a villager. Every error names the file
and the entry so the person who wrote it can fix it (`legalbot kb check`).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from bot.core.config import PROJECT_ROOT, Config, shipped_knowledge_dir
from bot.core.text import utf8_len

if TYPE_CHECKING:
    from bot.kb.glosses import Gloss

CATEGORIES = ("婚姻家庭", "继承", "土地与宅基地", "相邻关系", "借贷", "劳动", "侵权", "消费与合同",
              "纠纷解决与法律服务", "公共安全", "便民服务", "交通", "社会保障", "村务", "医疗")
# The side of a two-sided matter an entry speaks to (so a victim is not given the wrongdoer's answer).
ROLES = ("victim", "wrongdoer", "creditor", "debtor")
# Categories whose entries may cite no statute (the township's own services, e.g. 电子社保卡).
UNCITED_CATEGORIES = {"便民服务"}
MIN_QUESTIONS = 3
# The quoted article needs room for at least its first clause; below this the answer is too long.
MIN_QUOTE_BYTES = 90
# The excerpt quoted under 【法条】: whole sentences of the article, short enough for a phone.
EXCERPT_MAX_CHARS = 150
EXCERPT_STARTS_AFTER = "。；：\n"
EXCERPT_ENDS_WITH = "。；"
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LAW_PREFIX = "中华人民共和国"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
SUFFIX_NUMERAL = "[一二三四五六七八九十]+"
# 民法典第1079条; an article added by amendment carries its suffix: 刑法第133条之一.
CANONICAL = re.compile(r"^[\u4e00-\u9fff]+第[1-9][0-9]*条(?:之" + SUFFIX_NUMERAL + ")?$")
NUMERAL = r"[0-9]+|[零〇一二两三四五六七八九十百千]+"
SUFFIX = r"(?:\s*之(?P<suffix>" + SUFFIX_NUMERAL + "))?"
# A law (or regulation, judicial interpretation) by name, as people write it.
NAME_END = "(?:法典|法|条例|规定|解释|办法)"
LAW_NAME = (r"《?(?:" + LAW_PREFIX + r")?(?P<law>[\u4e00-\u9fff]{1,30}?" + NAME_END + ")"
            r"(?:[（(][一二三四五六七八九十]+[）)])?》?")
# A lookup, loosely spelt: 民法典1079, 民法典第1079条, 《民法典》第一千零七十九条.
CITATION = re.compile(LAW_NAME + r"\s*(?:第\s*)?(?P<num>" + NUMERAL + r")\s*条?" + SUFFIX)
# A citation inside prose: needs both 第 and 条 (so "法律规定3个月" is not one).
MENTION = re.compile(LAW_NAME + r"\s*第\s*(?P<num>" + NUMERAL + r")\s*条" + SUFFIX)
CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
# The township's clock decides which laws are in force "today" (a law takes effect at 0:00 CST).
TOWNSHIP_TZ = dt.timezone(dt.timedelta(hours=8), "CST")

# field → (accepted type, required)
FIELDS: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "id": (str, True), "category": (str, True), "questions": (list, True),
    "keywords": (list, True), "answer": (str, True), "citations": (list, True),
    "quote": (str, False), "other_sources": (list, False), "needs_person": (bool, True),
    "reviewed": (dt.date, False), "role": (str, False), "excerpt": (str, False), "basis": (dict, False),
    "provenance": (dict, False),
}
# An entry learned from an adviser's answer (bot/learning/drafts.py) says where it came from: the ticket,
# who wrote it, who reviewed and published it, and on which day.
PROVENANCE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "ticket": int, "author": str, "reviewer": str, "published": (dt.date, str)}
LIST_FIELDS = ("questions", "keywords", "citations", "other_sources")


class KnowledgeError(ValueError):
    """The knowledge base has errors; ``errors`` holds one line per error, naming file and entry."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(f"{len(errors)} knowledge error(s):\n" + "\n".join(errors))


# --- statutes -------------------------------------------------------------------------------

# Beside the statutes (written by scripts/import_statutes.py): laws we do not hold whose names end
# with a held law's name, one a line, # for comments.
NOT_HELD_FILE = "not_held.txt"
NOT_HELD_NAME = re.compile(r"^(?!" + LAW_PREFIX + r")[\u4e00-\u9fff]+" + NAME_END + "$")

@dataclass(frozen=True)
class Article:
    """One article of a law, verbatim as imported (see knowledge/statutes/PROVENANCE.md)."""

    law: str            # short name: the title without 中华人民共和国
    number: int
    label: str          # 第一千零七十九条
    chapter: str
    section: str
    text: str
    suffix: str = ""                  # 之一 for 第一百三十三条之一 (an article added by amendment)
    amended_by: str = ""              # the amendment applied on import, if any
    damage: tuple[str, ...] = ()      # signs the source text is garbled: never quoted to a villager

    @property
    def citation(self) -> str:
        return f"{self.law}第{self.number}条{self.suffix}"


@dataclass(frozen=True)
class Law:
    """One law's metadata; ``version_date`` is the date of the text we hold.

    A text applies from ``max(version_date, effective_date)`` to ``in_force_until`` (the last day,
    inclusive; empty: no end known). A text with an end date is one a revision replaces on the next
    day (商标法's 2019 text until 2026-12-31): held so it can be cited while it is the law, and
    refused, as a law not yet in force is, once it has lapsed.
    """

    law: str
    title: str
    version_date: str
    status: str
    in_force: bool                    # the text is not repealed or superseded (see in_force_on)
    provenance: Mapping[str, Any]
    path: str
    effective_date: str = ""          # when the text takes effect (a later date: adopted, not yet law)
    in_force_until: str = ""          # the last day the text applies (a revision takes over the day after)

    def starts_after(self, day: dt.date) -> bool:
        """Adopted but not yet in force on ``day``: the text cannot apply before it was adopted,
        nor before its effective date."""
        return max(self.version_date, self.effective_date) > day.isoformat()

    def ended_before(self, day: dt.date) -> bool:
        """The text no longer applies on ``day``: its last day has passed."""
        return bool(self.in_force_until) and self.in_force_until < day.isoformat()

    def in_force_on(self, day: dt.date | None = None) -> bool:
        day = day or today()
        return self.in_force and not self.starts_after(day) and not self.ended_before(day)

    def lapse_words(self, day: dt.date | None = None) -> str:
        """For a checker's error, when the text has lapsed on ``day``: " (the 2019-04-23 text, in
        force only until 2026-12-31)"; "" otherwise."""
        lapsed = self.ended_before(day or today())
        return f" (the {self.version_date} text, in force only until {self.in_force_until})" if lapsed else ""


@dataclass(frozen=True)
class FaqLink:
    """How villagers ask about some articles: an FAQ entry's phrasings and what it cites.

    Law search uses these so a colloquial question (借钱不还) finds the articles the vetted
    answer cites (民法典第667条), even when the article's own words are different.
    """

    entry_id: str
    citations: tuple[str, ...]
    quoted: str | None
    phrasings: tuple[str, ...]


class Statutes:
    """Every article we hold, looked up by canonical citation (民法典第1079条).

    ``not_held``: laws we do not hold whose names end with a held law's name (NOT_HELD_FILE), so
    that 高等教育法第5条 is read as what it is, not as 教育法第5条. ``glosses``: everyday questions
    written for single articles (bot/kb/glosses.py), for law search only; kept apart from the FAQ
    entries' ``links`` so nothing takes a gloss for an entry.
    """

    def __init__(self, laws: Iterable[Law], articles: Iterable[Article],
                 links: Iterable[FaqLink] = (), not_held: Iterable[str] = (), glosses: Iterable[Gloss] = (),
                 day: dt.date | None = None):
        self.laws: dict[str, Law] = {law.law: law for law in laws}
        self.day = day            # the day "in force" is judged on (None: today, township time)
        self.articles: list[Article] = list(articles)
        self.links: tuple[FaqLink, ...] = tuple(links)
        self.not_held: tuple[str, ...] = tuple(not_held)
        self.glosses: tuple[Gloss, ...] = tuple(glosses)
        self._by_citation = {a.citation: a for a in self.articles}

    def with_links(self, entries: Iterable["FaqEntry"], glosses: Iterable[Gloss] = ()) -> "Statutes":
        """The same articles, linked to the FAQ entries that cite them (and glossed)."""
        links = [FaqLink(e.id, e.citations, e.quoted, (*e.questions, *e.keywords))
                 for e in entries if e.citations]
        return Statutes(self.laws.values(), self.articles, links, self.not_held, glosses, self.day)

    def as_of(self, day: dt.date | None) -> "Statutes":
        """The same statutes judged on ``day`` (kb check --today, tests): a law's start and end
        dates decide against that day instead of the township's today."""
        if day == self.day:
            return self
        return Statutes(self.laws.values(), self.articles, self.links, self.not_held, self.glosses, day)

    def get(self, citation: str) -> Article | None:
        """The article for a canonical citation, or for any spelling parse_citation accepts."""
        found = self._by_citation.get(citation)
        if found is None:
            canonical = parse_citation(citation, self.laws, not_held=self.not_held)
            found = self._by_citation.get(canonical) if canonical else None
        return found

    def cite(self, text: str) -> str | None:
        """The citation the text asks for, read against these statutes' names (words before a
        held law's name dropped; another law's name kept, a listed one's as the list spells it)."""
        return parse_citation(text, known=self.laws, not_held=self.not_held)

    def mentions(self, text: str) -> list[str]:
        """Every law-and-article mention in prose, read as ``cite`` reads one."""
        return find_citations(text, known=self.laws, not_held=self.not_held)

    def held_within(self, name: str) -> str | None:
        """The held law a law's name ends with (高等教育法 → 教育法), if any."""
        return max((law for law in self.laws if name.endswith(law) and name != law), key=len, default=None)

    def law_of(self, article: Article) -> Law:
        return self.laws[article.law]

    def in_force(self, citation: str, on: dt.date | None = None) -> bool:
        """The article is held and its law's text is in force on ``on`` (default: ``day``, else
        today, township time): adopted, taken effect, not repealed, not lapsed."""
        article = self.get(citation)
        return article is not None and self.law_of(article).in_force_on(on or self.day)

    def lapse_words(self, citation: str) -> str:
        """For an error: that the held article's text lapsed before ``day`` ("" otherwise)."""
        article = self.get(citation)
        return self.law_of(article).lapse_words(self.day) if article else ""


def today() -> dt.date:
    """Today in the township (UTC+8): the date laws take effect by."""
    return dt.datetime.now(TOWNSHIP_TZ).date()


def article_notes(article: Article, law: Law, on: dt.date | None = None) -> list[str]:
    """What a reader must know besides the text: lapsed or lapsing, not yet in force, amended,
    garbled source."""
    notes = []
    if law.ended_before(on or today()):
        notes.append(lapsed_note(law))
    elif law.in_force_until:
        notes.append(f"现行文本，施行到{law.in_force_until}；之后施行修订后的新文本，条文和条号可能变了")
    if law.starts_after(on or today()):
        notes.append(f"尚未施行，自{law.effective_date}起施行")
    if article.amended_by:
        notes.append(f"本条已按{article.amended_by}修改")
    if article.damage:
        notes.append("数据来源中本条文字有错漏，请以官方文本为准")
    return notes


def lapsed_note(law: Law) -> str:
    """What a reader is told above a text that no longer applies: when it ended, that a revision
    replaced it (which we do not hold), and that it still governs what happened before."""
    return (f"已失效：这是{law.version_date}的文本，只施行到{law.in_force_until}，之后施行修订后的新文本"
            f"（条文和条号可能变了，这里还没有收）。本条只适用于在此之前发生的事；现在的规定请问村里的法律顾问")


def format_article(article: Article, law: Law, on: dt.date | None = None) -> str:
    """The article verbatim under a heading naming the law, chapter and version date."""
    place = " ".join(part for part in (article.chapter, article.section) if part)
    heading = f"《{law.title}》{article.label}（{article.citation}）"
    version = f"{place}；{law.version_date} 版本" if place else f"{law.version_date} 版本"
    notes = "".join(f"\n【{note}】" for note in article_notes(article, law, on))
    return f"{heading}\n{version}{notes}\n{article.text}"


def chinese_number(text: str) -> int | None:
    """一千零七十九 → 1079 (and "1079" → 1079); None for anything else."""
    if text.isdigit():
        return int(text)
    total, digit = 0, None
    for char in text:
        if char in CN_DIGITS:
            digit = CN_DIGITS[char]
        elif char in CN_UNITS:
            total += (1 if digit is None else digit) * CN_UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0)


def resolve_law(name: str, laws: Iterable[str] | None, known: Iterable[str] = (),
                not_held: Iterable[str] = ()) -> str | None:
    """The law a captured name ends with ("查民法典" → 民法典): the longest name that fits.

    With ``laws`` given, only those count (None for any other name). Without, the ``known``
    short names (a Statutes' ``laws``: the configured knowledge directory's) are looked for and
    any other name is kept as written, so a regulation's name is still recognised. A name in
    ``not_held`` (a Statutes' ``not_held``) is a law of its own, not the held law it ends with:
    None with ``laws``, else that name.
    """
    name = name.removeprefix(LAW_PREFIX)
    held = [law for law in (known if laws is None else laws) if name.endswith(law)]
    other = [law for law in not_held if name.endswith(law)]
    best = max(held + other, key=len, default=None)
    if best is None or best in other:
        return (best or name) if laws is None else None
    return best


def find_citations(text: str, laws: Iterable[str] | None = None, pattern: re.Pattern = MENTION,
                   known: Iterable[str] = (), not_held: Iterable[str] = ()) -> list[str]:
    """Every law-and-article mention in the text, canonical (``laws``, ``known``, ``not_held``:
    see resolve_law)."""
    laws = list(laws) if laws is not None else None
    known, not_held = list(known), list(not_held)
    found = []
    for match in pattern.finditer(text):
        law = resolve_law(match["law"], laws, known, not_held)
        number = chinese_number(match["num"])
        suffix = f"之{match['suffix']}" if match["suffix"] else ""
        if law and number:
            found.append(f"{law}第{number}条{suffix}")
    return found


def parse_citation(text: str, laws: Iterable[str] | None = None, known: Iterable[str] = (),
                   not_held: Iterable[str] = ()) -> str | None:
    """民法典1079 / 《中华人民共和国民法典》第一千零七十九条 → "民法典第1079条"; None if none.
    刑法133条之一 / 刑法第一百三十三条之一 → "刑法第133条之一".

    Pass ``laws`` (only these count) or ``known`` (these are looked for, others kept) — a
    Statutes' ``laws`` — to ignore words before the law's name ("查民法典1079"); ``not_held``:
    see resolve_law (Statutes.cite passes all of a Statutes' names).
    """
    found = find_citations(text.replace("\u3000", " "), laws, CITATION, known, not_held)
    return found[0] if found else None


def read_law(path: Path) -> tuple[Law, list[Article]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    law = Law(law=data["law"], title=data["title"], version_date=data["version_date"],
              status=data["status"], in_force=bool(data["in_force"]),
              provenance=data.get("provenance", {}), path=str(path),
              effective_date=data.get("effective_date", ""), in_force_until=data.get("in_force_until", ""))
    problem = end_date_problem(law)
    if problem:
        raise KnowledgeError([f"{shown_path(path, path.parent.parent)}: in_force_until {problem}"])
    articles = [Article(law=law.law, number=int(a["number"]), label=a["label"],
                        chapter=a.get("chapter", ""), section=a.get("section", ""), text=a["text"],
                        suffix=a.get("suffix", ""), amended_by=a.get("amended_by", ""),
                        damage=tuple(a.get("damage", ())))
                for a in data["articles"]]
    return law, articles


def end_date_problem(law: Law) -> str | None:
    """Why a law's ``in_force_until`` cannot be honoured (None: absent, or a date after its start):
    a misspelt date would compare as text and end or keep the law on the wrong day."""
    until = law.in_force_until
    if not until:
        return None
    if not DATE_PATTERN.match(until):
        return f"{until!r} must be a date like \"2026-12-31\""
    start = max(law.version_date, law.effective_date)
    return f"{until} is before the text takes effect ({start})" if until < start else None


def not_held_problem(name: str, held: Mapping[str, Law]) -> str | None:
    """Why a line of NOT_HELD_FILE is wrong (None: it is a short name of a law we do not hold)."""
    if not NOT_HELD_NAME.match(name):
        return "is not a law's short name (Chinese characters ending in 法, 条例 …, no 中华人民共和国)"
    if name in held:
        return "is held in statutes/: take it off the list"
    return None


def read_not_held(path: Path, held: Mapping[str, Law]) -> tuple[str, ...]:
    """The names in NOT_HELD_FILE (none if there is no file); a bad line raises KnowledgeError
    naming the file and line, as a broken statute would."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    named = [(number, line.strip()) for number, line in enumerate(lines, start=1)
             if line.strip() and not line.strip().startswith("#")]
    place = shown_path(path, path.parent.parent)   # knowledge/statutes/not_held.txt
    errors = [f"{place}:{number}: {name!r} {problem}" for number, name in named
              if (problem := not_held_problem(name, held))]
    if errors:
        raise KnowledgeError(errors)
    return tuple(name for _, name in named)


@lru_cache(maxsize=8)
def load_statutes(directory: str) -> Statutes:
    """All laws in ``directory`` and its list of laws not held (read once per process: the
    statutes never change at run time)."""
    laws, articles = [], []
    for path in sorted(Path(directory).glob("*.json")):
        law, law_articles = read_law(path)
        laws.append(law)
        articles.extend(law_articles)
    not_held = read_not_held(Path(directory) / NOT_HELD_FILE, {law.law: law for law in laws})
    return Statutes(laws, articles, not_held=not_held)


# --- FAQ entries ----------------------------------------------------------------------------

@dataclass(frozen=True)
class FaqEntry:
    """One vetted answer, with the ways villagers ask for it."""

    id: str
    category: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str
    citations: tuple[str, ...]
    quote: str | None
    other_sources: tuple[str, ...]
    needs_person: bool
    reviewed: dt.date | None
    source: str          # the file it came from, e.g. knowledge/faq/婚姻家庭.toml
    role: str | None = None       # victim | wrongdoer | creditor | debtor (one side of a matter)
    excerpt: str | None = None    # the sentence(s) of the quoted article the answer rests on
    basis: Mapping[str, str] = field(default_factory=dict)   # law → version_date reviewed against
    provenance: Mapping[str, Any] = field(default_factory=dict)   # learned entries: ticket, author, reviewer, published

    @property
    def quoted(self) -> str | None:
        """The citation quoted in the reply: ``quote``, else the first citation."""
        return self.quote or (self.citations[0] if self.citations else None)


@dataclass(frozen=True)
class Topic:
    """A topic of the township's scope (knowledge/scope.toml) that must have an entry."""

    id: str
    title: str
    articles: tuple[str, ...]


@dataclass
class KnowledgeBase:
    entries: list[FaqEntry]
    statutes: Statutes
    scope: list[Topic] = field(default_factory=list)
    directory: Path = field(default_factory=shipped_knowledge_dir)   # built in code without one: the shipped
    errors: list[str] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)   # ids of entries with errors

    def __post_init__(self) -> None:
        self.by_id: dict[str, FaqEntry] = {e.id: e for e in self.entries}
        self.replies: dict[tuple[int, int], tuple[FaqEntry, Any, str]] = {}   # compose_reply's memo

    def in_category(self, category: str) -> list[FaqEntry]:
        return [e for e in self.entries if e.category == category]


def knowledge_dir(config: Config, override: str | Path | None = None) -> Path:
    path = Path(override or config.app.knowledge_dir)
    return path if path.is_absolute() else PROJECT_ROOT / path


def shown_path(path: Path, base: Path) -> str:
    """A file as errors name it: knowledge/faq/借贷.toml (relative to the knowledge dir's parent)."""
    try:
        return str(path.relative_to(base.parent))
    except ValueError:
        return str(path)


def where(path: Path, base: Path, entry_id: str) -> str:
    """How an error names its place: knowledge/faq/借贷.toml [debt.unpaid_loan]."""
    return f"{shown_path(path, base)} [{entry_id}]"


def schema_errors(raw: Mapping[str, Any], place: str) -> list[str]:
    """Missing, unknown and mistyped fields of one raw entry."""
    errors = [f"{place}: unknown field {k!r}" for k in raw if k not in FIELDS]
    for name, (kind, required) in FIELDS.items():
        if name not in raw:
            errors += [f"{place}: missing field {name!r}"] if required else []
        elif not isinstance(raw[name], kind) or (kind is dt.date and isinstance(raw[name], dt.datetime)):
            errors.append(f"{place}: {name!r} must be {getattr(kind, '__name__', kind)}, "
                          f"got {type(raw[name]).__name__}")
        elif name in LIST_FIELDS and not all(isinstance(x, str) and x.strip() for x in raw[name]):
            errors.append(f"{place}: {name!r} must be a list of non-empty strings")
    return errors


def basis_format_errors(basis: Mapping[str, Any], place: str) -> list[str]:
    """``basis`` maps a law's short name to the version_date (YYYY-MM-DD) the entry was checked against."""
    return [f"{place}: basis {law!r} = {date!r} must be a date like \"2020-05-28\""
            for law, date in basis.items()
            if not (isinstance(date, dt.date) or (isinstance(date, str) and DATE_PATTERN.match(date)))]


def provenance_errors(provenance: Mapping[str, Any], place: str) -> list[str]:
    """``provenance`` names the ticket, author, reviewer and publication day, and nothing else."""
    errors = [f"{place}: provenance has unknown key {k!r}" for k in provenance if k not in PROVENANCE_FIELDS]
    for key, kind in PROVENANCE_FIELDS.items():
        value = provenance.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            errors.append(f"{place}: provenance {key!r} must be {getattr(kind, '__name__', 'a date')}")
    return errors


def value_errors(raw: Mapping[str, Any], place: str) -> list[str]:
    """Field values the schema's types alone cannot catch."""
    errors = basis_format_errors(raw.get("basis", {}), place) + provenance_errors(raw.get("provenance", {}), place)
    if raw.get("role", ROLES[0]) not in ROLES:
        errors.append(f"{place}: role {raw['role']!r} is not one of {', '.join(ROLES)}")
    if raw["citations"] and not raw.get("quote"):
        errors.append(f"{place}: quote is required when there are citations (the article the reply quotes)")
    if not ID_PATTERN.match(raw["id"]):
        errors.append(f"{place}: id {raw['id']!r} must look like area.topic (lower case, dots)")
    if raw["category"] not in CATEGORIES:
        errors.append(f"{place}: category {raw['category']!r} is not one of {', '.join(CATEGORIES)}")
    if len(raw["questions"]) < MIN_QUESTIONS:
        errors.append(f"{place}: needs at least {MIN_QUESTIONS} questions, has {len(raw['questions'])}")
    if not raw["answer"].strip():
        errors.append(f"{place}: answer is empty")
    if not raw["citations"] and raw["category"] not in UNCITED_CATEGORIES:
        errors.append(f"{place}: cites no article")
    return errors


def build_entry(raw: Mapping[str, Any], source: str) -> FaqEntry:
    return FaqEntry(
        id=raw["id"], category=raw["category"], questions=tuple(raw["questions"]),
        keywords=tuple(raw["keywords"]), answer=raw["answer"].strip(),
        citations=tuple(raw["citations"]), quote=raw.get("quote"),
        other_sources=tuple(raw.get("other_sources", ())), needs_person=raw["needs_person"],
        reviewed=raw.get("reviewed"), source=source, role=raw.get("role"),
        excerpt=raw["excerpt"].strip() if "excerpt" in raw else None,
        basis={law: str(date) for law, date in raw.get("basis", {}).items()},
        provenance=dict(raw.get("provenance", {})))


def read_entries(path: Path, base: Path) -> tuple[list[FaqEntry], list[str]]:
    """The well-formed entries of one file, and an error line for each malformed one."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [], [f"{where(path, base, '-')}: cannot parse: {exc}"]
    errors = [f"{where(path, base, '-')}: unknown top-level key {k!r}" for k in data if k != "entry"]
    entries = []
    raws = data.get("entry", [])
    if not isinstance(raws, list) or not all(isinstance(r, dict) for r in raws):
        return [], errors + [f"{where(path, base, '-')}: entries must be [[entry]] tables"]
    for number, raw in enumerate(raws, start=1):
        place = where(path, base, raw["id"] if isinstance(raw.get("id"), str) else f"entry #{number}")
        problems = schema_errors(raw, place) or value_errors(raw, place)
        errors += problems
        if not problems:
            entries.append(build_entry(raw, shown_path(path, base)))
    return entries, errors


def entry_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("faq/*.toml"), *directory.glob("local/*.toml")])


def read_scope(directory: Path) -> list[Topic]:
    path = directory / "scope.toml"
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Topic(t["id"], t["title"], tuple(t["articles"])) for t in data.get("topic", [])]


# --- composing a reply ----------------------------------------------------------------------

REPLIES_KEPT = 256   # replies compose_reply keeps beyond one per entry (drafts, other configs)


def fill_placeholders(text: str, local: Mapping[str, str]) -> str:
    """{service_centre} → the township's own value from config [local]; unknown keys stay."""
    return PLACEHOLDER.sub(lambda m: str(local.get(m[1], m[0])), text)


def shorten(text: str, budget: int, ellipsis: str = "……") -> str:
    """The text, or its longest prefix ending at a sentence (else clause) boundary + "……",
    fitting ``budget`` UTF-8 bytes. The cut is at a boundary so the quote stays verbatim."""
    if utf8_len(text) <= budget:
        return text
    room = budget - utf8_len(ellipsis)
    for marks in ("。；\n", "，：、"):
        cuts = [i + 1 for i, ch in enumerate(text) if ch in marks and utf8_len(text[:i + 1]) <= room]
        if cuts:
            return text[:max(cuts)].rstrip("，；：、\n") + ellipsis
    return text[:max(0, room // 3)] + ellipsis


def marked_excerpt(excerpt: str, text: str) -> str:
    """The excerpt with "……" where it leaves part of the article out (before it, after it), so
    items （一）（二） are not read as the whole list. Only the shown text is marked: the entry's
    excerpt, which kb check finds verbatim in the article, stays as written."""
    start = text.find(excerpt)
    if start < 0:
        return excerpt
    lead = "……" if start > 0 else ""
    trail = "……" if start + len(excerpt) < len(text) else ""
    return f"{lead}{excerpt}{trail}"


def shown_citation(article: Article) -> str:
    """How a villager reads the citation: 《民法典》第1042条, 《刑法》第133条之一 (the law's name in
    book-title marks, as on every official notice; the number in Arabic digits, short on a phone).
    Advisers find the canonical form (民法典第1042条) in `ask --json`, `kb dump --json` and the console."""
    return f"《{article.law}》第{article.number}条{article.suffix}"


def reply_frame(entry: FaqEntry, kb: KnowledgeBase, config: Config) -> tuple[str, str, str]:
    """The answer, the article header and the disclaimer line: everything but the quote."""
    answer = fill_placeholders(entry.answer, config.local)
    article = kb.statutes.get(entry.quoted) if entry.quoted else None
    header = f"【法条】{shown_citation(article)}：" if article else ""
    return answer, header, config.reply.disclaimer


def compose_reply(entry: FaqEntry, kb: KnowledgeBase, config: Config) -> str:
    """``composed_reply``, made once per entry and config: a pure function of them (and of the
    knowledge base's statutes), asked for every answered question. Kept on the knowledge base
    (a rebuilt one starts empty), under the two objects' identities: the kept entry and config
    are checked to be the very ones asked about (a console draft is another entry object with
    the same id), and at most ``REPLIES_KEPT`` replies beyond one per entry are held."""
    kept = getattr(kb, "replies", None)
    if kept is None:
        return composed_reply(entry, kb, config)
    key = (id(entry), id(config))
    found = kept.get(key)
    if found is not None and found[0] is entry and found[1] is config:
        return found[2]
    if len(kept) >= len(kb.entries) + REPLIES_KEPT:
        kept.clear()
    return kept.setdefault(key, (entry, config, composed_reply(entry, kb, config)))[2]


def composed_reply(entry: FaqEntry, kb: KnowledgeBase, config: Config) -> str:
    """Answer + blank line + 【法条】《法律》第N条：excerpt + disclaimer.

    The excerpt is the sentence the answer rests on, checked verbatim at load. An entry without
    one quotes its article from the start, cut at a sentence to ``reply.quote_max_bytes``: on a
    phone a long article buries the answer; ``legalbot law show`` and "查法条" give the whole text.

    Fits in config.reply.max_bytes UTF-8 bytes: WeChat's passive reply limit is 2048 bytes
    (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html).
    Documents outside statutes/ (other_sources) are already named in the answer's own words.
    """
    answer, header, disclaimer = reply_frame(entry, kb, config)
    article = kb.statutes.get(entry.quoted) if entry.quoted else None
    if article is None:
        return f"{answer}\n{disclaimer}"
    text = marked_excerpt(entry.excerpt, article.text) if entry.excerpt else None
    if not text:
        frame = f"{answer}\n\n{header}\n{disclaimer}"
        text = shorten(article.text, min(config.reply.max_bytes - utf8_len(frame), config.reply.quote_max_bytes))
    return f"{answer}\n\n{header}{text}\n{disclaimer}"


# --- checks across entries ------------------------------------------------------------------

def citation_errors(entry: FaqEntry, statutes: Statutes) -> list[str]:
    """Each citation canonical, held in statutes/, of a law in force; quote among them."""
    place = f"{entry.source} [{entry.id}]"
    errors = []
    for citation in entry.citations:
        canonical = statutes.cite(citation)
        if not CANONICAL.match(citation) or canonical != citation:
            hint = f" (write {canonical!r})" if canonical else ""
            errors.append(f"{place}: citation {citation!r} is not canonical{hint}")
        elif statutes.get(citation) is None:
            errors.append(f"{place}: citation {citation!r} is not in knowledge/statutes")
        elif not statutes.in_force(citation):
            errors.append(f"{place}: citation {citation!r} is of a law not in force{statutes.lapse_words(citation)}")
    if entry.quote is not None and entry.quote not in entry.citations:
        errors.append(f"{place}: quote {entry.quote!r} is not among its citations")
    quoted = statutes.get(entry.quoted) if entry.quoted else None
    if quoted is not None and quoted.damage:
        errors.append(f"{place}: quote {entry.quoted!r}: the source's text of this article is garbled "
                      f"({', '.join(quoted.damage)}); quote another article")
    return errors


def excerpt_place_error(excerpt: str, text: str) -> str | None:
    """Why the excerpt is not whole sentences of the article's text (None: it is)."""
    starts = [i for i in range(len(text)) if text.startswith(excerpt, i)]
    if not starts:
        matched = next((n for n in range(len(excerpt), 0, -1) if excerpt[:n] in text), 0)
        return (f"is not verbatim in the article: the first {matched} characters match, then "
                f"{excerpt[matched:matched + 10]!r} differs (full-width punctuation, same characters)")
    if not any(i == 0 or text[i - 1] in EXCERPT_STARTS_AFTER for i in starts):
        return "must start where a sentence starts (the article's start, a new paragraph, or after 。；：)"
    if not any(i + len(excerpt) == len(text) for i in starts) and excerpt[-1] not in EXCERPT_ENDS_WITH:
        return "must end with 。 or ；(or at the article's end)"
    return None


def excerpt_errors(entry: FaqEntry, statutes: Statutes) -> list[str]:
    """The excerpt is whole sentences copied from the quoted article, at most 150 characters."""
    if entry.excerpt is None:
        return []
    place = f"{entry.source} [{entry.id}]"
    article = statutes.get(entry.quoted) if entry.quoted else None
    if article is None:
        return [f"{place}: excerpt given but no quoted article to take it from"]
    if len(entry.excerpt) > EXCERPT_MAX_CHARS:
        return [f"{place}: excerpt is {len(entry.excerpt)} characters, at most {EXCERPT_MAX_CHARS}"]
    problem = excerpt_place_error(entry.excerpt, article.text)
    return [f"{place}: excerpt of {article.citation} {problem}"] if problem else []


def mention_errors(entry: FaqEntry, statutes: Statutes) -> list[str]:
    """An article named in the answer must be one we hold: no invented or regulation citations
    (a regulation or judicial interpretation is named in plain words, in other_sources)."""
    place = f"{entry.source} [{entry.id}]"
    return [f"{place}: answer names {c!r}, which is not an in-force article in knowledge/statutes"
            for c in statutes.mentions(entry.answer) if not statutes.in_force(c)]


def placeholder_errors(entry: FaqEntry, local: Mapping[str, str]) -> list[str]:
    place = f"{entry.source} [{entry.id}]"
    return [f"{place}: placeholder {{{key}}} is not a key of [local] in config.toml"
            for key in PLACEHOLDER.findall(entry.answer) if key not in local]


def length_errors(entry: FaqEntry, kb: KnowledgeBase, config: Config) -> list[str]:
    """The reply fits WeChat's limit and leaves the quoted article room for its first clause."""
    place = f"{entry.source} [{entry.id}]"
    limit = config.reply.max_bytes
    answer, header, disclaimer = reply_frame(entry, kb, config)
    frame = utf8_len(f"{answer}\n\n{header}\n{disclaimer}")
    if utf8_len(compose_reply(entry, kb, config)) > limit:
        return [f"{place}: reply is over {limit} bytes; shorten the answer"]
    if header and not entry.excerpt and limit - frame < MIN_QUOTE_BYTES:
        return [f"{place}: answer is too long ({utf8_len(answer)} bytes) to leave room for the "
                f"quoted article (needs {MIN_QUOTE_BYTES} bytes); shorten the answer"]
    return []


def duplicate_id_errors(entries: list[FaqEntry]) -> list[str]:
    """Each id names one entry (the matcher and the records refer to entries by id)."""
    errors, ids = [], {}
    for entry in entries:
        if entry.id in ids:
            errors.append(f"{entry.source} [{entry.id}]: id also used in {ids[entry.id]}")
        ids.setdefault(entry.id, entry.source)
    return errors


def entry_check(entry: FaqEntry, kb: KnowledgeBase, config: Config) -> list[str]:
    """The correctness checks: an entry failing any of them is never served."""
    errors = citation_errors(entry, kb.statutes) + placeholder_errors(entry, config.local)
    errors += mention_errors(entry, kb.statutes)
    errors += [] if errors else excerpt_errors(entry, kb.statutes)
    return errors or length_errors(entry, kb, config)


# --- loading --------------------------------------------------------------------------------

def read_knowledge(config: Config, directory: str | Path | None = None,
                   extra: Iterable[FaqEntry] = (), day: dt.date | None = None) -> KnowledgeBase:
    """Read everything, keeping the well-formed entries and every error (nothing raised).

    ``extra``: entries from elsewhere (published in the database, bot/learning/drafts.py), checked like the
    files' own; one whose id a file already uses is left out (it was exported into the files).
    ``day``: judge what is in force on that day (`kb check --today`); None: today, township time.
    """
    base = knowledge_dir(config, directory)
    entries, errors = [], []
    for path in entry_files(base):
        file_entries, file_errors = read_entries(path, base)
        entries += file_entries
        errors += file_errors
    in_files = {e.id for e in entries}
    entries += [e for e in extra if e.id not in in_files]
    from bot.kb.glosses import GLOSS_DIR, read_glosses   # it reads Statutes: imported here, not on top
    held = load_statutes(str(base / "statutes")).as_of(day)
    glosses, gloss_errors = read_glosses(base / GLOSS_DIR, held, base)
    statutes = held.with_links(entries, glosses)
    kb = KnowledgeBase(entries, statutes, read_scope(base), base)
    errors += duplicate_id_errors(entries) + gloss_errors
    for entry in entries:
        problems = entry_check(entry, kb, config)
        errors += problems
        kb.rejected |= {entry.id} if problems else set()
    kb.errors = errors
    return kb


def load_knowledge(config: Config, directory: str | Path | None = None, *,
                   strict: bool = True, extra: Iterable[FaqEntry] = ()) -> KnowledgeBase:
    """The knowledge base, validated; raises KnowledgeError on any broken entry when strict.

    Only correctness is checked here (citations held and in force, quote, excerpt, placeholders,
    length): what would make a reply wrong. The answer's shape, the review dates, scope coverage
    and the corrections register are `kb check`'s (bot/kb/kbcheck.py, run by `make test` and
    `make run`): an entry still being rewritten keeps being served meanwhile.
    """
    kb = read_knowledge(config, directory, extra)
    if strict and kb.errors:
        raise KnowledgeError(kb.errors)
    if kb.rejected:  # lenient: serve the good entries, never a wrong one
        kb.entries = [e for e in kb.entries if e.id not in kb.rejected]
        kb.by_id = {e.id: e for e in kb.entries}
    return kb
