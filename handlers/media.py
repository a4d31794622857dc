"""Pictures, videos, locations, links and files: the bot reads words only, so it asks for them.

A villager often photographs a document instead of typing; a kind reply explains what to do
rather than leaving them with nothing (WeChat message types:
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html).
"""
from __future__ import annotations

from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from handlers import add

KINDS = {"image": "图片", "video": "视频", "shortvideo": "小视频", "location": "位置",
         "link": "链接", "file": "文件"}


def media_reply(kind: str) -> str:
    """What to tell a villager who sent something other than words."""
    return (f"收到您发的{kind}了。我现在只看得懂文字，麻烦您用几句话说说遇到了什么事，"
            "比如“邻居占了我家宅基地怎么办”。\n想直接找法律顾问，请回复“转人工”。")


def media(incoming: Incoming, ctx: Context) -> Reply:
    return Reply(text=media_reply(KINDS[incoming.msg_type]), handler="media")


def register(registry: Registry) -> None:
    add(registry, "media", media, types=KINDS)
