"""`legalbot check-config` names what is missing or weak."""
from bot.config import load_config
from bot.configcheck import check_config

GOOD_ENV = {
    "WECHAT_TOKEN": "Tok3nForTesting", "WECHAT_APPID": "wx2c2769f8efd9abc2",
    "WECHAT_APPSECRET": "s3cret", "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "LEGALBOT_SECRET_KEY": "x" * 40, "LEGALBOT_ENV": "production",
}


def errors(environ):
    return {f.setting for f in check_config(load_config(environ=environ)) if f.level == "error"}


def test_missing_secrets_are_errors():
    assert {"WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_APPSECRET", "LEGALBOT_SECRET_KEY"} <= errors({})


def test_complete_environment_has_no_errors():
    assert errors(GOOD_ENV) == set()


def test_a_short_aes_key_is_an_error():
    assert "WECHAT_AES_KEY" in errors({**GOOD_ENV, "WECHAT_AES_KEY": "tooshort"})


def test_demo_phone_numbers_are_warned_about():
    findings = check_config(load_config(environ=GOOD_ENV))
    assert any(f.setting == "villages" and f.level == "warning" for f in findings)


def test_production_without_a_trusted_proxy_is_warned_about():
    warned = {f.setting for f in check_config(load_config(environ=GOOD_ENV)) if f.level == "warning"}
    assert "app.trusted_proxies" in warned
    behind_nginx = load_config(environ=GOOD_ENV, overrides={"app": {"trusted_proxies": 1}})
    assert "app.trusted_proxies" not in {f.setting for f in check_config(behind_nginx)}
