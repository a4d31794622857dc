"""Helpers for the escalation tests: real Services, SQLite and handlers; a fake WeChat API only."""
from __future__ import annotations

from bot.escalation import advisers as adv
from bot.conversation import handover
from bot.core import users
from bot.core.config import load_config
from bot.conversation.dispatch import Consultation, Context, Incoming
from bot.app.services import Services
from tests.conftest import test_overrides

START = 1_900_000_000.0
VILLAGER = "oVillager0001"
ADVISER_OPENID = "oAdviserWei"          # 韦律师, adviser of 大年村 (config.toml)
BACKUP_OPENID = "oSifasuo"
ESCALATION_HANDLERS = ["handlers.binding", "handlers.adviser", "handlers.village",
                       "handlers.my_tickets", "handlers.handover"]


def make_services(tmp_path, fake=None, **sections) -> Services:
    wechat = {"api_base": fake.base if fake else "http://127.0.0.1:9",
              "adviser_template_id": "TPL-NEW-CASE", **sections.pop("wechat", {})}
    config = load_config(overrides=test_overrides(tmp_path, wechat=wechat, **sections), environ={})
    return Services(config, handler_modules=ESCALATION_HANDLERS)


def open_db(services: Services):
    """A connection with the configured advisers in place (as every process syncs them)."""
    db = services.open_db()
    adv.ensure_advisers(db, services.config, START)
    return db


def context(services: Services, db, now: float = START) -> Context:
    adv.ensure_advisers(db, services.config, now)
    return Context(services=services, db=db, now=now)


def say(services: Services, db, text: str, openid: str = VILLAGER, now: float = START) -> str | None:
    """A text message through the registry (as the webhook dispatches it), window opened."""
    users.touch_inbound(db, openid, now)
    reply = services.registry.dispatch(Incoming(openid=openid, msg_type="text", text=text),
                                       context(services, db, now))
    return reply.text


def bind(db, name: str, openid: str, now: float = START) -> adv.Adviser:
    code = adv.new_bind_code(db, name, now, 72)
    return adv.bind(db, code, openid, now)


def hand_over(ctx: Context, incoming: Incoming, consultation: Consultation, *,
              urgent: bool = False, reason: str = "") -> tuple[str, int | None]:
    """Hand ``consultation``'s question to a person as the handlers do: what the villager is
    told, and the number of the ticket (a draft while the village is asked)."""
    told, linked = handover.hand_over_now(ctx, incoming, consultation, urgent=urgent, reason=reason)
    return told, linked.ticket_id
