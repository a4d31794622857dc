"""The catch-alls: messages the bot cannot read get a polite answer, never an error.

Two kinds: message types WeChat may add or that we do not handle (a catch-all at the end), and
text with nothing to read — empty, only emoji or punctuation, or the placeholder WeChat sends
for a sticker ("【收到不支持的消息类型，暂无法显示】") — caught early, before the matcher.
"""
from __future__ import annotations

import re
import unicodedata

from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from handlers import add

STICKER_PLACEHOLDER = "收到不支持的消息类型"
WECHAT_EMOTICON = re.compile(r"\[[^\[\]]{1,6}\]|/:[^\s]{1,8}")   # [微笑], [Smile], /::)
UNKNOWN_REPLY = ("抱歉，这种消息我还看不懂。请用文字说说您遇到的事；"
                 "想找法律顾问，请回复“转人工”。")
UNREADABLE_REPLIES = {
    "empty": "您好，我没有收到文字。请把遇到的事用几句话写下来发给我。",
    "sticker": "收到您的表情啦。有法律方面的问题，请用文字说一说，我来帮您查。",
    "emoji": "收到啦。有法律方面的问题，请用文字说一说，比如“借钱不还怎么办”。",
}


def unreadable_kind(text: str) -> str | None:
    """'empty', 'sticker' or 'emoji' when a text message has no words to work with, else None."""
    if STICKER_PLACEHOLDER in text:
        return "sticker"
    if not text.strip():
        return "empty"
    words = WECHAT_EMOTICON.sub("", text) if "[" in text or "/:" in text else text   # an emoticon starts so
    if not any(unicodedata.category(ch)[0] in "LN" for ch in words):
        return "emoji"
    return None


def unreadable(incoming: Incoming, ctx: Context) -> Reply | None:
    kind = unreadable_kind(incoming.text or "")
    return Reply(text=UNREADABLE_REPLIES[kind], handler="unreadable") if kind else None


def unknown(incoming: Incoming, ctx: Context) -> Reply:
    """Last resort: events nobody handled get no reply; anything else a polite one. (Text never
    gets here: blank text is ``unreadable``, every other text a question for handlers/text.py.)"""
    if incoming.msg_type == "event":
        return Reply(text=None, handler="unknown")
    return Reply(text=UNKNOWN_REPLY, handler="unknown")


def register(registry: Registry) -> None:
    add(registry, "unreadable", unreadable, types={"text"})
    add(registry, "unknown", unknown)
