"""The 普法日历: on and before a publicity day the menu and the answers point to it; a 群发 goes
to WeChat's API (faked on 127.0.0.1) once — preview first, never twice on retry; recorded events
and sent messages make the report's publicity line."""
from __future__ import annotations

import json
import time
from datetime import date, datetime

import pytest

from bot.escalation import advisers as adv
from bot.community import publicity
from bot.app import worker
from bot.core.config import ConfigError, load_config
from bot.conversation.pipeline import converse
from bot.conversation.dispatch import Context, Incoming
from bot.escalation.outbox import enqueue
from bot.community.publicity import OfflineEvent, PublicityError
from bot.reporting.stats import TOWNSHIP_TZ
from tests.conftest import shipped_publicity
from tests.conftest import test_overrides as overrides_for
from tests.support import event_xml

CONSTITUTION_DAY = "【普法】今天是国家宪法日，回复“普法”看看。"


@pytest.fixture
def config(tmp_path):
    """The test settings with the shipped 普法日历."""
    return load_config(overrides=overrides_for(tmp_path, publicity=shipped_publicity()), environ={})


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TOWNSHIP_TZ).timestamp()


DEC_4 = at("2026-12-04 10:00")


def say(app, db, text: str, now: float, openid: str = "oVillagerPufa001", **event) -> str:
    """One message through the reply pipeline the webhook runs, on the township's clock ``now``."""
    ctx = Context(services=app.extensions["legalbot"], db=db, now=now)
    kind = "event" if event else "text"
    return converse(ctx, Incoming(openid=openid, msg_type=kind, text=text, **event)).text or ""


def button(menu: dict, key: str = "PUBLICITY") -> str:
    return next(b["name"] for top in menu["button"] for b in top.get("sub_button", []) if b.get("key") == key)


# ---- the calendar in the menu and under answers ------------------------------------------------

def test_on_12_04_answers_carry_the_constitution_day_line(app, db):
    reply = say(app, db, "借钱不还怎么办", DEC_4)
    assert "【法条】" in reply and CONSTITUTION_DAY in reply


def test_on_12_04_the_menu_is_the_constitution_days(app, db, config):
    assert button(publicity.menu_json(config, date(2026, 12, 4))) == "国家宪法日"
    shown = say(app, db, "publicity", DEC_4, event="click", event_key="PUBLICITY")
    assert shown.startswith("【普法】今天是国家宪法日。\n12月4日是国家宪法日，也是全国法制宣传日。")
    assert "\n1. " in shown and "回复数字看回答" in shown and "近期普法日：2月4日至12日 春节" in shown
    chosen = say(app, db, "1", DEC_4)                  # the first entry it promotes: village.election
    assert "村委会" in chosen and "【普法】" not in chosen     # no line under the day's own entries


def test_a_villager_reads_the_same_line_once_and_a_changed_line_again(app, db):
    assert CONSTITUTION_DAY in say(app, db, "借钱不还怎么办", DEC_4)
    assert "【普法】" not in say(app, db, "离婚了孩子归谁", DEC_4 + 60)           # the same day: not again
    assert CONSTITUTION_DAY in say(app, db, "借钱不还怎么办", DEC_4, openid="oVillagerPufa003")
    assert "还有2天" in say(app, db, "借钱不还怎么办", at("2026-06-24 09:00"), openid="oVillagerPufa004")
    assert "还有1天" in say(app, db, "借钱不还怎么办", at("2026-06-25 09:00"), openid="oVillagerPufa004")
    assert "宪法宣传周" in say(app, db, "借钱不还怎么办", at("2026-12-02 09:00"), openid="oVillagerPufa004")
    assert "【普法】" not in say(app, db, "借钱不还怎么办", at("2026-12-03 09:00"), openid="oVillagerPufa004")


def test_days_ahead_the_line_counts_down_and_a_week_under_way_names_its_dates(app, db):
    assert "【普法】6月26日是国际禁毒日（还有2天）" in say(app, db, "借钱不还怎么办", at("2026-06-24 09:00"))
    assert "【普法】现在是宪法宣传周（12月1日至7日）" in say(app, db, "借钱不还怎么办", at("2026-12-02 09:00"),
                                                 openid="oVillagerPufa002")


def test_outside_the_days_nothing_is_added_and_the_menu_keeps_its_name(app, db, config):
    reply = say(app, db, "借钱不还怎么办", at("2026-08-15 09:00"))
    assert "【普法】" not in reply
    assert button(publicity.menu_json(config, date(2026, 8, 15))) == "普法日历"
    calendar = say(app, db, "普法", at("2026-08-15 09:00"))
    assert calendar.startswith("普法日历：") and "11月1日至30日 全国消防宣传月" in calendar


def test_the_pushed_menu_follows_the_calendar_once_a_day(app, db, fake_wechat, tmp_path):
    config = load_config(overrides=overrides_for(tmp_path, wechat={"api_base": fake_wechat.base},
                                                 publicity=shipped_publicity()), environ={})
    services = app.extensions["legalbot"].__class__(config)
    enqueue(db, publicity.MenuCreate(publicity.menu_json(config, date(2026, 11, 30))), at("2026-11-30 09:00"),
            dedupe_key="menu:push")
    worker.run_once(services, now=at("2026-11-30 09:00"), db=db)
    for when in ("2026-12-04 08:00", "2026-12-04 08:01"):
        worker.run_once(services, now=at(when), db=db)
    names = [button(c.body) for c in fake_wechat.sent("/menu/create")]
    assert names == ["消防安全月", "国家宪法日"]


# ---- 群发 -----------------------------------------------------------------------------------------

@pytest.fixture
def mass_config(tmp_path, fake_wechat):
    return load_config(overrides=overrides_for(tmp_path, wechat={"api_base": fake_wechat.base,
                                                                   "api_timeout_seconds": 0.5}), environ={})


def test_a_mass_message_goes_out_once_preview_first_never_twice_on_retry(mass_config, fake_wechat):
    from bot.app.services import Services
    services = Services(mass_config)
    db = services.open_db()
    adv.ensure_advisers(db, mass_config, time.time())
    adv.bind(db, adv.new_bind_code(db, "大年司法所", time.time()), "oStaffPhone0001", time.time())
    mass = publicity.create_mass(db, "12月4日是国家宪法日。有法律问题随时问我们。", None, "staff", time.time())
    with pytest.raises(PublicityError, match="先把这条群发预览"):
        publicity.request_send(db, mass.id, time.time(), "staff")
    publicity.request_preview(db, mass.id, time.time(), openid=adv.backup_adviser(db).openid)
    worker.run_once(services, db=db)
    assert publicity.get_mass(db, mass.id).status == "previewed"
    assert publicity.request_send(db, mass.id, time.time(), "staff") is True
    assert publicity.request_send(db, mass.id, time.time(), "staff") is False     # a second click
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'mass_send'").fetchone()[0] == 1

    fake_wechat.stall("/message/mass/sendall", 1.5)        # WeChat takes it; its answer is lost
    now = time.time()
    worker.run_once(services, now=now, db=db)
    assert publicity.get_mass(db, mass.id).status == "queued"
    worker.run_once(services, now=now + 120, db=db)        # the retry, with the same clientmsgid
    sent = publicity.get_mass(db, mass.id)
    assert sent.status == "sent"
    calls = [c for c in fake_wechat.calls if "/message/mass/" in c.path]
    deadline = time.monotonic() + 5
    while not calls[1].answer and time.monotonic() < deadline:   # the late answer, for the record
        time.sleep(0.05)
    assert [c.path.rsplit("/", 1)[1] for c in calls] == ["preview", "sendall", "sendall"]
    assert calls[0].body == {"touser": "oStaffPhone0001", "msgtype": "text", "text": {"content": mass.text}}
    assert calls[1].body["clientmsgid"] == calls[2].body["clientmsgid"] == mass.clientmsgid
    assert calls[1].body["filter"] == {"is_to_all": True}
    assert len(fake_wechat.sent("/message/mass/sendall")) == 1           # followers got it once
    worker.run_once(services, now=now + 600, db=db)
    assert len([c for c in fake_wechat.calls if c.path.endswith("/sendall")]) == 2
    assert sent.msg_id is None                              # the lost answer carried it
    assert publicity.job_finished(db, "1000007", 2300, 2280)  # WeChat's job report still finds it
    assert publicity.get_mass(db, mass.id).sent_count == 2280
    db.conn.close()


def test_preview_needs_ones_own_wechat(db):
    mass = publicity.create_mass(db, "普法", None, "staff", time.time())
    with pytest.raises(PublicityError, match="自己的微信"):
        publicity.request_preview(db, mass.id, time.time())


def test_the_job_report_and_events_make_the_reports_publicity_line(app, db, wechat):
    mass = publicity.create_mass(db, "国家宪法日", None, "staff", time.time())
    db.execute("UPDATE mass_messages SET status = 'sent', sent_at = ?, msg_id = '1000042' WHERE id = ?",
               [at("2026-12-04 10:00"), mass.id])
    finish = event_xml("MASSSENDJOBFINISH", openid="oAccountItself").replace(
        "</xml>", "<MsgID>1000042</MsgID><Status><![CDATA[send success]]></Status><TotalCount>2300</TotalCount>"
                  "<FilterCount>2300</FilterCount><SentCount>2280</SentCount><ErrorCount>20</ErrorCount></xml>")
    assert wechat.reply_text(wechat.post(finish)) in ("", "success")
    assert publicity.get_mass(db, mass.id).sent_count == 2280
    for day, people, leaflets, asked in (("2026-03-15", 150, 300, 20), ("2026-12-04", 400, 500, 60)):
        publicity.record_event(db, OfflineEvent(date.fromisoformat(day), "普法进村", "大年村文化室",
                                                people=people, leaflets=leaflets, consultations=asked),
                               "staff", time.time())
    assert publicity.year_section(db, 2026)["text"] == (
        "组织开展各类法治宣传活动3场次（线下活动2场，公众号群发1次），发放宣传资料800份，"
        "现场解答群众咨询80人次，受众人数2830人次。")
    from bot.reporting.report import build_report
    assert build_report(db, 2026)["publicity"]["people"] == 2830
    assert publicity.year_section(db, 2025)["text"] == "2025年普法台账未登记宣传活动。"


def test_an_event_with_a_bad_count_is_refused(db):
    with pytest.raises(PublicityError, match="受众人数"):
        publicity.record_event(db, OfflineEvent(date(2026, 5, 1), "民法典宣传", people=-3), "staff", 0)


# ---- the calendar's configuration ---------------------------------------------------------------

@pytest.mark.parametrize("day, message", [
    ({"name": "甲", "start": "13-01", "text": "x"}, "甲"),
    ({"name": "乙", "start": "12-30", "end": "01-02", "text": "x"}, "ends before it starts"),
    ({"name": "丙", "start": "2027-02-06", "end": "02-10", "text": "x"}, "both have a year"),
    ({"name": "丁", "start": "05-01", "text": "长" * 301}, "at most 300"),
    ({"name": "戊", "start": "05-01", "text": "x", "label": "一二三四五六七八九"}, "longer than 8"),
    ({"name": "己", "start": "05-01"}, "needs a name, a start date and a text"),
])
def test_bad_days_are_refused_at_load(tmp_path, day, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=overrides_for(tmp_path, publicity={"days": [day]}), environ={})


def test_the_shipped_calendar_names_only_entries_the_knowledge_base_has(app, config):
    assert publicity.check_entries(config.publicity, app.extensions["legalbot"].knowledge.by_id) == []
    bad = load_config(overrides={"publicity": {"days": [{"name": "甲", "start": "05-01", "text": "x",
                                                         "entries": ["no.such_entry"]}]}}, environ={})
    assert publicity.check_entries(bad.publicity, app.extensions["legalbot"].knowledge.by_id) == [
        "甲: no FAQ entry no.such_entry"]


def test_the_calendar_is_shown_with_its_checks_by_the_command_line(config, monkeypatch):
    from click.testing import CliRunner
    from bot.cli import main
    monkeypatch.setenv("LEGALBOT_DB", config.app.db_path)
    result = CliRunner().invoke(main, ["publicity", "days", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["problems"] == [] and any(d["name"] == "国家宪法日" for d in out["days"])
