"""The handlers' shortcuts (the work before the question handler and around the matcher) give
exactly what the longer way gave: the category of a hand-over without law search when its votes
cannot change the winner, small talk told from a question without cutting it, the escalation
rules' first look, and the handlers that no longer read every text."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.text import normalize
from bot.retrieval import categories
from bot.retrieval.lexicons import default_lexicons
from handlers import clarify, mediation, unknown, village

CATEGORIES = ["婚姻家庭", "土地与宅基地", "劳动用工", "借贷与合同", "邻里纠纷"]


@dataclass(frozen=True)
class Candidate:
    faq_id: str
    score: float


@dataclass(frozen=True)
class Hit:
    citation: str
    law: str
    score: float


class LawIndex:
    """Law search that answers fixed hits and counts how often it was asked."""

    def __init__(self, hits):
        self.hits, self.asked = hits, 0

    def search(self, question, k):
        self.asked += 1
        return self.hits[:k]


def services_with(hits):
    entries = [SimpleNamespace(id=f"e{n}", category=CATEGORIES[n % len(CATEGORIES)],
                               citations=[f"法{n % 4}第{n}条"]) for n in range(10)]
    kb = SimpleNamespace(entries=entries, statutes={})
    return SimpleNamespace(knowledge=kb, law_index=LawIndex(hits))


def every_vote(services, question, candidates, rule_category=None):
    """``categories.infer`` as it was: law search asked for every question."""
    cmap = categories.category_map(services.knowledge)
    votes: Counter = Counter()
    for candidate in candidates[:categories.CANDIDATES]:
        category = cmap.by_entry.get(candidate.faq_id)
        if category:
            votes[category] += max(candidate.score, 0.0)
    for category, weight in categories.law_votes(services, cmap, question):
        votes[category] += weight
    if rule_category:
        votes[rule_category] += categories.RULE_WEIGHT
    return votes.most_common(1)[0][0] if votes and votes.most_common(1)[0][1] > 0 else None


candidates_st = st.lists(st.builds(Candidate, st.sampled_from([f"e{n}" for n in range(10)] + ["gone"]),
                                   st.floats(-0.2, 1.0)), max_size=5)
hits_st = st.lists(st.builds(Hit, st.sampled_from([f"法{n % 4}第{n}条" for n in range(10)] + ["法9第1条"]),
                             st.sampled_from(["法0", "法1", "法2", "法3", "法9"]), st.floats(0.0, 1.0)),
                   max_size=3).map(lambda hits: sorted(hits, key=lambda h: -h.score))


@settings(max_examples=400, deadline=None)
@given(candidates_st, hits_st, st.sampled_from([None, *CATEGORIES]))
def test_a_category_is_the_one_every_vote_gives(candidates, hits, rule):
    assert categories.infer(services_with(hits), "问题", candidates, rule) == \
        every_vote(services_with(hits), "问题", candidates, rule)


def test_law_search_is_asked_only_when_its_votes_could_change_the_winner():
    hits = [Hit("法1第1条", "法1", 1.0), Hit("法1第6条", "法1", 0.9), Hit("法1第11条", "法1", 0.8)]
    clear = services_with(hits)
    assert categories.infer(clear, "问题", [Candidate("e0", 0.9)]) == "婚姻家庭"
    assert clear.law_index.asked == 0
    close = services_with(hits)               # 0.4 ahead: three hits for another category could pass it
    assert categories.infer(close, "问题", [Candidate("e0", 0.4)]) == every_vote(services_with(hits), "问题", [Candidate("e0", 0.4)])
    assert close.law_index.asked == 1


TRIGGERS = default_lexicons().triggers
WORDS = default_lexicons().dictionaries
SMALL_TALK = [p for chat in TRIGGERS.chitchat for p in chat.lexicon.phrases]
STOPWORDS = sorted(WORDS.stopwords)


def cut_small_talk(text):
    """``Triggers.small_talk`` as it was: what is left always cut into words."""
    rest, first = text, None
    for chat in TRIGGERS.chitchat:
        for phrase in chat.lexicon.phrases:
            if phrase in rest:
                first = first or chat
                rest = rest.replace(phrase, " ")
    if first is None or any(WORDS.is_content(w) and w.strip() for w in WORDS.segment(rest)):
        return None
    return first


pieces = st.one_of(st.sampled_from(SMALL_TALK), st.sampled_from(STOPWORDS), st.sampled_from(list("0123456789.% ")),
                   st.sampled_from(["借钱", "离婚", "的", "吗", "彩礼", "呢", "12.5%", "a", "啊啊"]))


@settings(max_examples=600, deadline=None)
@given(st.lists(pieces, min_size=1, max_size=6))
def test_small_talk_is_told_as_when_every_word_was_cut(parts):
    text = normalize("".join(parts))
    assert TRIGGERS.small_talk(text) == cut_small_talk(text)


@pytest.mark.parametrize("text", ["你好", "谢谢 你好", "你好 在吗", "好的 谢谢了", "你好 借钱不还怎么办",
                                  "谢谢 1", "你好。", "你是谁呀", "hello 123"])
def test_small_talk_examples_are_read_as_before(text):
    assert TRIGGERS.small_talk(normalize(text)) == cut_small_talk(normalize(text))


def every_cue(text):
    """The escalation rules' first look as it was: each position of the text tried."""
    cues = TRIGGERS.cues
    return any(text.startswith(word, at) for at, char in enumerate(text) for word in cues.by_first.get(char, ())) \
        or any(p.search(text) for p in cues.patterns)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([w for ws in TRIGGERS.cues.by_first.values() for w in ws]),
                          st.sampled_from(STOPWORDS), st.text("被法院我的了抓打钱 ", max_size=4)), max_size=5))
def test_the_first_look_finds_a_cue_exactly_when_one_is_there(parts):
    text = "".join(parts)
    assert TRIGGERS.cues.in_text(text) == every_cue(text)


def test_the_faq_view_reads_no_escalation_rule():
    assert TRIGGERS.without_escalation().escalate_reason(normalize("法院寄来了传票 我哥被抓了")) is None
    assert TRIGGERS.escalate_reason(normalize("法院寄来了传票")) is not None


def test_every_mediator_command_holds_the_word_looked_for_first():
    for pattern, _command, _mediators_only in mediation.COMMANDS:
        assert mediation.COMMAND_WORD in pattern.pattern


@pytest.mark.parametrize("text", ["[微笑]", "[微笑][Smile]", "/::)", "/:rose 好", "【收到不支持的消息类型，暂无法显示】",
                                  "", "  ", "🙂🙂", "好[微笑]", "[", "/:", "a/b"])
def test_an_emoticon_is_still_read_as_one(text):
    words = unknown.WECHAT_EMOTICON.sub("", text)
    expected = ("sticker" if unknown.STICKER_PLACEHOLDER in text else "empty" if not text.strip()
                else None if any(unknown.unicodedata.category(ch)[0] in "LN" for ch in words) else "emoji")
    assert unknown.unreadable_kind(text) == expected


def every_village(text, names):
    """``handlers.village.chosen_village`` as it was: every village tried in turn."""
    import re
    text = (text or "").strip().translate(village.FULL_WIDTH_DIGITS)
    number = re.match(r"^(\d{1,2})\b", text)
    if number and 1 <= int(number.group(1)) <= len(names):
        return names[int(number.group(1)) - 1]
    return next((name for name in names if text in (name, name.removesuffix("村"))), None)


VILLAGES = ["大年村", "古坡", "古坡村", "长安村", "村"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["大年", "村", "古坡", "长安", "１", "2", "１２", "0", "9", " ", "借钱", "第"]), max_size=4))
def test_a_village_is_chosen_as_when_every_village_was_tried(parts):
    text = "".join(parts)
    config = SimpleNamespace(village_names=VILLAGES)
    assert village.chosen_village(text, config) == every_village(text, VILLAGES)


@pytest.mark.parametrize("text", ["2", "二", "第2个", "第十个", "12", "第12个", "九", "123", "第一", "都不是", "第2个吧",
                                  "2 个", "借钱不还怎么办", "", "个"])
def test_a_choice_is_read_as_when_every_text_was_translated(text):
    found = clarify.CHOICE.fullmatch(text.replace(" ", "").translate(clarify.CN_DIGITS))
    assert clarify.chosen_number(text) == (int(found.group(1)) if found else None)


@pytest.mark.parametrize("text", ["借钱不还怎么办", "你好"])
def test_triggers_without_dictionaries_refuse_every_text_not_only_small_talk(text):
    from dataclasses import replace
    from bot.core.text import DictionaryError
    with pytest.raises(DictionaryError, match="without dictionaries"):
        replace(TRIGGERS, dictionaries=None).small_talk(normalize(text))
