"""查法条: anyone may ask for an article by its citation and get it verbatim.

"查法条 民法典1079", "查法条 《民法典》第一千零七十九条" or a bare "民法典第1079条" all work.
The article may be longer than WeChat's 2048-byte reply; the webhook cuts it on a sentence
and keeps the rest for "更多", so the text is never altered. Voice arrives here as text:
handlers.voice re-dispatches the recognised words.
"""
from __future__ import annotations

import re

from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from bot.kb.knowledge import CITATION, Statutes, chinese_number, format_article
from bot.retrieval.matcher import Decision
from handlers import add

TRIGGER = re.compile(r"^\s*(?:查法条|查法律|查条文|法条)\s*[:：]?\s*(?P<query>.*)$", re.S)
ASK_ADVISER = "可以问村里的法律顾问。"
USAGE = "想看哪一条法律？请这样发：查法条 民法典1079（也可以写“民法典第1079条”）。"


def lookup_query(text: str) -> str | None:
    """What the villager wants looked up, or None when the message is not a lookup."""
    match = TRIGGER.match(text or "")
    if match:
        return match["query"].strip()
    bare = (text or "").strip()
    return bare if bare and CITATION.fullmatch(bare) else None


def lookup_text(query: str, statutes: Statutes) -> str:
    """The article verbatim with its law, chapter and version, or a plain word on what we hold."""
    article = statutes.get(query) if query else None
    if article is not None:
        return format_article(article, statutes.law_of(article))
    named = statutes.cite(query) if query else None
    return not_found_text(named, statutes) if named else USAGE


def not_found_text(named: str, statutes: Statutes) -> str:
    """Why "named" (a citation) is not shown: the law has no such article, the law is one we do
    not hold though a held one's name ends its name (高等教育法, 教育法), or we do not hold it."""
    law = named[:named.rindex("第")]
    if law in statutes.laws:
        return f"没有查到“{named}”：{missing_article(named, law, statutes)}{ASK_ADVISER}"
    held = statutes.held_within(law) if law in statutes.not_held else None
    if held:
        return f"没有查到“{named}”：这里收了《{held}》，还没有收《{law}》。{ASK_ADVISER}"
    return f"没有查到“{named}”。这里收的是民法典和常用的几十部法律，法规和司法解释还没有收进来。{ASK_ADVISER}"


def missing_article(named: str, law: str, statutes: Statutes) -> str:
    """Why a held law has no such article: an amendment deleted it (刑法第199条), or the number is
    past its last article or a slip."""
    deleted = statutes.laws[law].provenance.get("deleted_articles", ())
    if any(f"{law}第{chinese_number(label.strip('第条'))}条" == named for label in deleted):
        return f"这一条已经被删除，现行的《{law}》里没有了。"
    last = max(a.number for a in statutes.articles if a.law == law)
    return f"《{law}》里没有这一条（最后一条是第{last}条），请核对条号。"


def lookup_decision(query: str, statutes: Statutes) -> Decision:
    """For `legalbot ask --json`: an article found is an answer citing it; else a fallback.
    A lookup is a command, not a consultation: nothing is counted for it."""
    article = statutes.get(query) if query else None
    if article is None:
        return Decision("fallback", reason="law lookup: no such article")
    return Decision("answer", score=1.0, citations=[article.citation], reason="law lookup")


def law_lookup(incoming: Incoming, ctx: Context) -> Reply | None:
    query = lookup_query(incoming.text)
    if query is None:
        return None
    statutes = ctx.services.knowledge.statutes
    return Reply(text=lookup_text(query, statutes), handler="law_lookup",
                 decision=lookup_decision(query, statutes))


def register(registry: Registry) -> None:
    add(registry, "law_lookup", law_lookup, types={"text"})
