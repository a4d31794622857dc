"""Events: following the account, unfollowing, and the menu.

Following gets a welcome (what the bot does, the disclaimer, how to reach a person);
unfollowing is recorded and gets no reply. A menu CLICK sends the key configured in
config.toml ``[[menu]]``; its ``reply`` names an action ("help", "human", "my_tickets",
"topic:<category>"; "emergency" is taken first by handlers/urgent.py, "change_village" by
handlers/village.py) or is itself the text to send. Every other event (VIEW, SCAN,
LOCATION, template/mass-send results, 订阅通知, customer-service sessions) needs no answer, so
WeChat gets ``success`` (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html).
"""
from __future__ import annotations

from bot.core import users
from bot.core.choices import offer_entries
from bot.core.config import Config
from bot.conversation.dispatch import Context, Incoming, Registry, Reply
from bot.escalation.tickets import my_tickets_text
from handlers import add

SUBSCRIBE_EVENTS = {"subscribe"}
TOPIC_EXAMPLES = 8


def township(config: Config) -> str:
    return config.local.get("township", "本乡")


def contact_line(config: Config) -> str:
    """How to reach a person: 转人工, or the township's justice office by phone."""
    phone = config.backup.phone or config.local.get("sifasuo_phone", "")
    office = config.backup.name or "司法所"
    by_phone = f"，也可以打{office}电话 {phone}" if phone else ""
    return f"想找真人：回复“转人工”，您村的法律顾问会答复您{by_phone}。"


def welcome_text(config: Config) -> str:
    return "\n".join([
        f"您好，欢迎来到{township(config)}法律咨询！我能帮您：",
        "· 回答婚姻家庭、土地宅基地、借钱欠钱、打工工资等常见法律问题，附上法律原文；",
        "· 拿不准时先问您一句，或者转给您村的法律顾问，顾问的答复会发回这里。",
        "直接打字说您遇到的事就行，比如“借钱不还怎么办”。",
        contact_line(config),
        "遇到危险请马上打110。",
        config.reply.disclaimer,
    ])


def help_text(config: Config) -> str:
    return "\n".join([
        "使用说明：",
        "1. 直接打字问，一次问一件事，比如“老人去世了房子怎么分”；",
        f"2. 回答太长时，回复“{config.reply.more_keyword}”看下一段；",
        "3. 我给出几个选项时，回复数字就行；",
        "4. " + contact_line(config),
        "发语音也可以，顾问会听。",
    ])


def topic_text(ctx: Context, incoming: Incoming, category: str) -> str:
    """Example questions of one FAQ category, numbered: a number sent back gets that answer
    (handlers/clarify.py), so a villager who cannot type much still gets one."""
    entries = ctx.services.knowledge.in_category(category)[:TOPIC_EXAMPLES]
    if not entries:
        return f"“{category}”方面的问题，请直接打字问我。" + contact_line(ctx.config)
    offer_entries(ctx, incoming.openid, [e.id for e in entries])
    examples = [f"{i}. {e.questions[0]}" for i, e in enumerate(entries, 1)]
    return "\n".join([f"{category}方面，大家常问：", *examples,
                      "回复数字看回答；也可以直接打字，用您自己的话问。"])


def human(incoming: Incoming, ctx: Context) -> Reply:
    """The "转法律顾问" button: the hand-over starts by asking what the matter is (bot/conversation/handover.py);
    the tap itself is not a consultation."""
    from bot.conversation.handover import ask_for_story
    return Reply(text=ask_for_story(ctx, incoming, "person: 菜单 转法律顾问"), handler="events.menu")


def menu_action_text(ctx: Context, incoming: Incoming, action: str) -> str:
    if action == "help":
        return help_text(ctx.config)
    if action == "my_tickets":  # normally answered first by handlers/my_tickets.py
        return my_tickets_text(ctx.db, incoming.openid)
    if action.startswith("topic:"):
        return topic_text(ctx, incoming, action.removeprefix("topic:"))
    return action or help_text(ctx.config)   # a literal reply, or help for an unknown key


def subscribe(incoming: Incoming, ctx: Context) -> Reply | None:
    if incoming.event not in SUBSCRIBE_EVENTS:
        return None
    users.update_user(ctx.db, incoming.openid, ctx.now, subscribed=1)
    return Reply(text=welcome_text(ctx.config), handler="events.subscribe")


def unsubscribe(incoming: Incoming, ctx: Context) -> Reply | None:
    if incoming.event != "unsubscribe":
        return None
    users.update_user(ctx.db, incoming.openid, ctx.now, subscribed=0)
    return Reply(text=None, handler="events.unsubscribe")


def menu_click(incoming: Incoming, ctx: Context) -> Reply | None:
    if incoming.event != "click":
        return None
    action = ctx.config.menu_reply(incoming.event_key) or ""
    if action == "human":
        return human(incoming, ctx)
    return Reply(text=menu_action_text(ctx, incoming, action), handler="events.menu")


def other_event(incoming: Incoming, ctx: Context) -> Reply:
    """VIEW, SCAN, LOCATION, job results, 订阅通知, kf sessions: nothing to say."""
    return Reply(text=None, handler="events.other")


def register(registry: Registry) -> None:
    add(registry, "events.subscribe", subscribe, types={"event"})
    add(registry, "events.unsubscribe", unsubscribe, types={"event"})
    add(registry, "events.menu", menu_click, types={"event"})
    add(registry, "events.other", other_event, types={"event"})
