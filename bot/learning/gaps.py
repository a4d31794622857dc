"""What the knowledge base lacks: the questions it could not answer, grouped by wording.

Staff read this to decide which entries to write next (the console's 未答上的问题 page and
`legalbot stats --gaps`). A gap is a question the bot fell back on, or handed to a person with no
entry to give first (a consultation with action fallback or escalate and no ``faq_id``). Urgent
ones are not gaps: they go to a person whatever the knowledge base says. Test traffic is left
out unless asked for, as in every count.

Questions are grouped by wording (``group``): one pass, most frequent wording first, each
question joining the group whose first question shares most of its informative words — weighted
by how rare each word is, legal synonyms included (欠钱 meets 借款) — or starting a new one. A
group never grows by chaining: a question is judged against a group's first question only. Only
scrubbed text (bot.core.privacy.scrub_text) leaves this module.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from bot.core import text as tx
from bot.core.periods import Period

SIMILAR = 0.5           # least likeness (0–1) for a question to join a group
EXAMPLES = 3
GAPS_SQL = """
SELECT c.id, c.asked_at, c.question, c.action, COALESCE(c.category, t.category) AS category,
       t.id AS ticket_id, t.question AS ticket_question, t.status AS ticket_status
FROM consultations c
LEFT JOIN tickets t ON t.id = (SELECT MIN(t2.id) FROM tickets t2 WHERE t2.consultation_id = c.id
                               AND t2.status NOT IN ('draft', 'cancelled'))
WHERE c.action IN ('fallback', 'escalate') AND (c.faq_id IS NULL OR c.faq_id = '') AND c.purged = 0
  AND c.asked_at >= ? AND c.asked_at < ? AND (? OR c.is_test = 0)
ORDER BY c.asked_at, c.id
"""


@dataclass(frozen=True)
class Asked:
    """One question the bot could not answer."""

    consultation_id: int
    asked_at: float
    text: str                       # as the villager wrote it (never shown)
    category: str | None = None
    ticket_id: int | None = None
    answered: bool = False          # its ticket has the adviser's answer (a draft can be made)


@dataclass
class Gap:
    """Questions worded alike, the first one the group's wording."""

    questions: list[Asked] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def category(self) -> str | None:
        found = Counter(q.category for q in self.questions if q.category)
        return found.most_common(1)[0][0] if found else None

    @property
    def last_asked(self) -> float:
        return max(q.asked_at for q in self.questions)


@dataclass(frozen=True)
class Wording:
    """What a question is compared by: its informative words, each with how much it says (a
    word rare in jieba's dictionary, 毒死 or 宅基地, far more than a common one, 谁, 找, 人, by
    inverse frequency), and its compact characters."""

    weights: dict[str, float]
    chars: str

    @property
    def words(self) -> frozenset[str]:
        return frozenset(self.weights)

    def weight(self, words: Iterable[str]) -> float:
        return sum(self.weights[w] for w in words)


def compact(question: str) -> str:
    """The question normalized, chatter (转人工, 你好) and spaces taken out."""
    from bot.retrieval.lawsearch import CHATTER
    return CHATTER.sub(" ", tx.normalize(question)).replace(" ", "")


def wording(question: str, words: tx.Dictionaries) -> Wording:
    """The question read with a knowledge directory's dictionaries ``words``."""
    from bot.retrieval.lawsearch import CHATTER
    normalized = CHATTER.sub(" ", tx.normalize(question)).strip()
    heads = [group[0] for group in words.word_groups(normalized)]
    tk = words.tokenizer
    weights = {w: math.log(tk.total / ((tk.FREQ.get(w) or 0) + 1)) for w in words.expand(heads)}
    return Wording(weights, normalized.replace(" ", ""))


def likeness(a: Wording, b: Wording) -> float:
    """0–1: 1 for the same characters; else the share of the words' weight they have in common
    (weighted Dice: 毒死 and 牛 shared say more than 谁 and 找)."""
    if a.chars == b.chars:
        return 1.0
    total = a.weight(a.words) + b.weight(b.words)
    return 2 * a.weight(a.words & b.words) / total if total else 0.0


def group(questions: Iterable[Asked], words: tx.Dictionaries, similar: float = SIMILAR) -> list[Gap]:
    """The questions in groups of like wording, the largest group first (then the latest)."""
    items = [(q, wording(q.text, words)) for q in questions]
    items = [(q, w) for q, w in items if w.chars]
    frequency = Counter(w.chars for _, w in items)
    items.sort(key=lambda pair: (-frequency[pair[1].chars], pair[0].asked_at))
    leads: list[tuple[Gap, Wording]] = []
    index: dict[str, list[int]] = {}          # a word, or a whole wording → the groups led by it
    for question, words in items:
        best = best_group(words, leads, index, similar)
        if best is None:
            for key in (*words.words, words.chars):
                index.setdefault(key, []).append(len(leads))
            leads.append((Gap([question]), words))
        else:
            leads[best][0].questions.append(question)
    return sorted((g for g, _ in leads), key=lambda g: (-g.count, -g.last_asked))


def best_group(words: Wording, leads: list[tuple[Gap, Wording]], index: dict[str, list[int]],
               similar: float) -> int | None:
    """The group whose first question this one is most like, if like enough; only the groups
    sharing a word (or the whole wording) with it are looked at."""
    candidates = {n for key in (*words.words, words.chars) for n in index.get(key, ())}
    scored = sorted(((likeness(words, leads[n][1]), -n) for n in candidates), reverse=True)
    return -scored[0][1] if scored and scored[0][0] >= similar else None


# ---- from the records ---------------------------------------------------------------------------

def unanswered(db, period: Period = Period(), include_test: bool = False) -> list[Asked]:
    """The consultations the bot could not answer in ``period``: their question, or the story
    told for the hand-over when the question was only "转人工"."""
    start, end = period.bounds()
    rows = db.execute(GAPS_SQL, [start, min(end, 1e12), int(include_test)])
    names = [c[0] for c in rows.description]
    found = []
    for row in (dict(zip(names, r)) for r in rows.fetchall()):
        asked = row["question"] or ""
        if not compact(asked) and row["ticket_question"]:
            asked = row["ticket_question"]
        found.append(Asked(row["id"], row["asked_at"], asked, row["category"], row["ticket_id"],
                           row["ticket_status"] in ("answered", "delivered", "closed")))
    return found


def gaps_json(gaps: list[Gap], keep: tuple[str, ...], words: tx.Dictionaries,
              decide: Callable[[str], str | None] | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """The groups as `stats --gaps --json` prints them: counts, scrubbed examples (names found
    with the dictionaries ``words``), category, tickets, and (with ``decide``) the entry that
    would answer the wording now, if any."""
    from bot.core.privacy import scrub_text
    out = []
    for gap in gaps[:limit]:
        examples = list(dict.fromkeys(scrub_text(q.text, keep, words) for q in gap.questions))
        lead = gap.questions[0].text
        out.append({"count": gap.count, "question": examples[0], "examples": examples[1:EXAMPLES + 1],
                    "category": gap.category, "last_asked": gap.last_asked,
                    "tickets": [q.ticket_id for q in gap.questions if q.ticket_id is not None],
                    "answered_tickets": [q.ticket_id for q in gap.questions if q.answered],
                    "answered_now_by": decide(lead) if decide else None})
    return out


def answering_entry(services) -> Callable[[str], str | None]:
    """The entry the bot would answer a question with now (None: it still could not)."""
    def decide(question: str) -> str | None:
        decision = services.matcher.decide(question)
        return decision.faq_id if decision.action == "answer" else None
    return decide
