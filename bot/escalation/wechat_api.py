"""A small client for the few WeChat API calls the bot makes, over requests.

Why not wechatpy's client: its token storage is per process and refreshing has no lock, so
several processes (gunicorn workers, `legalbot worker`) invalidate each other's tokens. Here the
token comes from ``cgi-bin/stable_token``, which returns the *same* token while it is valid, and
is shared through the ``access_tokens`` table:
https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html
The base URL is config.wechat.api_base (env WECHAT_API_BASE), so tests use a fake server.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any

import requests

from bot.core.config import Config
from bot.core.redact import without_secrets
from bot.core.store import write

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}   # invalid credential, invalid token, token expired
TOKEN_MARGIN_SECONDS = 300             # refresh a little before WeChat's expiry


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode (or not at all: errcode -2 is our timeout).

    The message never holds a query string: the URLs we call carry the access token there.
    """

    def __init__(self, errcode: int, errmsg: str = ""):
        errmsg = without_secrets(errmsg)
        super().__init__(f"{errcode} {errmsg}".strip())
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatTimeout(WeChatError):
    def __init__(self, errmsg: str = "timeout"):
        super().__init__(-2, errmsg)


class NoCredentials(WeChatError):
    """No AppID/AppSecret (the demo of `make run`): nothing is asked of WeChat at all."""

    def __init__(self) -> None:
        super().__init__(-3, DEMO_ACCOUNT)


DEMO_ACCOUNT = "演示账号：没有配置公众号的 AppID 和 AppSecret，消息不发往微信"


def has_credentials(config: Config) -> bool:
    """Real credentials are set: only then may anything call WeChat's API (even for a token)."""
    return bool(config.wechat.appid and config.wechat.appsecret)


class WeChatClient:
    """The calls we need: custom text, template, menu — with a shared, safely refreshed token."""

    def __init__(self, config: Config, db, session: requests.Session | None = None,
                 clock=time.time):
        self.config = config
        self.db = db
        self.session = session or requests.Session()
        self.base = config.wechat.api_base.rstrip("/")
        self.timeout = config.wechat.api_timeout_seconds
        self.clock = clock

    # -- the token ----------------------------------------------------------------------
    def stored_token(self) -> str | None:
        rows = list(self.db.query("SELECT token, expires_at FROM access_tokens WHERE appid = ?",
                                  [self.config.wechat.appid]))
        fresh = rows and rows[0]["expires_at"] - TOKEN_MARGIN_SECONDS > self.clock()
        return rows[0]["token"] if fresh else None

    def token(self, force_refresh: bool = False) -> str:
        """The shared token; fetched from stable_token only when none is fresh (or forced)."""
        if not has_credentials(self.config):
            raise NoCredentials()
        token = None if force_refresh else self.stored_token()
        return token or self.fetch_token(force_refresh)

    def fetch_token(self, force_refresh: bool) -> str:
        body = {"grant_type": "client_credential", "appid": self.config.wechat.appid,
                "secret": self.config.wechat.appsecret, "force_refresh": force_refresh}
        data = self.request("POST", "/cgi-bin/stable_token", body, params={})
        expires_at = self.clock() + int(data.get("expires_in", 7200))
        write(
            self.db, "INSERT INTO access_tokens (appid, token, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(appid) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at",
            [self.config.wechat.appid, data["access_token"], expires_at])
        return data["access_token"]

    # -- transport ----------------------------------------------------------------------
    def request(self, method: str, path: str, body: dict[str, Any] | None,
                params: dict[str, str]) -> dict[str, Any]:
        """One HTTP call; WeChat's errors become WeChatError, a timeout WeChatTimeout."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        try:
            response = self.session.request(method, self.base + path, params=params, data=data,
                                            timeout=self.timeout,
                                            headers={"Content-Type": "application/json"})
        except requests.Timeout as exc:   # "from None": the original names the URL with the token
            raise WeChatTimeout(str(exc)) from None
        except requests.RequestException as exc:
            raise WeChatError(-1, f"network: {exc}") from None
        return self.parse(response)

    @staticmethod
    def parse(response: requests.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise WeChatError(-1, f"HTTP {response.status_code}: not JSON") from exc
        if data.get("errcode", 0) != 0:
            raise WeChatError(int(data["errcode"]), data.get("errmsg", ""))
        return data

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the token; on a bad-token error, refresh once (see ``refresh_after``) and retry."""
        used = self.token()
        try:
            return self.request("POST", path, body, params={"access_token": used})
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            fresh = self.refresh_after(used)
            return self.request("POST", path, body, params={"access_token": fresh})

    def refresh_after(self, rejected: str) -> str:
        """If another process already stored a new token use it; else force a new one.

        Forcing only when the stored token is the rejected one keeps processes from rotating
        each other's tokens in a loop.
        """
        stored = self.stored_token()
        if stored and stored != rejected:
            return stored
        log.warning("WeChat rejected the access token; forcing a refresh")
        return self.fetch_token(force_refresh=True)

    # -- the calls ----------------------------------------------------------------------
    def send_text(self, openid: str, content: str) -> dict[str, Any]:
        """Customer-service text message (48 h window, 5 messages)."""
        return self.call("/cgi-bin/message/custom/send",
                         {"touser": openid, "msgtype": "text", "text": {"content": content}})

    def send_voice(self, openid: str, media_id: str) -> dict[str, Any]:
        """Customer-service voice message: a villager's voice, passed on to their adviser."""
        return self.call("/cgi-bin/message/custom/send",
                         {"touser": openid, "msgtype": "voice", "voice": {"media_id": media_id}})

    def get_media(self, media_id: str) -> tuple[bytes, str]:
        """Download temporary media (kept by WeChat for 3 days): (bytes, content type).

        https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_temporary_materials.html
        A JSON body is an error (an expired or unknown MediaId), not the file.
        """
        params = {"access_token": self.token(), "media_id": media_id}
        try:
            response = self.session.get(self.base + "/cgi-bin/media/get", params=params,
                                        timeout=self.timeout)
        except requests.RequestException as exc:
            raise WeChatError(-1, f"network: {exc}") from None
        kind = response.headers.get("Content-Type", "")
        if "json" in kind or "text/plain" in kind:
            self.parse(response)
            raise WeChatError(-1, "WeChat answered with JSON, not the file")
        return response.content, kind or "application/octet-stream"

    def send_template(self, openid: str, template_id: str, data: dict[str, Any],
                      url: str = "") -> dict[str, Any]:
        body = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        return self.call("/cgi-bin/message/template/send", body)

    def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        return self.call("/cgi-bin/menu/create", menu)
