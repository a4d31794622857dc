"""Console accounts, logins and CSRF: who may see which villagers' questions.

Questions to a lawyer are sensitive, so the console is locked down more than a usual intranet
page: passwords are hashed (werkzeug's scrypt); failed logins are limited per username and
address, per username from anywhere (guessing one password from many addresses) and per address
for any username (one password tried on many names), each attempt counted before its password
is checked, so concurrent tries cannot slip past the limit; the session is regenerated at login
and carries the account's session version, which logout and a new password raise, ending every
older session; and every form carries a CSRF token (the session cookie is SameSite=Lax, which
still lets a top-level cross-site POST through on older browsers).

Two roles: ``staff`` (the township's 司法所 and office: everything) and ``adviser`` (a village
legal adviser: only their villages' tickets and consultations).
"""
from __future__ import annotations

import functools
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Callable

from flask import abort, g, redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from bot.escalation.advisers import Adviser, adviser_by_name, backup_adviser, get_adviser
from bot.core.store import fetch_one, transaction, write

ROLES = ("staff", "adviser")
MIN_PASSWORD_LENGTH = 8
# Compared against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(ValueError):
    """A console account cannot be created as asked; the message says why."""


class LoginLocked(Exception):
    """Too many failed logins for this username, this address, or both; try again later."""


@dataclass(frozen=True)
class ConsoleUser:
    id: int
    username: str
    role: str
    adviser: Adviser | None = None
    session_version: int = 0

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    @property
    def villages(self) -> list[str] | None:
        """The villages this user may see; None means all of them."""
        if self.is_staff or (self.adviser and self.adviser.is_backup):
            return None
        return list(self.adviser.villages) if self.adviser else []

    @property
    def display_name(self) -> str:
        return self.adviser.name if self.adviser else self.username


def add_user(db, username: str, password: str, role: str, now: float,
             adviser_name: str | None = None) -> ConsoleUser:
    """Create a console account, or reset its password and role if it exists (which ends every
    session of the account: its session version is raised)."""
    adviser_id = check_account(db, username, password, role, adviser_name)
    write(
        db, "INSERT INTO console_users (username, password_hash, role, adviser_id, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET password_hash = "
        "excluded.password_hash, role = excluded.role, adviser_id = excluded.adviser_id, "
        "session_version = session_version + 1",
        [username, generate_password_hash(password), role, adviser_id, now])
    return user_by_name(db, username)


def check_account(db, username: str, password: str, role: str,
                  adviser_name: str | None) -> int | None:
    """Validate a new account; return the adviser's id for an adviser account."""
    if not username.strip():
        raise AccountError("用户名不能为空")
    if role not in ROLES:
        raise AccountError(f"角色只能是 {' / '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    if role != "adviser":
        return None
    adviser = adviser_by_name(db, adviser_name or "")
    if adviser is None:
        raise AccountError(f"没有名为 {adviser_name!r} 的法律顾问（先 legalbot adviser list 查看）")
    return adviser.id


def user_from_row(db, row: dict[str, Any]) -> ConsoleUser:
    return ConsoleUser(id=row["id"], username=row["username"], role=row["role"],
                       adviser=get_adviser(db, row["adviser_id"]),
                       session_version=row["session_version"])


def user_by_name(db, username: str) -> ConsoleUser | None:
    rows = list(db.query("SELECT * FROM console_users WHERE username = ?", [username]))
    return user_from_row(db, rows[0]) if rows else None


def user_by_id(db, user_id: int) -> ConsoleUser | None:
    rows = list(db.query("SELECT * FROM console_users WHERE id = ?", [user_id]))
    return user_from_row(db, rows[0]) if rows else None


def throttle_keys(settings, username: str, address: str | None) -> dict[str, int]:
    """Each key an attempt counts against, with its limit."""
    name = username.strip().lower()
    return {f"pair:{name}|{address or '-'}": settings.login_max_failures,
            f"user:{name}": settings.login_max_failures_per_user,
            f"addr:{address or '-'}": settings.login_max_failures_per_address}


def reserve_attempt(db, settings, username: str, address: str | None, now: float) -> str:
    """Count this attempt before its password is checked, in one write transaction: of any
    number of simultaneous tries, only as many as the limits allow get to a password check.
    Raises LoginLocked when a limit is reached; returns the attempt's token."""
    keys, attempt = throttle_keys(settings, username, address), secrets.token_hex(8)
    since = now - settings.login_window_seconds
    with transaction(db):
        for key, limit in keys.items():
            count = db.execute("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at >= ?",
                               [key, since]).fetchone()[0]
            if count >= limit:
                raise LoginLocked()
        for key in keys:
            db.execute("INSERT INTO login_failures (key, at, attempt) VALUES (?, ?, ?)", [key, now, attempt])
    return attempt


def authenticate(db, settings, username: str, password: str, address: str | None,
                 now: float) -> ConsoleUser | None:
    """The user for a correct password; None for a wrong one (the attempt stays counted).
    Raises LoginLocked when throttled; then no password is checked."""
    attempt = reserve_attempt(db, settings, username, address, now)
    row = fetch_one(db, "SELECT * FROM console_users WHERE username = ?", [username.strip()])
    stored = row["password_hash"] if row else _DUMMY_HASH
    if check_password_hash(stored, password) and row:
        pair = next(iter(throttle_keys(settings, username, address)))
        write(db, "DELETE FROM login_failures WHERE attempt = ? OR key = ?", [attempt, pair])
        return user_from_row(db, row)
    return None


def session_user(db, state) -> ConsoleUser | None:
    """The session's user, while the session carries the account's current session version."""
    user_id = state.get("user_id")
    user = user_by_id(db, user_id) if user_id else None
    if user is None or state.get("version") != user.session_version:
        return None
    return user


def end_sessions(db, user: ConsoleUser) -> None:
    """Log the account out everywhere: every session holding the old version is refused."""
    write(db, "UPDATE console_users SET session_version = session_version + 1 WHERE id = ?", [user.id])


def answering_adviser(db, user: ConsoleUser) -> Adviser | None:
    """Who an answer is from: the adviser themself; for staff, the township's backup (司法所)."""
    return user.adviser if user.adviser else backup_adviser(db)


# ---- in the request: session, CSRF, role checks ---------------------------------------

def log_in(user: ConsoleUser) -> None:
    """A fresh session (no fixation), marked permanent so it expires after session_hours."""
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["version"] = user.session_version
    session["csrf"] = secrets.token_urlsafe(32)


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("console.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped


def staff_required(view: Callable) -> Callable:
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not g.user.is_staff:
            abort(403)
        return view(*args, **kwargs)
    return wrapped
