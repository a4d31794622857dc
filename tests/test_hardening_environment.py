"""Issue 14, item 2: a development setting can never serve a real account.

Unknown LEGALBOT_ENV values are refused, development with a real account's secrets refuses to
start (its simulator would sign anything with the real token), `check-config` fails for it, and
the development console key is random, kept in the instance folder, not derived from a path.
"""
from __future__ import annotations

import hashlib
import os
import stat

import pytest
from click.testing import CliRunner
from flask import Flask

from bot import create_app
from bot.cli import main as cli
from bot.core.config import ConfigError, load_config
from bot.app.console.auth import add_user
from tests.conftest import test_overrides as overrides_for
from tests.test_configcheck import GOOD_ENV, REAL_LOCAL

REAL_TOKEN = "RealAccountToken42"


@pytest.mark.parametrize("value", ["Production", "prod", "PRODUCTION", "staging", " production"])
def test_an_unknown_environment_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="LEGALBOT_ENV"):
        load_config(path=tmp_path / "absent.toml", environ={"LEGALBOT_ENV": value})


@pytest.mark.parametrize("variable", ["WECHAT_TOKEN", "WECHAT_APPSECRET", "WECHAT_AES_KEY"])
@pytest.mark.parametrize("environment", [None, "development"])
def test_development_with_a_real_secret_refuses_to_start(tmp_path, variable, environment):
    environ = {variable: REAL_TOKEN if variable != "WECHAT_AES_KEY" else "A" * 43,
               "LEGALBOT_DB": str(tmp_path / "dev.db")}
    if environment:
        environ["LEGALBOT_ENV"] = environment
    with pytest.raises(ConfigError, match=variable):
        create_app(load_config(path=tmp_path / "absent.toml", environ=environ), warm=False)


def test_production_with_the_real_token_serves_no_simulator_signer(tmp_path):
    environ = {"WECHAT_TOKEN": REAL_TOKEN, "LEGALBOT_ENV": "production", "LEGALBOT_DB": str(tmp_path / "p.db")}
    app = create_app(load_config(path=tmp_path / "absent.toml", environ=environ), warm=False)
    assert app.test_client().post("/simulator/sign").status_code == 404


def test_the_simulator_is_there_without_real_secrets(tmp_path):
    config = load_config(path=tmp_path / "absent.toml", environ={"LEGALBOT_DB": str(tmp_path / "d.db")})
    assert config.simulator_enabled
    assert create_app(config, warm=False).test_client().post("/simulator/sign").status_code == 200


def findings(environ) -> dict[str, str]:
    from bot.core.configcheck import check_config
    config = load_config(environ=environ, overrides={"local": REAL_LOCAL})
    return {f.setting: f.level for f in check_config(config)}


def test_check_config_fails_for_development_with_real_secrets():
    assert findings({**GOOD_ENV, "LEGALBOT_ENV": "development"}).get("LEGALBOT_ENV") == "error"
    unset = {k: v for k, v in GOOD_ENV.items() if k != "LEGALBOT_ENV"}
    assert findings(unset).get("LEGALBOT_ENV") == "error"
    assert "LEGALBOT_ENV" not in findings(GOOD_ENV)


def test_check_config_command_fails_for_a_misspelt_environment(tmp_path, monkeypatch):
    for name, value in {**GOOD_ENV, "LEGALBOT_ENV": "Production", "LEGALBOT_DB": str(tmp_path / "c.db")}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["check-config"])
    assert result.exit_code == 1
    assert "LEGALBOT_ENV" in result.output and "Traceback" not in result.output


def dev_app(tmp_path, folder: str = "instance"):
    overrides = overrides_for(tmp_path, app={"db_path": str(tmp_path / folder / "legalbot.db")})
    overrides["console"]["secret_key"] = ""
    return create_app(load_config(overrides=overrides, environ={}), warm=False)


def test_the_development_key_is_random_and_kept_in_the_instance_folder(tmp_path):
    one, again, elsewhere = dev_app(tmp_path), dev_app(tmp_path), dev_app(tmp_path, "other")
    assert one.secret_key == again.secret_key           # workers and restarts share logins
    assert one.secret_key != elsewhere.secret_key
    db_path = one.extensions["legalbot"].config.app.db_path
    assert one.secret_key != hashlib.sha256(f"legalbot-development:{db_path}".encode()).hexdigest()
    kept = [p for p in (tmp_path / "instance").iterdir() if one.secret_key in p.read_text(errors="ignore")]
    assert kept and stat.S_IMODE(os.stat(kept[0]).st_mode) == 0o600


def test_a_cookie_forged_with_the_old_derivable_key_opens_nothing(tmp_path):
    """The probe: sign a session with sha256("legalbot-development:" + db_path) and open /console/."""
    app = dev_app(tmp_path)
    services = app.extensions["legalbot"]
    user = add_user(services.open_db(), "staff", "correct horse 42", "staff", 0.0)
    guessed = hashlib.sha256(f"legalbot-development:{services.config.app.db_path}".encode()).hexdigest()
    forger = Flask("forger")
    forger.secret_key = guessed
    cookie = forger.session_interface.get_signing_serializer(forger).dumps(
        {"user_id": user.id, "version": 0, "_permanent": True})
    client = app.test_client()
    client.set_cookie("legalbot_console", cookie)
    response = client.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.location


def test_the_signer_refuses_even_if_the_simulator_was_registered(tmp_path):
    """Belt and braces: the page and the signer check the configuration on every request."""
    import dataclasses
    app = create_app(load_config(path=tmp_path / "absent.toml", environ={"LEGALBOT_DB": str(tmp_path / "s.db")}),
                     warm=False)
    services = app.extensions["legalbot"]
    services.config = dataclasses.replace(services.config, real_secrets=("WECHAT_TOKEN",))
    assert app.test_client().post("/simulator/sign").status_code == 404
    assert app.test_client().get("/simulator").status_code == 404
