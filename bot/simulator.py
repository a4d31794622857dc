"""A phone-shaped chat page at /simulator for trying the bot without a WeChat account.

Development only (``create_app`` registers it when not in production). The page's JavaScript
builds the same XML WeChat's servers send, signs the request and POSTs it to /wechat, so what
you try here is the real path: signature check, dedupe, handlers, records, the reply XML.

The signature is sha1 of the sorted token, timestamp and nonce
(https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html); it is
computed by /simulator/sign so the token never has to be typed into the page.
"""
from __future__ import annotations

import secrets
import time

from flask import Blueprint, abort, jsonify, render_template
from wechatpy.utils import WeChatSigner

blueprint = Blueprint("simulator", __name__)


def sign(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's request signature (sha1 over the sorted token, timestamp and nonce), made by
    wechatpy's own signer: the webhook checks it with wechatpy's ``check_signature``."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return signer.signature


def settings():
    from bot import services
    config = services().config
    if config.is_production:  # belt and braces: the blueprint is not registered in production
        abort(404)
    return config


@blueprint.get("/simulator")
def page():
    config = settings()
    return render_template("simulator.html", menu=config.menu,
                           township=config.local.get("township", ""))


@blueprint.post("/simulator/sign")
def signature():
    """A fresh timestamp, nonce and signature for one POST to /wechat."""
    config = settings()
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    return jsonify(timestamp=timestamp, nonce=nonce,
                   signature=sign(config.wechat.token, timestamp, nonce))
