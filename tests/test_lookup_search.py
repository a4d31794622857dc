"""查法条 followed by a question, not a citation: law search's articles, each with the way to read
it whole; a citation still gets its article verbatim; small talk after 查法条 gets the usage hint."""
from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import pytest

from bot.core.config import PROJECT_ROOT
from bot.kb.knowledge import load_statutes
from bot.retrieval.lawsearch import LawHit
from handlers.lookup import (FOUND_LEAD, USAGE, first_sentence, full_text_command, lookup_query,
                             quotable, search_reply, search_text, wants_search)
from tests.test_cli_ask import ask_json  # noqa: F401  (the fixture: `legalbot ask --json` in-process)

LEAKING_ROOF = "查法条 租的房子漏水房东不给修"
SHOWN = re.compile(r"^《(?P<law>[^》]+)》(?P<article>第\d+条(?:之[一二三四五六七八九十]+)?)：(?P<excerpt>.+)$")
COMMAND = re.compile(r"“(查法条 [^”]+)”")


@pytest.fixture(scope="module")
def statutes():
    return load_statutes(str(PROJECT_ROOT / "knowledge" / "statutes"))


def shown_articles(reply: str) -> list[re.Match]:
    return [m for m in map(SHOWN.match, reply.splitlines()) if m]


def hit_of(article) -> LawHit:
    return LawHit(citation=article.citation, law=article.law, article=article.label, text=article.text, score=0.5)


def test_a_question_after_chafatiao_lists_held_articles_quoted_from_their_start(wechat, statutes):
    reply = wechat.say(LEAKING_ROOF)
    found = shown_articles(reply)
    assert reply.startswith(FOUND_LEAD) and 1 <= len(found) <= 3
    for match in found:
        article = statutes.get(match["law"] + match["article"])
        assert article is not None and not article.damage
        assert "".join(article.text.split()).startswith(match["excerpt"].removesuffix("……"))
    assert any("租赁" in statutes.get(m["law"] + m["article"]).chapter for m in found)
    assert "村里的法律顾问" in reply and len(reply.encode()) < 2048


def test_the_way_to_read_a_found_article_whole_returns_it_verbatim(wechat, statutes):
    reply = wechat.say(LEAKING_ROOF)
    [command] = COMMAND.findall(reply)
    first = shown_articles(reply)[0]
    article = statutes.get(first["law"] + first["article"])
    full = wechat.say(command)
    assert full.startswith(f"《中华人民共和国{article.law}》{article.label}") and article.text in full


def test_a_citation_after_chafatiao_still_returns_the_article_not_a_search(wechat, statutes):
    reply = wechat.say("查法条 民法典第712条")
    assert reply.startswith("《中华人民共和国民法典》第七百一十二条") and statutes.get("民法典第712条").text in reply
    assert FOUND_LEAD not in reply
    assert wechat.say("查法条 民法典第9999条").startswith("没有查到“民法典第9999条”")
    assert not wants_search("民法典第9999条", statutes) and not wants_search("高等教育法第5条", statutes)


@pytest.mark.parametrize("message", ["查法条 你好", "查法条 谢谢", "查法条", "查法条："])
def test_small_talk_or_nothing_after_chafatiao_gets_the_usage_hint(wechat, message):
    assert wechat.say(message) == USAGE


@pytest.mark.parametrize("message", ["查法条 民法典", "查法条 《劳动合同法》", "查法条 中华人民共和国刑法"])
def test_a_law_name_alone_after_chafatiao_asks_which_article(wechat, message):
    assert wechat.say(message) == USAGE


def test_three_of_the_longest_articles_still_fit_one_reply(statutes):
    longest = sorted(statutes.articles, key=lambda a: len(a.text), reverse=True)[:3]
    reply = search_text([hit_of(a) for a in longest], statutes)
    assert len(reply.encode()) < 1024 and all(len(m["excerpt"]) <= 62 for m in shown_articles(reply))


@pytest.mark.parametrize("text,excerpt", [
    ("出租人应当履行租赁物的维修义务，但是当事人另有约定的除外。", "出租人应当履行租赁物的维修义务，但是当事人另有约定的除外。"),
    ("承租人在租赁物需要维修时可以请求维修。出租人未履行维修义务的，承租人可以自行维修。",
     "承租人在租赁物需要维修时可以请求维修……"),
    ("有下列情形之一的，应当准予离婚：\n（一）重婚；\n（二）家庭暴力。", "有下列情形之一的，应当准予离婚：（一）重婚……"),
    ("甲" * 80 + "。", "甲" * 60 + "……"),
])
def test_an_excerpt_is_the_first_sentence_marked_when_cut(text, excerpt):
    assert first_sentence(text) == excerpt


def test_every_articles_read_in_full_command_finds_that_article(statutes):
    for article in statutes.articles:
        query = lookup_query(full_text_command(article.citation))
        assert statutes.get(query) == article, article.citation


def test_a_garbled_article_is_never_quoted_in_part(statutes):
    garbled = next(a for a in statutes.articles if a.damage)
    sound = statutes.get("民法典第712条")
    assert [h.citation for h in quotable([hit_of(garbled), hit_of(sound)], statutes)] == ["民法典第712条"]


def test_ask_json_shows_what_the_webhook_answers_to_chafatiao(ask_json, wechat):  # noqa: F811
    texts = [LEAKING_ROOF, "查法条 你好", "查法条 民法典712"]
    rows = ask_json(texts)
    for number, (text, row) in enumerate(zip(texts, rows)):
        assert wechat.say(text, openid=f"oLookup{number:03d}") == row["reply"], text
    searched = rows[0]
    assert searched["action"] == "answer" and searched["citations"]
    assert searched["citations"] == [m["law"] + m["article"] for m in shown_articles(searched["reply"])]
    assert (rows[1]["action"], rows[1]["reply"]) == ("fallback", USAGE)
    assert rows[2]["citations"] == ["民法典第712条"]


class FixedIndex:
    """A law index that finds the same hits for any question (the floor is what is tested)."""

    def __init__(self, hits):
        self.hits = hits

    def search(self, query, k=5):
        return self.hits[:k]


def test_chafatiao_leaves_out_a_hit_far_below_the_first(statutes):
    strong, next_best, weak = (statutes.get(c) for c in ("民法典第712条", "民法典第713条", "民法典第708条"))
    hits = [replace(hit_of(strong), score=0.6), replace(hit_of(next_best), score=0.3),
            replace(hit_of(weak), score=0.01)]
    services = SimpleNamespace(law_index=FixedIndex(hits), knowledge=SimpleNamespace(statutes=statutes))
    reply = search_reply("房东不给修", SimpleNamespace(services=services))
    shown = [m["law"] + m["article"] for m in shown_articles(reply.text)]
    assert shown == ["民法典第712条", "民法典第713条"]
    assert reply.decision.citations == shown
