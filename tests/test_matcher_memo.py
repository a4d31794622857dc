"""The matcher's memos and shortcuts give exactly what the plain computation gives.

The matcher keeps per-word and per-idea results (bot.retrieval.matcher.Memo), sums a phrasing's
overlap without a dictionary when no idea is found twice, and skips the shortlist's tie-break
when the tied entries fall under its floor anyway. None of that may change a feature or a
decision: each test here compares the fast path with the plain one.
"""
from __future__ import annotations

import pytest

from bot.core.config import MatcherSettings
from bot.kb.knowledge import KnowledgeBase
from bot.retrieval.entrymodel import idea_terms, sorted_terms, with_pairs
from bot.retrieval.matcher import (SHORTLIST, Matcher, Memo, best_overlaps, closest, idea_of, summed_overlaps,
                                   words_of)
from tests.matcher_support import small_kb, small_matcher
from tests.test_matcher import entry

QUESTIONS = ["我儿子订了亲 女方又不肯嫁了 彩礼钱能要回来吗", "老婆不同意离婚 我能去法院告吗",
             "村里不给批宅基地怎么办", "去年借给表弟两万块 一直拖着不还", "包工头欠我工钱跑了",
             "邻居家的狗把我家小孩咬伤了 打针的钱谁出", "自家山上的杉木能砍了卖吗", "离了婚孩子归谁",
             "借条丢了还能要回钱吗", "月亮归谁管", "被人打了"]


def reading(matcher: Matcher, question: str) -> tuple:
    """Everything a query holds that the features read."""
    q = matcher.query(question)
    return q.normalized, q.groups, q.weights, q.legal, q.core, q.reading, q.pairs, q.terms, q.slots


def plain_closest(query, item) -> tuple[float, int]:
    """Dice by its definition: each phrasing, each of the question's ideas at its heaviest
    alternative among the phrasing's words (no postings, no shortcuts)."""
    top, top_index = 0.0, 0
    for index, phrasing in enumerate(item.phrasings):
        best: dict[int, float] = {}
        for word in phrasing.words & query.words:
            for number, weight in query.slots[word]:
                best[number] = max(best.get(number, 0.0), weight)
        dice = 2 * sum(best.values()) / (query.total + phrasing.weight)
        if dice > top + 1e-12:
            top, top_index = dice, index
    return top, top_index


def test_a_question_read_twice_reads_the_same_as_in_a_fresh_matcher():
    warm = small_matcher()
    first = [reading(warm, q) for q in QUESTIONS]
    again = [reading(warm, q) for q in QUESTIONS]      # every memo filled now
    fresh = small_matcher()
    assert first == again == [reading(fresh, q) for q in reversed(QUESTIONS)][::-1]


def test_memoized_idea_facts_equal_the_knowledge_bases_own_figures():
    matcher = small_matcher()
    for question in QUESTIONS:
        for group in matcher.query(question).groups:
            idea = tuple(alternative for alternative, _ in group)
            facts = matcher._facts(idea)
            words = words_of([idea])
            assert facts.legal == (not words.isdisjoint(matcher.legal_words))
            assert facts.known == any(w in matcher.idf for w in words)
            for factor in (1.0, 0.5, 0.35):
                assert sorted(facts.weigh(factor)) == sorted(matcher.weigh(idea, factor))


def test_memoized_words_ideas_terms_and_hits_equal_the_plain_functions():
    matcher = small_matcher()
    cap = 0.25 * len(matcher.entries)
    for question in QUESTIONS:
        query = matcher.query(question)
        for word in matcher.dictionaries.cut(query.normalized):
            groups = matcher.dictionaries.groups_of((word,))
            assert list(matcher._word_ideas(word)) == [idea_of(matcher.dictionaries, g) for g in groups]
        for group in query.groups:
            idea = tuple(alternative for alternative, _ in group)
            words = tuple(min(alternative) for alternative in idea)
            assert matcher._idea_of(words) == idea_of(matcher.dictionaries, words)
            assert matcher._idea_at(idea, 0.5).terms == idea_terms([idea], 0.5)
            for limit in (cap, float("inf")):
                assert matcher._group_hits(group, limit) == matcher._hits(group, limit)
                assert matcher._group_hits(group, limit) is matcher._group_hits(group, limit)


def test_the_closest_phrasing_is_the_one_dice_by_its_definition_picks():
    matcher = small_matcher()
    for question in QUESTIONS:
        query = matcher.query(question)
        for item in matcher.entries:
            closeness, phrasing = closest(query, item, query.words & item.bag)
            expected, index = plain_closest(query, item)
            assert closeness == pytest.approx(expected, rel=1e-12, abs=1e-15)
            if expected > 0:
                assert phrasing is item.phrasings[index]


def test_summing_as_the_words_come_equals_the_best_per_idea_when_no_idea_repeats():
    held = [((0, 2), ((0, 1.5),)), ((2, 3), ((1, 0.25), (2, 0.7))), ((1,), ((3, 2.0),))]
    assert summed_overlaps(held) == {i: sum(best.values()) for i, best in best_overlaps(held).items()}
    twice = held + [((2,), ((0, 3.0),))]            # idea 0 again, heavier, in phrasing 2: needs the max
    assert best_overlaps(twice)[2] == {0: 3.0, 1: 0.25, 2: 0.7}


def test_the_shortlist_is_the_same_when_ties_under_the_floor_are_left_unbroken():
    """Entries tied at the shortlist's edge below half the best weight are dropped by the floor:
    breaking their tie first (the closest phrasing of each) changes nothing."""
    strong = entry("tie.strong", ["宅基地被人占了", "宅基地界线不清"], ["宅基地"])
    quarrels = [entry(f"tie.quarrel{n:02d}", [f"吵架的事第{n}回"], ["争吵"]) for n in range(15)]
    drinks = [entry(f"tie.drink{n:02d}", [f"喝酒的事第{n}回"], ["饮酒"]) for n in range(15)]
    others = [entry(f"tie.farm{n:02d}", [f"种田的事第{n}回"], ["种地"]) for n in range(29)]
    matcher = Matcher(KnowledgeBase([strong, *quarrels, *drinks, *others], statutes=None), MatcherSettings())
    skipped = 0
    for question in ["宅基地的事 吵架 喝酒", "吵架 喝酒", "吵架的事"]:
        query = matcher.query(question)
        fast = matcher.shortlist(query)
        totals = matcher.first_pass(query)
        best = sorted(totals, key=lambda n: (-totals[n], n))[:SHORTLIST]
        if len(totals) > SHORTLIST:
            best = matcher._break_ties(query, totals, best)
        floor = 0.5 * totals[best[0]] if best else 0.0
        assert fast == [n for n in best if totals[n] >= floor]
        skipped += len(totals) > SHORTLIST and totals[best[-1]] < floor
    assert skipped          # the shortcut was taken at least once


def test_a_memo_is_emptied_when_full_and_never_holds_more_than_its_limit():
    memo = Memo(limit=10)
    for n in range(30):
        assert memo.put(n, n * n) == n * n          # a number counts 1
        assert memo.held <= 10 and len(memo.values) <= 10
    assert memo.get(29) == 841 and memo.get(0) is None
    memo.put("hits", dict.fromkeys(range(7), 1.0))  # a table of 7 counts 8
    assert memo.held <= 10
    memo.put("more", (1, 2, 3))                     # 4 more would pass 10: emptied first
    assert list(memo.values) == ["more"] and memo.held == 4


def test_a_matcher_built_on_a_changed_knowledge_base_weighs_with_its_own_figures():
    """The live knowledge base is swapped by building a new Matcher (bot/learning/livekb.py):
    the old matcher's memo of word weights must not leak into it."""
    old = small_matcher()
    question = "借给表弟的钱一直拖着不还"
    before = reading(old, question)
    extra = [entry(f"more.loan{n}", [f"借钱不还第{n}种情况", "借了钱拖着不还"], ["借钱"]) for n in range(6)]
    kb = KnowledgeBase([*small_kb().entries, *extra], small_kb().statutes)
    grown = Matcher(kb, MatcherSettings())
    assert reading(grown, question) != before
    assert reading(grown, question) == reading(Matcher(kb, MatcherSettings()), question)
    assert reading(old, question) == before


def test_the_quick_cut_gives_exactly_jiebas_words():
    """The matcher reads a question through ``Dictionaries.quick_cut``; it must cut as jieba
    does (HMM off): Chinese, letters and digits run together, spaces, punctuation, line breaks,
    and random strings of dictionary words, rare ones and those jieba lists at frequency 0."""
    import random

    from bot.core.text import jieba_cutter
    words = small_matcher().dictionaries
    tokenizer = words.tokenizer
    cut = jieba_cutter(tokenizer)
    texts = ["我家的宅基地被邻居占了怎么办", "借了2000块 abc123 没还", "3.5%的利息 合法吗？", "被人打了\n住院三天",
             "离婚冷静期是30天吗", "  ", "", "x", "ＡＢＣ全角", "他说:“还钱!”", "工资-加班费+补贴#1&2_3"]
    rng = random.Random(11)
    vocabulary = sorted(tokenizer.FREQ)
    unused = [w for w in vocabulary if not tokenizer.FREQ[w]]
    for _ in range(2000):
        parts = [rng.choice(vocabulary) for _ in range(rng.randint(1, 5))]
        parts += [rng.choice(unused)] if unused and rng.random() < 0.3 else []
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(["", " ", "ab", "12", ".", "，", "\n"]))
        texts.append("".join(parts))
    for text in texts:
        assert cut(text) == tuple(tokenizer.lcut(text, HMM=False)), text
    assert words.quick_cut("借了钱不还") == words.cut("借了钱不还")


def test_the_quick_cut_breaks_a_tie_between_routes_as_jieba_does(tmp_path):
    """甲乙|丙 and 甲|乙丙 weigh exactly the same here: jieba takes the longer first word."""
    import jieba

    from bot.core.text import jieba_cutter
    words = tmp_path / "words.txt"
    words.write_text("甲乙 5\n乙丙 5\n甲 3\n丙 3\n", encoding="utf-8")
    tokenizer = jieba.Tokenizer(str(words))
    assert tokenizer.lcut("甲乙丙", HMM=False) == ["甲乙", "丙"]
    assert jieba_cutter(tokenizer)("甲乙丙") == ("甲乙", "丙")


def whole_array_probabilities(model, terms, candidates) -> list[float]:
    """The entry model's softmax summed over its whole parameter array (numpy's bincount)."""
    import numpy as np
    known = [(model.vocab[w], v) for w, v in terms if w in model.vocab]
    z = model.bias[list(candidates)].astype(np.float64)
    if known:
        numbers = np.array([n for n, _ in known])
        starts, ends = model.ptr[numbers], model.ptr[numbers + 1]
        lengths = ends - starts
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        values = np.repeat(np.array([v for _, v in known]), lengths) * model.weights[positions]
        z += np.bincount(model.entries[positions], weights=values, minlength=len(model.bias))[list(candidates)]
    z = (z - z.max()) / model.temperature
    e = np.exp(z)
    return (e / e.sum()).tolist()


def test_the_entry_models_probabilities_are_exactly_the_whole_array_sum():
    matcher = small_matcher()
    everyone = list(range(len(matcher.entries)))
    for question in QUESTIONS:
        query = matcher.query(question)
        for candidates in (matcher.shortlist(query), everyone, everyone[::-1]):
            if candidates:
                expected = whole_array_probabilities(matcher.model, query.terms, candidates)
                assert matcher.model.probabilities(query.terms, candidates) == expected
                known = matcher.model.known_question_terms((p for p, _ in query.pairs), query.word_terms)
                assert known == matcher.model.known_terms(query.terms)
                assert matcher.model.probabilities_of(*known, candidates) == expected


def test_a_querys_terms_are_its_sorted_words_and_pairs_with_the_pairs_first():
    matcher = small_matcher()
    for question in QUESTIONS:
        query = matcher.query(question)
        words = dict(query.word_terms)
        assert query.terms == sorted_terms(with_pairs(words, (p for p, _ in query.pairs)))


def test_the_last_words_weight_for_the_last_entry_is_found_past_the_last_key():
    model = small_matcher().model
    last_word, last_entry = len(model.ptr) - 2, len(model.bias) - 1
    numbers = [last_word, 0]
    everyone = list(range(len(model.bias)))
    words = {w: n for w, n in model.vocab.items()}
    terms = [(w, 1.0) for w, n in sorted(words.items(), key=lambda item: item[1]) if n in numbers]
    assert model.probabilities_of(*model.known_terms(terms), everyone) == whole_array_probabilities(model, terms, everyone)
    assert model.probabilities_of([last_word], [1.0], [last_entry]) == [1.0]


def test_the_entry_models_keys_are_ascending_and_name_each_parameters_word_and_entry():
    """``probabilities`` finds a (word, entry) weight by a sorted search of ``keys``."""
    import numpy as np
    model = small_matcher().model
    keys = model.keys
    assert len(keys) == len(model.weights) and np.all(np.diff(keys) > 0)
    for number in range(min(40, len(model.vocab))):
        start, end = int(model.ptr[number]), int(model.ptr[number + 1])
        assert (keys[start:end] // len(model.bias) == number).all()
        assert (keys[start:end] % len(model.bias) == model.entries[start:end]).all()


def test_a_clauses_phrases_read_from_the_whole_question_are_its_own():
    """The matcher finds the colloquial phrases once per question and gives each clause those
    inside it: the same as finding them in the clause alone, also for a phrase that only the
    clauses run together would spell (过了 | 几年)."""
    from bot.core.text import normalize
    words = small_matcher().dictionaries
    phrase = next(p for p in words.synonyms if len(p) >= 4)
    split = f"{phrase[:2]} {phrase[2:]}"
    for question in [*QUESTIONS, split, f"我想问 {phrase}怎么办", "老公不给生活费 过了几年了"]:
        normalized = normalize(question)
        whole = words.phrase_synonyms(normalized)
        for clause, _ in words.clause_words(normalized):
            assert [(p, legal) for p, legal in whole if p in clause] == words.phrase_synonyms(clause)
    # the whole question spells the phrase across the space; the loop above showed no clause gets it
    assert any(p == phrase for p, _ in words.phrase_synonyms(normalize(split)))


def test_memoized_weighings_and_homophone_runs_equal_the_plain_functions():
    """An idea weighed at a factor, and a run of loose characters read as a homophone typo, are
    kept per matcher: the kept value is what the plain computation gives, every time."""
    matcher = small_matcher()
    for question in [*QUESTIONS, "彩里能要回来吗", "宅急地怎么申请", "月亮归谁管"]:
        for group in matcher.query(question).groups:
            idea = tuple(alternative for alternative, _ in group)
            facts = matcher._facts(idea)
            for factor in (1.0, 0.75, 0.3):
                at = matcher._idea_at(idea, factor)
                kind = matcher._factor(facts)
                assert at.facts == facts
                assert at.group == facts.weigh(factor * kind) == matcher.weigh(idea, factor * kind)
                assert matcher._idea_at(idea, factor) is at
    known = matcher.dictionaries.tokenizer.FREQ
    for chunk in ["彩里", "宅急地", "谁管", "月亮", "彩礼"]:
        first = matcher._memo.of(("sounds", chunk), matcher._sounds_like, chunk, known)
        assert first == matcher._sounds_like(chunk, known) == matcher._memo.of(("sounds", chunk), matcher._sounds_like, chunk, known)
    assert matcher._sounds_like("彩里", known) == "彩礼" and matcher._sounds_like("谁管", known) is None


def test_phrases_found_by_their_first_pair_are_every_phrase_the_text_holds():
    """``phrase_synonyms`` tries only the phrases starting at each pair of characters of the
    text: it finds exactly the phrases the text holds anywhere (across spaces too), in the
    synonyms file's order."""
    import random
    from bot.core.text import normalize
    words = small_matcher().dictionaries
    phrases = sorted(p for p in words.synonyms if len(p) >= 2)
    rng = random.Random(3)
    texts = [*QUESTIONS, "欠钱过了几年还能要吗", "过了 几年", "a", ""]
    for _ in range(300):
        texts.append(" ".join(rng.choice([*phrases, "我", "的", "钱", "不", "打"]) for _ in range(rng.randint(1, 6))))
    numbered = [(n, p, legals) for n, (p, legals) in enumerate((w, l) for w, l in words.synonyms.items() if len(w) >= 2)]
    for text in texts:
        compact = normalize(text).replace(" ", "")
        expected = [(p, legal) for _, p, legals in numbered if p in compact for legal in legals]
        assert words.phrase_synonyms(normalize(text)) == expected, text


def test_best_overlaps_fill_each_phrasing_as_the_plain_loop_does_in_the_same_order():
    """A phrasing first reached by a word starts from a copy of that word's heaviest places:
    the same ideas, weights and order (the order the sums are added in) as filling it word by word."""
    import random
    rng = random.Random(9)

    def plain(held):
        found: dict[int, dict[int, float]] = {}
        for indices, places in held:
            for index in indices:
                best = found.setdefault(index, {})
                for number, weight in places:
                    if weight > best.get(number, 0.0):
                        best[number] = weight
        return found

    for _ in range(400):
        held = [(tuple(rng.sample(range(8), rng.randint(1, 4))),
                 tuple((rng.randrange(5), rng.choice([0.0, 0.5, 1.0, 1.5, rng.random()])) for _ in range(rng.randint(1, 3))))
                for _ in range(rng.randint(1, 5))]
        got, expected = best_overlaps(held), plain(held)
        assert [(i, list(b.items())) for i, b in got.items()] == [(i, list(b.items())) for i, b in expected.items()]


def test_the_first_pass_adds_each_ideas_weight_entry_by_entry_as_the_ideas_come():
    matcher = small_matcher()
    cap = 0.25 * len(matcher.entries)
    for question in QUESTIONS:
        query = matcher.query(question)
        hits = [matcher._hits(group, cap) for group in query.groups]
        if not any(hits):
            hits = [matcher._hits(group, float("inf")) for group in query.groups]
        plain: dict[int, float] = {}
        for best in hits:
            for number, weight in best.items():
                plain[number] = plain.get(number, 0.0) + weight
        found = matcher.first_pass(query)
        assert found == plain and list(found) == list(plain)     # the same sums, the same order
