"""`legalbot ask --json` on a 查法条 lookup of an article whose text does not apply today: the
webhook shows the article under its note (尚未施行 / 已失效), and the dry run says the same thing
— the reply is the webhook's, and no citation names a text not in force (the reason does)."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.core.config import PROJECT_ROOT
from bot.kb.knowledge import load_statutes
from handlers.lookup import lookup_decision
from tests.test_cli_ask import ask_json  # noqa: F401 (fixture)

STATUTES = PROJECT_ROOT / "knowledge" / "statutes"
TODAY, FIRST_DAY_AFTER = dt.date(2026, 11, 30), dt.date(2027, 1, 1)


@pytest.fixture
def on_day(monkeypatch):
    def set_day(day: dt.date) -> None:
        monkeypatch.setattr("bot.kb.knowledge.today", lambda: day)
    return set_day


def test_a_lookup_of_a_law_not_yet_in_force_cites_nothing_and_says_why(ask_json, on_day):
    on_day(TODAY)
    [row] = ask_json(["医疗保障法1"])
    assert (row["action"], row["citations"]) == ("answer", [])
    assert row["reason"] == "law lookup: 医疗保障法第1条 shown, not in force (in force from 2027-01-01)"
    assert "【尚未施行，自2027-01-01起施行】" in row["reply"]


def test_from_2027_a_lookup_of_the_lapsed_trademark_text_cites_nothing(ask_json, on_day):
    on_day(FIRST_DAY_AFTER)
    [row] = ask_json(["商标法57"])
    assert (row["action"], row["citations"]) == ("answer", [])
    assert row["reason"] == ("law lookup: 商标法第57条 shown, not in force "
                             "(the 2019-04-23 text, in force only until 2026-12-31)")
    assert "【已失效：这是2019-04-23的文本，只施行到2026-12-31" in row["reply"]


def test_until_its_last_day_the_trademark_text_is_cited_as_before(ask_json, on_day):
    on_day(dt.date(2026, 12, 31))
    [row] = ask_json(["商标法57"])
    assert (row["action"], row["citations"], row["reason"]) == ("answer", ["商标法第57条"], "law lookup")


@pytest.mark.parametrize("day", [TODAY, FIRST_DAY_AFTER])
def test_ask_and_the_webhook_give_the_same_reply_and_every_cited_article_is_in_force(ask_json, on_day, wechat, day):
    on_day(day)
    texts = ["查法条 医疗保障法1", "商标法57", "查法条 民法典1079"]
    rows = ask_json(texts)
    for number, (text, row) in enumerate(zip(texts, rows)):
        assert wechat.say(text, openid=f"oLookupDay{number:03d}") == row["reply"], text
    held = load_statutes(str(STATUTES))
    cited = [c for row in rows for c in row["citations"]]
    assert "民法典第1079条" in cited and all(held.in_force(c, on=day) for c in cited)


def test_the_decision_judges_on_the_statutes_own_day():
    held = load_statutes(str(STATUTES))
    assert lookup_decision("商标法第57条", held.as_of(FIRST_DAY_AFTER)).citations == []
    assert lookup_decision("商标法第57条", held.as_of(TODAY)).citations == ["商标法第57条"]
    assert lookup_decision("医疗保障法第1条", held.as_of(FIRST_DAY_AFTER)).citations == ["医疗保障法第1条"]
