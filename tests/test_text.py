"""Normalization, segmentation and synonyms: both sides of every comparison look alike."""
from __future__ import annotations

import shutil

import pytest

from bot.core import text as tx
from bot.core.config import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "knowledge" / "dict"
WORDS = tx.dictionaries_in(SHIPPED)


def test_full_width_letters_and_digits_become_half_width_lower_case():
    assert tx.normalize("ＡＢＣ　１２３") == "abc 123"


def test_traditional_characters_become_simplified():
    assert tx.normalize("離婚撫養費") == "离婚抚养费"


def test_emoji_and_wechat_emoji_codes_are_stripped():
    assert tx.normalize("彩礼😭😭能退吗[流泪]/::)") == "彩礼 能退吗"


@pytest.mark.parametrize("raw, expected", [
    ("给了八万彩礼", "给了80000彩礼"), ("分居两年", "分居2年"), ("3万块", "30000块"),
    ("1.5万", "15000"), ("二十岁", "20岁"), ("三倍赔偿", "3倍赔偿"),
])
def test_chinese_numerals_that_are_quantities_become_digits(raw, expected):
    assert tx.normalize(raw) == expected


@pytest.mark.parametrize("word", ["夫妻一方", "一起", "万一", "十分", "一户一宅", "第一顺序"])
def test_numerals_inside_ordinary_words_are_kept(word):
    assert tx.normalize(word) == word


def test_punctuation_and_whitespace_fold_to_single_spaces():
    assert tx.normalize("  老婆不肯离婚！！我能起诉吗？？\n\t") == "老婆不肯离婚 我能起诉吗"


def test_chinese_number_parses_sections_and_refuses_lists():
    assert tx.chinese_number("三万五千") == 35000
    assert tx.chinese_number("十五") == 15
    assert tx.chinese_number("一二三") is None


def test_legal_words_from_the_user_dictionary_stay_whole():
    words = WORDS.tokens("申请人身安全保护令要去哪里 宅基地和采伐证")
    assert {"人身安全保护令", "宅基地", "采伐证"} <= set(words)


def test_long_words_also_yield_their_leading_and_trailing_parts():
    assert {"离婚冷静期", "离婚", "冷静期"} <= set(WORDS.tokens("离婚冷静期"))
    assert "天天" not in WORDS.tokens("今天天气")


def test_function_words_and_bare_numbers_are_dropped():
    words = WORDS.tokens("我想问一下彩礼30000能要回来吗")
    assert "我" not in words and "吗" not in words and "30000" not in words and "彩礼" in words


def test_expand_keeps_the_colloquial_word_and_adds_the_legal_one():
    assert WORDS.expand(["老婆", "娃"]) == ["老婆", "妻子", "娃", "子女"]


def test_phrases_across_word_boundaries_map_to_legal_words():
    assert ("过了几年", "诉讼时效") in WORDS.phrase_synonyms("欠钱过了几年还能要吗")


def test_the_dictionaries_of_one_folder_are_built_once_per_process(tmp_path):
    first = tx.dictionaries_in(SHIPPED)
    (tmp_path / "dict").symlink_to(SHIPPED)
    assert tx.dictionaries_in(tmp_path / "dict") is first   # a symlink is the same folder
    assert tx.dictionaries_in(SHIPPED) is first


def test_the_folder_used_last_is_kept_when_older_ones_are_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(tx, "KEPT_DICTIONARIES", 2)
    copies = [tmp_path / name for name in ("a", "b")]
    for copy in copies:
        shutil.copytree(SHIPPED, copy)
    shipped = tx.dictionaries_in(SHIPPED)
    tx.dictionaries_in(copies[0])
    assert tx.dictionaries_in(SHIPPED) is shipped      # used again: now the most recent
    tx.dictionaries_in(copies[1])                      # one too many: the least recent (a) goes
    assert tx.dictionaries_in(SHIPPED) is shipped


def test_homophones_share_a_pinyin_key():
    assert tx.pinyin_key("彩里") == tx.pinyin_key("彩礼")
    assert tx.pinyin_key("宅急地") == tx.pinyin_key("宅基地")


def test_a_malformed_user_dictionary_line_names_the_file_and_line(tmp_path):
    bad = tmp_path / "userdict.txt"
    bad.write_text("彩礼 3000 n\n宅基地 lots n\n", encoding="utf-8")
    with pytest.raises(tx.DictionaryError, match=r"userdict.txt: line 2"):
        tx.load_userdict(tx.jieba.Tokenizer(), bad)


@pytest.mark.parametrize("table, message", [
    ({}, "non-empty \\[synonyms\\]"),
    ({"synonyms": {"妻子": []}}, "'妻子' needs a non-empty list"),
    ({"synonyms": {"妻子": ["老婆", ""]}}, "empty or non-text"),
    ({"synonyms": {"妻子": ["妻子"]}}, "lists itself"),
])
def test_synonym_map_is_validated_at_load(table, message):
    with pytest.raises(tx.DictionaryError, match=message):
        tx.validate_synonyms(table)


def test_shipped_dictionaries_load():
    assert len(WORDS.synonyms) > 100
    assert "宅基地" in WORDS.legal_words


def shipped_texts() -> list[str]:
    """Every phrasing, keyword and answer of the shipped knowledge base, and every statute text."""
    from bot.core.config import load_config
    from bot.kb.knowledge import load_knowledge
    kb = load_knowledge(load_config(environ={}), strict=False)
    texts = [t for e in kb.entries for t in (*e.questions, *e.keywords, e.answer, e.excerpt or "")]
    return texts + [a.text for a in kb.statutes.articles]


def test_the_conversion_is_skipped_only_where_it_would_change_nothing():
    texts = shipped_texts() + ["乾隆年间的乾燥房子", "沈默是金", "這個問題怎麼辦", "一目瞭然", "傢俱"]
    assert all(tx.to_simplified(t) == tx._opencc().convert(t) for t in texts)
    assert sum(tx._t2s_changeable().isdisjoint(t) for t in texts) > len(texts) // 2   # the fast path is taken


@pytest.mark.parametrize("raw, simplified", [("沈默", "沉默"), ("乾燥", "干燥"), ("乾隆", "乾隆"), ("於是", "于是")])
def test_a_phrase_or_character_that_converts_is_still_converted(raw, simplified):
    assert tx.to_simplified(raw) == simplified


# --- the words of the folder given, not of the shipped one ---------------------------------------

INVENTED = "乌龙地契"    # no shipped dictionary knows it: jieba cuts it in two


def copied_dict(tmp_path):
    folder = tmp_path / "dict"
    shutil.copytree(SHIPPED, folder)
    return folder


def test_a_word_added_to_a_copied_user_dictionary_is_one_word_only_there(tmp_path):
    folder = copied_dict(tmp_path)
    with (folder / "userdict.txt").open("a", encoding="utf-8") as out:
        out.write(f"\n{INVENTED} 20 n\n")
    assert INVENTED in tx.dictionaries_in(folder).tokens(f"我家的{INVENTED}丢了")
    assert INVENTED not in WORDS.tokens(f"我家的{INVENTED}丢了")
    assert INVENTED in tx.dictionaries_in(folder).legal_words and INVENTED not in WORDS.legal_words


def test_a_synonym_changed_in_a_copied_folder_changes_only_that_folder(tmp_path):
    folder = copied_dict(tmp_path)
    path = folder / "synonyms.toml"
    original = path.read_text(encoding="utf-8")
    changed = original.replace('"妻子" = [', f'"妻子" = ["{INVENTED}", ', 1)
    assert changed != original
    path.write_text(changed, encoding="utf-8")
    assert "妻子" in tx.dictionaries_in(folder).expand([INVENTED])
    assert WORDS.expand([INVENTED]) == [INVENTED]


def test_an_edited_dictionary_file_is_read_again(tmp_path):
    folder = copied_dict(tmp_path)
    before = tx.dictionaries_in(folder)
    with (folder / "stopwords.txt").open("a", encoding="utf-8") as out:
        out.write("\n宅基地\n")
    after = tx.dictionaries_in(folder)
    assert after is not before
    assert before.is_content("宅基地") and not after.is_content("宅基地")


def test_a_folder_without_its_dictionary_files_is_refused_naming_the_file(tmp_path):
    (tmp_path / "dict").mkdir()
    with pytest.raises(tx.DictionaryError, match="userdict.txt"):
        tx.dictionaries_in(tmp_path / "dict")
