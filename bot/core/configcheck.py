"""`legalbot check-config`: what is missing or weak before the bot goes live.

Each finding is (level, setting, message); level "error" means the bot will not work as a
real official account (or is unsafe), "warning" means it works but should be fixed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.config import DEMO_TOKEN, Config


@dataclass(frozen=True)
class Finding:
    level: str          # error | warning
    setting: str
    message: str


def check_secrets(config: Config) -> list[Finding]:
    w, out = config.wechat, []
    if not w.token or w.token == DEMO_TOKEN:
        out.append(Finding("error", "WECHAT_TOKEN", "未设置（或仍是演示令牌）：微信无法验证本服务器"))
    elif len(w.token) < 8 or not re.fullmatch(r"[A-Za-z0-9]{3,32}", w.token):
        out.append(Finding("warning", "WECHAT_TOKEN", "应为3-32位字母或数字，且不要太短"))
    if not re.fullmatch(r"wx[0-9a-f]{16}", w.appid or ""):
        out.append(Finding("error", "WECHAT_APPID", "缺失或格式不对（应为 wx 开头的18位）"))
    if not w.appsecret:
        out.append(Finding("error", "WECHAT_APPSECRET", "缺失：无法调用微信接口通知法律顾问"))
    if w.aes_key and not re.fullmatch(r"[A-Za-z0-9]{43}", w.aes_key):
        out.append(Finding("error", "WECHAT_AES_KEY", "EncodingAESKey 必须是43位字母或数字"))
    if not w.aes_key:
        out.append(Finding("warning", "WECHAT_AES_KEY", "未设置：只能用明文模式，建议启用安全模式"))
    key = config.console.secret_key
    if len(key) < 32:
        out.append(Finding("error", "LEGALBOT_SECRET_KEY", "缺失或太短（至少32个字符）：后台登录不安全"))
    return out


def check_environment(config: Config) -> list[Finding]:
    """Development with a real account's secrets would serve the simulator's signer and a
    console keyed by a local file: the server refuses to start, and so this is an error."""
    if config.is_production:
        return []
    if config.real_secrets:
        return [Finding("error", "LEGALBOT_ENV", f"不是 production，却设置了真实的 {'、'.join(config.real_secrets)}："
                                                "服务不会启动。正式上线请设 LEGALBOT_ENV=production")]
    return [Finding("warning", "app.environment", "不是 production：模拟器页面会对外开放")]


def check_message_mode(config: Config) -> list[Finding]:
    """Safe mode needs the key; compatible mode answers plaintext requests whose signature does
    not cover the body, so it is only for the switch-over."""
    w = config.wechat
    if w.mode == "safe" and not w.aes_key:
        return [Finding("error", "wechat.message_mode", "安全模式需要 WECHAT_AES_KEY")]
    if w.aes_key and w.mode != "safe":
        return [Finding("warning", "wechat.message_mode", f"设置了 EncodingAESKey 却接受明文请求（{w.mode}）："
                                                          "公众号切换到安全模式后请删去这项设置")]
    return []


def check_settings(config: Config) -> list[Finding]:
    out = check_environment(config) + check_message_mode(config)
    if config.is_production and config.app.trusted_proxies == 0:
        out.append(Finding("warning", "app.trusted_proxies",
                           "为0：在 nginx 后面应设为1，否则后台登录限制把所有人当成同一个地址"))
    if config.wechat.can_push and not config.wechat.adviser_template_id:
        out.append(Finding("warning", "wechat.adviser_template_id",
                           "未设置模板消息：48小时外无法通知法律顾问"))
    if not config.villages:
        out.append(Finding("error", "villages", "没有配置村和法律顾问"))
    if any(re.fullmatch(r"1380000000\d", v.adviser.phone) for v in config.villages):
        out.append(Finding("warning", "villages", "法律顾问电话仍是演示号码"))
    return out


# The shipped [local] values are a demo township's: a name with 示例 (示例县人民法院) or a phone
# whose subscriber number is zeros (0772-0000001). Villagers would be sent to them.
DEMO_NAME = "示例"
DEMO_PHONE = re.compile(r"(?<!\d)\d{3,4}-?0{6,7}[0-9]?(?!\d)")


def demo_values(local: dict[str, object]) -> list[str]:
    """The [local] keys still holding demo values."""
    return [key for key, value in local.items() if DEMO_NAME in str(value) or DEMO_PHONE.search(str(value))]


def check_local(config: Config) -> list[Finding]:
    """[local] fills the answers' {placeholders}: demo values must not reach villagers in production."""
    keys = demo_values(dict(config.local))
    if not keys:
        return []
    if config.is_production:
        return [Finding("error", f"local.{key}", f"仍是演示值“{config.local[key]}”：答复会把村民指到不存在的地方，"
                                                 "请改成本乡的真实名称或电话") for key in keys]
    return [Finding("warning", "local", f"{len(keys)} 项仍是演示值（{', '.join(keys)}），上线前要改")]


def check_config(config: Config) -> list[Finding]:
    return check_secrets(config) + check_settings(config) + check_local(config)
