"""A phone-shaped chat page at /simulator for trying the bot without a WeChat account.

Development only, and only without a real account's secrets (``Config.simulator_enabled``).
The page's JavaScript builds the same XML WeChat's servers send, signs the request and POSTs it
to /wechat, so what you try here is the real path: signature check, dedupe, handlers, records,
the reply XML.

The signature is sha1 of the sorted token, timestamp and nonce
(https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html); it is
computed by /simulator/sign so the token never has to be typed into the page.

In WeChat an adviser's answer arrives by itself (a customer-service message pushed by the
worker). The page plays the villager's phone, so it polls /simulator/inbox: answers waiting for
this villager are handed over as a push would (marked delivered "by the simulator"), and
answers the worker did push are shown too. Only villagers the page made (openid "oSimulator…").
"""
from __future__ import annotations

import secrets
import time

from flask import Blueprint, abort, jsonify, render_template, request
from wechatpy.utils import WeChatSigner

blueprint = Blueprint("simulator", __name__)
OPENID_PREFIX = "oSimulator"     # simulator.js makes every villager it plays; no one else's mail


def sign(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's request signature (sha1 over the sorted token, timestamp and nonce), made by
    wechatpy's own signer: the webhook checks it with wechatpy's ``check_signature``."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return signer.signature


def settings():
    """The config, or 404 unless the simulator may run: never in production, never with a real
    account's secrets (the signer would sign anything with the real token, without a login).
    Belt and braces: ``create_app`` does not even register the blueprint then."""
    from bot import services
    config = services().config
    if not config.simulator_enabled:
        abort(404)
    return config


@blueprint.get("/simulator")
def page():
    config = settings()
    from bot.community.publicity import menu_for, township_today   # the 普法 button follows the calendar
    return render_template("simulator.html", menu=menu_for(config, township_today(time.time())),
                           township=config.local.get("township", ""))


@blueprint.post("/simulator/sign")
def signature():
    """A fresh timestamp, nonce and signature for one POST to /wechat."""
    config = settings()
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    return jsonify(timestamp=timestamp, nonce=nonce,
                   signature=sign(config.wechat.token, timestamp, nonce))


@blueprint.post("/simulator/inbox")
def inbox():
    """Adviser answers for this simulated villager: those waiting (handed over now, as a push
    would) and those the worker pushed since ``since`` (epoch seconds). {"messages": [{ticket_id,
    text}]}; the page shows each ticket's answer once."""
    settings()
    body = request.get_json(silent=True) or {}
    openid, since = str(body.get("openid") or ""), body.get("since")
    if not openid.startswith(OPENID_PREFIX) or not isinstance(since, (int, float)):
        abort(400)
    from bot import get_db
    from bot.escalation.delivery import answer_text, take_waiting_answers
    db = get_db()
    pushed = list(db.query("SELECT id, answer FROM tickets WHERE openid = ? AND delivered_via = "
                           "'cs' AND delivered_at >= ? ORDER BY delivered_at, id", [openid, since]))
    taken = take_waiting_answers(db, openid, time.time(), via="simulator")
    return jsonify(messages=[{"ticket_id": row["id"], "text": answer_text(row["id"], row["answer"])}
                             for row in [*pushed, *taken]])
