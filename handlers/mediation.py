"""人民调解 by WeChat: the villager takes up the offer; mediators keep the 调解台账 by command.

Villagers (bot/conversation/mediation_offers.py has the offer itself):
- "调解" (or the tapped link, "申请调解", "我要调解") within the offer's hours opens a case for
  their village's 人民调解委员会; the village is asked first when it is not known;
- the phone and who the other side is, sent in the minutes after, go to the case;
- "我的调解" shows where their cases stand.

Mediators (bound like advisers, listed in config [mediation]; the 司法所 for every village),
in the adviser commands' style:
  调解待办                      the open cases of their villages
  调解 3                        one case
  调解 3 记录 双方到村委会谈了一次   a session held
  调解 3 成功 协议已签 申请司法确认   the outcome (成功 / 未成功 / 转诉讼 / 转仲裁 / 撤回), with the
                                 agreement and 司法确认 read from the words
  调解 3 类型 山林                correct the kind
  转调解 12                     an adviser refers ticket 12 to the committee
"""
from __future__ import annotations

import re
from typing import Callable

from bot.escalation import advisers as adv
from bot.community import mediation
from bot.escalation import tickets
from bot.core import users
from bot.escalation.advisers import Adviser
from bot.core.config import Config
from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from bot.conversation.replies import capped_list, one_line
from bot.retrieval.disputes import KIND_LABELS, Kind
from bot.community.mediation import Case, MediationError, NewCase, Party, Source, Status
from bot.conversation.mediation_offers import (committee_name, expect_contact, fresh_offer, open_from_offer,
                                  opened_text)
from bot.conversation.villages import settle_village
from handlers import add

ACCEPT = re.compile(r"^(调解|要调解|我要调解|申请调解|申请人民调解|帮我调解|请帮我调解|同意调解|好的?调解|调解吧)[。！!]?$")
APPLY = re.compile(r"^(我要|申请|帮我|请帮我)")
ASK_DISPUTE = "好的。请先用几句话说说是什么纠纷：跟谁、因为什么事。我看看能不能帮您申请村里的人民调解。"
MINE = re.compile(r"^\s*(我的调解|调解进度|查调解)\s*$")
VILLAGE_TTL = 3600
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


# ---- villagers ---------------------------------------------------------------------------------

def known_village(ctx: Context, openid: str) -> str | None:
    village = users.get_village(ctx.db, openid)
    return village if village and ctx.config.village(village) else None


def accept(incoming: Incoming, ctx: Context) -> Reply | None:
    """"调解" after the offer: the case, or first the village."""
    if not ACCEPT.match(incoming.normalized.replace(" ", "")):
        return None
    offer = fresh_offer(ctx.db, incoming.openid, ctx.now)
    if offer is None:                     # "调解" alone: the FAQ explains 人民调解
        return Reply(text=ASK_DISPUTE, handler="mediation.accept") if APPLY.match(incoming.normalized) else None
    village = known_village(ctx, incoming.openid)
    if village is None and ctx.config.villages:
        users.set_pending(ctx.db, incoming.openid, users.MediationVillageAsked(), VILLAGE_TTL, ctx.now)
        return Reply(text="好的。先说一下您是哪个村的，好交给您村的调解委员会。" + village_list(ctx.config),
                     handler="mediation.accept")
    return Reply(text="好的，" + open_case_text(ctx, incoming, offer, village or ""), handler="mediation.accept")


def village_list(config: Config) -> str:
    return "请回复数字：\n" + "\n".join(f"{i} {name}" for i, name in enumerate(config.village_names, 1))


def open_case_text(ctx: Context, incoming: Incoming, offer: dict, village: str) -> str:
    case = open_from_offer(ctx, incoming, offer, village)
    expect_contact(ctx, incoming.openid, case.id)
    return opened_text(ctx, case)


def chosen_village(text: str, config: Config) -> str | None:
    text = (text or "").strip().translate(FULL_WIDTH_DIGITS)
    names = config.village_names
    if text.isdigit() and 1 <= int(text) <= len(names):
        return names[int(text) - 1]
    return next((n for n in names if text in (n, n.removesuffix("村"))), None)


def village_for_case(incoming: Incoming, ctx: Context) -> Reply | None:
    """The village named after "调解": it is remembered (and any hand-over waiting for it goes
    out, as when the village question is answered), then the case opens."""
    pending = users.get_pending(ctx.db, incoming.openid, ctx.now, kind="mediation_village")
    if pending is None:
        return None
    village = chosen_village(incoming.text, ctx.config)
    if village is None:
        return Reply(text="没有这个村。" + village_list(ctx.config), handler="mediation.village")
    offer = fresh_offer(ctx.db, incoming.openid, ctx.now)
    users.clear_pending(ctx.db, incoming.openid, ctx.now)
    told = settle_village(ctx, incoming.openid, village)
    if offer is None:
        return Reply(text=told, handler="mediation.village")
    return Reply(text=told + open_case_text(ctx, incoming, offer, village), handler="mediation.village")


PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
OTHER = re.compile(r"对方(?:是|叫|姓)?[:：]?\s*([^，,。；;！!\s\d]{1,12})")
NAME = re.compile(r"我(?:叫|姓|是)\s*([^，,。；;！!\s\d]{1,8})")


def contact(incoming: Incoming, ctx: Context) -> Reply | None:
    """The phone, the villager's name or the other side, sent after the case opened."""
    pending = users.get_pending(ctx.db, incoming.openid, ctx.now, kind="mediation_contact")
    if pending is None:               # the text is read only when a case waits for it
        return None
    text = (incoming.text or "").translate(FULL_WIDTH_DIGITS)
    found = [PHONE.search(text), NAME.search(text), OTHER.search(text)]
    if not any(found):
        return None
    phone, name, other = (m.group(1) if m else "" for m in found)
    case = mediation.villager_contact(ctx.db, pending.data.case_id, incoming.openid, ctx.now,
                                      name=name, phone=phone, other=other)
    users.clear_pending(ctx.db, incoming.openid, ctx.now)
    if case is None:
        return None
    return Reply(text=f"收到，已补充到调解#{case.id}，调解员会联系您。", handler="mediation.contact")


def my_cases(incoming: Incoming, ctx: Context) -> Reply | None:
    if not MINE.match(incoming.text or ""):
        return None
    cases = mediation.list_cases(ctx.db, openid=incoming.openid)[:5]
    if not cases:
        return Reply(text="您还没有申请过人民调解。遇到纠纷，直接说说是什么事，我看能不能帮您申请。",
                     handler="mediation.mine")
    lines = [f"调解#{c.id} {c.village} {c.kind_label}——{c.status_label}" for c in cases]
    return Reply(text="您的调解申请：\n" + "\n".join(lines), handler="mediation.mine")


# ---- mediators ---------------------------------------------------------------------------------

LIST = re.compile(r"^\s*(调解待办|调解台账|我的调解案件)\s*$")
DETAIL = re.compile(r"^\s*调解\s*#?(\d+)\s*$")
SESSION = re.compile(r"^\s*调解\s*#?(\d+)\s*(?:记录|调解了?一次)\s*[:：,，]?\s*(.*)$", re.S)
OUTCOME = re.compile(r"^\s*调解\s*#?(\d+)\s*(未成功|没成功|不成功|成功|转诉讼或仲裁|转诉讼|转仲裁|撤回)"
                     r"\s*[:：,，]?\s*(.*)$", re.S)
KIND = re.compile(r"^\s*调解\s*#?(\d+)\s*类型\s*[:：]?\s*(土地|山林|水利|邻里|婚姻|婚姻家庭|宅基地|其他)\s*$")
REFER = re.compile(r"^\s*转调解\s*#?(\d+)\s*[:：,，]?\s*(.*)$", re.S)
OUTCOME_WORDS = {"成功": Status.SUCCEEDED, "未成功": Status.FAILED, "没成功": Status.FAILED,
                 "不成功": Status.FAILED, "转诉讼或仲裁": Status.REFERRED, "转诉讼": Status.REFERRED,
                 "转仲裁": Status.REFERRED, "撤回": Status.WITHDRAWN}
KIND_WORDS = {label.removesuffix("纠纷"): kind for kind, label in KIND_LABELS.items()} | {"婚姻": Kind.MARRIAGE}
LIST_LIMIT = 10
NOT_A_MEDIATOR = "您还不是人民调解委员会的调解员，不能记录调解。需要时请联系乡司法所。"


def list_text(ctx: Context, adviser: Adviser, _match) -> str:
    villages = mediation.mediator_villages(ctx.config, adviser)
    cases = mediation.list_cases(ctx.db, villages=villages, statuses=mediation.ACTIVE)
    if not cases:
        return "目前没有待调解的案件。"
    lines = [f"调解#{c.id} {c.village} {c.kind_label} {c.status_label}（{c.sessions}次）：{short(c.summary)}"
             for c in cases]
    return capped_list(f"待调解 {len(cases)} 件：", lines, LIST_LIMIT, "件", "回复“调解 编号”看详情。")


def short(text: str, limit: int = 20) -> str:
    return one_line(text, limit, "（未填）")


def detail_text(ctx: Context, adviser: Adviser, match) -> str:
    case = mediation.actionable_case(ctx.db, ctx.config, int(match.group(1)), adviser)
    lines = [f"调解#{case.id}（{case.village}，{case.kind_label}，{case.source_label}，{case.status_label}）",
             f"纠纷：{case.summary or '（未填）'}", *[p.label() for p in case.parties],
             f"已调解 {case.sessions} 次" + (f"，调解员{case.mediator}" if case.mediator else "")]
    if case.active:
        lines.append(f"调解后回复“调解 {case.id} 记录 情况”；结案回复“调解 {case.id} 成功 协议已签”"
                     "（或 未成功 / 转诉讼 / 撤回）。")
    return "\n".join(lines)


def session_text(ctx: Context, adviser: Adviser, match) -> str:
    case = mediation.record_session(ctx.db, ctx.config, int(match.group(1)), adviser, ctx.now,
                                    actor=adviser.name, via="wechat", note=match.group(2).strip())
    return (f"已记下调解#{case.id}第{case.sessions}次调解。结案时回复“调解 {case.id} 成功 协议已签”"
            "（或 未成功 / 转诉讼 / 撤回）。")


def outcome_text(ctx: Context, adviser: Adviser, match) -> str:
    outcome, words = OUTCOME_WORDS[match.group(2)], match.group(3).strip()
    case = mediation.close_case(ctx.db, ctx.config, int(match.group(1)), outcome, adviser, ctx.now,
                                actor=adviser.name, via="wechat", note=words,
                                agreement=mediation.agreement_said(words),
                                confirmation=mediation.confirmation_said(words))
    text = f"调解#{case.id}已记为“{case.status_label}”（调解{case.sessions}次"
    if outcome == Status.SUCCEEDED:
        text += "，调解协议书已签" if case.agreement else "，未签书面协议"
        text += "，已申请司法确认" if case.judicial_confirmation else ""
    text += "）。"
    if outcome == Status.SUCCEEDED and case.agreement and not case.judicial_confirmation:
        text += "双方认为有必要的，可在协议生效之日起30日内共同向法院申请司法确认（《人民调解法》第33条）。"
    return text


def kind_text(ctx: Context, adviser: Adviser, match) -> str:
    kind = KIND_WORDS[match.group(2).removesuffix("家庭")]
    case = mediation.edit_case(ctx.db, ctx.config, int(match.group(1)), adviser, ctx.now,
                               actor=adviser.name, via="wechat", kind=kind)
    return f"调解#{case.id}的类型已改为“{case.kind_label}”。"


def refer_text(ctx: Context, adviser: Adviser, match) -> str:
    """An adviser sends a ticket's dispute to the committee of its village."""
    ticket = tickets.actionable_ticket(ctx.db, int(match.group(1)), adviser)
    if not ticket.village:
        raise MediationError(f"咨询 #{ticket.id} 还不知道是哪个村的，请在后台转调解。")
    case = open_referred(ctx, ticket, adviser, match.group(2).strip())
    return f"咨询 #{ticket.id} 已转{committee_name(ctx, ticket.village)}调解，编号 调解#{case.id}。"


def open_referred(ctx: Context, ticket: tickets.Ticket, adviser: Adviser, note: str) -> Case:
    from bot.retrieval.disputes import load_rules
    from bot.kb.knowledge import knowledge_dir
    rules = load_rules(str(knowledge_dir(ctx.config)))
    rule = rules.rule_of(ticket_faq(ctx, ticket))
    new = NewCase(village=ticket.village, kind=rule.kind if rule else Kind.OTHER, found_via=Source.TICKET,
                  summary=note or tickets.story_of(ticket), parties=[Party("申请人"), Party("对方")],
                  openid=ticket.openid, ticket_id=ticket.id, consultation_id=ticket.consultation_id,
                  is_test=consultation_is_test(ctx, ticket.consultation_id))
    return mediation.open_case(ctx.db, ctx.config, new, ctx.now, actor=adviser.name, via="wechat")


def ticket_faq(ctx: Context, ticket: tickets.Ticket) -> str | None:
    row = consultation_of_ticket(ctx, ticket.consultation_id)
    return row[0] if row else None


def consultation_is_test(ctx: Context, consultation_id: int | None) -> bool:
    row = consultation_of_ticket(ctx, consultation_id)
    return bool(row and row[1])


def consultation_of_ticket(ctx: Context, consultation_id: int | None):
    if consultation_id is None:
        return None
    return ctx.db.execute("SELECT faq_id, is_test FROM consultations WHERE id = ?", [consultation_id]).fetchone()


COMMANDS: list[tuple[re.Pattern, Callable[[Context, Adviser, re.Match], str], bool]] = [
    # (syntax, command, needs a mediator: 转调解 is any adviser's)
    (LIST, list_text, True), (KIND, kind_text, True), (OUTCOME, outcome_text, True),
    (SESSION, session_text, True), (DETAIL, detail_text, True), (REFER, refer_text, False)]
COMMAND_WORD = "调解"         # every command's syntax holds it (tests/test_handlers_perf.py checks)


def mediator_command(incoming: Incoming, ctx: Context) -> Reply | None:
    """The syntax first, then whether a bound adviser account sent it (a villager's "调解" is
    never read as a command: it needs a number). A text without 调解 is no command: the six
    patterns are not tried on every villager's question."""
    text = incoming.text or ""
    if COMMAND_WORD not in text:
        return None
    for pattern, command, mediators_only in COMMANDS:
        match = pattern.match(text)
        if match:
            adviser = adv.adviser_by_openid(ctx.db, incoming.openid)
            if adviser is None:
                return None
            if mediators_only and not mediation.is_mediator(ctx.config, adviser):
                return Reply(text=NOT_A_MEDIATOR, handler="mediation.command")
            return Reply(text=run(command, ctx, adviser, match), handler="mediation.command")
    return None


def run(command, ctx: Context, adviser: Adviser, match) -> str:
    try:
        return command(ctx, adviser, match)
    except (MediationError, tickets.TicketError) as exc:
        return str(exc)


def register(registry: Registry) -> None:
    # Mediators' commands come before the danger words (handlers.PRIORITIES), since a session
    # note may well say "打架" or "拿刀".
    add(registry, "mediation.command", mediator_command, types={"text"})
    add(registry, "mediation.village", village_for_case, types={"text"})
    add(registry, "mediation.accept", accept, types={"text"})
    add(registry, "mediation.contact", contact, types={"text"})
    add(registry, "mediation.mine", my_cases, types={"text"})
