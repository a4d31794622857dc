"""`legalbot check-config` names what is missing or weak."""
from bot.core.config import load_config
from bot.core.configcheck import check_config

GOOD_ENV = {
    "WECHAT_TOKEN": "Tok3nForTesting", "WECHAT_APPID": "wx2c2769f8efd9abc2",
    "WECHAT_APPSECRET": "s3cret", "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "LEGALBOT_SECRET_KEY": "x" * 40, "LEGALBOT_ENV": "production",
}


# A township that replaced every demo value in [local] (示例县…, 0772-0000001).
REAL_LOCAL = {"county": "凌云县", "service_centre_phone": "0776-7612345", "sifasuo_phone": "0776-7612346",
              "court": "凌云县人民法院", "legal_aid_centre": "凌云县法律援助中心", "forestry": "凌云县林业局",
              "marriage_registry": "凌云县民政局婚姻登记处", "labour_inspection": "凌云县劳动保障监察大队",
              "traffic_police": "凌云县公安局交警大队"}


def errors(environ, local=REAL_LOCAL):
    config = load_config(environ=environ, overrides={"local": local})
    return {f.setting for f in check_config(config) if f.level == "error"}


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


def test_demo_local_values_are_errors_in_production():
    found = errors(GOOD_ENV, local={})
    assert {"local.county", "local.court", "local.service_centre_phone", "local.traffic_police"} <= found
    assert "local.township" not in found and "local.legal_aid_phone" not in found   # 大年乡, 12348 are real


def test_demo_local_values_are_one_warning_in_development():
    findings = check_config(load_config(environ={**GOOD_ENV, "LEGALBOT_ENV": "development"}))
    local = [f for f in findings if f.setting.startswith("local")]
    assert [(f.setting, f.level) for f in local] == [("local", "warning")] and "county" in local[0].message


def test_the_demo_phone_pattern_spares_real_numbers():
    from bot.core.configcheck import demo_values
    assert demo_values({"a": "0772-0000001", "b": "07720000002", "c": "示例镇"}) == ["a", "b", "c"]
    assert demo_values({"a": "0772-7000001", "b": "12348", "c": "0776-7612345", "d": "80"}) == []


def test_the_law_helpers_count_is_a_local_value():
    assert load_config(environ={}).local["law_helpers"].isdigit()
