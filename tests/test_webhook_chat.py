"""`legalbot chat`: a terminal conversation through the same path as WeChat, recorded as "cli"."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.store import connect


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
    _, db = run_chat(tmp_path, monkeypatch, "转人工\n邻居占了我家的宅基地 还在上面盖了猪圈\n",
                     "--openid", "oCli", "--village", "古坡村")
    rows = list(db.query("SELECT openid, channel, village, question FROM consultations"))
    assert [(r["openid"], r["channel"], r["village"], r["question"]) for r in rows] == [
        ("oCli", "cli", "古坡村", "邻居占了我家的宅基地 还在上面盖了猪圈")]


@pytest.mark.parametrize("word", ["退出", "exit", "quit", "q", "Q"])
def test_a_quit_word_ends_the_chat_and_is_not_sent(tmp_path, monkeypatch, word):
    output, db = run_chat(tmp_path, monkeypatch, f"{word}\n借钱不还怎么办\n")
    assert "退出" in output.split("机器人：")[0]             # the hint comes first
    assert db.execute("SELECT count(*) FROM messages WHERE msg_type = 'text'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM consultations").fetchone()[0] == 0
