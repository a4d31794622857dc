"""Two stories in real headless Chromium: an urgent message when no adviser is bound, and an
adviser's answer reaching the villager's simulator without the villager sending anything.
WeChat's API is tests/fake_wechat.py; everything else is the real app on a real SQLite file."""
from __future__ import annotations

import time

import pytest

from bot.escalation import advisers as adv
from bot.app import worker
from bot.core.config import load_config
from bot.app.console.auth import add_user
from tests.browser.conftest import PASSWORD, PHONE, log_in, screenshot, villager_says
from tests.conftest import test_overrides as overrides_for

pytestmark = pytest.mark.browser

DUTY = {"name": "乡值班室", "phone": "0772-7654321"}
DUTY_OPENID = "oDutyPhone"
DANGER = "老公喝醉了正在打我，我躲在厕所"


@pytest.fixture
def config(tmp_path, fake_wechat):
    """WeChat's API faked; a template for notifications; the township's duty contact."""
    return load_config(overrides=overrides_for(tmp_path, duty=DUTY, wechat={
        "api_base": fake_wechat.base, "adviser_template_id": "TPL-NEW-CASE"}), environ={})


@pytest.fixture
def staff(live, db, config):
    adv.ensure_advisers(db, config, time.time())
    add_user(db, "sifasuo", PASSWORD, "staff", time.time())
    return live


def staff_console(chromium, base):
    """The console in a browser of its own (staff's phone), logged in."""
    console = chromium.new_context(viewport=PHONE, locale="zh-CN").new_page()
    log_in(console, base, "sifasuo")
    return console


def test_urgent_with_no_adviser_bound_reaches_the_duty_contact(page, chromium, staff, db,
                                                                  fake_wechat):
    base, app = staff
    code = adv.new_bind_code(db, DUTY["name"], time.time(), 72)   # the duty phone is bound,
    adv.bind(db, code, DUTY_OPENID, time.time())                  # no adviser and no 司法所 is
    page.goto(f"{base}/simulator")
    reply = villager_says(page, DANGER)
    screenshot(page, "urgent-simulator")
    assert f"已通知{DUTY['name']}" in reply and DUTY["phone"] in reply
    for number in ("110", "120", "12338", "12356"):
        assert reply.count(number) == 1                    # each said once, plainly
    assert "的法律顾问大年司法所" not in reply

    console = staff_console(chromium, base)
    banner = console.inner_text("#urgent-banner")
    assert "1 件紧急求助还没有通知到任何人" in banner
    screenshot(console, "urgent-banner")
    for path in ("/console/tickets", "/console/knowledge"):
        console.goto(base + path)
        assert console.is_visible("#urgent-banner"), path

    worker.run_once(app.extensions["legalbot"])
    [call] = fake_wechat.sent("/message/template/send")
    assert call.body["touser"] == DUTY_OPENID and call.body["template_id"] == "TPL-NEW-CASE"
    console.goto(f"{base}/console/tickets")
    assert not console.is_visible("#urgent-banner")
    assert DUTY["name"] in console.inner_text("#ticket-list .assignee")
    console.context.close()


def test_with_nobody_reachable_the_banner_stays_and_the_villager_is_told_what_to_do(
        page, chromium, staff, fake_wechat):
    base, app = staff
    page.goto(f"{base}/simulator")
    reply = villager_says(page, DANGER)
    assert "现在没能通知到法律顾问" in reply and DUTY["phone"] in reply and "12338" in reply
    worker.run_once(app.extensions["legalbot"])
    assert fake_wechat.sent("/message/template/send") == []
    console = staff_console(chromium, base)
    assert console.is_visible("#urgent-banner")
    console.context.close()


def test_an_advisers_answer_appears_in_the_simulator_without_sending_anything(
        page, chromium, staff, db):
    base, _ = staff
    page.goto(f"{base}/simulator")
    page.click("text=找人帮忙")
    page.click("text=紧急求助")
    page.wait_for_selector(".bubble.bot")
    openid = page.evaluate("localStorage.getItem('legalbot-simulator-openid')")
    [ticket] = list(db.query("SELECT id FROM tickets WHERE openid = ?", [openid]))

    console = staff_console(chromium, base)
    console.goto(f"{base}/console/tickets/{ticket['id']}")
    console.fill("textarea[name=answer]", "别怕，我们已联系派出所，民警马上到。")
    console.click("#answer-form button[type=submit]")
    console.wait_for_selector(".flash.ok")
    console.context.close()

    sent = page.locator(".bubble.me").count()
    answer = page.wait_for_selector("text=法律顾问已答复：别怕，我们已联系派出所", timeout=10000)
    assert f"#{ticket['id']}" in answer.inner_text()
    assert page.locator(".bubble.me").count() == sent            # the villager sent nothing
    screenshot(page, "answer-in-simulator")
    row = next(db.query("SELECT status, delivered_via FROM tickets WHERE id = ?", [ticket["id"]]))
    assert (row["status"], row["delivered_via"]) == ("delivered", "simulator")
    next_poll_handled(page)                                       # the next poll shows it once
    assert page.locator("text=法律顾问已答复：别怕").count() == 1


NEXT_POLL_HANDLED = """() => new Promise((handled, failed) => {
  setTimeout(() => failed(new Error("no poll of /simulator/inbox within 10 s")), 10000);
  const json = Response.prototype.json;
  Response.prototype.json = function () {
    const body = json.call(this);
    if (this.url.endsWith("/simulator/inbox")) body.then(() => setTimeout(handled, 0));
    return body;
  };
})"""


def next_poll_handled(page) -> None:
    """Return once the page has read its next /simulator/inbox answer and shown what it holds:
    the simulator's own callback runs on the parsed body first (a microtask), our signal after
    it (a task). Waits as long as the poll takes (at most its 3 s interval), not a fixed sleep."""
    page.evaluate(NEXT_POLL_HANDLED)


def test_an_empty_message_gets_a_word_instead_of_silence(page, staff, db):
    base, _ = staff
    page.goto(f"{base}/simulator")
    page.fill("#message", "   ")
    page.click("#send")
    assert "消息是空的" in page.wait_for_selector(".bubble.system >> nth=-1").inner_text()
    assert list(db.query("SELECT id FROM messages")) == []
