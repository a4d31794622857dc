"""The answer to numbered choices: "您想问的是：1 … 2 … 3 … 回复数字即可", and the numbered
examples of a menu topic (常见问题 → 婚姻家庭 → "5").

The choices live in the villager's pending state (bot/core/users.py, kind "clarify"; a menu topic's
examples are offered by bot/core/choices.py) for
config.matcher.clarify_ttl_seconds; after that a "2" is an ordinary message again. A choice
completes the consultation of the question that was asked (one row, updated); "都不是" hands
that question to the village adviser. An entry that needs a person (``needs_person``) is
answered with the hand-over offered in one tap, as handlers/text.py does.
"""
from __future__ import annotations

import re

from bot.conversation import handover
from bot.core import users
from bot.conversation.dispatch import Consultation, Context, Incoming, Registry, Reply
from bot.kb.knowledge import compose_reply
from bot.retrieval.matcher import Decision
from handlers import add

NONE_OF_THEM = re.compile(r"^(都不是|都不对|不是|没有|没有我要问的|以上都不是|0)$")
GONE = "这一条刚刚下线了，请把您的问题再发一次，我重新帮您查。"
OUT_OF_RANGE = "没有这个序号，请回复{choices}中的一个数字；都不是请回复“都不是”。"
CN_DIGITS = str.maketrans("一二三四五六七八九", "123456789")
CHOICE = re.compile(r"第?(\d{1,2})个?")


CHOICE_CHARS = 4         # the longest choice CHOICE takes: 第, two digits, 个


def chosen_number(normalized: str) -> int | None:
    """"2", "２", "二", "第2个" (normalized) → 2; anything else → None. A longer text is no
    choice (CN_DIGITS maps one character to one): it is not translated, as every question was."""
    compact = normalized.replace(" ", "")
    if len(compact) > CHOICE_CHARS:
        return None
    found = CHOICE.fullmatch(compact.translate(CN_DIGITS))
    return int(found.group(1)) if found else None


def selected(ctx: Context, incoming: Incoming, pending: users.Pending, number: int) -> Reply:
    ids = pending.data.faq_ids
    if not 1 <= number <= len(ids):
        choices = "、".join(str(n) for n in range(1, len(ids) + 1))
        return Reply(text=OUT_OF_RANGE.format(choices=choices), handler="clarify")
    users.clear_pending(ctx.db, incoming.openid, ctx.now)
    kb = ctx.services.knowledge
    entry = kb.by_id.get(ids[number - 1])
    if entry is None:                 # taken down (a learned entry) since the choices were offered
        return Reply(text=GONE, handler="clarify")
    offered = pending.data
    consultation = Consultation(question=offered.question or entry.questions[0],
                                action="answer", faq_id=entry.id, category=entry.category,
                                citations=list(entry.citations), reason=f"choice {number}",
                                follows=offered.message_id)
    text = compose_reply(entry, kb, ctx.config)
    if getattr(entry, "needs_person", False):
        text = f"{text}\n\n" + handover.offer(ctx, consultation, incoming.openid, handover.PERSON_OFFERED)
    decision = Decision(consultation.action, faq_id=entry.id, score=1.0, citations=list(entry.citations),
                        category=entry.category, reason=consultation.reason)
    return Reply(text=text, handler="clarify", consultation=consultation, decision=decision)


def none_of_them(ctx: Context, incoming: Incoming, pending: users.Pending) -> Reply:
    users.clear_pending(ctx.db, incoming.openid, ctx.now)
    if not pending.data.question:     # a menu's examples: nothing was asked yet
        return Reply(text="好的，请直接打字说您的问题，我来帮您查。", handler="clarify")
    told, consultation = handover.hand_over_asked(ctx, incoming, pending.data, "clarify: 都不是")
    return Reply(text="好的，我请法律顾问来看。" + told, handler="clarify", consultation=consultation)


def clarify(incoming: Incoming, ctx: Context) -> Reply | None:
    """A number or "都不是" answers the choices offered; any other text is a new message."""
    none = NONE_OF_THEM.match(incoming.normalized)
    number = None if none else chosen_number(incoming.normalized)
    if not none and number is None:
        return None
    pending = users.get_pending(ctx.db, incoming.openid, ctx.now, kind="clarify")
    if pending is None:
        return None
    return none_of_them(ctx, incoming, pending) if none else selected(ctx, incoming, pending, number)


def register(registry: Registry) -> None:
    add(registry, "clarify", clarify, types={"text"})
