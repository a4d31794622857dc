"""查法条: anyone may ask for an article by its citation and get it verbatim.

"查法条 民法典1079", "查法条 《民法典》第一千零七十九条" or a bare "民法典第1079条" all work.
The article may be longer than WeChat's 2048-byte reply; the webhook cuts it on a sentence
and keeps the rest for "更多", so the text is never altered. Voice arrives here as text:
handlers.voice re-dispatches the recognised words.

A villager rarely knows an article's number: "查法条 租的房子漏水房东不给修" is a question. Then
law search (bot.retrieval.lawsearch) finds a few articles, shown by citation and first sentence
with the way to read each in full; when it finds nothing (too little evidence, 你好) the usage
hint is the answer, as before.
"""
from __future__ import annotations

import logging
import re
from typing import Sequence

from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from bot.kb.knowledge import CITATION, Statutes, chinese_number, format_article, shown_citation, today
from bot.retrieval.lawsearch import LawHit, above_floor
from bot.retrieval.matcher import Decision
from handlers import add

log = logging.getLogger(__name__)

TRIGGER = re.compile(r"^\s*(?:查法条|查法律|查条文|法条)\s*[:：]?\s*(?P<query>.*)$", re.S)
ASK_ADVISER = "可以问村里的法律顾问。"
USAGE = "想看哪一条法律？请这样发：查法条 民法典1079（也可以写“民法典第1079条”）。"
SEARCH_HITS = 3           # a phone screen: three articles, each a line or two
EXCERPT_CHARS = 60        # an article's first sentence, cut here: three stay far under 2048 bytes
FOUND_LEAD = "和您说的事可能有关的法条："
FOUND_CAUTION = "这些法条是按字词找出来的，不一定合您的情况，" + ASK_ADVISER
SENTENCE_END = re.compile("[。；]")
PLAIN_CITATION = re.compile(r"(?P<law>.+)第(?P<number>\d+)条")


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
    A lookup is a command, not a consultation: nothing is counted for it. An article whose text
    does not apply today (not yet in force, lapsed) is still shown, under its note, but cited by
    nothing: every citation is in force; the reason names it and why."""
    article = statutes.get(query) if query else None
    if article is None:
        return Decision("fallback", reason="law lookup: no such article")
    if not statutes.in_force(article.citation):
        law = statutes.law_of(article)
        start = max(law.version_date, law.effective_date)
        why = law.lapse_words(statutes.day) or (f" (in force from {start})" if law.in_force else f" ({law.status})")
        return Decision("answer", score=1.0, reason=f"law lookup: {article.citation} shown, not in force{why}")
    return Decision("answer", score=1.0, citations=[article.citation], reason="law lookup")


def wants_search(query: str, statutes: Statutes) -> bool:
    """Words that are no citation at all: a question to search for. A named law with a bad
    number (民法典第9999条) is a citation still, and keeps its plain not-found answer; a law's
    name alone (查法条 民法典) asks which article, so it gets the usage hint, not a search."""
    return (bool(query) and statutes.get(query) is None and statutes.cite(query) is None
            and query.strip("《》 ").removeprefix("中华人民共和国") not in statutes.laws)


def first_sentence(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The article's opening up to its first 。 or ；, at most ``limit`` characters; "……" marks a
    cut, so nobody takes the part for the whole article."""
    flat = "".join(text.split())
    end = SENTENCE_END.search(flat)
    head = flat[:end.end()] if end else flat
    if len(head) > limit:
        return head[:limit] + "……"
    return head if len(head) == len(flat) else head[:-1] + "……"


def full_text_command(citation: str) -> str:
    """What to send to read the article in full; the short form (民法典712) is the easiest to type."""
    plain = PLAIN_CITATION.fullmatch(citation)
    return f"查法条 {plain['law']}{plain['number']}" if plain else f"查法条 {citation}"


def quotable(hits: Sequence[LawHit], statutes: Statutes) -> list[LawHit]:
    """Hits whose text may be quoted: a garbled source article is never shown in part (its full
    lookup carries the warning); an article we no longer hold is dropped."""
    articles = [statutes.get(hit.citation) for hit in hits]
    return [hit for hit, article in zip(hits, articles) if article is not None and not article.damage]


def hit_line(hit: LawHit, statutes: Statutes) -> str:
    """One found article: its citation in book-title form and its first sentence; a law not yet
    in force says from when, so nobody relies on it today."""
    article, law = statutes.get(hit.citation), statutes.laws[hit.law]
    pending = f"（自{law.effective_date}起施行）" if law.starts_after(today()) else ""
    return f"{shown_citation(article)}{pending}：{first_sentence(hit.text)}"


def search_text(hits: Sequence[LawHit], statutes: Statutes) -> str:
    """The reply to a question after 查法条: the articles found, how to read one whole, and that
    words alone found them. The caller sends USAGE when there are none."""
    lines = [hit_line(hit, statutes) for hit in hits]
    read = f"看全文请发“{full_text_command(hits[0].citation)}”这样的话。"
    return "\n".join([FOUND_LEAD, *lines, read, FOUND_CAUTION])


def search_decision(hits: Sequence[LawHit]) -> Decision:
    """For `legalbot ask --json`: articles found answer with their citations; none is a fallback."""
    if not hits:
        return Decision("fallback", reason="law lookup: search found nothing")
    return Decision("answer", score=hits[0].score, citations=[hit.citation for hit in hits],
                    reason="law lookup: articles found by search")


def searched(query: str, ctx: Context) -> list[LawHit]:
    """Law search's best articles for the question; none when it is unavailable, since the usage
    hint is still a fair answer."""
    try:
        return above_floor(ctx.services.law_index.search(query, k=SEARCH_HITS))
    except Exception:  # an aid: a lookup must answer without it
        log.warning("law search unavailable for 查法条", exc_info=True)
        return []


def search_reply(query: str, ctx: Context) -> Reply:
    statutes = ctx.services.knowledge.statutes
    hits = quotable(searched(query, ctx), statutes)
    text = search_text(hits, statutes) if hits else USAGE
    return Reply(text=text, handler="law_lookup", decision=search_decision(hits))


def law_lookup(incoming: Incoming, ctx: Context) -> Reply | None:
    query = lookup_query(incoming.text)
    if query is None:
        return None
    statutes = ctx.services.knowledge.statutes
    if wants_search(query, statutes):
        return search_reply(query, ctx)
    return Reply(text=lookup_text(query, statutes), handler="law_lookup",
                 decision=lookup_decision(query, statutes))


def register(registry: Registry) -> None:
    add(registry, "law_lookup", law_lookup, types={"text"})
