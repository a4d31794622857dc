"""Typed configuration, loaded in layers: defaults → config.toml → environment → overrides.

Flask ignores lower-case keys, so the TOML is read with tomllib into our own dataclasses and
stored in ``app.extensions["legalbot"].config``. Secrets come only from the environment.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from bot.core.mediation_settings import MediationSettings, build_mediation
from bot.core.publicity_settings import PublicitySettings, build_publicity

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config.toml"
DEMO_TOKEN = "legalbot-demo-token"

# Environment variable → (section, key). Secrets live only here.
ENV_KEYS: dict[str, tuple[str, str]] = {
    "WECHAT_TOKEN": ("wechat", "token"),
    "WECHAT_APPID": ("wechat", "appid"),
    "WECHAT_APPSECRET": ("wechat", "appsecret"),
    "WECHAT_AES_KEY": ("wechat", "aes_key"),
    "WECHAT_API_BASE": ("wechat", "api_base"),
    "LEGALBOT_DB": ("app", "db_path"),
    "LEGALBOT_SECRET_KEY": ("console", "secret_key"),
    "LEGALBOT_ENV": ("app", "environment"),
}
SECRET_KEYS = {("wechat", "token"), ("wechat", "appid"), ("wechat", "appsecret"),
               ("wechat", "aes_key"), ("console", "secret_key")}
# The known values of LEGALBOT_ENV, spelled exactly: anything else (``Production``, ``prod``) is
# refused at load instead of quietly meaning development.
ENVIRONMENTS = ("development", "production")
# The WeChat secrets that make an instance a real account's: a deployment can only set them in
# the environment (the config file refuses them). Development must not run with them.
WECHAT_SECRET_VARIABLES = ("WECHAT_TOKEN", "WECHAT_APPSECRET", "WECHAT_AES_KEY")
# How WeChat's requests must come with an EncodingAESKey configured (WeChat's 消息加解密方式).
MESSAGE_MODES = ("", "plain", "compatible", "safe")


class ConfigError(ValueError):
    """A setting is missing, of the wrong type, or a secret was put in the config file."""


@dataclass(frozen=True)
class AppSettings:
    db_path: str = "instance/legalbot.db"
    environment: str = "development"
    max_body_bytes: int = 65536
    max_clock_skew_seconds: int = 300
    worker_thread: bool = True
    knowledge_dir: str = "knowledge"      # faq/, local/, statutes/, dict/, scope.toml
    trusted_proxies: int = 0              # reverse proxies in front (nginx: 1) whose X-Forwarded-* to believe
    # ... believed only from these peers: the proxy's own address, not any client's
    trusted_proxy_addresses: tuple = ("127.0.0.1", "::1")
    max_body_seconds: float = 5.0         # a request body still arriving after this is refused (408)

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(f"LEGALBOT_ENV / [app] environment: {self.environment!r} is not one of "
                              f"{', '.join(ENVIRONMENTS)} (spelled exactly, lower case)")


@dataclass(frozen=True)
class WechatSettings:
    token: str = ""
    appid: str = ""
    appsecret: str = ""
    aes_key: str = ""
    account_type: str = "service_verified"
    api_base: str = "https://api.weixin.qq.com"
    adviser_template_id: str = ""
    api_timeout_seconds: float = 5.0
    # "safe" (the default with an AES key): only encrypted requests, whose msg_signature covers
    # the body. "compatible": plaintext requests too, only while the account is being switched
    # over. "plain": no encryption (the default without an AES key).
    message_mode: str = ""

    def __post_init__(self) -> None:
        if self.message_mode not in MESSAGE_MODES:
            raise ConfigError(f"[wechat] message_mode: {self.message_mode!r} is not one of plain, compatible, safe")

    @property
    def mode(self) -> str:
        """The message mode in force: the configured one, else safe with an AES key, else plain."""
        return self.message_mode or ("safe" if self.aes_key else "plain")

    @property
    def accepts_plaintext(self) -> bool:
        """Whether a request without encrypt_type=aes is answered: its ``signature`` covers only
        the timestamp and nonce, never the body, so with a key it would be a downgrade."""
        return self.mode in ("plain", "compatible")

    @property
    def can_push(self) -> bool:
        """Only verified service accounts may send customer-service and template messages."""
        return self.account_type == "service_verified"


@dataclass(frozen=True)
class ReplySettings:
    max_bytes: int = 2048
    more_keyword: str = "更多"
    quote_max_bytes: int = 900
    disclaimer: str = "以上是一般性法律信息，不是针对您个案的法律意见；具体情况请咨询村法律顾问或拨打12348。"


@dataclass(frozen=True)
class MatcherSettings:
    """The matcher's weights and thresholds (config.toml [matcher] documents each one;
    bench/calibrate.py fits them). config.toml carries the current fit; the defaults are an
    earlier one that the unit tests build on, with the entry model (``w_model``,
    ``model_answer_min``) off, so that a settings object built in code behaves as it did before
    the model existed."""

    answer_min: float = 0.6
    answer_margin: float = 0.0
    clarify_min: float = 0.1
    clarify_margin: float = 0.16
    lead_answer_min: float = 0.3
    lead_answer_margin: float = 0.12
    clarify_min_weight: float = 2.5   # IDF weight of shared words needed to offer choices
    max_choices: int = 3
    clarify_ttl_seconds: int = 600
    max_question_chars: int = 500
    w_coverage: float = 0.8           # the score's blend of the features (bot/retrieval/decision.py)
    w_focus: float = 0.5
    w_closeness: float = 0.65
    w_shape: float = 0.05
    w_keywords: float = 0.15
    w_answer: float = 0.15
    w_chars: float = 0.05
    w_model: float = 0.0              # the entry model's probability (bot/retrieval/entrymodel.py)
    role_penalty: float = 0.3         # taken off an entry written for the other side
    counterpart_penalty: float = 0.0  # taken off an entry whose texts name none of the question's parties
    agree_answer_min: float = 0.46    # answer from this score when the single measures agree on the entry
    agree_count: int = 3              # on how many of the four measures (5: never)
    model_answer_min: float = 1.01    # answer when the entry model gives the top entry this probability …
    model_score_min: float = 0.6      # … and its score is at least this (bot/retrieval/decision.py model_reason)
    answer_floor: float = 0.0         # no route answers a top entry scoring below this …
    lead_min: float = 0.0             # … or leading the best entry on other articles by less than this
    model_rival_margin: float = 1.5   # no answer when the entry model prefers an entry on other articles by more (1.5: off)
    background_weight: float = 0.75   # a word of the story counts at this share of a word of the question
    nonlegal_weight: float = 0.3      # a word that is not a legal one counts at this share
    unknown_weight: float = 0.6       # a word no entry uses counts at this share

    def __post_init__(self) -> None:
        shares = ("answer_min", "answer_margin", "clarify_min", "clarify_margin", "lead_answer_min",
                  "lead_answer_margin", "w_coverage", "w_focus", "w_closeness", "w_shape", "w_keywords", "w_answer", "w_chars",
                  "w_model", "role_penalty", "counterpart_penalty", "background_weight", "nonlegal_weight", "unknown_weight", "agree_answer_min",
                  "model_answer_min", "model_score_min", "answer_floor", "lead_min", "model_rival_margin")
        for name in shares:
            if not 0.0 <= getattr(self, name) <= 1.5:
                raise ConfigError(f"[matcher] {name}: expected a number from 0 to 1.5, got {getattr(self, name)}")
        if self.clarify_min > self.answer_min or self.clarify_min > self.lead_answer_min:
            raise ConfigError("[matcher] clarify_min must not exceed answer_min or lead_answer_min")
        if self.max_choices < 1 or self.max_question_chars < 1 or self.clarify_min_weight < 0:
            raise ConfigError("[matcher] max_choices and max_question_chars must be ≥ 1, clarify_min_weight ≥ 0")
        if not 0 <= self.agree_count <= 5:
            raise ConfigError("[matcher] agree_count: expected 0 to 5 (5: never answer on agreement alone)")
        if not any(getattr(self, name) for name in shares if name.startswith("w_")):
            raise ConfigError("[matcher] at least one w_* weight must be above 0")


@dataclass(frozen=True)
class EscalationSettings:
    remind_after_hours: float = 24.0
    reassign_after_hours: float = 72.0
    cs_window_hours: float = 48.0
    cs_max_messages: int = 5
    bind_code_ttl_hours: float = 72.0   # no longer used: binding codes follow [binding]


@dataclass(frozen=True)
class BindingSettings:
    """Adviser binding codes ("绑定 12345678"): short-lived, single use, and guessing is stopped."""
    code_digits: int = 8
    code_ttl_minutes: float = 15.0
    max_failures_per_openid: int = 5      # wrong codes from one WeChat in failure_window_minutes: locked
    failure_window_minutes: float = 60.0
    max_failures_per_code: int = 10       # wrong codes from anyone while a code is valid: it is voided

    def __post_init__(self) -> None:
        if not 8 <= self.code_digits <= 12:
            raise ConfigError("[binding] code_digits: expected 8 to 12")
        if self.code_ttl_minutes <= 0 or self.max_failures_per_openid < 1 or self.max_failures_per_code < 1:
            raise ConfigError("[binding] code_ttl_minutes and the failure limits must be positive")


@dataclass(frozen=True)
class DutySettings:
    """The township's duty contact, told at once about an urgent message nobody else can get.

    ``phone`` is given to the villager. By WeChat, the duty contact is reached through an
    adviser account: their own (named ``name``, bound with `legalbot adviser bind-code NAME`), or
    the existing adviser or backup named by ``adviser``. No openid is typed into config.
    """
    name: str = ""
    phone: str = ""
    adviser: str = ""


@dataclass(frozen=True)
class OutboxSettings:
    backoff_base_seconds: float = 5.0
    backoff_max_seconds: float = 3600.0
    max_attempts: int = 12
    poll_seconds: float = 2.0


@dataclass(frozen=True)
class PrivacySettings:
    retention: str = "3y"


@dataclass(frozen=True)
class ConsoleSettings:
    secret_key: str = ""
    login_max_failures: int = 5                 # per username and address
    login_max_failures_per_user: int = 10       # per username, from any address
    login_max_failures_per_address: int = 20    # per address, for any username
    login_window_seconds: int = 900
    session_hours: float = 12


@dataclass(frozen=True)
class Person:
    name: str
    phone: str = ""


@dataclass(frozen=True)
class Village:
    name: str
    adviser: Person


@dataclass(frozen=True)
class MenuButton:
    name: str
    type: str = "click"
    key: str = ""
    url: str = ""
    reply: str = ""
    sub: tuple["MenuButton", ...] = ()


@dataclass(frozen=True)
class Config:
    app: AppSettings = field(default_factory=AppSettings)
    wechat: WechatSettings = field(default_factory=WechatSettings)
    reply: ReplySettings = field(default_factory=ReplySettings)
    matcher: MatcherSettings = field(default_factory=MatcherSettings)
    escalation: EscalationSettings = field(default_factory=EscalationSettings)
    binding: BindingSettings = field(default_factory=BindingSettings)
    duty: DutySettings = field(default_factory=DutySettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    local: Mapping[str, str] = field(default_factory=dict)
    villages: tuple[Village, ...] = ()
    backup: Person = field(default_factory=lambda: Person("司法所"))
    menu: tuple[MenuButton, ...] = ()
    mediation: MediationSettings = field(default_factory=MediationSettings)   # bot/core/mediation_settings.py
    publicity: PublicitySettings = field(default_factory=PublicitySettings)   # bot/core/publicity_settings.py
    source: str = ""
    real_secrets: tuple[str, ...] = ()    # WECHAT_SECRET_VARIABLES set in the environment

    @property
    def is_production(self) -> bool:
        return self.app.environment == "production"

    @property
    def simulator_enabled(self) -> bool:
        """The simulator signs anything with the token: only in development without real secrets."""
        return not self.is_production and not self.real_secrets

    @property
    def village_names(self) -> list[str]:
        return [v.name for v in self.villages]

    def village(self, name: str) -> Village | None:
        return next((v for v in self.villages if v.name == name), None)

    def menu_reply(self, key: str) -> str | None:
        """The reply action configured for a menu CLICK key, if any."""
        for top in self.menu:
            for button in (top, *top.sub):
                if button.key == key:
                    return button.reply
        return None


SECTIONS = {"app": AppSettings, "wechat": WechatSettings, "reply": ReplySettings,
            "matcher": MatcherSettings, "escalation": EscalationSettings, "binding": BindingSettings,
            "duty": DutySettings, "outbox": OutboxSettings,
            "privacy": PrivacySettings, "console": ConsoleSettings}


def read_toml(path: Path) -> dict[str, Any]:
    """Read the config file; a secret found in it is an error, so none is ever committed."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for section, key in SECRET_KEYS:
        if data.get(section, {}).get(key):
            raise ConfigError(f"{path}: [{section}] {key} is a secret; set it in the environment")
    return data


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, dict[str, Any]] = {}
    for name, (section, key) in ENV_KEYS.items():
        if environ.get(name):
            layer.setdefault(section, {})[key] = environ[name]
    return layer


def merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``top`` over ``base`` (tables merge, everything else replaces)."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def build_section(cls: type, values: Mapping[str, Any], name: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"[{name}] unknown setting(s): {', '.join(sorted(unknown))}")
    kwargs = {}
    for key, value in values.items():
        kwargs[key] = coerce(value, type(getattr(cls(), key)), f"[{name}] {key}")
    return cls(**kwargs)


def coerce(value: Any, kind: type, where: str) -> Any:
    """Environment values arrive as strings; turn them into the field's type or fail clearly."""
    if kind is bool and isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if kind is tuple and isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}") from exc


def build_button(raw: Mapping[str, Any]) -> MenuButton:
    sub = tuple(build_button(s) for s in raw.get("sub", ()))
    fields = {k: v for k, v in raw.items() if k != "sub"}
    return MenuButton(sub=sub, **fields)


def build_village(raw: Mapping[str, Any]) -> Village:
    if not raw.get("name") or not raw.get("adviser", {}).get("name"):
        raise ConfigError(f"[[villages]] needs a name and an adviser name: {raw!r}")
    return Village(name=raw["name"], adviser=Person(**raw["adviser"]))


def build(data: Mapping[str, Any], source: str = "", real_secrets: tuple[str, ...] = ()) -> Config:
    sections = {name: build_section(cls, data.get(name, {}), name) for name, cls in SECTIONS.items()}
    return Config(
        **sections,
        local=dict(data.get("local", {})),
        villages=tuple(build_village(v) for v in data.get("villages", ())),
        backup=Person(**data["backup"]) if "backup" in data else Person("司法所"),
        menu=tuple(build_button(b) for b in data.get("menu", ())),
        mediation=build_mediation(data.get("mediation", {}), [v.get("name") for v in data.get("villages", ())]),
        publicity=build_publicity(data.get("publicity", {})),
        source=source,
        real_secrets=real_secrets,
    )


def load_config(overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None,
                path: str | Path | None = None) -> Config:
    """Load the configuration in its layers; ``overrides`` (tests) win over everything."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("LEGALBOT_CONFIG") or DEFAULT_CONFIG_PATH)
    data = read_toml(path) if path.exists() else {}
    data = merge(merge(data, env_layer(environ)), overrides or {})
    config = build(data, source=str(path), real_secrets=secrets_in(environ))
    return with_demo_token(config)


def secrets_in(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The WeChat secrets the environment sets (the demo token is not one)."""
    return tuple(name for name in WECHAT_SECRET_VARIABLES if environ.get(name) not in (None, "", DEMO_TOKEN))


def refuse_unsafe_start(config: Config) -> None:
    """Development opens the simulator, which signs anything with the token, and keeps the
    console's key in a local file: with a real account's secrets set, refuse to serve at all
    (a production box missing LEGALBOT_ENV fails loudly instead of running as development)."""
    if not config.is_production and config.real_secrets:
        raise ConfigError(f"LEGALBOT_ENV is {config.app.environment} but {', '.join(config.real_secrets)} "
                          "is set in the environment: a real account runs only with LEGALBOT_ENV=production "
                          "(or unset the secrets to try the bot with the simulator)")


def with_demo_token(config: Config) -> Config:
    """In development with no token set, use a known demo token so `make run` works at once."""
    if config.wechat.token or config.is_production:
        return config
    return dataclasses.replace(config, wechat=dataclasses.replace(config.wechat, token=DEMO_TOKEN))


def shipped_knowledge_dir() -> Path:
    """The knowledge folder the project ships ([app] knowledge_dir's default). The one place a
    knowledge base, lexicon or law index built in code without a configuration (tests, benches)
    takes its folder from; apps and CLI commands pass their configuration's (``knowledge_dir``)."""
    return PROJECT_ROOT / AppSettings.knowledge_dir


def resolve_db_path(config: Config) -> Path:
    path = Path(config.app.db_path)
    return path if path.is_absolute() or str(path) == ":memory:" else PROJECT_ROOT / path


def for_last_config(make: Callable[[Any], T]) -> Callable[[Any], T]:
    """``make(config)``, kept for the last config object asked. A Config is frozen, so what is
    made from it holds as long as that very object is the one asked about (compared by identity:
    comparing or hashing the whole config would cost more than the making). A process serves one
    config; a test suite builds many, and each is made again when it comes back."""
    kept: tuple[Any, T] | None = None

    @functools.wraps(make)
    def made(config: Any) -> T:
        nonlocal kept
        last = kept
        if last is None or last[0] is not config:
            last = kept = (config, make(config))
        return last[1]
    return made
