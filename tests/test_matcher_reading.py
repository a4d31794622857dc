"""The matcher's one reading of a question: the pieces other steps read instead of walking the
text again (typo stretches from the cut, the lexicons' words found in one scan)."""
from __future__ import annotations

import re

from bot.core.text import char_pairs, normalize
from bot.retrieval.counterparts import build_counterparts
from bot.retrieval.entrymodel import sorted_terms
from bot.retrieval.lexicons import default_lexicons
from bot.retrieval.matcher import typo_spans
from bot.retrieval.question import OPPOSITE, PhraseSet, QuestionText, build_lexicon, first_chars, joined
from tests.matcher_support import small_matcher


def test_typo_spans_are_runs_of_two_or_more_lone_chinese_characters_that_are_no_particle():
    # 宅 急 地 stand alone: one stretch; 怎么 is a word, 申请 too
    assert typo_spans(("宅", "急", "地", "怎么", "申请")) == [(0, 3)]
    # a particle (的), a space or a digit ends a stretch: 我 的 are particles, 彩 里 remain
    assert typo_spans(("我", "的", "彩", "里", " ", "2", "万")) == [(2, 4)]
    assert typo_spans(("彩", " ", "里")) == []
    assert typo_spans(("遗嘱", "要", "怎么", "写")) == []


def test_a_stretch_at_the_end_of_the_text_counts():
    assert typo_spans(("怎么", "彩", "里")) == [(2, 4)]


def test_the_homophone_pass_rewrites_only_inside_a_stretch():
    matcher = small_matcher()
    assert matcher.correct_homophones("我的彩里能要回来吗") == "我的彩礼能要回来吗"
    assert matcher.correct_homophones("月亮归谁管") == "月亮归谁管"


def test_a_phrase_set_finds_each_phrase_the_text_holds_and_no_other():
    phrases = PhraseSet.of(["股东", "有限公司", "狗", "12348", "邻居", "左邻右舍"])
    text = QuestionText.of("我是 有限公司的股东 邻 居家的狗", phrases)
    assert text.compact == "我是有限公司的股东邻居家的狗"
    assert text.found == {"股东", "有限公司", "狗", "邻居"}
    assert QuestionText.of("打12348问问", phrases).found == {"12348"}
    assert QuestionText.of("左邻 右舍", phrases).found == {"左邻右舍"}
    assert QuestionText.of("", phrases).found == frozenset()


def test_the_question_text_holds_the_character_pairs_of_its_chinese_runs():
    text = QuestionText.of("借了2000 不还", PhraseSet.of([]))
    assert text.pairs == {"借了", "不还"}


def lexicon(**tables):
    data = {"question": {"cues": ["吗"]}, "legal": {"words": ["打"], "people": ["邻居"]},
            "out_of_scope": {"company": {"phrases": ["股东", "有限公司"]}, "tax": {"phrases": ["个税", "股东分红"]}},
            "out_of_scope_unless": {"phrases": ["集体"]},
            "roles": {"victim": ["被.{0,3}打", "挨打"], "wrongdoer": ["我打了(他|她)"]},
            "everyday": {"asks": ["怎么训", "喂什么"], "things": ["狗"]}}
    data.update(tables)
    return build_lexicon(data)


def test_the_field_outside_is_the_first_field_in_file_order_named_by_its_first_phrase():
    words = lexicon()
    assert words.field_outside("个税 和 有限公司股东") == "company: 股东"
    assert words.field_outside("股东分红 要交个税吗") == "company: 股东"
    assert words.field_outside("个税怎么算") == "tax: 个税"
    assert words.field_outside("集体 股东 分红") is None            # an unless phrase brings it back
    assert words.field_outside("狗总是叫 怎么训") == "everyday: 怎么训"
    assert words.field_outside("狗打人了 怎么训") is None            # 打 is a matter


def test_the_roles_are_read_with_one_search_per_role_and_mean_what_each_pattern_means():
    words = lexicon()
    assert [role for role, _ in words.role_patterns] == ["victim", "wrongdoer"]
    assert all(isinstance(p, re.Pattern) for _, p in words.role_patterns)
    assert words.roles_of("昨天 挨打了") == {"victim"}
    assert words.roles_of("我被他打了") == {"victim"}
    assert words.roles_of("我打了他 会坐牢吗") == {"wrongdoer"}
    assert words.roles_of("他被我打了 我打了他") == frozenset()     # both sides: neither


def test_patterns_that_cannot_be_joined_are_tried_one_by_one():
    patterns = (re.compile(r"(打)\1"), re.compile("骂"))
    either = joined(patterns)
    assert not isinstance(either, re.Pattern)
    assert either.search("打打") and either.search("骂人") and not either.search("打人")


def test_a_patterns_first_characters_are_read_from_its_parse():
    assert first_chars(re.compile("被(?!告).{0,3}打|(挨打|受骗)")) == {"被", "挨", "受"}
    assert first_chars(re.compile("(我|俺)?[打骂]了")) == {"我", "俺", "打", "骂"}
    assert first_chars(re.compile("(?<=不)还钱|^欠")) == {"还", "欠"}
    # no short list: any character first, a range, a pattern matching nothing, folded case
    assert first_chars(re.compile(".打")) is None
    assert first_chars(re.compile("[一-龥]打")) is None
    assert first_chars(re.compile("(打)?")) is None
    assert first_chars(re.compile("ab", re.IGNORECASE)) is None


def test_joined_patterns_say_where_a_match_can_start_and_match_what_the_patterns_match():
    patterns = (re.compile("被(?!告)[^被，]{0,3}?(打|骂)"), re.compile("(打|骂)了?(我|俺)"), re.compile("挨打"))
    either = joined(patterns)
    assert either.pattern.startswith("(?=[")
    texts = ["我被他打了", "他被告了 打官司", "打了我", "挨打", "打人", "被被打", "骂俺", "", "被，打"]
    texts += ["".join(chars) for chars in zip("被打骂我挨", "打了我被俺", "骂俺打挨告")]
    for text in texts:
        assert bool(either.search(text)) == any(p.search(text) for p in patterns), text


def test_the_parties_are_the_kinds_of_the_words_found_a_word_listed_twice_naming_both():
    parties = build_counterparts({"counterpart": {"neighbour": {"words": ["邻居", "隔壁"]},
                                                  "relative": {"words": ["我哥", "邻居"]}}})
    assert parties.named_in("隔壁 占了地") == {"neighbour"}
    assert parties.named_in("邻居家的地") == {"neighbour", "relative"}
    assert parties.among(["我哥", "股东"]) == {"relative"}
    assert parties.named_in("村里") == frozenset()


def test_phrase_synonyms_given_the_pairs_are_those_found_walking_the_text():
    words = default_lexicons().dictionaries
    phrases = [p for p in words.synonyms if len(p) >= 2][:40]
    for text in [" ".join(phrases[:3]), f"我想问 {phrases[5]}怎么办", f"{phrases[7][:1]} {phrases[7][1:]}",
                 "老公不给生活费 过了几年了", "借了2000 不还", ""]:
        normalized = normalize(text)
        walked = words.phrase_synonyms(normalized)
        assert words.phrase_synonyms(normalized, char_pairs(normalized.replace(" ", ""))) == walked


def test_the_quick_cut_runs_single_letters_and_digits_together_as_jieba_does():
    words = default_lexicons().dictionaries
    for text in ["借了2000块", "abc打12348", "a的b", "3万 元"]:
        assert words.quick_cut(text) == tuple(words.tokenizer.lcut(text, HMM=False))


def test_sorted_terms_order_by_word():
    assert sorted_terms({"b": 1.0, "a": 0.5, "#ab": 0.2}) == (("#ab", 0.2), ("a", 0.5), ("b", 1.0))


def test_a_role_is_searched_from_the_first_place_it_can_start_and_finds_what_its_patterns_find():
    words = lexicon(roles={"victim": ["被.{0,3}打", "挨打"], "wrongdoer": ["我打了(他|她)"],
                           "creditor": ["(借)\\1", "欠我"], "debtor": [".欠"]})
    starts = {role: gate.pattern for role, gate, _ in words.role_searches}
    assert starts["victim"] == "[挨被]" and starts["wrongdoer"] == "[我]"
    assert starts["creditor"] == starts["debtor"] == ""   # a back reference; any character first
    for text in ["他被人打了", "昨天挨打了", "我打了他", "他打了我", "借借", "他欠我钱", "我欠钱", "", "好"]:
        expected = {role for role, patterns in words.roles if any(p.search(text) for p in patterns)}
        expected = {r for r in expected if OPPOSITE[r] not in expected}
        assert words.sides(text) == expected, text


def test_patterns_tried_one_by_one_search_from_a_place_too():
    either = joined((re.compile(r"(打)\1"), re.compile("骂")))
    assert either.search("骂打打", 1).group() == "打打"
    assert either.search("骂打", 1) is None


def test_a_text_holding_no_lexicon_phrase_is_in_no_field_and_names_no_party():
    words = lexicon()
    text = QuestionText.of("邻居家的牛吃了我的庄稼", words.phrases)
    assert text.found == frozenset()
    assert words.outside(text) is None
    parties = build_counterparts({"counterpart": {"neighbour": {"words": ["邻居"]}}})
    assert parties.among(text.found) == frozenset()
    assert parties.named_in("邻居家的牛吃了我的庄稼") == {"neighbour"}


def test_a_query_given_its_pair_weights_is_the_query_made_from_its_pairs():
    from bot.retrieval.matcher import Query
    matcher = small_matcher()
    for question in ["我家的宅基地被邻居占了怎么办", "借了2000 不还", "", "你好"]:
        made = matcher.query(question)
        plain = Query(made.normalized, made.groups, made.weights, made.legal, made.core, made.reading,
                      made.pairs, made.word_terms)
        for name in ("pairs", "pair_weights", "pair_set", "pair_total", "total", "slots", "words", "word_terms"):
            assert getattr(plain, name) == getattr(made, name), name
        assert list(made.pair_weights) == [pair for pair, _ in made.pairs]
        assert made.pair_total == (sum(w for _, w in made.pairs) or 1.0)


def test_question_terms_are_the_sorted_merged_terms_also_when_two_ideas_share_a_word():
    from bot.retrieval.entrymodel import merged_terms
    from bot.retrieval.matcher import question_terms
    cases = [({"离婚": 1.0, "冷静期": 0.5}, {"财产": 0.75}),
             ({"离婚": 0.5}, {"离婚": 1.0, "孩子": 0.2}),      # a word in two ideas: its highest value
             ({"a": 0.0}, {"b": 1.0}),                            # a value of 0 is left out
             ()]
    for terms in cases:
        assert question_terms(terms) == sorted_terms(merged_terms(terms))


def test_a_one_clause_questions_factors_are_those_of_the_clause_by_clause_reading():
    from bot.retrieval.matcher import with_phrases
    matcher = small_matcher()

    def clause_by_clause(texts, ideas, flags, phrases):
        factors = {}
        for part, found, core in zip(texts, ideas, flags):
            factor = 1.0 if core else matcher.settings.background_weight
            inside = [(p, legal) for p, legal in phrases if p in part]
            for idea in with_phrases(found, inside):
                factors[idea] = max(factors.get(idea, 0.0), factor)
        return factors
    phrase = next(p for p in matcher.dictionaries.synonyms if len(p) >= 2)
    for question in ["我家的宅基地被邻居占了怎么办", f"{phrase}怎么办", "借了钱 不还 怎么办", "老公打我"]:
        normalized = normalize(question)
        clauses = matcher.dictionaries.clause_words(normalized)
        texts = [t for t, _ in clauses]
        ideas = [matcher._ideas_in(words) for _, words in clauses]
        phrases = matcher.dictionaries.phrase_synonyms(normalized)
        for flags in ([True] * len(texts), [False] * len(texts)):
            got = matcher._factors(texts, ideas, flags, phrases)
            want = clause_by_clause(texts, ideas, flags, phrases)
            assert got == want and list(got) == list(want)


def test_the_quick_cut_keeps_line_breaks_tabs_and_runs_of_spaces_as_jieba_does():
    words = default_lexicons().dictionaries
    for text in ["借了\r\n钱", "a\tb 彩礼", "离婚  孩子", " 开头", "结尾 ", "\n", "12348热线", "甲乙丙丁戊己"]:
        assert words.quick_cut(text) == tuple(words.tokenizer.lcut(text, HMM=False)), text
