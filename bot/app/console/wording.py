"""What the console shows for the records' internal words: staff and advisers read Chinese only.

The tables keep short English keys (actions, channels, actors, the notes older code wrote on a
ticket's events); the pages show them through these functions. A note that is still English
after translation is left out rather than shown: it was written for developers.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

CHANNEL_LABELS = {"wechat": "微信", "voice": "微信语音", "simulator": "模拟器（测试）",
                  "cli": "命令行（测试）"}
ACTOR_LABELS = {"villager": "村民", "worker": "系统", "webhook": "系统", "system": "系统",
                "staff": "工作人员"}
REASON_LABELS = {"new": "新咨询", "urgent": "紧急", "remind": "催办", "reassign": "转交"}
VIA_LABELS = {"cs": "客服消息", "template": "模板消息"}
OUTBOX_LABELS = {"pending": "等待发送", "sending": "正在发送", "sent": "已发出", "held": "没有发出",
                 "failed": "发送失败"}
CJK = re.compile(r"[\u3400-\u9fff]")

NOTES: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"^(new|urgent|remind|reassign) → (.+) by (cs|template)$"),
     lambda m: f"已通知{m[2]}（{REASON_LABELS[m[1]]}，{VIA_LABELS[m[3]]}）"),
    (re.compile(r"^voice → (.+)$"), lambda m: f"语音已转给{m[1]}"),
    (re.compile(r"^urgent: (.+)$"), lambda m: f"紧急求助（{m[1]}）"),
    (re.compile(r"^menu: (.+)$"), lambda m: f"点了菜单：{m[1]}"),
    (re.compile(r"^clarify: (.+)$"), lambda m: f"村民回复“{m[1]}”"),
    (re.compile(r"^→ (.+)$"), lambda m: f"转给{m[1]}"),
    (re.compile(r"^villager asked for a person"), lambda m: "村民要求转法律顾问"),
    (re.compile(r"^adviser handed over$"), lambda m: "法律顾问转交"),
    (re.compile(r"^no answer in time$"), lambda m: "超时未答复，转给司法所"),
    (re.compile(r"^reminder$"), lambda m: "已催办"),
    (re.compile(r"^with the reply$"), lambda m: "随村民下一条消息的回复送达"),
    (re.compile(r"^customer-service message$"), lambda m: "客服消息送达"),
]


def channel_label(channel: str | None) -> str:
    return CHANNEL_LABELS.get(channel or "wechat", "其他")


def actor_label(actor: str | None) -> str:
    """An adviser's name stays; the program's own actors get a Chinese word."""
    return ACTOR_LABELS.get(actor or "", actor or "")


def note_label(note: str | None) -> str:
    """A note in Chinese, or '' when it only makes sense to a developer."""
    text = (note or "").strip()
    for pattern, render in NOTES:
        match = pattern.match(text)
        if match:
            return render(match)
    return text if CJK.search(text) else ""


def event_text(event: Mapping[str, Any], status_labels: Mapping[str, str],
               adviser_names: Mapping[int, str]) -> str:
    """One line of a ticket's history: status · who · what (structured events included)."""
    if event.get("kind") == "notified" and event.get("adviser_id") in adviser_names:
        what = (f"已通知{adviser_names[event['adviser_id']]}"
                f"（{REASON_LABELS.get(event.get('reason') or '', '通知')}，"
                f"{VIA_LABELS.get(event.get('via') or '', '微信')}）")
    else:
        what = note_label(event.get("note"))
    status = status_labels.get(event.get("to_status") or "", "")
    parts = [status, actor_label(event.get("actor")), what]
    return " · ".join(p for p in parts if p)
