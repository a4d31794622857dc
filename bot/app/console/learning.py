"""The console's pages for the knowledge base learning from advisers' answers.

- a ticket's page offers its answer as a draft entry ("转为常见问题草稿") or marks it
  不适合推广 (``draft_offer``, shown by console/_draft_offer.html);
- 常见问题草稿: the drafts, the published entries and the answers that could become entries;
  a draft's page edits it, shows the checks in Chinese and what the villager would read, and
  lets an account that did not write it publish it (bot/learning/drafts.py decides everything);
- 未答上的问题: the questions the bot could not answer, grouped by wording (bot/learning/gaps.py).

Its own blueprint under /console, with the console's login, CSRF check and error pages.
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from bot import get_db, services
from bot.learning import drafts as dr
from bot.learning import gaps as gp
from bot.app.console import auth
from bot.app.console.kbwording import explain
from bot.app.console.views import error_page, load_user, may_see, requested_period, visible_ticket
from bot.kb.knowledge import CATEGORIES, ROLES, compose_reply
from bot.escalation.tickets import Ticket, get_ticket

blueprint = Blueprint("learning", __name__, url_prefix="/console")
blueprint.before_request(load_user)
for _code in (400, 403, 404):
    blueprint.register_error_handler(_code, error_page)

STATUS_LABELS = {"draft": "草稿", "published": "已发布", "unpublished": "已撤下", "deleted": "已删除"}
ROLE_LABELS = {"victim": "受害的一方", "wrongdoer": "加害的一方", "creditor": "债权人（借出钱、被欠钱）",
               "debtor": "债务人（借了钱、欠钱）"}
SPLIT = re.compile(r"[\n\r、，,；;]+")
GAPS_SHOWN = 100


@blueprint.app_context_processor
def labels() -> dict[str, Any]:
    return {"DRAFT_STATUS_LABELS": STATUS_LABELS}


# ---- on a ticket's page ----------------------------------------------------------------------

@blueprint.app_template_global()
def draft_offer(ticket: Ticket) -> dict[str, Any]:
    """What the ticket's page offers about its answer: its draft, the 不适合推广 mark, or both buttons."""
    db = get_db()
    answered = ticket.status in dr.ANSWERED_STATUSES and bool((ticket.answer or "").strip())
    return {"answered": answered, "draft": dr.draft_for_ticket(db, ticket.id),
            "marked_by": dr.not_general_by(db, ticket.id)}


@blueprint.post("/tickets/<int:ticket_id>/draft")
@auth.login_required
def make_draft(ticket_id: int):
    ticket = visible_ticket(ticket_id)
    try:
        draft = dr.draft_from_ticket(get_db(), services(), ticket, g.user.username, time.time())
    except dr.DraftError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.ticket", ticket_id=ticket_id))
    return redirect(url_for("learning.draft", draft_id=draft.id))


@blueprint.post("/tickets/<int:ticket_id>/not-general")
@auth.login_required
def not_general(ticket_id: int):
    visible_ticket(ticket_id)
    general = request.form.get("general") == "1"
    dr.mark_not_general(get_db(), ticket_id, g.user.username, time.time(), general=general)
    flash("已取消“不适合推广”。" if general else "已标记为不适合推广：这条答复不会再被提议转为常见问题。", "ok")
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


# ---- drafts ----------------------------------------------------------------------------------

def may_see_draft(draft: dr.Draft) -> bool:
    """Staff see every draft; an adviser the drafts of their villages' tickets, and every
    published entry (it is public knowledge by then)."""
    if g.user.is_staff or draft.status == dr.DraftStatus.PUBLISHED:
        return True
    ticket = get_ticket(get_db(), draft.ticket_id) if draft.ticket_id is not None else None
    return ticket is not None and may_see(ticket)


def visible_draft(draft_id: int) -> dr.Draft:
    draft = dr.get_draft(get_db(), draft_id)
    if draft is None or draft.status == dr.DraftStatus.DELETED:
        abort(404)
    if not may_see_draft(draft):
        abort(403)
    return draft


@blueprint.get("/drafts")
@auth.login_required
def drafts():
    db = get_db()
    pending = [d for d in dr.list_drafts(db, dr.EDITABLE) if may_see_draft(d)]
    published = dr.list_drafts(db, [dr.DraftStatus.PUBLISHED])
    proposals = [Ticket.from_row(r) for r in dr.proposal_rows(db)]
    return render_template("console/drafts.html", pending=pending, published=published,
                           proposals=[t for t in proposals if may_see(t)])


@blueprint.get("/drafts/<int:draft_id>")
@auth.login_required
def draft(draft_id: int):
    return render_draft(visible_draft(draft_id))


def render_draft(draft: dr.Draft, status: int = 200):
    kb, config = services().knowledge, services().config
    ticket = get_ticket(get_db(), draft.ticket_id) if draft.ticket_id is not None else None
    found = [explain(p) for p in dr.problems(draft, kb, config)]
    suggested = dr.suggest_citations(services(), ticket, draft) if ticket and draft.editable else []
    articles = [(c, kb.statutes.get(c)) for c in dict.fromkeys([*draft.citations, *suggested])]
    return render_template(
        "console/draft.html", draft=draft, ticket=ticket, problems=list(dict.fromkeys(found)),
        articles=articles, suggested=suggested, categories=CATEGORIES, roles=ROLES,
        role_labels=ROLE_LABELS, preview=preview(draft) if not found else None,
        may_publish=dr.may_publish(draft, g.user.username)), status


def preview(draft: dr.Draft) -> str | None:
    """What the villager would read, were it published."""
    kb = services().knowledge
    entry = dr.entry_of(draft, kb.statutes)
    return compose_reply(entry, kb, services().config) if entry is not None else None


def form_fields() -> dr.DraftFields:
    """The draft's form: one phrasing per line; keywords and citations split at 、，；or lines."""
    form = request.form
    questions = [q.strip() for q in form.get("questions", "").splitlines()]
    citations = [*SPLIT.split(form.get("citations", "")), *form.getlist("suggested")]
    return dr.DraftFields(
        entry_id=form.get("entry_id", "").strip(), category=form.get("category") or None,
        questions=tuple(dict.fromkeys(q for q in questions if q)),
        keywords=tuple(dict.fromkeys(k.strip() for k in SPLIT.split(form.get("keywords", "")) if k.strip())),
        answer="\n".join(line.rstrip() for line in form.get("answer", "").strip().splitlines()),
        citations=tuple(dict.fromkeys(c.strip() for c in citations if c.strip())),
        quote=form.get("quote", "").strip() or None, excerpt=form.get("excerpt", "").strip() or None,
        needs_person=form.get("needs_person") == "1", role=form.get("role") or None)


@blueprint.post("/drafts/<int:draft_id>")
@auth.login_required
def save(draft_id: int):
    visible_draft(draft_id)
    try:
        dr.save_draft(get_db(), draft_id, form_fields(), g.user.username, time.time(),
                      services().knowledge.statutes)
        flash("已保存。", "ok")
    except dr.DraftError as exc:
        flash(str(exc), "error")
    return redirect(url_for("learning.draft", draft_id=draft_id))


@blueprint.post("/drafts/<int:draft_id>/publish")
@auth.login_required
def publish(draft_id: int):
    return changed(draft_id, lambda db: dr.publish(db, draft_id, g.user.username, services().knowledge,
                                                   services().config, time.time()),
                   "已发布：一分钟内机器人就会用这一条答复村民。")


@blueprint.post("/drafts/<int:draft_id>/unpublish")
@auth.login_required
def unpublish(draft_id: int):
    return changed(draft_id, lambda db: dr.unpublish(db, draft_id, time.time()),
                   "已撤下：一分钟内机器人就不再用这一条答复；改好后可以再请人审核发布。")


@blueprint.post("/drafts/<int:draft_id>/delete")
@auth.staff_required
def delete(draft_id: int):
    return changed(draft_id, lambda db: dr.delete(db, draft_id, time.time()),
                   "已删除。按这一条答复过的咨询仍计入统计。", url_for("learning.drafts"))


def changed(draft_id: int, change: Callable[[Any], Any], done: str, then: str | None = None):
    """Publish, take down or delete; on success this process starts its rebuild at once (the
    others within POLL_SECONDS), on refusal the reason is shown on the draft."""
    visible_draft(draft_id)
    db = get_db()
    try:
        change(db)
    except dr.DraftError as exc:
        flash(str(exc), "error")
        return redirect(url_for("learning.draft", draft_id=draft_id))
    services().live.poll(db, force=True)
    flash(done, "ok")
    return redirect(then or url_for("learning.draft", draft_id=draft_id))


# ---- what the knowledge base lacks ---------------------------------------------------------------

@blueprint.get("/gaps")
@auth.staff_required
def gaps():
    period = requested_period(default_to_year=False)
    include_test = request.args.get("include_test") == "1"
    words = services().lexicons.dictionaries
    found = gp.group(gp.unanswered(get_db(), period, include_test), words)
    groups = gp.gaps_json(found, dr.keep_names(services().config), words, gp.answering_entry(services()),
                          limit=GAPS_SHOWN)
    return render_template("console/gaps.html", groups=groups, total=sum(g.count for g in found),
                           group_count=len(found), period=period, include_test=include_test)
