"""The villager's side of 人民调解: the offer under an answer, and taking it up with "调解".

A question answered from a dispute entry (bot/retrieval/disputes.py) that names another party gets one
more paragraph: the village's 人民调解委员会 can mediate, free of charge (人民调解法第4条), and
"调解" (a tappable link in WeChat) asks for it. The offer is kept per villager for
config [mediation] offer_hours, in its own table: it takes no part of the one pending question
(bot/core/users.py), so numbers keep meaning what the bot last asked (a choice, the village).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.community import mediation
from bot.core import users
from bot.core.config import for_last_config
from bot.escalation.advisers import adviser_by_openid
from bot.retrieval.disputes import DisputeRules, Kind, kind_label, load_rules
from bot.core.messages import Consultation, Context, Incoming
from bot.kb.knowledge import knowledge_dir
from bot.community.mediation import Case, NewCase, Party, Source
from bot.core.store import TEST_CHANNELS, fetch_one, write

OFFER_WORD = "调解"
LAW = "人民调解法第4条"          # 人民调解委员会调解民间纠纷，不收取任何费用。
LAW_SHOWN = "《人民调解法》第4条"  # LAW as a villager reads it, like 【法条】 (knowledge.shown_citation)
MENU_ID = 417                    # any number: WeChat sends back only the content


def dispute_kind(ctx: Context, consultation: Consultation | None) -> Kind | None:
    """The kind of dispute an answered question describes, or None."""
    if consultation is None or consultation.action not in ("answer", "escalate") or not consultation.faq_id:
        return None
    return rules_for(ctx.config).classify(consultation.faq_id, consultation.question or "")


@for_last_config
def rules_for(config: Any) -> DisputeRules:
    """The dispute rules of ``config``'s knowledge folder, kept for the last config asked: every
    answered question asks, and working out the folder's path cost more than the classifying."""
    return load_rules(str(knowledge_dir(config)))


def dispute_name(kind: Kind) -> str:
    return "纠纷" if kind == Kind.OTHER else f"{kind_label(kind).removesuffix('纠纷')}纠纷"


def how_to_ask(channel: str) -> str:
    """Tap a link that sends "调解" (WeChat's bizmsgmenu), or type it; in the terminal, type it."""
    typed = f"回复“{OFFER_WORD}”"
    if channel == "cli":
        return typed
    link = f'<a href="weixin://bizmsgmenu?msgmenucontent={quote(OFFER_WORD)}&msgmenuid={MENU_ID}">申请调解</a>'
    return f"点{link}或{typed}"


def offer_text(kind: Kind, channel: str) -> str:
    return (f"这类{dispute_name(kind)}，可以请村里的人民调解委员会来调解，不收费（{LAW_SHOWN}）。"
            f"要调解，{how_to_ask(channel)}。")


def offer(ctx: Context, incoming: Incoming, consultation: Consultation | None, kind: Kind | None) -> str | None:
    """Keep the offer for this villager and return its paragraph; None when there is nothing to
    offer (no dispute, or a case of theirs is already being mediated). ``kind`` is
    ``dispute_kind``'s for the consultation (bot/conversation/answer_notes.py works it out before
    the reply's write turn)."""
    if kind is None or mediation.has_active_case(ctx.db, incoming.openid):
        return None
    hours = ctx.config.mediation.offer_hours
    write(ctx.db, "INSERT INTO mediation_offers (openid, kind, question, message_id, ticket_id, offered_at,"
                  " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(openid) DO UPDATE SET"
                  " kind = excluded.kind, question = excluded.question, message_id = excluded.message_id,"
                  " ticket_id = excluded.ticket_id, offered_at = excluded.offered_at,"
                  " expires_at = excluded.expires_at",
          [incoming.openid, str(kind), consultation.question, consultation.follows or ctx.message_id,
           consultation.ticket_id, ctx.now, ctx.now + hours * 3600])
    return offer_text(kind, incoming.channel)


def fresh_offer(db, openid: str, now: float) -> dict[str, Any] | None:
    return fetch_one(db, "SELECT * FROM mediation_offers WHERE openid = ? AND expires_at > ?", [openid, now])


def spend_offer(db, openid: str) -> None:
    write(db, "DELETE FROM mediation_offers WHERE openid = ?", [openid])


def is_test_sender(ctx: Context, incoming: Incoming) -> bool:
    """Like consultations: the simulator, `legalbot chat` and advisers' own WeChats are test traffic."""
    return incoming.channel in TEST_CHANNELS or adviser_by_openid(ctx.db, incoming.openid) is not None


def consultation_of(db, message_id: int | None) -> int | None:
    row = fetch_one(db, "SELECT id FROM consultations WHERE message_id = ?", [message_id]) if message_id else None
    return row["id"] if row else None


def open_from_offer(ctx: Context, incoming: Incoming, offer_row: dict[str, Any], village: str) -> Case:
    """The villager took the offer up: a case for their village's committee, the asking
    villager as 申请人 and the other side still to be named."""
    new = NewCase(village=village, kind=Kind(offer_row["kind"]), found_via=Source.VILLAGER,
                  summary=offer_row["question"] or "", parties=[Party("申请人"), Party("对方")],
                  openid=incoming.openid, ticket_id=offer_row["ticket_id"],
                  consultation_id=consultation_of(ctx.db, offer_row["message_id"]),
                  is_test=is_test_sender(ctx, incoming))
    case = mediation.open_case(ctx.db, ctx.config, new, ctx.now, actor="villager", via="wechat")
    spend_offer(ctx.db, incoming.openid)
    return case


def committee_name(ctx: Context, village: str) -> str:
    committee = ctx.config.mediation.committee(village)
    return committee.name if committee else f"{ctx.config.backup.name}（乡人民调解委员会）"


ASK_CONTACT = ("方便的话，把您的电话和对方是谁发给我（比如：电话13800001234，对方是邻居老王），"
               "调解员好联系；不方便可以不发。")


def opened_text(ctx: Context, case: Case) -> str:
    return (f"已为您申请人民调解，编号 调解#{case.id}。{committee_name(ctx, case.village)}"
            f"的调解员会尽快联系您，调解不收费，双方自愿。{ASK_CONTACT}")


CONTACT_TTL = 1800


def expect_contact(ctx: Context, openid: str, case_id: int) -> None:
    users.set_pending(ctx.db, openid, users.MediationContactAsked(case_id), CONTACT_TTL, ctx.now)
