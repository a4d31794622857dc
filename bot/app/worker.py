"""The worker: drains the outbox and chases unanswered tickets.

Run as `legalbot worker` (one or several processes) or as a thread in `legalbot serve` for
`make run`. Each pass: sweep deadlines (remind, then hand to the backup), then send what is due.
Several workers are safe: rows are claimed under a lease and the access token is shared.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter

# Each of these modules registers the outbox jobs it handles (bot.escalation.outbox.job): importing them
# here is what puts every kind in outbox.JOBS before the first row is claimed.
from bot.escalation import advisers as adv
from bot.escalation import delivery, outbox, tickets  # noqa: F401 (delivery: its job)
from bot.community import mediation, publicity
from bot.core.config import Config
from bot.escalation.outbox import BadPayload, Hold, JobRun, OutboxRow
from bot.escalation.routing import Unreachable, reachable
from bot.escalation.wechat_api import DEMO_ACCOUNT, WeChatClient, WeChatError, has_credentials

log = logging.getLogger(__name__)

QUOTA_ERRORS = {45047, 45009}          # over the message quota / the API's daily limit: hold


def lease_seconds(config: Config) -> float:
    """Long enough for a call plus its token refresh and retry, with room to spare."""
    return config.wechat.api_timeout_seconds * 4 + 30


def run_once(services, now: float | None = None, client: WeChatClient | None = None,
             db=None) -> dict[str, int]:
    """One pass: the deadline sweep, then every due outbox row. Returns counts by outcome."""
    now = time.time() if now is None else now
    own_db = db is None
    db = services.open_db() if own_db else db
    try:
        adv.ensure_advisers(db, services.config, now)
        publicity.refresh_menu(db, services.config, now)   # the 普法 button follows the calendar
        counts = Counter(sweep_deadlines(db, services.config, now))
        if not has_credentials(services.config):
            counts.update(hold_all(db, now, lease_seconds(services.config)))
            return dict(counts)
        client = client or WeChatClient(services.config, db)
        counts.update(drain(services, db, client, now))
        return dict(counts)
    finally:
        if own_db:
            db.conn.close()


def drain(services, db, client, now: float) -> Counter:
    counts: Counter = Counter()
    for row in outbox.claim(db, now, lease_seconds(services.config)):
        counts[process(services, db, client, row, now)] += 1
    return counts


def hold_all(db, now: float, lease: float) -> Counter:
    """The demo account (no AppID/AppSecret): hold every due row, quietly and without calling
    WeChat, even for a token. The reason is on each row; the console shows it. An answer held
    here still reaches the villager with their next reply (and in the simulator)."""
    held = 0
    for row in outbox.claim(db, now, lease):
        held += outbox.mark_held(db, row, DEMO_ACCOUNT, now)
    return Counter({"held": held} if held else {})


def run_job(services, db, client, row: OutboxRow, now: float) -> None:
    outbox.run(row, JobRun(services, db, client, now, lease_seconds(services.config)))


def process(services, db, client, row: OutboxRow, now: float) -> str:
    """Run one row's job; record sent, held or failed (with backoff) — never lose the row."""
    try:
        run_job(services, db, client, row, now)
    except Unreachable as hold:
        outbox.mark_held(db, row, str(hold), now)
        pass_on(db, services.config, row.payload.get("ticket_id"), hold.adviser_id, now)
        return "held"
    except Hold as hold:
        outbox.mark_held(db, row, str(hold), now)
        return "held"
    except BadPayload as bad:        # written by a broken version: retrying cannot mend it
        log.error("outbox row %s: %s", row.id, bad)
        return outbox.give_up(db, row, f"bad payload: {bad}")
    except WeChatError as exc:
        if exc.errcode in QUOTA_ERRORS:
            outbox.mark_held(db, row, f"WeChat {exc}", now)
            return "held"
        log.warning("outbox row %s (%s) failed: %s", row.id, row.kind, exc)
        return outbox.mark_failed(db, row, f"WeChat {exc}", now, services.config.outbox)
    except Exception as exc:  # a bug must not kill the worker or lose the row
        log.exception("outbox row %s (%s) crashed", row.id, row.kind)
        return outbox.mark_failed(db, row, f"{type(exc).__name__}: {exc}", now,
                                  services.config.outbox)
    outbox.mark_sent(db, row, now)
    return "sent"


def pass_on(db, config: Config, ticket_id: int | None, adviser_id: int, now: float) -> None:
    """A notification could not reach its adviser: the ticket goes to the backup now, not after
    reassign_after_hours; an urgent one whose backup cannot be reached either goes to the duty
    contact's notification."""
    ticket = tickets.get_ticket(db, ticket_id) if ticket_id else None
    if ticket is None or ticket.status not in tickets.ANSWERABLE:
        return
    backup, duty = adv.backup_adviser(db), adv.duty_adviser(db, config)
    if backup is not None and adviser_id != backup.id and ticket.adviser_id == adviser_id:
        to_backup(db, ticket, now, "联系不上，直接转给{backup}")
    elif ticket.urgent and duty is not None and adviser_id != duty.id:
        tickets.notify(db, ticket.id, duty, now, "urgent")


# ---- deadlines ----------------------------------------------------------------------------

def sweep_deadlines(db, config: Config, now: float) -> Counter:
    """Chase the adviser after remind_after_hours; hand to the backup after reassign_after_hours;
    and at once, a ticket nobody was told about whose adviser WeChat cannot reach."""
    counts: Counter = Counter()
    hours = config.escalation
    for ticket in tickets.list_tickets(db, status=["open", "notified", "overdue"]):
        waited = now - ticket.created_at
        if waited >= hours.reassign_after_hours * 3600:
            counts["reassigned"] += to_backup(db, ticket, now, "超时未答复，转给{backup}")
        elif ticket.status == "open" and not assignee_reachable(db, config, ticket, now):
            counts["passed_on"] += to_backup(db, ticket, now, "联系不上，直接转给{backup}")
        elif waited >= hours.remind_after_hours * 3600 and ticket.status != "overdue":
            counts["reminded"] += remind(db, ticket, now)
    return +counts          # only what happened


def assignee_reachable(db, config: Config, ticket: tickets.Ticket, now: float) -> bool:
    return reachable(db, config, adv.get_adviser(db, ticket.adviser_id), now)


def remind(db, ticket: tickets.Ticket, now: float) -> int:
    adviser = adv.get_adviser(db, ticket.adviser_id)
    if adviser is None or not tickets.transition(
            db, ticket.id, "overdue", now, actor="system", note="已催办",
            expect=("open", "notified"), reminded_at=now):
        return 0
    tickets.notify(db, ticket.id, adviser, now, "remind")
    return 1


def to_backup(db, ticket: tickets.Ticket, now: float, note: str) -> int:
    """Hand the ticket to the backup (who is notified); 0 if it is theirs already or closed."""
    backup = adv.backup_adviser(db)
    if backup is None or ticket.adviser_id == backup.id:
        return 0
    try:
        tickets.reassign_ticket(db, ticket.id, None, now, actor="system",
                                note=note.format(backup=backup.name))
    except tickets.TicketError:
        return 0
    return 1


# ---- running ------------------------------------------------------------------------------

def loop(services, stop: threading.Event | None = None) -> None:
    """Run a pass, then another every poll_seconds until ``stop`` is set.

    An error in one pass is logged and the next pass runs: the rows are still in the table.
    """
    stop = stop or threading.Event()
    db = services.open_db()
    try:
        while True:
            try:
                run_once(services, db=db)
            except Exception:
                log.exception("worker pass failed")
            if stop.wait(services.config.outbox.poll_seconds):
                break
    finally:
        db.conn.close()


def start_thread(services) -> tuple[threading.Thread, threading.Event]:
    """The worker as a daemon thread (for `make run`); set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(services, stop), name="legalbot-worker",
                              daemon=True)
    thread.start()
    return thread, stop
