"""The console's 法条原文 page: a situation typed in everyday words finds its articles by meaning
(the ranked law search) above the verbatim word-match list; a citation still shows its article."""
from __future__ import annotations

import re
import time

import pytest

from bot.app.console.auth import add_user
from bot.retrieval.lawsearch import LawHit, above_floor
from tests.test_console import PASSWORD, login

WAGES = "在工地上干了半年活，包工头一直拖着工钱不给"
LEAKING_ROOF = "租的房子屋顶漏雨，房东一直不来修"


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
