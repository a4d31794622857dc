"""Text in, comparable words out: normalize → segment (jieba + legal dictionary) → synonyms.

Typed questions and voice-recognized ones arrive in every shape: full-width letters, traditional
characters from relatives in Hong Kong or Taiwan, emoji, "三万块" next to "3万". Everything the
matcher compares (questions, FAQ phrasings, dictionary words, trigger phrases) goes through the
same ``normalize``, so both sides of a comparison always look alike.

The words themselves (jieba's user dictionary, stopwords, synonyms) belong to a knowledge
directory: ``Dictionaries`` holds one folder's, built once per configuration by
``dictionaries_in`` and passed to whoever segments text. Nothing here reads a folder of its own.
"""
from __future__ import annotations

import logging
import math
import operator
import os
import re
import threading
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain
from pathlib import Path
from typing import Callable, Iterable, Mapping

import jieba
from opencc import OpenCC

from bot.core.config import shipped_knowledge_dir

# Only single characters are ever converted (homophone typos), so pypinyin's phrase dictionary
# (tens of MB per process) is not loaded, and its character table is not copied.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")
from pypinyin import Style, lazy_pinyin  # noqa: E402 - after the settings above

# The shipped knowledge/dict. Nothing here reads it: the dictionaries are those of the configured
# knowledge_dir (``dictionaries_in``); it names the shipped folder (bot/core/config.py
# shipped_knowledge_dir) for tests that read the shipped words' files.
DICT_DIR = shipped_knowledge_dir() / "dict"

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
# A Chinese numeral is turned into digits only where it is clearly a quantity: several numeral
# characters ("三十", "八万"), or one followed by a measure word ("两年", "三倍"). "一方",
# "一起", "万一", "十分" stay words.
_MEASURES = "个月|个小时|小时|年|岁|月|天|日|周|块|元|倍|亩|次|间|层|套|胎|万|千|百|十"
_CN_NUMBER = re.compile(
    rf"[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]+"
    rf"|[零〇一二两三四五六七八九十](?={_MEASURES})")
_ARABIC_WAN = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿])")
# WeChat's own emoji codes arrive as text: "[微笑]", "/::)".
_WECHAT_EMOJI = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,6}\]|/:[^\s\u4e00-\u9fff]{1,8}")
_SPACES = re.compile(r"\s+")
_CJK_RUN = re.compile("[\u4e00-\u9fff]{2,}")
_CJK_PAIR = re.compile("[\u4e00-\u9fff]{2}")
_STRAY_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")


class DictionaryError(ValueError):
    """A file in knowledge/dict/ is malformed; the message names the file and the entry."""


@lru_cache(maxsize=1)
def _opencc() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _t2s_changeable() -> frozenset[str]:
    """Characters without which OpenCC's t2s conversion cannot change a string: every key of
    its character table, and for a changing phrase none of whose characters is in that table
    (沈默 → 沉默) the characters it changes. A string holding none of them comes out as it went
    in, so it need not go through the pure-Python conversion (most of what the bot reads is
    already simplified)."""
    converter = _opencc()
    converter.convert("")  # loads the dictionaries
    tables = [table for group in converter._dict_chain_data for _, _, table in group]
    characters = {key for table in tables for key in table if len(key) == 1}
    for table in tables:
        for key, value in table.items():
            first = value.split(" ")[0]
            if len(key) > 1 and key != first and characters.isdisjoint(key):
                changed = {a for a, b in zip(key, first) if a != b} if len(key) == len(first) else set(key)
                characters |= changed
    return frozenset(characters)


def to_simplified(text: str) -> str:
    """OpenCC's traditional → simplified conversion, skipped when no character could change."""
    if _t2s_changeable().isdisjoint(text):
        return text
    return _opencc().convert(text)


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral ("三万五千" → 35000, "二十" → 20), or None if it is not one."""
    total, section, digit = 0, 0, None
    for char in text:
        if char in _CN_DIGITS:
            if digit is not None:
                return None  # "一二": a list of digits, not a number
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
        elif char in _CN_BIG:
            total = (total + section + (digit or 0)) * _CN_BIG[char]
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def _numbers_to_digits(text: str) -> str:
    def chinese(m: re.Match) -> str:
        value = chinese_number(m.group(0))
        return m.group(0) if value is None else str(value)

    def arabic(m: re.Match) -> str:
        return str(round(float(m.group(1)) * _CN_BIG[m.group(2)]))

    return _ARABIC_WAN.sub(arabic, _CN_NUMBER.sub(chinese, text))


def _is_symbol(char: str) -> bool:
    """Emoji, pictographs, control and private-use characters, and punctuation of any script."""
    category = unicodedata.category(char)
    return category[0] in "PSCZ" and char not in ".%"


# Characters that are never symbols: the common CJK ideographs, ASCII letters and digits. Only the
# others are looked up one by one (a question is mostly the first kind: a Python call for each of
# its characters cost more than the rest of ``normalize``).
_MAYBE_SYMBOL = re.compile(r"[^\u4e00-\u9fff0-9A-Za-z]+")


def _fold_run(match: re.Match) -> str:
    return "".join(" " if _is_symbol(c) else c for c in match.group())


def _fold_symbols(text: str) -> str:
    """Each symbol (``_is_symbol``) as a space."""
    return _MAYBE_SYMBOL.sub(_fold_run, text)


def normalize(text: str) -> str:
    """One canonical form for comparison: half-width, simplified, no emoji, digits, single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = to_simplified(text)
    text = _WECHAT_EMOJI.sub(" ", text)
    text = _numbers_to_digits(text)
    text = _fold_symbols(_STRAY_DOT.sub(" ", text))
    return _SPACES.sub(" ", text).strip().lower()


def read_word_file(path: Path) -> list[list[str]]:
    """Lines of a word list (comments and blank lines skipped), split on whitespace."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append(line.split())
    return rows


def load_userdict(tokenizer: jieba.Tokenizer, path: Path) -> int:
    """Add the legal and colloquial words (``word [freq] [pos]``) to a tokenizer; return the count."""
    count = 0
    for number, row in enumerate(read_word_file(path), start=1):
        if len(row) > 3 or (len(row) > 1 and not row[1].isdigit()):
            raise DictionaryError(f"{path.name}: line {number} {row!r}: expected 'word [freq] [pos]'")
        word = normalize(row[0]).replace(" ", "")
        tokenizer.add_word(word, int(row[1]) if len(row) > 1 else None, row[2] if len(row) > 2 else None)
        count += 1
    return count


DICTIONARY_FILES = ("userdict.txt", "stopwords.txt", "synonyms.toml")


def new_tokenizer(userdict: Path) -> jieba.Tokenizer:
    """A private jieba tokenizer (never jieba's global one, which other code may configure
    differently) with jieba's words and ``userdict``'s; it takes ~0.5 s, hence ``dictionaries_in``."""
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    load_userdict(tk, userdict)
    return tk


class Dictionaries:
    """The words of one knowledge directory's dict/: jieba's tokenizer with its user dictionary,
    its stopwords and its synonyms, and everything the bot derives from them (cutting a text into
    words, grouping them, adding legal synonyms).

    Built once per configuration (``dictionaries_in``) and passed to whoever reads text — the
    matcher, the trigger and question lexicons, the law index, the gap report, the privacy
    scrubber — so an app configured with another ``knowledge_dir`` reads with that folder's words.
    """

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self.tokenizer = new_tokenizer(self.directory / "userdict.txt")
        words = (normalize(w) for row in read_word_file(self.directory / "stopwords.txt") for w in row)
        self.stopwords: frozenset[str] = frozenset(w for w in words if w)
        path = self.directory / "synonyms.toml"
        self.synonyms: dict[str, tuple[str, ...]] = validate_synonyms(read_dictionary(path), path.name)
        self.phrases = phrases_by_first_char(self.synonyms)
        # The law search reads the same cut twice for one question (its terms, and its head
        # words: bot/retrieval/lawsearch.py ``read``); the small cache makes that one segmentation.
        # (The matcher reads ``quick_cut``, which has its own.)
        self.cut = lru_cache(maxsize=64)(self._cut)

    def __repr__(self) -> str:
        return f"Dictionaries({str(self.directory)!r})"

    def _cut(self, normalized: str) -> tuple[str, ...]:
        """jieba's words for a normalized text (no HMM guessing of new words)."""
        return tuple(self.tokenizer.lcut(normalized, HMM=False))

    def segment(self, normalized: str) -> list[str]:
        """jieba's words of normalized text, long words also in their dictionary parts (离婚冷静期 → 离婚, 冷静期)."""
        return [w for w in self.tokenizer.lcut_for_search(normalized, HMM=False) if w.strip()]

    def is_content(self, word: str) -> bool:
        """A word that says something about the topic: not a function word, not a bare number."""
        return word not in self.stopwords and not word.replace(".", "").replace("%", "").isdigit()

    def parts(self, word: str) -> list[str]:
        """The dictionary words a long word starts or ends with (离婚冷静期 → 离婚, 冷静期); a word
        from its middle is left out, it is rarely a part of the meaning (今天天气 is not 天天)."""
        ends = [word[:n] for n in (2, 3)] + [word[-n:] for n in (3, 2)]
        freq = self.tokenizer.FREQ
        return [p for p in dict.fromkeys(ends) if len(p) < len(word) and freq.get(p) and self.is_content(p)]

    def word_groups(self, normalized: str) -> list[tuple[str, ...]]:
        """Each informative word with its parts: one idea per group (一分钱 → 一分钱, 一分, 分钱).

        Grouping keeps a long word from counting three times when the matcher weighs words.
        """
        return self.groups_of(self.cut(normalized))

    def groups_of(self, words: Iterable[str]) -> list[tuple[str, ...]]:
        """``word_groups`` of words already cut."""
        return [tuple(dict.fromkeys([word, *self.parts(word)])) for word in words
                if word.strip() and self.is_content(word)]

    def clause_words(self, normalized: str) -> list[tuple[str, tuple[str, ...]]]:
        """(clause, its words) for each clause of a normalized text (clauses are separated by
        single spaces, where the punctuation was), from one segmentation of the whole text: jieba
        cuts at every space, so this is what cutting each clause alone would give."""
        cut = self.quick_cut(normalized)
        if " " not in cut:   # one clause (most questions)
            return [("".join(cut), cut)] if cut else []
        clauses, words = [], []
        for word in cut + (" ",):
            if word == " ":
                if words:
                    clauses.append(("".join(words), tuple(words)))
                words = []
            else:
                words.append(word)
        return clauses

    @cached_property
    def quick_cut(self) -> Callable[[str], tuple[str, ...]]:
        """``cut`` for the matcher's reading of a question: the same words (``jieba_cutter``),
        in less time, with its own small cache (the question's words and which of its characters
        stand alone are read from one segmentation). ``cut`` itself stays jieba's: the law
        index's cache key is made from its code."""
        return lru_cache(maxsize=64)(jieba_cutter(self.tokenizer))

    def tokens(self, text: str) -> list[str]:
        """The informative words of a question, in order (normalized, segmented, stopwords dropped)."""
        return [w for group in self.word_groups(normalize(text)) for w in group]

    def expand(self, words: Iterable[str]) -> list[str]:
        """The words plus the legal word for each colloquial one (老婆 → 老婆, 妻子); order kept."""
        out: dict[str, None] = {}
        for word in words:
            out[word] = None
            for legal in self.synonyms.get(word, ()):
                out[legal] = None
        return list(out)

    def phrase_synonyms(self, normalized: str, pairs: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(colloquial phrase, legal word) for each phrase found in the text, even across jieba's
        word boundaries ("过了几年" is four words to jieba but one idea: 诉讼时效); in the synonyms
        file's order. Only the phrases starting with a pair of characters of the text are tried:
        given the text's pairs of Chinese characters (``char_pairs`` of it without spaces, which
        the matcher has read already) the phrases filed under those pairs and the few starting
        otherwise, else those starting at each position of the text."""
        compact = normalized.replace(" ", "")
        by_pair, found = self.phrases_by_pair, set()
        if pairs is not None:
            for pair in self.phrase_first_pairs.intersection(pairs):   # the few pairs a phrase starts with
                for entry in by_pair[pair]:
                    if entry[1] in compact:
                        found.add(entry)
            for entry in self.phrases_not_by_chinese_pair:
                if entry[1] in compact:
                    found.add(entry)
        else:
            for start in range(len(compact) - 1):
                for entry in by_pair.get(compact[start:start + 2], ()):
                    if compact.startswith(entry[1], start):
                        found.add(entry)
        if not found:   # most questions hold no colloquial phrase
            return []
        return [(phrase, legal) for _, phrase, legals in sorted(found) for legal in legals]

    @cached_property
    def phrases_not_by_chinese_pair(self) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
        """The phrases whose first two characters are not both Chinese (no ``char_pairs`` pair
        can name them): tried one by one when ``phrase_synonyms`` is given the text's pairs."""
        return tuple(entry for pair, entries in self.phrases_by_pair.items()
                     if not _CJK_PAIR.fullmatch(pair) for entry in entries)

    @cached_property
    def phrase_first_pairs(self) -> frozenset[str]:
        """The pairs of characters some phrase starts with (``phrases_by_pair``'s keys)."""
        return frozenset(self.phrases_by_pair)

    @cached_property
    def phrases_by_pair(self) -> dict[str, tuple[tuple[int, str, tuple[str, ...]], ...]]:
        """``phrases`` filed by their first two characters: a question of twenty characters then
        tries the few phrases starting at each of its pairs, not every phrase starting with one
        of its characters (dozens for 不, 打, 没)."""
        by_pair: dict[str, list[tuple[int, str, tuple[str, ...]]]] = {}
        for entries in self.phrases.values():
            for entry in entries:
                by_pair.setdefault(entry[1][:2], []).append(entry)
        return {pair: tuple(found) for pair, found in by_pair.items()}

    @cached_property
    def legal_words(self) -> frozenset[str]:
        """The user dictionary's words and the synonym map's legal words: what a typo may stand for."""
        rows = read_word_file(self.directory / "userdict.txt")
        words = {normalize(row[0]).replace(" ", "") for row in rows}
        return frozenset(words | {legal for legals in self.synonyms.values() for legal in legals})


LOG_WEIGHTS_KEPT = 50_000   # pieces of text whose dictionary standing a quick cutter keeps at once (a few MB)
NOT_A_WORD = float("nan")   # a quick cutter's mark for a piece no dictionary word starts with (never compared)
NOT_A_WORD_YET = object()   # ... and for a piece not looked up yet
ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")   # jieba.re_eng's characters


def jieba_cutter(tokenizer: jieba.Tokenizer) -> Callable[[str], tuple[str, ...]]:
    """A function giving ``tuple(tokenizer.lcut(text, HMM=False))``: the same blocks (jieba's
    own patterns), the same dictionary graph and the same best route (the highest sum of log
    word frequencies, the longer last word on a tie, with the same float additions), but
    without the per-block generators, the graph's dict of lists and a ``log`` per word: what
    the dictionary says of each piece of text tried (a word's log-frequency; None for the
    start of a longer word only; ``NOT_A_WORD`` when no word starts so) is kept once looked up.

    Most places of a question start no word longer than two characters, so what the dictionary
    says of the character there and of it with the next one is kept together, by the pair
    (``opening``): one read a place, and only a pair that starts longer words leads on to the
    longer pieces. The tokenizer must not be changed afterwards (the dictionaries' never are,
    once loaded)."""
    tokenizer.check_initialized()
    freq, log_total, standing, openings = tokenizer.FREQ, math.log(tokenizer.total), {}, {}
    lone = math.log(1) - log_total   # a character no word starts with: a word of frequency 1

    def look_up(piece: str) -> float | None:
        """``piece``'s log-frequency, None for a prefix only, NOT_A_WORD outside the dictionary."""
        if len(standing) >= LOG_WEIGHTS_KEPT:
            standing.clear()
        count = freq.get(piece)
        found = standing[piece] = (NOT_A_WORD if count is None else
                                   math.log(count) - log_total if count else None)
        return found

    def opening(pair: str) -> tuple[float | None, float | None, bool]:
        """For the first character of ``pair`` (two characters, or one at the end of a block):
        its log-frequency as a word (None: it is no word), that of the pair (None: no word, or
        ``pair`` is one character), and whether longer words may start with the pair. A
        character outside the dictionary starts nothing (the route stops there, as jieba's
        graph does)."""
        if len(openings) >= LOG_WEIGHTS_KEPT:
            openings.clear()
        one = look_up(pair[0])
        if one is NOT_A_WORD:
            found = (None, None, False)
        elif len(pair) == 1:
            found = (one, None, False)
        else:
            two = look_up(pair)
            found = (one, None, False) if two is NOT_A_WORD else (one, two, True)
        openings[pair] = found
        return found

    def route(block: str) -> list[int]:
        """Per character: where the best route's word starting there ends (its last index).
        A character no word starts with, or only longer ones do, is a word of frequency 1."""
        size, known, seen = len(block), openings.get, standing.get
        value, end = [0.0] * (size + 1), [0] * (size + 1)
        for start in range(size - 1, -1, -1):
            pair = block[start:start + 2]
            one, two, longer = known(pair) or opening(pair)
            best = None if one is None else one + value[start + 1]
            best_end = start
            if two is not None:
                candidate = two + value[start + 2]
                if best is None or candidate >= best:   # a tie goes to the longer word
                    best, best_end = candidate, start + 1
            # the pair may start longer words: only when its next character continues one (few do)
            if longer and start + 2 < size and seen(block[start:start + 3]) is not NOT_A_WORD:
                best, best_end = longer_words(block, start, best, best_end, value)
            value[start] = lone + value[start + 1] if best is None else best
            end[start] = best_end
        return end

    def longer_words(block: str, start: int, best: float | None, best_end: int,
                     value: list[float]) -> tuple[float | None, int]:
        """The best (value, last index) at ``start`` once the words of three characters and more
        starting there are weighed too (the pieces tried until no word starts so)."""
        known = standing.get
        for stop in range(start + 3, len(block) + 1):
            piece = block[start:stop]
            weight = known(piece, NOT_A_WORD_YET)
            if weight is NOT_A_WORD_YET:
                weight = look_up(piece)
            if weight is NOT_A_WORD:
                break
            if weight is not None:
                candidate = weight + value[stop]
                if best is None or candidate >= best:   # a tie goes to the longer word
                    best, best_end = candidate, stop - 1
        return best, best_end

    def block_words(block: str, out: list[str]) -> None:
        ends, start, size = route(block), 0, len(block)
        if ASCII_ALNUM.isdisjoint(block):   # no letter or digit to run together
            while start < size:
                stop = ends[start] + 1
                out.append(block[start:stop])
                start = stop
            return
        letters = ""
        while start < size:
            stop = ends[start] + 1
            word = block[start:stop]
            if stop - start == 1 and word in ASCII_ALNUM:   # jieba.re_eng: [a-zA-Z0-9]
                letters += word            # single letters and digits run together
            else:
                if letters:
                    out.append(letters)
                    letters = ""
                out.append(word)
            start = stop
        if letters:
            out.append(letters)

    def cut(text: str) -> tuple[str, ...]:
        """jieba's blocks: ``split`` by a pattern with one group gives the pieces between its
        matches at the even places and its matches at the odd ones, so the place says which
        (what jieba learns with one ``match`` per piece)."""
        out: list[str] = []
        for place, block in enumerate(jieba.re_han_default.split(text)):
            if not block:
                continue
            if place % 2:                      # a run of Chinese, letters, digits
                block_words(block, out)
                continue
            for turn, part in enumerate(jieba.re_skip_default.split(block)):
                if turn % 2:                   # a line break or a space
                    out.append(part)
                else:
                    out.extend(part)           # anything else: one character at a time
        return tuple(out)

    return cut


def phrases_by_first_char(synonyms: dict[str, tuple[str, ...]]) -> dict[str, tuple[tuple[int, str, tuple[str, ...]], ...]]:
    """The colloquial phrases (2+ characters) with their legal words, filed by first character
    and numbered in the synonyms file's order."""
    by_char: dict[str, list[tuple[int, str, tuple[str, ...]]]] = {}
    phrases = ((w, legal) for w, legal in synonyms.items() if len(w) >= 2)
    for number, (phrase, legal) in enumerate(phrases):
        by_char.setdefault(phrase[0], []).append((number, phrase, legal))
    return {char: tuple(found) for char, found in by_char.items()}


def stamps(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, mtime in ns, size) of each dictionary file: an edited file makes a new key."""
    found = []
    for name in DICTIONARY_FILES:
        stat = (directory / name).stat()
        found.append((name, stat.st_mtime_ns, stat.st_size))
    return tuple(found)


_built: dict[tuple, Dictionaries] = {}
_built_lock = threading.Lock()
KEPT_DICTIONARIES = 4   # tokenizers kept per process (each holds jieba's ~350,000 words)


def dictionaries_in(dict_dir: Path | str) -> Dictionaries:
    """The dictionaries of ``dict_dir`` (a knowledge directory's dict/), validated at load.

    Kept per process by resolved folder and the files' times and sizes: apps and CLI commands on
    the same folder (or a symlink to it) share one tokenizer, and an edited file is read anew."""
    directory = Path(dict_dir).resolve()
    try:
        key = (directory, stamps(directory))
    except FileNotFoundError as exc:
        raise DictionaryError(f"{directory}: missing {Path(exc.filename).name}") from exc
    with _built_lock:
        found = _built.pop(key, None) or Dictionaries(directory)
        _built[key] = found   # re-inserted last: the least recently used folder goes first
        while len(_built) > KEPT_DICTIONARIES:
            del _built[next(iter(_built))]
        return found


def validate_synonyms(data: dict, name: str = "synonyms.toml") -> dict[str, tuple[str, ...]]:
    """Colloquial word → legal words, from the ``[synonyms]`` table; errors name the entry."""
    table = data.get("synonyms")
    if not isinstance(table, dict) or not table:
        raise DictionaryError(f"{name}: needs a non-empty [synonyms] table")
    mapping: dict[str, list[str]] = {}
    for legal, words in table.items():
        if not legal.strip() or not isinstance(words, list) or not words:
            raise DictionaryError(f"{name}: {legal!r} needs a non-empty list of words")
        for word in words:
            if not isinstance(word, str) or not word.strip():
                raise DictionaryError(f"{name}: {legal!r} lists an empty or non-text word {word!r}")
            if normalize(word) == normalize(legal):
                raise DictionaryError(f"{name}: {legal!r} lists itself")
            mapping.setdefault(normalize(word), []).append(normalize(legal))
    return {word: tuple(dict.fromkeys(legal)) for word, legal in mapping.items()}


def read_dictionary(path: Path) -> dict:
    """A TOML file of knowledge/dict, parsed; a syntax error names the file."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DictionaryError(f"{Path(path).name}: {exc}") from exc


@dataclass(frozen=True)
class PhraseSet:
    """Phrases looked for together (the question lexicon's fields and parties, the trigger
    lexicons' words): which of them a text holds, from the text's pairs of adjacent Chinese
    characters (``char_pairs``) instead of one substring search per phrase. A phrase starting with two Chinese characters can only be
    in a text holding that pair, so only the phrases filed under the text's own pairs are
    searched for; one-character phrases are the text's own characters; the few starting
    otherwise (a digit, a letter) are searched for one by one."""

    by_pair: Mapping[str, tuple[str, ...]]
    singles: frozenset[str]
    others: tuple[str, ...]

    @classmethod
    def of(cls, phrases: Iterable[str]) -> "PhraseSet":
        by_pair: dict[str, list[str]] = {}
        singles, others = set(), []
        for phrase in dict.fromkeys(phrases):
            if len(phrase) == 1:
                singles.add(phrase)
            elif _CJK_PAIR.fullmatch(phrase[:2]):
                by_pair.setdefault(phrase[:2], []).append(phrase)
            else:
                others.append(phrase)
        return cls({pair: tuple(found) for pair, found in by_pair.items()}, frozenset(singles), tuple(others))

    @cached_property
    def first_pairs(self) -> frozenset[str]:
        """The pairs some phrase is filed under."""
        return frozenset(self.by_pair)

    def found_in(self, text: str, pairs: Iterable[str]) -> frozenset[str]:
        """The phrases occurring in ``text``, given its character pairs (``char_pairs(text)``):
        only the few pairs some phrase starts with are walked (a set intersection finds them)."""
        filed = self.by_pair
        found = [phrase for pair in self.first_pairs.intersection(pairs) for phrase in filed[pair] if phrase in text]
        found += self.singles.intersection(text)
        if self.others:
            found += [phrase for phrase in self.others if phrase in text]
        return frozenset(found)


def char_pairs(text: str) -> frozenset[str]:
    """Pairs of adjacent Chinese characters: they match where segmentation or a typo splits a word.
    Each character is joined to the next in one C loop a run of Chinese (most texts are one run)."""
    runs = _CJK_RUN.findall(text)
    if len(runs) == 1:
        return frozenset(map(operator.add, runs[0], runs[0][1:]))
    return frozenset(chain.from_iterable(map(operator.add, run, run[1:]) for run in runs))


@lru_cache(maxsize=8192)
def char_pinyin(char: str) -> str:
    """Toneless pinyin of one character (the character itself if it has none)."""
    return lazy_pinyin(char, style=Style.NORMAL, errors=lambda c: c)[0]


def pinyin_key(word: str) -> str:
    """Toneless pinyin of a word, syllables joined by spaces: 彩里 and 彩礼 both give "cai li"."""
    return " ".join(char_pinyin(c) for c in word)


def utf8_len(text: str) -> int:
    """Bytes in UTF-8: WeChat measures its reply limit in bytes, a Chinese character is 3."""
    return len(text.encode("utf-8"))
