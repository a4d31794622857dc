"""The console's pages: dashboard, tickets, consultations, knowledge base, export.

Server-rendered, no JavaScript needed, readable on an adviser's phone. Every page reads through
the same functions as the command line (``bot.reporting.stats``, ``bot.reporting.export``, ``bot.escalation.tickets``), and an
answer typed here goes through ``bot.escalation.tickets.answer_ticket`` exactly like "答复 12 …" in WeChat.
"""
from __future__ import annotations

import io
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable
from urllib.parse import unquote

from flask import (Blueprint, abort, flash, g, redirect, render_template, request, send_file,
                   session, url_for)

from bot import get_db, services
from bot.escalation import outbox
from bot.escalation.advisers import list_advisers, recent_alerts
from bot.app.console import auth
from bot.app.console.wording import OUTBOX_LABELS, channel_label, event_text, note_label
from bot.reporting.export import ACTION_LABELS, TICKET_STATUS_LABELS, handling, ledger_filename, write_ledger
from bot.reporting.export import ledger_rows
from bot.kb import knowledge as statute_files
from bot.kb.knowledge import Article, Law, Statutes, article_notes, fill_placeholders
from bot.retrieval.lawsearch import above_floor
from bot.core.privacy import mask_openid, mask_text
from bot.escalation.wechat_api import DEMO_ACCOUNT, WeChatClient, WeChatError, has_credentials
from bot.reporting.stats import (TOWNSHIP_TZ, Period, consultation_row, consultation_rows, grouped,
                       legal_rows, local_time, parse_day, summarize)
from bot.escalation.tickets import (ANSWERABLE, CLOSABLE, TicketError, Ticket, answer_ticket, can_act, close_ticket,
                         get_ticket, list_tickets, reassign_ticket, ticket_events)

blueprint = Blueprint("console", __name__, url_prefix="/console")
PAGE_SIZE = 50
STATUS_FILTERS = {"waiting": ("待答复", list(ANSWERABLE)), "answered": ("已答复未送达", ["answered"]),
                  "delivered": ("已送达", ["delivered"]), "closed": ("已办结", ["closed"]),
                  "all": ("全部", None)}


# ---- every request: who is this, and is the form genuine ------------------------------

@blueprint.before_request
def load_user() -> None:
    g.user = auth.session_user(get_db(), session)
    if request.method == "POST" and not auth.csrf_ok():
        abort(400, description="页面已过期或表单来源不明，请刷新后再提交。")


@blueprint.app_template_global()
def csrf_token() -> str:
    return auth.csrf_token()


@blueprint.app_template_filter("when")
def when(epoch: float | None) -> str:
    return local_time(epoch).strftime("%Y-%m-%d %H:%M") if epoch else "—"


@blueprint.app_template_filter("masked")
def masked(text: str | None) -> str:
    return mask_text(text)


@blueprint.app_template_filter("local")
def local(text: str | None) -> str:
    """Knowledge-base text with its {placeholders} filled from config [local], as villagers see it."""
    return fill_placeholders(text or "", services().config.local)


@blueprint.app_context_processor
def labels() -> dict[str, Any]:
    return {"ACTION_LABELS": ACTION_LABELS, "TICKET_STATUS_LABELS": TICKET_STATUS_LABELS,
            "mask_openid": mask_openid, "township": services().config.local.get("township", ""),
            "channel_label": channel_label}


# ---- on every page: who has each ticket, and urgent tickets nobody has been told about ------

def advisers_by_id() -> dict[int, Any]:
    if "advisers" not in g:
        g.advisers = {a.id: a for a in list_advisers(get_db())}
    return g.advisers


@blueprint.app_template_global()
def assignee(ticket: Ticket) -> str:
    """Whose the ticket is, and whether WeChat can reach them at all."""
    adviser = advisers_by_id().get(ticket.adviser_id)
    if adviser is None:
        return "未分配"
    return adviser.name + ("" if adviser.openid else "（未绑定微信）")


@blueprint.app_template_global()
def urgent_alerts() -> list[Ticket]:
    """Urgent tickets no notification has reached yet (still 'open'), that this user may see."""
    if g.get("user") is None:
        return []
    found = list_tickets(get_db(), status="open")
    return [t for t in found if t.urgent and may_see(t)]


def include_test() -> bool:
    """The console's "含测试消息" box: test traffic is left out of the figures unless ticked."""
    return request.args.get("include_test") == "1"


@blueprint.errorhandler(400)
@blueprint.errorhandler(403)
@blueprint.errorhandler(404)
def error_page(error):
    messages = {403: "您没有权限查看这一页（法律顾问只能看本村的咨询）。", 404: "没有找到这一页或这条记录。"}
    message = messages.get(error.code) or error.description
    return render_template("console/error.html", code=error.code, message=message), error.code


# ---- logging in and out ----------------------------------------------------------------

# A console path on this site: no other host ("//host", "/\\host"), no climbing out with "..",
# nothing a header cannot hold (CR/LF). Checked on the text as sent and percent-decoded.
SAFE_NEXT = re.compile(r"/console(?:[/?#][^\x00-\x20\x7f]*)?")


def safe_next(target: str | None) -> str:
    """Only come back to a console page (no open redirect to another site)."""
    text = target or ""
    if all(SAFE_NEXT.fullmatch(form) and "\\" not in form and "/.." not in form
           for form in (text, unquote(text))):
        return text
    return url_for("console.dashboard")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("console/login.html", next=request.args.get("next", ""))
    db, settings = get_db(), services().config.console
    username, password = request.form.get("username", ""), request.form.get("password", "")
    try:
        user = auth.authenticate(db, settings, username, password, request.remote_addr, time.time())
    except auth.LoginLocked:
        minutes = settings.login_window_seconds // 60
        return login_failed(f"登录失败次数太多，请 {minutes} 分钟后再试。", 429)
    if user is None:
        return login_failed("用户名或密码不对。", 401)
    auth.log_in(user)
    return redirect(safe_next(request.form.get("next")))


def login_failed(message: str, status: int):
    return render_template("console/login.html", error=message,
                           next=request.form.get("next", "")), status


@blueprint.post("/logout")
def logout():
    """Logging out ends every session of the account, not just this browser's cookie."""
    if g.user is not None:
        auth.end_sessions(get_db(), g.user)
    session.clear()
    return redirect(url_for("console.login"))


# ---- dashboard ---------------------------------------------------------------------------

def requested_period(default_to_year: bool = True) -> Period:
    """The date filter from the query string; a bad date is reported and the default used."""
    today = datetime.now(TOWNSHIP_TZ).date()
    default = Period(date(today.year, 1, 1), today) if default_to_year else Period()
    try:
        since, until = parse_day(request.args.get("since")), parse_day(request.args.get("until"))
    except ValueError as exc:
        flash(str(exc), "error")
        return default
    if not request.args.get("since") and not request.args.get("until"):
        return default
    return Period(since, until)


def bars(groups: dict[str, dict[str, Any]], key: str = "total") -> list[dict[str, Any]]:
    """Rows for a CSS bar chart: label, value and width in percent of the largest."""
    top = max((g[key] for g in groups.values()), default=0) or 1
    return [{"label": label, "value": g[key], "width": round(100 * g[key] / top)}
            for label, g in groups.items()]


@blueprint.get("/")
@auth.login_required
def dashboard():
    period = requested_period()
    rows = legal_rows(consultation_rows(get_db(), period, g.user.villages, include_test()))
    waiting = [t for t in list_tickets(get_db(), status=list(ANSWERABLE)) if may_see(t)]
    return render_template(
        "console/dashboard.html", period=period, figures=summarize(rows), waiting=len(waiting),
        by_month=bars(grouped(rows, "month")), by_category=bars(grouped(rows, "category")),
        by_village=bars(grouped(rows, "village")), include_test=include_test(),
        wechat=wechat_state() if g.user.is_staff else None,
        security_alerts=recent_alerts(get_db(), time.time()) if g.user.is_staff else [])


def wechat_state() -> dict[str, Any]:
    """What happened to the messages for WeChat: sent, waiting, held (and why), failed."""
    db = get_db()
    counts = outbox.counts(db)
    reasons = [note_label(r["last_error"]) or "其他原因" for r in db.query(
        "SELECT last_error, COUNT(*) AS n FROM outbox WHERE status IN ('held', 'failed') "
        "GROUP BY last_error ORDER BY n DESC LIMIT 3")]
    return {"demo": not has_credentials(services().config), "demo_text": DEMO_ACCOUNT,
            "sent": counts.get("sent", 0), "waiting": counts.get("pending", 0) + counts.get("sending", 0),
            "held": counts.get("held", 0), "failed": counts.get("failed", 0),
            "reasons": list(dict.fromkeys(reasons))}


# ---- tickets -----------------------------------------------------------------------------

def may_see(ticket: Ticket) -> bool:
    """Staff see every ticket; an adviser their villages' (and any assigned to them)."""
    return g.user.is_staff or (g.user.adviser is not None and can_act(g.user.adviser, ticket))


def visible_ticket(ticket_id: int) -> Ticket:
    ticket = get_ticket(get_db(), ticket_id)
    if ticket is None:
        abort(404)
    if not may_see(ticket):
        abort(403)
    return ticket


def village_choices() -> list[str]:
    names = services().config.village_names
    return names if g.user.villages is None else [v for v in names if v in g.user.villages]


def chosen_filter(filters: dict[str, Any], default: str) -> str:
    """The list filter asked for in ``?status=``; anything not offered falls back to ``default``."""
    status = request.args.get("status", default)
    return status if status in filters else default


@blueprint.get("/tickets")
@auth.login_required
def tickets():
    status = chosen_filter(STATUS_FILTERS, "waiting")
    village = request.args.get("village") or None
    found = list_tickets(get_db(), villages=[village] if village else None,
                         status=STATUS_FILTERS[status][1])
    return render_template("console/tickets.html", tickets=[t for t in found if may_see(t)],
                           status=status, village=village, statuses=STATUS_FILTERS,
                           villages=village_choices())


@blueprint.get("/tickets/<int:ticket_id>")
@auth.login_required
def ticket(ticket_id: int):
    found = visible_ticket(ticket_id)
    statutes = services().knowledge.statutes
    articles = [(c, statutes.get(c)) for c in found.suggested]
    names = {i: a.name for i, a in advisers_by_id().items()}
    events = [(e["at"], event_text(e, TICKET_STATUS_LABELS, names))
              for e in ticket_events(get_db(), ticket_id)]
    return render_template("console/ticket.html", ticket=found, articles=articles, events=events,
                           notifications=notifications(ticket_id, names),
                           answerable=found.status in ANSWERABLE, closable=found.status in CLOSABLE,
                           answering_as=auth.answering_adviser(get_db(), g.user),
                           reveal=reveals_contact(found))


def reveals_contact(ticket: Ticket) -> bool:
    """The villager's numbers in full only for whoever must call back: the adviser of the
    ticket's village (or assigned to it), staff when the 司法所 holds it (bot/core/privacy.py)."""
    if g.user.adviser is not None:
        return can_act(g.user.adviser, ticket)
    backup = auth.answering_adviser(get_db(), g.user)
    return backup is not None and ticket.adviser_id == backup.id


def notifications(ticket_id: int, names: dict[int, str]) -> list[dict[str, str]]:
    """Each WeChat notification about the ticket: to whom, whether it went out, and if not why."""
    rows = get_db().query(
        "SELECT payload, status, last_error FROM outbox WHERE kind = 'notify_adviser' "
        "AND json_extract(payload, '$.ticket_id') = ? ORDER BY id", [ticket_id])
    return [{"who": names.get(json.loads(r["payload"])["adviser_id"], "（已删除）"),
             "status": OUTBOX_LABELS.get(r["status"], r["status"]),
             "why": note_label(r["last_error"]) if r["status"] in ("held", "failed") else ""}
            for r in rows]


@blueprint.get("/tickets/<int:ticket_id>/voice")
@auth.login_required
def voice(ticket_id: int):
    """The villager's voice message, fetched from WeChat (which keeps it for 3 days).

    A console page may call WeChat directly: an adviser asked for it and waits; the webhook never
    does (its replies must leave within WeChat's 5 seconds).
    """
    found = visible_ticket(ticket_id)
    if not found.media_id:
        abort(404)
    if not has_credentials(services().config):
        return render_template("console/error.html", code=503,
                               message="演示账号没有连接微信，取不到村民的语音。"), 503
    try:
        data, kind = WeChatClient(services().config, get_db()).get_media(found.media_id)
    except WeChatError as exc:
        return render_template("console/error.html", code=502,
                               message=f"微信里取不到这条语音（{exc}）：语音只保存3天，过期请给村民回电话。"), 502
    return send_file(io.BytesIO(data), mimetype=kind.split(";")[0], as_attachment=True,
                     download_name=f"ticket-{ticket_id}.{voice_suffix(kind)}")


def voice_suffix(kind: str) -> str:
    return "speex" if "speex" in kind else "mp3" if "mpeg" in kind else "amr"


@blueprint.post("/tickets/<int:ticket_id>/answer")
@auth.login_required
def answer(ticket_id: int):
    visible_ticket(ticket_id)
    adviser = auth.answering_adviser(get_db(), g.user)
    if adviser is None:
        flash("没有配置司法所（backup），工作人员无法代为答复。", "error")
        return redirect(url_for("console.ticket", ticket_id=ticket_id))
    try:
        answer_ticket(services(), get_db(), ticket_id, adviser, request.form.get("answer", ""),
                      time.time())
        flash(f"咨询 #{ticket_id} 已答复，正在送达村民。", "ok")
    except TicketError as exc:
        flash(str(exc), "error")
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


def acted_on(ticket_id: int, act: Callable[..., Any], done: str):
    """One button on a ticket the user may see: ``act`` as the logged-in user (their adviser
    record, or None for staff), its outcome flashed, back to the ticket's page."""
    visible_ticket(ticket_id)
    try:
        act(get_db(), ticket_id, g.user.adviser, time.time(), actor=g.user.display_name)
        flash(done.format(id=ticket_id), "ok")
    except TicketError as exc:
        flash(str(exc), "error")
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


@blueprint.post("/tickets/<int:ticket_id>/reassign")
@auth.login_required
def reassign(ticket_id: int):
    return acted_on(ticket_id, reassign_ticket, "咨询 #{id} 已转交司法所。")


@blueprint.post("/tickets/<int:ticket_id>/close")
@auth.login_required
def close(ticket_id: int):
    """办结: the answer reached the villager and nothing more is to be done."""
    return acted_on(ticket_id, close_ticket, "咨询 #{id} 已办结。")


# ---- consultations -------------------------------------------------------------------------

def allowed_villages(village: str | None) -> list[str] | None:
    """The villages to show: the one asked for, within what this user may see."""
    mine = g.user.villages
    if village is None:
        return mine
    return [village] if mine is None or village in mine else []


def matches(row: dict[str, Any], query: str, action: str | None) -> bool:
    if action and row["action"] != action:
        return False
    return not query or query in (row.get("question") or "") or query in (row.get("faq_id") or "")


@blueprint.get("/consultations")
@auth.login_required
def consultations():
    period = requested_period(default_to_year=False)
    query, action = request.args.get("q", "").strip(), request.args.get("action") or None
    village = request.args.get("village") or None
    rows = consultation_rows(get_db(), period, allowed_villages(village), include_test())
    rows = [r for r in reversed(rows) if matches(r, query, action)]
    page = max(1, request.args.get("page", 1, type=int))
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return render_template("console/consultations.html", rows=shown, total=len(rows), page=page,
                           pages=max(1, -(-len(rows) // PAGE_SIZE)), q=query, action=action,
                           village=village, villages=village_choices(), period=period,
                           handling=handling, include_test=include_test())


@blueprint.get("/consultations/<int:consultation_id>")
@auth.login_required
def consultation(consultation_id: int):
    row = consultation_row(get_db(), consultation_id)
    if row is None:
        abort(404)
    if g.user.villages is not None and row["village"] not in g.user.villages:
        abort(403)
    entry = services().knowledge.by_id.get(row["faq_id"]) if row["faq_id"] else None
    return render_template("console/consultation.html", row=row, handling=handling(row),
                           entry=entry)


# ---- knowledge base ----------------------------------------------------------------------

def entry_matches(entry, query: str) -> bool:
    text = " ".join([entry.id, entry.category, entry.answer, *entry.questions, *entry.keywords,
                     *entry.citations])
    return not query or query in text


@blueprint.get("/knowledge")
@auth.login_required
def knowledge():
    kb, query = services().knowledge, request.args.get("q", "").strip()
    category = request.args.get("category") or None
    entries = [e for e in kb.entries if entry_matches(e, query)
               and (category is None or e.category == category)]
    categories = sorted({e.category for e in kb.entries})
    return render_template("console/knowledge.html", entries=entries, q=query, category=category,
                           categories=categories, laws=statute_counts(kb.statutes))


@dataclass(frozen=True)
class LawChoice:
    """One law in the statutes page's filter: its name, how many articles we hold, and a note
    when its text does not apply today (empty otherwise)."""

    law: str
    articles: int
    note: str


def statute_counts(statutes: Statutes) -> list[LawChoice]:
    counts: dict[str, int] = {}
    for article in statutes.articles:
        counts[article.law] = counts.get(article.law, 0) + 1
    day = judged_day(statutes)
    return [LawChoice(name, n, law_note(statutes.laws[name], day)) for name, n in counts.items()
            if name in statutes.laws]


def judged_day(statutes: Statutes) -> date:
    """The day "in force" is judged on: the statutes' own (tests, kb check) or today, township time."""
    return statutes.day or statute_files.today()


def law_note(law: Law, day: date) -> str:
    """A short word for a law whose text does not apply on ``day``, for the filter list, where
    查法条's full notes (``article_notes``, shown on each card) would not fit."""
    if law.ended_before(day):
        after = date.fromisoformat(law.in_force_until) + timedelta(days=1)
        return f"已失效（只适用于{after.isoformat()}之前发生的事）"
    if law.starts_after(day):
        return f"尚未施行（{max(law.version_date, law.effective_date)}起施行）"
    if not law.in_force:
        return "已废止"
    return f"现行文本施行到{law.in_force_until}" if law.in_force_until else ""


@blueprint.get("/knowledge/<entry_id>")
@auth.login_required
def entry(entry_id: str):
    kb = services().knowledge
    found = kb.by_id.get(entry_id) or abort(404)
    articles = [(c, kb.statutes.get(c)) for c in found.citations]
    return render_template("console/entry.html", entry=found, articles=articles)


MEANING_HITS = 5      # the ranked section stays short: the word-match list below carries the rest
MEANING_POOL = 50     # hits asked for when a law is chosen, so the filter still leaves some


@dataclass(frozen=True)
class MeaningFound:
    """The ranked law search's articles for a question in everyday words, in rank order.
    ``available`` is False when the search failed: the page says so and keeps the word list."""

    articles: list[Article]
    available: bool = True


def meaning_found(query: str, law: str | None) -> MeaningFound:
    """Staff type a situation (房东不给修), not the article's words; the ranked search (the one
    behind 查法条 and a ticket's 参考法条) reads it. The law filter applies here too: a chosen
    law that still showed other laws' articles would surprise."""
    try:
        hits = services().law_index.search(query, k=MEANING_POOL if law else MEANING_HITS)
    except Exception:  # noqa: BLE001 - an aid: the word-match list must still answer
        logging.getLogger(__name__).warning("law search failed on the statutes page", exc_info=True)
        return MeaningFound([], available=False)
    statutes = services().knowledge.statutes
    found = [statutes.get(hit.citation) for hit in above_floor([h for h in hits if law is None or h.law == law])]
    return MeaningFound([a for a in found if a is not None][:MEANING_HITS])


# What is searched of a query: law search and the word scans grow with its length (2,000 pasted
# characters: ~28 ms, against ~10 ms for 200); a situation or an article's words fit in 200.
QUERY_MAX_CHARS = 200


@blueprint.get("/statutes")
@auth.login_required
def statutes():
    kb, typed = services().knowledge, request.args.get("q", "").strip()
    query = typed[:QUERY_MAX_CHARS].strip()
    law = request.args.get("law") or None
    cited = kb.statutes.get(query) if query else None      # a citation is shown first, whatever the filter
    articles = [a for a in kb.statutes.articles if (law is None or a.law == law)
                and query in a.text and a is not cited]
    articles = [cited, *articles] if cited else articles
    page = max(1, request.args.get("page", 1, type=int))
    meaning = meaning_found(query, law) if query and not cited and page == 1 else None
    laws = statute_counts(kb.statutes)
    return render_template("console/statutes.html", articles=articles[(page - 1) * PAGE_SIZE:
                                                                        page * PAGE_SIZE],
                           total=len(articles), page=page, meaning=meaning,
                           pages=max(1, -(-len(articles) // PAGE_SIZE)), q=query, law=law, laws=laws,
                           cut=len(typed) > QUERY_MAX_CHARS, max_chars=QUERY_MAX_CHARS,
                           law_note=next((c.note for c in laws if c.law == law), ""),
                           notes_of=lambda a: article_notes(a, kb.statutes.law_of(a), judged_day(kb.statutes)))


# ---- export --------------------------------------------------------------------------------

@blueprint.get("/export")
@auth.staff_required
def export_form():
    return render_template("console/export.html", period=requested_period(),
                           include_test=include_test())


@blueprint.get("/export/download")
@auth.staff_required
def export_download():
    period = requested_period()
    fmt = "csv" if request.args.get("format") == "csv" else "xlsx"
    buffer = io.BytesIO()
    from bot.reporting.register_report import ledger_sheets   # the 调解台账 and 普法活动 sheets
    config = services().config
    write_ledger(ledger_rows(get_db(), period, include_test()), period, buffer, fmt,
                 ledger_sheets(get_db(), period, include_test(), config.village_names, config.publicity.days))
    buffer.seek(0)
    mime = ("text/csv; charset=utf-8" if fmt == "csv" else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return send_file(buffer, mimetype=mime, as_attachment=True,
                     download_name=ledger_filename(period, fmt))
