"""Issue 14, item 1: adviser binding codes cannot be guessed.

The probe sent 300 signed "绑定 100000…100299" from one openid in 1.7 s without a lockout, then
bound itself with the real code. Codes are now long, short-lived and single-use; a WeChat that
sends wrong codes is locked, a code tried against too often is voided, staff are told in the
console, and the WeChat an adviser's binding leaves is told too.
"""
from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner

from bot.escalation import advisers as adv
from bot import create_app
from bot.app import worker
from bot.cli import main as cli
from bot.core.config import load_config
from bot.app.console.auth import add_user
from tests.conftest import test_overrides as overrides_for
from tests.support import WeChatSender
from tests.test_console import PASSWORD, login

ATTACKER = "oAttacker001"
ADVISER = "oAdviserWei"
PER_OPENID = 5          # config.toml [binding] max_failures_per_openid
PER_CODE = 10           # [binding] max_failures_per_code


@pytest.fixture
def setup(tmp_path, monkeypatch, fake_wechat):
    overrides = overrides_for(tmp_path, wechat={"api_base": fake_wechat.base})
    app = create_app(load_config(overrides=overrides, environ={}), warm=False)
    monkeypatch.setenv("LEGALBOT_DB", str(tmp_path / "legalbot.db"))
    return app, WeChatSender(app.test_client()), app.extensions["legalbot"].open_db()


def printed_code(name: str = "韦律师") -> str:
    """`legalbot adviser bind-code NAME`, as township staff run it."""
    result = CliRunner().invoke(cli, ["adviser", "bind-code", name])
    assert result.exit_code == 0, result.output
    return result.output.split()[0]


def bound_to(db, name: str = "韦律师") -> str | None:
    return adv.adviser_by_name(db, name).openid


def test_guessing_locks_the_wechat_before_the_real_code_is_reached(setup):
    app, wechat, db = setup
    code = printed_code()
    for guess in range(100000, 100000 + PER_OPENID):
        assert "不对或已过期" in wechat.say(f"绑定 {guess}", openid=ATTACKER)
    refused = wechat.say(f"绑定 {code}", openid=ATTACKER)
    assert "绑定成功" not in refused and "太多" in refused
    assert bound_to(db) is None
    assert "绑定成功" in wechat.say(f"绑定 {code}", openid=ADVISER)      # the real adviser still can


def test_wrong_tries_from_many_wechats_void_the_code(setup):
    app, wechat, db = setup
    code = printed_code()
    for n in range(PER_CODE):
        wechat.say(f"绑定 {10000000 + n}", openid=f"oGuesser{n:03d}")
    assert "绑定成功" not in wechat.say(f"绑定 {code}", openid=ADVISER)
    assert bound_to(db) is None


def test_codes_are_long_work_once_and_expire_in_minutes(setup):
    app, wechat, db = setup
    code = printed_code()
    assert re.fullmatch(r"\d{8,}", code)
    assert adv.new_bind_code(db, "覃律师", time.time()) != code
    row = next(db.query("SELECT bind_code_expires FROM advisers WHERE name = '韦律师'"))
    assert row["bind_code_expires"] - time.time() <= 15 * 60 + 5
    assert "绑定成功" in wechat.say(f"绑定 {code}", openid=ADVISER)
    assert "绑定成功" not in wechat.say(f"绑定 {code}", openid="oSecondComer")


def test_a_moved_binding_is_told_to_the_wechat_it_leaves(setup, fake_wechat):
    app, wechat, db = setup
    assert "绑定成功" in wechat.say(f"绑定 {printed_code()}", openid=ADVISER)
    assert "绑定成功" in wechat.say(f"绑定 {printed_code()}", openid="oAdviserNewPhone")
    assert bound_to(db) == "oAdviserNewPhone"
    worker.run_once(app.extensions["legalbot"], db=db)
    [notice] = fake_wechat.texts_to(ADVISER)
    assert "韦律师" in notice and "司法所" in notice


def test_staff_are_told_in_the_console(setup):
    app, wechat, db = setup
    printed_code()
    for guess in range(100000, 100000 + PER_OPENID):
        wechat.say(f"绑定 {guess}", openid=ATTACKER)
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    client = app.test_client()
    login(client, "sifasuo")
    page = client.get("/console/").get_data(as_text=True)
    assert 'id="security-alerts"' in page and "绑定码" in page


def test_the_configured_limits_are_the_ones_tested(setup):
    config = setup[0].extensions["legalbot"].config
    assert (config.binding.max_failures_per_openid, config.binding.max_failures_per_code) == (PER_OPENID, PER_CODE)
