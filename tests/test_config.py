"""The configuration layers: defaults → config.toml → environment → test overrides."""
import pytest

from bot.core.config import DEMO_TOKEN, ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_when_the_file_is_missing(tmp_path):
    config = load_config(path=tmp_path / "absent.toml", environ={})
    assert config.reply.max_bytes == 2048
    assert config.matcher.max_choices == 3


def test_file_overrides_defaults(tmp_path):
    path = write(tmp_path, "[reply]\nmore_keyword = \"下一页\"\n")
    assert load_config(path=path, environ={}).reply.more_keyword == "下一页"


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, "[app]\ndb_path = \"from-file.db\"\n")
    config = load_config(path=path, environ={"LEGALBOT_DB": "from-env.db", "WECHAT_TOKEN": "tok123456"})
    assert config.app.db_path == "from-env.db"
    assert config.wechat.token == "tok123456"


def test_overrides_win_over_environment(tmp_path):
    config = load_config(overrides={"app": {"db_path": "override.db"}},
                         path=tmp_path / "absent.toml", environ={"LEGALBOT_DB": "env.db"})
    assert config.app.db_path == "override.db"


def test_config_file_is_chosen_by_legalbot_config(tmp_path):
    path = write(tmp_path, "[local]\ntownship = \"测试乡\"\n")
    assert load_config(environ={"LEGALBOT_CONFIG": str(path)}).local["township"] == "测试乡"


def test_a_secret_in_the_file_is_refused(tmp_path):
    path = write(tmp_path, "[wechat]\nappsecret = \"leaked\"\n")
    with pytest.raises(ConfigError, match="appsecret"):
        load_config(path=path, environ={})


def test_unknown_setting_is_named(tmp_path):
    path = write(tmp_path, "[matcher]\nanswer_minn = 0.5\n")
    with pytest.raises(ConfigError, match="answer_minn"):
        load_config(path=path, environ={})


def test_environment_strings_are_typed(tmp_path):
    path = write(tmp_path, "")
    config = load_config(path=path, environ={}, overrides={"app": {"max_body_bytes": "1024"}})
    assert config.app.max_body_bytes == 1024


def test_demo_token_only_in_development(tmp_path):
    dev = load_config(path=tmp_path / "absent.toml", environ={})
    prod = load_config(path=tmp_path / "absent.toml", environ={"LEGALBOT_ENV": "production"})
    assert dev.wechat.token == DEMO_TOKEN
    assert prod.wechat.token == ""


def test_shipped_config_has_eight_villages_and_menu_keys():
    config = load_config(environ={})
    assert len(config.villages) == 8
    assert config.menu_reply("HUMAN") == "human"
    assert config.menu_reply("NO_SUCH_KEY") is None
