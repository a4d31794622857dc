"""The WeChat callback, ``/wechat``: check, decrypt, parse, dedupe, dispatch, record, reply.

WeChat's rules (https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html,
.../Message_Management/Message_encryption_and_decryption_instructions.html):
- GET is the URL check: ``signature`` = sha1(sorted token, timestamp, nonce); echo ``echostr``.
- POST comes in plaintext, compatible or safe mode; encrypted requests carry
  ``encrypt_type=aes`` and ``msg_signature`` and must be answered encrypted. The plaintext
  ``signature`` does not cover the body, so with an AES key only encrypted requests are
  answered (``[wechat] message_mode``), and a (timestamp, nonce) is good for one body
  (bot.core.replay).
- WeChat waits 5 s and retries three times; answering ``success`` means "no reply". Any other
  invalid body shows the villager "该公众号暂时无法提供服务", so errors inside are logged and
  answered with ``success`` — WeChat never sees a 500.
"""
from __future__ import annotations

import _signal  # signal.signal's C function: see read_within
import dataclasses
import logging
import signal
import threading
import time
from typing import Any, Callable, Mapping

from flask import Blueprint, Response, request
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature
import xmltodict

from bot import get_db, services
from bot.app import query_pairs
from bot.core import replay
from bot.app.wechat_xml import NotFlat, flat_fields
from bot.conversation import replies
from bot.core.config import Config
from bot.conversation.pipeline import answer_once
from bot.conversation.dispatch import Incoming

log = logging.getLogger(__name__)
blueprint = Blueprint("webhook", __name__)

MESSAGE_TYPES = {"text", "voice", "image", "video", "shortvideo", "location", "link", "file", "event"}
SUCCESS = "success"
CHANNELS_FROM_HEADER = {"simulator"}   # development only: the simulator page marks its posts


class Refused(Exception):
    """The request is not one we answer: carries the HTTP status and a short reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclasses.dataclass
class Envelope:
    """What came in: the plaintext message XML and, if it was encrypted, how to answer."""

    xml: str
    crypto: WeChatCrypto | None = None
    nonce: str = ""
    timestamp: str = ""


@blueprint.record_once
def install_entry(state) -> None:
    """Registered on an app: the webhook's own WSGI entry answers its POSTs (bot/app/fastpath.py)."""
    from bot.app.fastpath import install
    install(state.app)


@blueprint.errorhandler(Refused)
def refused(exc: Refused) -> Response:
    status, text, mimetype = refusal(exc)
    return Response(text, status=status, mimetype=mimetype)


@blueprint.get("/wechat")
def url_check() -> Response:
    """WeChat's server-URL check: echo ``echostr`` when the signature is ours."""
    config = services().config
    check_timestamp(request.args.get("timestamp", ""), config)
    check_plain_signature(request.args, config)
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


def query_fields(raw: bytes) -> dict[str, str]:
    """The query string's fields as the app's request reads them (bot.app.LenientRequest: a byte
    that is not UTF-8 is U+FFFD, never a 500), a name given twice keeping its first value, as
    ``MultiDict.get``: for bot/app/fastpath.py, which reads the WSGI environ without Flask."""
    fields: dict[str, str] = {}
    for name, value in query_pairs(raw):
        fields.setdefault(name, value)
    return fields


@dataclasses.dataclass
class Inbound:
    """What the webhook reads of a POST: the query string's fields, the declared length, the body
    stream and the headers. Taken from Flask's request by the route below, or straight from the
    WSGI environ by the webhook's own entry (bot/app/fastpath.py), with the same values."""

    args: Mapping[str, str]
    content_length: int | None
    stream: Any
    headers: Mapping[str, str]


@blueprint.post("/wechat")
def receive() -> Response:
    """One message or event from WeChat, through Flask (when the webhook's own entry does not
    take the request: bot/app/fastpath.py)."""
    started = time.monotonic()
    inbound = Inbound(request.args, request.content_length, request.stream, request.headers)
    status, text, mimetype = answer_post(inbound, started, services(), get_db)
    return Response(text, status=status, mimetype=mimetype)


def answer_post(inbound: Inbound, started: float, app_services: Any,
                db_of: Callable[[], Any]) -> tuple[int, str, str]:
    """The status, body and mimetype for one message or event (``db_of`` gives the request's
    connection, opened when a message gets that far). Refusals are 4xx; anything unexpected is
    ``success``."""
    try:
        return 200, *receive_message(inbound, started, app_services, db_of)
    except replay.Replayed:         # the claim found this query string signing another body
        return refusal(Refused(403, "nonce already used with another message"))
    except Refused as exc:
        return refusal(exc)
    except Exception:  # noqa: BLE001 - WeChat must never see a 500
        log.exception("webhook failed; answering success")
        return 200, SUCCESS, "text/plain"


def refusal(exc: Refused) -> tuple[int, str, str]:
    log.info("refused /wechat: %s %s", exc.status, exc.reason)
    return exc.status, exc.reason, "text/plain"


def receive_message(inbound: Inbound, started: float, app_services: Any,
                    db_of: Callable[[], Any]) -> tuple[str, str]:
    config, args = app_services.config, inbound.args
    body = read_body(inbound, config.app.max_body_bytes, config.app.max_body_seconds)
    timestamp = args.get("timestamp", "")
    check_timestamp(timestamp, config)
    envelope = open_envelope(body, args, config)
    incoming = parse_incoming(envelope.xml)
    incoming.channel = request_channel(inbound.headers, config)
    if incoming.event == "click":  # handlers see the configured action, e.g. "help", "topic:借贷"
        incoming.text = config.menu_reply(incoming.event_key) or ""
    with replay.expecting(timestamp, args.get("nonce", ""), body, config.app.max_clock_skew_seconds):
        reply_xml = answer_once(app_services, db_of(), incoming, started)
    return seal(reply_xml, envelope), "application/xml" if reply_xml else "text/plain"


# --- checks -------------------------------------------------------------------------------

def read_body(inbound: Inbound, limit: int, seconds: float) -> str:
    """The body as text, refusing oversized ones (by Content-Length and by what was read) and
    ones still arriving after ``seconds`` (408)."""
    if (inbound.content_length or 0) > limit:
        raise Refused(413, "body too large")
    raw = read_within(inbound.stream, limit + 1, seconds)
    if len(raw) > limit:
        raise Refused(413, "body too large")
    return replies.strip_control(raw.decode("utf-8", errors="replace"))


class BodyTooSlow(Exception):
    """Raised by the alarm while a request body is still being read."""


_reading = threading.local()


def read_within(stream, size: int, seconds: float) -> bytes:
    """Read the body, giving up after ``seconds``: a client sending it byte by byte must not
    hold a gunicorn sync worker (two such uploads held both). nginx, which buffers the whole
    body before passing it on, is the front line (docs/deploy.md); this is the app's own cap.

    An interval timer interrupts the blocked read. Signals reach only the main thread, which is
    where gunicorn's sync workers serve; elsewhere (Flask's threaded development server) the
    read is not capped.

    The handler is set and put back through ``_signal``, the C module ``signal.signal`` wraps:
    the wrapper turns both handlers into enums and back (one of them by a ValueError caught),
    which cost three times the two calls themselves on every message. The previous handler is
    restored as it was given, number or function.
    """
    if threading.current_thread() is not threading.main_thread():
        return stream.read(size)
    previous = _signal.signal(SIGALRM, body_too_slow)
    _reading.active = True
    _signal.setitimer(ITIMER_REAL, seconds)
    try:
        return stream.read(size)
    except BodyTooSlow:
        raise Refused(408, "request body too slow") from None
    finally:
        _reading.active = False
        _signal.setitimer(ITIMER_REAL, 0)
        _signal.signal(SIGALRM, previous)


SIGALRM, ITIMER_REAL = int(signal.SIGALRM), signal.ITIMER_REAL


def body_too_slow(_signum, _frame) -> None:
    if getattr(_reading, "active", False):
        raise BodyTooSlow()


def check_timestamp(value: str, config: Config) -> None:
    """Replay guard: a request signed too long ago (or in the future) is refused."""
    try:
        skew = abs(time.time() - int(value))
    except (ValueError, OverflowError):
        raise Refused(403, "bad timestamp") from None
    if skew > config.app.max_clock_skew_seconds:
        raise Refused(403, "timestamp too far from our clock")


def check_plain_signature(args, config: Config) -> None:
    """``signature`` = sha1(sorted token, timestamp, nonce); with no token set, nothing is ours."""
    require_token(config)
    try:
        check_signature(config.wechat.token, args.get("signature", ""),
                        args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        raise Refused(403, "bad signature") from None


def require_token(config: Config) -> None:
    """An empty token would let anyone sign (production has no demo token): refuse everything."""
    if not config.wechat.token:
        log.error("WECHAT_TOKEN is not set: refusing every request to /wechat")
        raise Refused(403, "token not configured")


def open_envelope(body: str, args, config: Config) -> Envelope:
    """Plaintext: check ``signature``. Encrypted: check ``msg_signature`` and decrypt."""
    if args.get("encrypt_type", "raw").lower() != "aes":
        require_plaintext_allowed(config)
        check_plain_signature(args, config)
        return Envelope(body)
    crypto = make_crypto(config)
    encrypted = encrypted_part(body)
    nonce, timestamp = args.get("nonce", ""), args.get("timestamp", "")
    try:
        xml = crypto.decrypt_message({"Encrypt": encrypted}, args.get("msg_signature", ""),
                                     timestamp, nonce)
    except Exception:  # noqa: BLE001 - bad signature, wrong AppID, or a key that does not decrypt
        raise Refused(403, "message does not decrypt with our key") from None
    return Envelope(replies.strip_control(xml), crypto, nonce, timestamp)


def require_plaintext_allowed(config: Config) -> None:
    """With an AES key (safe mode) a plaintext request is a downgrade: its ``signature`` holds for
    any body, so a logged query string would let anyone post as anyone. Refused, unless the
    account is being switched over (``message_mode = "compatible"``)."""
    if not config.wechat.accepts_plaintext:
        raise Refused(403, "plaintext request refused: safe mode")


def make_crypto(config: Config) -> WeChatCrypto:
    require_token(config)
    try:
        return WeChatCrypto(config.wechat.token, config.wechat.aes_key, config.wechat.appid)
    except Exception:  # noqa: BLE001 - no or malformed WECHAT_AES_KEY
        log.error("encrypted message received but WECHAT_AES_KEY is missing or malformed")
        raise Refused(403, "encrypted mode is not configured") from None


def encrypted_part(body: str) -> str:
    root = parse_xml_dict(body)
    encrypted = root.get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted.strip():
        raise Refused(400, "no Encrypt element")
    return encrypted


def parse_xml_dict(xml: str) -> dict:
    """The ``<xml>`` root as a dict, or 400: anything else is not a WeChat message. A flat message
    (all WeChat sends) is read in one quick pass; any other document by xmltodict, as before
    (bot/app/wechat_xml.py: both give the same dict)."""
    try:
        return flat_fields(xml)
    except NotFlat:
        pass
    try:
        root = xmltodict.parse(xml).get("xml")
    except Exception:  # noqa: BLE001 - malformed XML, entities (refused by xmltodict), ...
        raise Refused(400, "not a WeChat message") from None
    if not isinstance(root, dict):
        raise Refused(400, "not a WeChat message")
    return root


# --- parsing --------------------------------------------------------------------------------

def parse_incoming(xml: str) -> Incoming:
    """The message's fields, turned into the ``Incoming`` the handlers see.

    The XML is parsed once, with xmltodict (which refuses entities); wechatpy's own parser would
    parse it again and fails on message types it does not know, which we still answer.
    """
    fields = parse_xml_dict(xml)
    openid, msg_type = value_of(fields, "FromUserName"), value_of(fields, "MsgType").lower()
    if not openid or not msg_type:
        raise Refused(400, "not a WeChat message")
    return build_incoming(fields, openid, msg_type)


def build_incoming(fields: dict, openid: str, msg_type: str) -> Incoming:
    kind = msg_type if msg_type in MESSAGE_TYPES else "unknown"
    event = value_of(fields, "Event").lower() if kind == "event" else ""
    return Incoming(
        openid=openid, msg_type=kind,
        text=value_of(fields, "Recognition" if kind == "voice" else "Content"),
        event=event, event_key=value_of(fields, "EventKey"),
        media_id=value_of(fields, "MediaId"), msg_id=value_of(fields, "MsgId"),
        create_time=as_int(value_of(fields, "CreateTime")), raw=fields)


def value_of(fields: dict, name: str) -> str:
    value = fields.get(name)
    return value.strip() if isinstance(value, str) else ""


def as_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def request_channel(headers: Mapping[str, str], config: Config) -> str:
    """'wechat', or 'simulator' when the development simulator page says so."""
    if not config.simulator_enabled:        # production: the header is not even read
        return "wechat"
    claimed = headers.get("X-Legalbot-Channel", "")
    return claimed if claimed in CHANNELS_FROM_HEADER else "wechat"


# --- answering ------------------------------------------------------------------------------

def seal(reply_xml: str, envelope: Envelope) -> str:
    """``success`` for no reply; the reply XML, encrypted when the request was."""
    if not reply_xml:
        return SUCCESS
    if envelope.crypto is None:
        return reply_xml
    return envelope.crypto.encrypt_message(reply_xml, envelope.nonce, envelope.timestamp)
