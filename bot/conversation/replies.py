"""Passive reply rendering: the text XML WeChat expects, cut to WeChat's size limit.

WeChat shows at most 2048 UTF-8 bytes of a passive text reply (community-measured; see
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html).
A longer answer is cut on a sentence boundary; the rest waits in ``users.more_text`` until the
villager sends "更多", so nothing is silently lost.
"""
from __future__ import annotations

import re

from bot.core import users
from bot.core.text import utf8_len

# Characters XML 1.0 forbids (and that make wechatpy's parser fail): C0 controls except
# tab/newline/carriage return, DEL, lone surrogates and the two non-characters.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
SENTENCE_ENDS = "。！？!?；;…\n"
SOFT_BREAKS = "，,、：: "
TEXT_REPLY = ("<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
              "<FromUserName><![CDATA[{source}]]></FromUserName>"
              "<CreateTime>{time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
              "<Content><![CDATA[{content}]]></Content></xml>")
TEXT_HEAD, TEXT_TAIL = TEXT_REPLY.split("{content}")


def strip_control(text: str) -> str:
    """Drop characters XML cannot carry; WeChat sometimes sends them and the parser chokes.

    Every such character is unprintable, so a text printable but for its line breaks has none and
    comes back as it is: that test runs in C at half the cost of the pattern's scan, which, over a
    reply of Chinese text, cost about 25,000 instructions (the body, the reply: twice a message)."""
    if text.replace("\n", " ").isprintable():
        return text
    return CONTROL_CHARS.sub("", text)


def cdata(text: str) -> str:
    """Make text safe inside CDATA: a literal ``]]>`` would end the section early."""
    return strip_control(text).replace("]]>", "]]]]><![CDATA[>")


def render_text(to_user: str, from_user: str, content: str, create_time: int) -> str:
    """The plaintext XML of a passive text reply (encrypted later if the request was)."""
    head, tail = text_frame(to_user, from_user, create_time)
    return head + cdata(content) + tail


def text_frame(to_user: str, from_user: str, create_time: int) -> tuple[str, str]:
    """A passive text reply's XML before and after its content: the reply pipeline makes it
    before the reply's write turn, where only the content is left to put in."""
    return TEXT_HEAD.format(to=cdata(to_user), source=cdata(from_user), time=int(create_time)), TEXT_TAIL


def more_hint(keyword: str) -> str:
    return f"\n\n（内容较长，回复“{keyword}”看下一段）"


def split_reply(text: str, max_bytes: int, keyword: str = "更多") -> tuple[str, str | None]:
    """Cut ``text`` to fit ``max_bytes`` with a "回复更多" hint; return (first part, rest or None)."""
    if utf8_len(text) <= max_bytes:
        return text, None
    hint = more_hint(keyword)
    cut = cut_point(text, max_bytes - utf8_len(hint))
    return text[:cut].rstrip() + hint, text[cut:].lstrip() or None


def cut_point(text: str, budget: int) -> int:
    """Index to cut at: the last sentence end within ``budget`` bytes, else a softer break."""
    fits = longest_prefix(text, budget)
    floor = fits // 2  # never cut so early that the villager gets a stub
    for breaks in (SENTENCE_ENDS, SOFT_BREAKS):
        at = max(text.rfind(ch, floor, fits) for ch in breaks)
        if at >= floor:
            return at + 1
    return max(fits, 1)


def longest_prefix(text: str, budget: int) -> int:
    """Number of characters of ``text`` whose UTF-8 encoding fits in ``budget`` bytes."""
    encoded = text.encode("utf-8")[:max(budget, 0)]
    return len(encoded.decode("utf-8", errors="ignore"))


def fit_for_user(db, openid: str, text: str, max_bytes: int, keyword: str, now: float) -> str:
    """The part of ``text`` to send now; the rest (or nothing) becomes the user's "更多"."""
    first, rest = split_reply(text, max_bytes, keyword)
    if rest is not None or has_more_text(db, openid):
        users.update_user(db, openid, now, more_text=rest)
    return first


def has_more_text(db, openid: str) -> bool:
    """Whether an earlier long answer left a rest (then a new reply replaces it). The row is
    the one the handlers read for this message (bot.core.users.read_once)."""
    user = users.get_user(db, openid)
    return user is not None and user["more_text"] is not None


# ---- lists sent to an adviser's or mediator's phone ----------------------------------------

def one_line(text: str | None, limit: int, empty: str) -> str:
    """``text`` on one line, cut to ``limit`` characters (``empty`` when there is none)."""
    text = (text or empty).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def capped_list(heading: str, lines: list[str], limit: int, unit: str, hint: str) -> str:
    """At most ``limit`` lines under ``heading``; the rest is counted and left to the console."""
    more = f"\n……还有{len(lines) - limit}{unit}，请到后台查看。" if len(lines) > limit else ""
    return heading + "\n" + "\n".join(lines[:limit]) + more + "\n" + hint

