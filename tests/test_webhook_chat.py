"""`legalbot chat`: a terminal conversation through the same path as WeChat, recorded as "cli"."""
from __future__ import annotations

from click.testing import CliRunner

from bot.cli import main
from bot.store import connect


def run_chat(tmp_path, monkeypatch, lines: str, *args: str):
    monkeypatch.setenv("LEGALBOT_DB", str(tmp_path / "chat.db"))
    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:9")
    result = CliRunner().invoke(main, ["chat", *args], input=lines)
    assert result.exit_code == 0, result.output
    return result.output, connect(tmp_path / "chat.db")


def test_chat_welcomes_and_answers_each_line(tmp_path, monkeypatch):
    output, db = run_chat(tmp_path, monkeypatch, "😀\n/quit\n不会被读到\n")
    assert "欢迎" in output and "收到啦" in output and "不会被读到" not in output.split("/quit")[-1]
    rows = list(db.query("SELECT msg_type, content, handler FROM messages WHERE msg_type = 'text'"))
    assert [(r["content"], r["handler"]) for r in rows] == [("😀", "unreadable")]


def test_chat_records_consultations_with_channel_cli(tmp_path, monkeypatch):
    _, db = run_chat(tmp_path, monkeypatch, "转人工\n", "--openid", "oCli", "--village", "古坡村")
    rows = list(db.query("SELECT openid, channel, village FROM consultations"))
    assert rows and all((r["openid"], r["channel"], r["village"]) == ("oCli", "cli", "古坡村") for r in rows)
