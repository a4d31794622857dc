"""The console's 调解台账 and 普法 pages, on the console's own blueprint (its login and CSRF).

- 调解台账: the cases a user may see (staff all; a mediator their committees' villages), the
  year's figures, a case's page with its history, and forms to record a session, an outcome or a
  correction — the same functions as the mediators' WeChat commands (bot/community/mediation.py). Staff
  and mediators register disputes found in person (排查) or referred from a ticket.
- 普法: the calendar, the 群发 (preview to one's own WeChat first, then the real send, queued
  once), and offline events; staff only.
"""
from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any, Callable

from flask import abort, flash, g, redirect, render_template, request, url_for

from bot import get_db, services
from bot.community import mediation, publicity
from bot.app.console import auth
from bot.app.console.views import blueprint, chosen_filter
from bot.retrieval.disputes import KIND_LABELS, Kind
from bot.community.mediation import (OUTCOMES, SOURCE_LABELS, STATUS_LABELS, Case, MediationError, NewCase, Party,
                           Source, Status)
from bot.reporting.mediation_stats import figures, percent
from bot.core.privacy import mask_openid
from bot.reporting.stats import TOWNSHIP_TZ, day_start, local_time
from bot.escalation.tickets import get_ticket

CASE_FILTERS = {"active": ("待调解和调解中", list(mediation.ACTIVE)), "closed": ("已结案", list(OUTCOMES)),
                "all": ("全部", None)}
EVENT_LABELS = {"opened": "登记", "session": "调解一次", "status": "结果", "edit": "修改", "notified": "微信通知"}


# ---- who sees what ---------------------------------------------------------------------------

def acting_adviser():
    """The account a console user acts as: their own, or for staff the 司法所 (every village)."""
    return auth.answering_adviser(get_db(), g.user)


def case_villages() -> list[str] | None:
    """None: every village (staff, the 司法所); else the villages of the user's committees."""
    if g.user.is_staff:
        return None
    return mediation.mediator_villages(services().config, g.user.adviser)


def village_options() -> list[str]:
    villages, names = case_villages(), services().config.village_names
    return names if villages is None else [v for v in names if v in villages]


def visible_case(case_id: int) -> Case:
    case = mediation.get_case(get_db(), case_id)
    if case is None:
        abort(404)
    villages = case_villages()
    if villages is not None and case.village not in villages:
        abort(403)
    return case


def mediators_of(village: str) -> list[str]:
    committee = services().config.mediation.committee(village)
    return [m.name for m in committee.mediators] if committee else []


@blueprint.app_context_processor
def mediation_labels() -> dict[str, Any]:
    return {"KIND_LABELS": {str(k): v for k, v in KIND_LABELS.items()},
            "MEDIATION_STATUS": {str(k): v for k, v in STATUS_LABELS.items()},
            "SOURCE_LABELS": {str(k): v for k, v in SOURCE_LABELS.items()}}


# ---- the register ----------------------------------------------------------------------------

def year_rows(villages: list[str] | None) -> list[dict[str, Any]]:
    from bot.reporting.mediation_stats import case_rows
    from bot.reporting.stats import Period
    today = datetime.now(TOWNSHIP_TZ).date()
    return case_rows(get_db(), Period.year(today.year), villages, include_test=True)


@blueprint.get("/mediation")
@auth.login_required
def mediation_cases():
    status = chosen_filter(CASE_FILTERS, "active")
    village = request.args.get("village") or None
    villages = case_villages()
    shown = [village] if village and (villages is None or village in villages) else villages
    cases = mediation.list_cases(get_db(), villages=shown, statuses=CASE_FILTERS[status][1])
    year = figures([r for r in year_rows(villages) if not r["is_test"]])
    return render_template("console/mediation_list.html", cases=cases, status=status, village=village,
                           filters=CASE_FILTERS, villages=village_options(), year=year,
                           rate=percent(year["success_rate"]), can_open=bool(village_options()))


@blueprint.get("/mediation/<int:case_id>")
@auth.login_required
def mediation_case(case_id: int):
    case = visible_case(case_id)
    events = [(e["at"], event_line(e)) for e in mediation.case_events(get_db(), case_id)]
    return render_template("console/mediation_case.html", case=case, events=events,
                           notifications=notifications(case_id),
                           outcomes=[(str(s), STATUS_LABELS[s]) for s in OUTCOMES],
                           kinds=[(str(k), v) for k, v in KIND_LABELS.items()],
                           mediators=mediators_of(case.village), villager=mask_openid(case.openid))


def notifications(case_id: int) -> list[dict[str, str]]:
    """Each mediator's WeChat notification of the case: sent, waiting, or why not."""
    import json
    from bot.escalation.advisers import get_adviser
    from bot.app.console.wording import OUTBOX_LABELS, note_label
    rows = get_db().query("SELECT payload, status, last_error FROM outbox WHERE kind = 'notify_mediator'"
                          " AND json_extract(payload, '$.case_id') = ? ORDER BY id", [case_id])
    out = []
    for row in rows:
        who = get_adviser(get_db(), json.loads(row["payload"])["adviser_id"])
        out.append({"who": who.name if who else "（已删除）", "status": OUTBOX_LABELS.get(row["status"], row["status"]),
                    "why": note_label(row["last_error"]) if row["status"] in ("held", "failed") else ""})
    return out


def event_line(event: dict[str, Any]) -> str:
    what = EVENT_LABELS.get(event["kind"], "")
    if event["kind"] == "status" and event["to_status"]:
        what = STATUS_LABELS.get(Status(event["to_status"]), event["to_status"])
    who = {"villager": "村民", "worker": "系统"}.get(event["actor"] or "", event["actor"] or "")
    via = {"wechat": "微信", "console": "后台"}.get(event["via"] or "", "")
    return " · ".join(p for p in (what, who, via, event["note"] or "") if p)


# ---- opening a case (排查, or a ticket referred) -------------------------------------------

@blueprint.route("/mediation/new", methods=["GET", "POST"])
@auth.login_required
def mediation_new():
    if not village_options():
        abort(403)
    form = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        try:
            case = mediation.open_case(get_db(), services().config, new_case_from(form), time.time(),
                                       actor=g.user.display_name, via="console")
        except (MediationError, ValueError) as exc:
            flash(str(exc), "error")
        else:
            flash(f"已登记 调解#{case.id}，已通知{case.village}的调解员。", "ok")
            return redirect(url_for("console.mediation_case", case_id=case.id))
    return render_template("console/mediation_new.html", form=form, villages=village_options(),
                           kinds=[(str(k), v) for k, v in KIND_LABELS.items()],
                           today=datetime.now(TOWNSHIP_TZ).date().isoformat())


def new_case_from(form) -> NewCase:
    """The form's case; a ticket's number makes it "咨询转来" with that ticket's villager."""
    village = form.get("village", "")
    if village not in village_options():
        raise MediationError("请选择您负责的村。")
    ticket = referred_ticket(form.get("ticket_id", "").strip().lstrip("#"))
    found = parse_date(form.get("found_on", ""))
    return NewCase(village=village, kind=Kind(form.get("kind", "other")),
                   found_via=Source.TICKET if ticket else Source.INSPECTION,
                   summary=form.get("summary", "").strip(), parties=parties_from(form),
                   openid=ticket.openid if ticket else None, ticket_id=ticket.id if ticket else None,
                   consultation_id=ticket.consultation_id if ticket else None,
                   found_at=day_start(found) + 12 * 3600 if found else None)


def referred_ticket(number: str):
    if not number:
        return None
    ticket = get_ticket(get_db(), int(number)) if number.isdigit() else None
    if ticket is None or (case_villages() is not None and ticket.village not in case_villages()):
        raise MediationError(f"没有找到您能转调解的咨询 #{number}。")
    return ticket


def parse_date(text: str) -> date | None:
    if not text:
        return None
    try:
        found = date.fromisoformat(text)
    except ValueError:
        raise MediationError("发现日期的格式应为 2026-03-01。") from None
    if found > datetime.now(TOWNSHIP_TZ).date():
        raise MediationError("发现日期不能晚于今天。")
    return found


def parties_from(form) -> list[Party]:
    parties = []
    for role, prefix in (("申请人", "party1"), ("对方", "party2")):
        name, phone = form.get(f"{prefix}_name", "").strip(), form.get(f"{prefix}_phone", "").strip()
        parties.append(Party(role, name[:20], phone[:20]))
    return parties


# ---- updating a case -------------------------------------------------------------------------

def act(case_id: int, done: str, change: Callable[..., Any]):
    """Run ``change(db, config, adviser, now)`` on a case this user may see; say how it went."""
    visible_case(case_id)
    try:
        change(get_db(), services().config, acting_adviser(), time.time())
    except (MediationError, ValueError) as exc:
        flash(str(exc), "error")
    else:
        flash(done, "ok")
    return redirect(url_for("console.mediation_case", case_id=case_id))


@blueprint.post("/mediation/<int:case_id>/session")
@auth.login_required
def mediation_session(case_id: int):
    note = request.form.get("note", "").strip()

    def change(db, config, who, now):
        mediation.record_session(db, config, case_id, who, now, actor=g.user.display_name,
                                 via="console", note=note)
    return act(case_id, "已记录一次调解。", change)


@blueprint.post("/mediation/<int:case_id>/outcome")
@auth.login_required
def mediation_outcome(case_id: int):
    form = request.form
    outcome = next((s for s in OUTCOMES if s == form.get("outcome")), None)

    def change(db, config, who, now):
        mediation.close_case(db, config, case_id, outcome, who, now, actor=g.user.display_name,
                             via="console", note=form.get("note", "").strip(),
                             agreement=form.get("agreement") == "1", confirmation=form.get("confirmation") == "1")
    return act(case_id, "已记录调解结果。", change)


@blueprint.post("/mediation/<int:case_id>/edit")
@auth.login_required
def mediation_edit(case_id: int):
    form = request.form
    mediator = form.get("mediator") or None
    if mediator and mediator not in mediators_of(visible_case(case_id).village):
        flash("调解员要从本村调解委员会里选。", "error")
        return redirect(url_for("console.mediation_case", case_id=case_id))

    def change(db, config, who, now):
        mediation.edit_case(db, config, case_id, who, now, actor=g.user.display_name, via="console",
                            parties=parties_from(form), kind=Kind(form.get("kind", "other")),
                            summary=form.get("summary", "").strip(), mediator=mediator)
    return act(case_id, "已保存。", change)


# ---- 普法: the calendar, 群发 and offline events -------------------------------------------------

@blueprint.get("/publicity")
@auth.staff_required
def publicity_page():
    config, db, now = services().config, get_db(), time.time()
    today = publicity.township_today(now)
    occasion = publicity.current(config.publicity, today)
    return render_template(
        "console/publicity.html", occasion=occasion, today=today.isoformat(),
        line=publicity.answer_line(occasion, today) if occasion else "",
        coming=[(publicity.when_text(o), o) for o in publicity.upcoming(config.publicity, today, 6)],
        masses=publicity.list_mass(db), mass_labels=publicity.MASS_LABELS,
        events=list(reversed(publicity.events_in(db, year_period(today))))[:30],
        section=publicity.year_section(db, today.year), days=config.publicity.days,
        villages=config.village_names, preview_account=preview_account(),
        outbox=mass_outbox(db), demo=not has_credentials())


def year_period(today: date):
    from bot.reporting.stats import Period
    return Period.year(today.year)


def has_credentials() -> bool:
    from bot.escalation.wechat_api import has_credentials as real
    return real(services().config)


def preview_account():
    """The WeChat a preview goes to without a 微信号 typed: the user's own bound account (staff:
    the 司法所's, which staff keep)."""
    adviser = acting_adviser()
    return adviser if adviser is not None and adviser.openid else None


def mass_outbox(db) -> dict[int, str]:
    """Why a 群发 or its preview has not gone out (held or failed), by mass message."""
    import json
    from bot.app.console.wording import note_label
    out: dict[int, str] = {}
    for row in db.query("SELECT payload, status, last_error FROM outbox WHERE kind IN ('mass_preview', 'mass_send')"
                        " AND status IN ('held', 'failed') ORDER BY id"):
        out[json.loads(row["payload"])["mass_id"]] = note_label(row["last_error"]) or "没有发出"
    return out


@blueprint.post("/publicity/mass")
@auth.staff_required
def publicity_mass_new():
    try:
        mass = publicity.create_mass(get_db(), request.form.get("text", ""), request.form.get("day_key") or None,
                                     g.user.display_name, time.time())
    except publicity.PublicityError as exc:
        flash(str(exc), "error")
    else:
        flash(f"已保存群发草稿 #{mass.id}。请先预览到自己的微信。", "ok")
    return redirect(url_for("console.publicity_page") + "#mass")


@blueprint.post("/publicity/mass/<int:mass_id>/preview")
@auth.staff_required
def publicity_mass_preview(mass_id: int):
    wxname = request.form.get("wxname", "").strip()
    account = preview_account()
    try:
        publicity.request_preview(get_db(), mass_id, time.time(), wxname=wxname,
                                  openid="" if wxname else (account.openid if account else ""))
    except publicity.PublicityError as exc:
        flash(str(exc), "error")
    else:
        flash(f"预览已排队，马上发到{'微信号 ' + wxname if wxname else account.name + '绑定的微信'}。"
              "收到看过没问题，再点“正式群发”。", "ok")
    return redirect(url_for("console.publicity_page") + "#mass")


@blueprint.post("/publicity/mass/<int:mass_id>/send")
@auth.staff_required
def publicity_mass_send(mass_id: int):
    try:
        queued = publicity.request_send(get_db(), mass_id, time.time(), g.user.display_name)
    except publicity.PublicityError as exc:
        flash(str(exc), "error")
    else:
        flash("已开始群发，发给所有关注的村民。" if queued else "这条已经在群发或已发出，不会重复发送。",
              "ok" if queued else "warn")
    return redirect(url_for("console.publicity_page") + "#mass")


@blueprint.post("/publicity/events")
@auth.staff_required
def publicity_event_new():
    form = request.form
    try:
        event = publicity.OfflineEvent(
            held_on=parse_date(form.get("held_on", "")) or local_time(time.time()).date(),
            title=form.get("title", ""), place=form.get("place", ""), village=form.get("village", ""),
            people=whole(form.get("people")), leaflets=whole(form.get("leaflets")),
            consultations=whole(form.get("consultations")), day_key=form.get("day_key") or None,
            note=form.get("note", ""))
        publicity.record_event(get_db(), event, g.user.display_name, time.time())
    except (publicity.PublicityError, MediationError) as exc:
        flash(str(exc), "error")
    else:
        flash("已登记这次普法活动。", "ok")
    return redirect(url_for("console.publicity_page") + "#events")


def whole(text: str | None) -> int:
    text = (text or "0").strip() or "0"
    if not text.isdigit():
        raise publicity.PublicityError(f"“{text}”不是整数：人数、份数请填数字。")
    return int(text)
