"""The console's 法条原文 page: a situation typed in everyday words finds its articles by meaning
(the ranked law search) above the verbatim word-match list; a citation still shows its article.
An article (and a law in the filter) whose text does not apply today says so, as 查法条 in chat
does; a pasted page of text is searched by its first characters only."""
from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from bot.app.console.auth import add_user
from bot.app.console.views import QUERY_MAX_CHARS
from bot.core.config import PROJECT_ROOT
from bot.kb.knowledge import load_statutes
from bot.retrieval.lawsearch import LawHit, above_floor
from handlers.lookup import lookup_text
from tests.test_console import PASSWORD, login

WAGES = "在工地上干了半年活，包工头一直拖着工钱不给"
LEAKING_ROOF = "租的房子屋顶漏雨，房东一直不来修"
STATUTES = PROJECT_ROOT / "knowledge" / "statutes"


@pytest.fixture
def staff(db):
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())


def statutes_page(client, **params) -> str:
    response = client.get("/console/statutes", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def by_meaning(page: str) -> list[str]:
    """The citations of the ranked section's cards, in the order shown."""
    section = re.search(r'<div id="by-meaning">(.*?)</div>', page, re.S)
    assert section, "the page has no 按意思 section"
    return re.findall(r'<section class="card"><h2>(\S+) <small>', section.group(1))


def all_cards(page: str) -> list[str]:
    return re.findall(r'<section class="card"><h2>(\S+) <small>', page)


def test_everyday_words_find_the_article_by_meaning(client, staff):
    login(client, "sifasuo")
    page = statutes_page(client, q=LEAKING_ROOF)
    assert "按意思找到的法条" in page and "民法典第712条" in by_meaning(page)
    assert "出租人应当履行租赁物的维修义务" in page            # the article's text, as the list shows it
    assert "没有条文含有这几个字" in page                        # no article holds the sentence verbatim


def test_the_ranked_section_keeps_the_search_order(client, staff, app):
    login(client, "sifasuo")
    expected = [hit.citation for hit in above_floor(app.extensions["legalbot"].law_index.search(WAGES, k=5))]
    shown = by_meaning(statutes_page(client, q=WAGES))
    assert shown == expected and "劳动合同法第30条" in shown


def test_a_chosen_law_filters_the_ranked_hits_too(client, staff):
    login(client, "sifasuo")
    page = statutes_page(client, q=WAGES, law="劳动法")
    shown = by_meaning(page)
    assert shown and all(citation.startswith("劳动法第") for citation in shown)
    assert "只列出《劳动法》的条文" in page


def test_a_citation_still_shows_its_article_first(client, staff):
    login(client, "sifasuo")
    page = statutes_page(client, q="民法典1079")
    assert all_cards(page)[0] == "民法典第1079条" and "感情确已破裂" in page
    assert 'id="by-meaning"' not in page                    # a citation is not searched by meaning


def test_small_talk_finds_nothing_by_meaning_and_keeps_the_word_list(client, staff):
    login(client, "sifasuo")
    page = statutes_page(client, q="你好")
    assert by_meaning(page) == []
    assert 'id="by-meaning-none"' in page and "按意思没有找到相关法条" in page
    assert 'id="by-words"' in page


def test_the_ranked_section_leaves_out_a_hit_far_below_the_first(client, staff, app):
    class Fixed:
        def search(self, query, k=5):
            return [LawHit(c, "民法典", "", "", score) for c, score in
                    (("民法典第712条", 0.6), ("民法典第713条", 0.3), ("民法典第708条", 0.01))]
    app.extensions["legalbot"].law_index = Fixed()       # an instance value wins over the live part
    login(client, "sifasuo")
    assert by_meaning(statutes_page(client, q=LEAKING_ROOF)) == ["民法典第712条", "民法典第713条"]


def test_a_failing_search_is_said_and_the_word_list_still_answers(client, staff, app):
    class Broken:
        def search(self, query, k=5):
            raise RuntimeError("index not built")
    app.extensions["legalbot"].law_index = Broken()      # an instance value wins over the live part
    login(client, "sifasuo")
    page = statutes_page(client, q="维修义务")
    assert by_meaning(page) == [] and "按意思查找暂时用不了" in page
    assert "民法典第712条" in all_cards(page)                 # found by its words


def test_the_statutes_page_needs_a_login(client, staff):
    response = client.get("/console/statutes", query_string={"q": LEAKING_ROOF})
    assert response.status_code == 302 and "/console/login" in response.location


# --- laws whose text does not apply today: each card and the law filter say so ------------

TODAY, LAST_DAY, FIRST_DAY_AFTER = dt.date(2026, 11, 30), dt.date(2026, 12, 31), dt.date(2027, 1, 1)


def on_day(monkeypatch, day: dt.date) -> None:
    """The township's today, as tests/test_statute_versions.py injects it."""
    monkeypatch.setattr("bot.kb.knowledge.today", lambda: day)


def card_notes(page: str, citation: str) -> list[str]:
    card = re.search(rf'<section class="card"><h2>{citation} <small>.*?</section>', page, re.S)
    assert card, f"no card for {citation}"
    return re.findall(r'<p class="flash warn article-note">(.*?)</p>', card.group(0), re.S)


def option_of(page: str, law: str) -> str:
    return re.search(rf'<option value="{law}"[^>]*>(.*?)</option>', page).group(1)


def chat_notes(query: str) -> list[str]:
    """The 【…】 lines 查法条 puts above the article in chat."""
    return re.findall(r"【(.*?)】", lookup_text(query, load_statutes(str(STATUTES))))


def test_an_article_not_yet_in_force_says_from_when_as_chat_does(client, staff, monkeypatch):
    on_day(monkeypatch, TODAY)
    login(client, "sifasuo")
    page = statutes_page(client, q="医疗保障法第1条")
    assert card_notes(page, "医疗保障法第1条") == ["尚未施行，自2027-01-01起施行"] == chat_notes("医疗保障法第1条")
    assert option_of(page, "医疗保障法") == "医疗保障法（56） 尚未施行（2027-01-01起施行）"


def test_a_text_with_a_last_day_says_when_it_ends_until_then(client, staff, monkeypatch):
    on_day(monkeypatch, LAST_DAY)
    login(client, "sifasuo")
    page = statutes_page(client, q="商标法第57条")
    assert card_notes(page, "商标法第57条") == ["现行文本，施行到2026-12-31；之后施行修订后的新文本，条文和条号可能变了"]
    assert card_notes(page, "商标法第57条") == chat_notes("商标法第57条")
    assert option_of(page, "商标法") == "商标法（73） 现行文本施行到2026-12-31"
    assert option_of(page, "医疗保障法") == "医疗保障法（56） 尚未施行（2027-01-01起施行）"


def test_from_2027_the_trademark_articles_say_they_have_lapsed(client, staff, monkeypatch):
    on_day(monkeypatch, FIRST_DAY_AFTER)
    login(client, "sifasuo")
    page = statutes_page(client, q="商标法第57条")
    (note,) = card_notes(page, "商标法第57条")
    assert note.startswith("已失效：这是2019-04-23的文本，只施行到2026-12-31") and [note] == chat_notes("商标法第57条")
    assert option_of(page, "商标法") == "商标法（73） 已失效（只适用于2027-01-01之前发生的事）"
    assert option_of(page, "医疗保障法") == "医疗保障法（56）"          # in force from that day: no note


def test_a_chosen_law_not_in_force_is_said_above_its_articles(client, staff, monkeypatch):
    on_day(monkeypatch, TODAY)
    login(client, "sifasuo")
    page = statutes_page(client, law="医疗保障法")
    assert '<p class="flash warn" id="law-note">《医疗保障法》尚未施行（2027-01-01起施行）。</p>' in page
    assert all(card_notes(page, c) == ["尚未施行，自2027-01-01起施行"] for c in all_cards(page))
    assert 'id="law-note"' not in statutes_page(client, law="民法典")


def test_an_article_in_force_carries_no_note(client, staff, monkeypatch):
    on_day(monkeypatch, TODAY)
    login(client, "sifasuo")
    page = statutes_page(client, q="民法典1079")
    assert card_notes(page, "民法典第1079条") == [] and option_of(page, "民法典") == "民法典（1260）"


# --- a long query: only its first characters are searched ---------------------------------

class Recording:
    """A law index that keeps the queries it is asked (and finds nothing)."""

    def __init__(self):
        self.queries: list[str] = []

    def search(self, query, k=5):
        self.queries.append(query)
        return []


def test_a_pasted_page_is_searched_by_its_first_characters_only_and_the_page_says_so(client, staff, app):
    index = app.extensions["legalbot"].law_index = Recording()
    login(client, "sifasuo")
    pasted = (LEAKING_ROOF + "，" + WAGES + "。") * 60                 # ~2,000 characters
    page = statutes_page(client, q=pasted)
    assert len(pasted) > 2 * QUERY_MAX_CHARS == 400
    assert index.queries == [pasted[:QUERY_MAX_CHARS]]
    assert f"只按前{QUERY_MAX_CHARS}个字查找" in page and 'id="query-cut"' in page
    assert f'value="{pasted[:QUERY_MAX_CHARS]}"' in page


def test_a_query_within_the_cap_is_searched_whole_without_a_word_about_it(client, staff, app):
    index = app.extensions["legalbot"].law_index = Recording()
    login(client, "sifasuo")
    page = statutes_page(client, q=WAGES)
    assert index.queries == [WAGES] and 'id="query-cut"' not in page
