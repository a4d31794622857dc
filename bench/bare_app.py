"""The ceiling: a Flask + wechatpy endpoint that only checks the signature, parses and echoes.

`make bench` drives it with the same load as the real bot, in the same run, so the bot's
throughput can be read as a ratio of what Flask and wechatpy allow on this machine.
"""
from flask import Flask, request
from wechatpy import parse_message
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature


def create_app(token: str = "benchtoken") -> Flask:
    app = Flask(__name__)

    @app.post("/wechat")
    def echo():
        args = request.args
        check_signature(token, args["signature"], args["timestamp"], args["nonce"])
        message = parse_message(request.get_data())
        return TextReply(message=message, content=message.content).render()

    return app
