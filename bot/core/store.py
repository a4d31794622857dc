"""The SQLite store (sqlite-utils): one schema, opened in WAL mode with a busy timeout.

Every process (each gunicorn worker, the outbox worker, the command line) opens its own
connection; each web thread keeps one (bot.app.services). WAL lets readers work while one writer
writes. Writers take turns on a file lock (``WriteQueue``: ``transaction`` and ``write`` use it)
and checkpoint the WAL after their turn; the busy timeout covers writers that do not queue.

Each domain owns its tables below; keep a table's DDL next to its comment.
"""
from __future__ import annotations

import fcntl
import json
import logging
import operator
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.core import per_message

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# The writers have the WAL copied back into the database every CHECKPOINT_TURNS turns, after
# giving up the turn, by a thread of their process (``Checkpointer``): the copy and its two
# fsyncs took a worker 2-20 ms, in which it answered nobody. SQLite's own checkpoint runs inside
# a commit, so inside the turn: every other writer would wait for its fsync. It stays only as a
# backstop for writers that do not queue, at a size the queued checkpoints never let the WAL reach.
# A checkpoint copies every page written since the last one; the pages every message rewrites
# (tables' and indexes' roots and last leaves, the villager's row) are copied once per checkpoint,
# whatever the number of turns. Under `make bench`, 1,000 turns took 4-11 % less worker CPU a
# request than 100 in five alternated pairs, but each copy was long enough to raise p99 from about
# 25 to 41-50 ms; 300 kept p99 at 27 ms (BENCHMARKS.md, session 8).
CHECKPOINT_TURNS = 300
BACKSTOP_CHECKPOINT_PAGES = 10_000

SCHEMA = """
-- Every inbound WeChat message or event, once (the dedupe key is unique). A retry finds the
-- row and gets the stored reply; `state` is 'processing' until the reply is stored.
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    openid TEXT NOT NULL,
    msg_type TEXT NOT NULL,
    event TEXT,
    content TEXT,
    media_id TEXT,
    created_at INTEGER,            -- WeChat's CreateTime (epoch seconds)
    received_at REAL NOT NULL,     -- our clock (epoch seconds)
    state TEXT NOT NULL DEFAULT 'processing',
    reply_xml TEXT,                -- plaintext reply XML, re-encrypted for a retry
    handler TEXT,
    latency_ms REAL,
    purged INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT                -- the process answering it (bot.core.liveness): host/boot/pid/start
);
CREATE INDEX IF NOT EXISTS messages_openid ON messages(openid, received_at);

-- Each signed request to /wechat within the replay window, by (timestamp, nonce), with a digest
-- of its body: the same pair with another body is a logged query string replayed (bot.app.webhook).
CREATE TABLE IF NOT EXISTS request_nonces (
    timestamp TEXT NOT NULL,
    nonce TEXT NOT NULL,
    body_sha TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (timestamp, nonce)
);
CREATE INDEX IF NOT EXISTS request_nonces_seen ON request_nonces(seen_at);

-- One row per question the bot decided on (answer/clarify/escalate/urgent/chitchat/fallback).
CREATE TABLE IF NOT EXISTS consultations (
    id INTEGER PRIMARY KEY,
    message_id INTEGER REFERENCES messages(id),
    openid TEXT NOT NULL,
    village TEXT,
    asked_at REAL NOT NULL,
    channel TEXT NOT NULL DEFAULT 'wechat',   -- wechat | voice | cli | simulator
    question TEXT,
    action TEXT NOT NULL,
    faq_id TEXT,
    category TEXT,
    score REAL,
    candidates TEXT,               -- JSON list of {faq_id, score}
    citations TEXT,                -- JSON list of canonical citations
    reply TEXT,
    latency_ms REAL,
    ticket_id INTEGER,             -- no longer written: the link is tickets.consultation_id
    reason TEXT,                   -- why this action, in a few words
    purged INTEGER NOT NULL DEFAULT 0,
    is_test INTEGER NOT NULL DEFAULT 0   -- simulator, `legalbot chat`, an adviser's or staff's own
);
CREATE INDEX IF NOT EXISTS consultations_asked ON consultations(asked_at);
CREATE INDEX IF NOT EXISTS consultations_openid ON consultations(openid, asked_at);
-- a follow-up turn (a chosen number, a 补充) finds the consultation its question started
CREATE INDEX IF NOT EXISTS consultations_message ON consultations(message_id);

-- Per-villager state: village, pending clarify choices, the rest of a long answer, the
-- customer-service window (48 h after the user's last message).
CREATE TABLE IF NOT EXISTS users (
    openid TEXT PRIMARY KEY,
    village TEXT,
    subscribed INTEGER NOT NULL DEFAULT 1,
    first_seen REAL,
    last_inbound_at REAL,
    cs_sent_since_inbound INTEGER NOT NULL DEFAULT 0,
    pending TEXT,                  -- JSON: {"kind": "clarify"|"village"|..., ..., "expires": t}
    more_text TEXT,                -- the rest of a reply split at the byte limit
    updated_at REAL,
    village_asked_at REAL,         -- when the bot asked which village (asked once, unprompted)
    publicity_noted TEXT           -- the last 普法 line put under an answer to this villager
);

-- Legal advisers (one per village, from config.toml or `legalbot adviser add`) and the backup.
CREATE TABLE IF NOT EXISTS advisers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    phone TEXT,
    villages TEXT NOT NULL DEFAULT '[]',   -- JSON list of village names
    is_backup INTEGER NOT NULL DEFAULT 0,
    openid TEXT UNIQUE,
    bind_code TEXT,
    bind_code_expires REAL,
    bind_code_failures INTEGER NOT NULL DEFAULT 0,   -- wrong codes sent while this one was valid
    last_inbound_at REAL,
    cs_sent_since_inbound INTEGER NOT NULL DEFAULT 0,
    created_at REAL
);

-- Questions handed to an adviser. The statuses and the allowed transitions are bot.escalation.tickets.Status
-- and TRANSITIONS: draft (the villager is still telling the story or naming the village) → open
-- → notified → answered → delivered → closed, plus overdue, reassigned and cancelled. Every
-- transition is also written to ticket_events.
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    consultation_id INTEGER,       -- the consultation it came from (the one link between them)
    openid TEXT NOT NULL,
    village TEXT,
    adviser_id INTEGER REFERENCES advisers(id),
    category TEXT,
    question TEXT,
    context TEXT,                  -- JSON list of earlier turns
    suggested TEXT,                -- JSON list of suggested article citations
    media_id TEXT,                 -- a voice message the adviser can listen to
    urgent INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open',
    answer TEXT,
    created_at REAL NOT NULL,
    notified_at REAL,
    reminded_at REAL,
    reassigned_at REAL,
    answered_at REAL,
    delivered_at REAL,
    closed_at REAL,
    delivered_via TEXT,            -- cs (customer-service message) | reply (with the next reply)
    delivery_lock_until REAL,      -- a worker is pushing the answer: the next reply must not also carry it
    purged INTEGER NOT NULL DEFAULT 0,
    waiting_for TEXT               -- a draft waits for: story | village
);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status, created_at);
CREATE INDEX IF NOT EXISTS tickets_openid ON tickets(openid);
CREATE INDEX IF NOT EXISTS tickets_consultation ON tickets(consultation_id);

-- What happened to a ticket, one row each (bot.escalation.tickets.EventKind): opened, a status change, a
-- notification sent (to which adviser, why, how), a voice forwarded, the villager's addition, a note.
CREATE TABLE IF NOT EXISTS ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at REAL NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT,
    note TEXT,
    kind TEXT NOT NULL DEFAULT 'status',   -- opened | status | notified | voice | added | note
    adviser_id INTEGER,            -- notified / voice: who
    reason TEXT,                   -- notified: new | urgent | remind | reassign
    via TEXT                       -- notified: cs | template
);
CREATE INDEX IF NOT EXISTS ticket_events_ticket ON ticket_events(ticket_id);

-- Durable outbox: every call to WeChat's API is a row, drained by the worker with retries.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,            -- custom_text | template | menu_create | ...
    dedupe_key TEXT UNIQUE,
    payload TEXT NOT NULL,         -- JSON
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | sending | sent | failed | held
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    locked_until REAL,
    claim_token TEXT,              -- which worker's lease holds the row while 'sending'
    last_error TEXT,
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_attempt_at);

-- WeChat access token shared by every process (fetched from cgi-bin/stable_token).
CREATE TABLE IF NOT EXISTS access_tokens (
    appid TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    expires_at REAL NOT NULL
);

-- The knowledge base learning from advisers' answers (bot/learning/drafts.py): an FAQ entry drafted from
-- an answered ticket, checked, and published by an account that did not write it. Published rows
-- are served beside knowledge/faq/*.toml (bot/learning/livekb.py); a draft never is. `status`: draft |
-- published | unpublished | deleted (a once-published entry is kept, so what it answered still
-- has a name). `asked` is the villager's question as masked for the draft; purge empties it.
CREATE TABLE IF NOT EXISTS kb_drafts (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER UNIQUE,
    entry_id TEXT NOT NULL UNIQUE,
    category TEXT,
    questions TEXT NOT NULL DEFAULT '[]',   -- JSON lists
    keywords TEXT NOT NULL DEFAULT '[]',
    answer TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    quote TEXT,
    excerpt TEXT,
    other_sources TEXT NOT NULL DEFAULT '[]',
    needs_person INTEGER NOT NULL DEFAULT 0,
    role TEXT,
    asked TEXT,
    status TEXT NOT NULL DEFAULT 'draft',
    author TEXT NOT NULL,          -- console usernames
    editors TEXT NOT NULL DEFAULT '[]',    -- who changed it since it was last published
    reviewer TEXT,
    reviewed_on TEXT,              -- YYYY-MM-DD, township time
    basis TEXT,                    -- JSON: law → version_date reviewed against
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    published_at REAL,
    unpublished_at REAL
);
CREATE INDEX IF NOT EXISTS kb_drafts_status ON kb_drafts(status);
-- Answers an adviser or staff marked 不适合推广 (specific to one case): never proposed as a draft.
CREATE TABLE IF NOT EXISTS kb_not_general (
    ticket_id INTEGER PRIMARY KEY,
    marked_by TEXT NOT NULL,
    at REAL NOT NULL
);
-- One row, raised with every change to the published entries: each process compares it with
-- the knowledge it serves, at most every few seconds, and rebuilds once (bot/learning/livekb.py).
CREATE TABLE IF NOT EXISTS kb_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    changed_at REAL
);

-- The named migrations (bot.core.migrations.MIGRATIONS) this database has had.
CREATE TABLE IF NOT EXISTS schema_migrations (
    name TEXT PRIMARY KEY,
    applied_at REAL NOT NULL
);

-- Web console accounts (staff and advisers) and the login rate limit.
CREATE TABLE IF NOT EXISTS console_users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,            -- staff | adviser
    adviser_id INTEGER REFERENCES advisers(id),
    created_at REAL,
    session_version INTEGER NOT NULL DEFAULT 0     -- raised at logout and password change
);
-- One row per key (user:NAME, addr:ADDRESS, pair:NAME|ADDRESS) for each login attempt, taken
-- before the password is checked (bot.app.console.auth); a successful attempt deletes its rows.
CREATE TABLE IF NOT EXISTS login_failures (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at REAL NOT NULL,
    attempt TEXT
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at);

-- Adviser binding: every "绑定 …" that failed, by openid (bot.escalation.advisers limits them), and what
-- the console tells staff (a locked openid, a code voided after too many wrong tries, a binding
-- moved to another WeChat).
CREATE TABLE IF NOT EXISTS binding_failures (
    id INTEGER PRIMARY KEY,
    openid TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS binding_failures_openid ON binding_failures(openid, at);
CREATE TABLE IF NOT EXISTS security_alerts (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    kind TEXT NOT NULL,            -- binding_locked | code_voided | binding_moved
    message TEXT NOT NULL          -- shown to staff in the console, in Chinese
);

-- The 调解台账 (bot.community.mediation): one row per dispute a village's 人民调解委员会 takes, however it
-- was found (a villager's request, staff's 排查, a ticket referred). Statuses and moves are
-- bot.community.mediation.Status and TRANSITIONS; every change and every session is a mediation_events row.
-- `parties` holds names and phones (purged with the text; the counts stay).
CREATE TABLE IF NOT EXISTS mediation_cases (
    id INTEGER PRIMARY KEY,
    village TEXT NOT NULL,
    kind TEXT NOT NULL,            -- land | forest | water | neighbour | marriage | homestead | other
    found_via TEXT NOT NULL,       -- villager | inspection (排查) | ticket (referred from one)
    status TEXT NOT NULL DEFAULT 'open',
    openid TEXT,                   -- the villager who asked for it (villager requests)
    ticket_id INTEGER,
    consultation_id INTEGER,
    summary TEXT,                  -- what the dispute is about
    parties TEXT DEFAULT '[]',     -- JSON list of {role, name, phone}
    mediator TEXT,                 -- the mediator in charge (an advisers.name)
    sessions INTEGER NOT NULL DEFAULT 0,
    agreement INTEGER NOT NULL DEFAULT 0,              -- 调解协议书 signed
    judicial_confirmation INTEGER NOT NULL DEFAULT 0,  -- 司法确认 asked for (人民调解法第33条)
    found_at REAL NOT NULL,        -- the day the dispute was found or brought (排查调出)
    created_at REAL NOT NULL,
    closed_at REAL,
    created_by TEXT,
    is_test INTEGER NOT NULL DEFAULT 0,
    purged INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS mediation_cases_found ON mediation_cases(found_at);
CREATE INDEX IF NOT EXISTS mediation_cases_village ON mediation_cases(village, status);
CREATE TABLE IF NOT EXISTS mediation_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES mediation_cases(id),
    at REAL NOT NULL,
    kind TEXT NOT NULL,            -- opened | session | outcome | status | edit | notified
    from_status TEXT,
    to_status TEXT,
    actor TEXT,
    via TEXT,                      -- wechat | console | villager | worker
    note TEXT,
    purged INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS mediation_events_case ON mediation_events(case_id);
-- The 人民调解 offered under an answer, one per villager (the latest): "调解" takes it up.
CREATE TABLE IF NOT EXISTS mediation_offers (
    openid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    question TEXT,
    message_id INTEGER,            -- the message whose consultation it came from
    ticket_id INTEGER,             -- a ticket opened for the same question, if any
    offered_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    purged INTEGER NOT NULL DEFAULT 0
);

-- The 普法 register (bot.community.publicity): offline events staff record (place, people, leaflets) and
-- the 群发 (mass messages) sent through WeChat's API, previewed first and sent once.
CREATE TABLE IF NOT EXISTS publicity_events (
    id INTEGER PRIMARY KEY,
    held_on TEXT NOT NULL,         -- YYYY-MM-DD, township time
    day_key TEXT,                  -- the 普法日历 day it was for (PublicityDay.key), if any
    title TEXT NOT NULL,
    place TEXT,
    village TEXT,
    people INTEGER NOT NULL DEFAULT 0,        -- people reached
    leaflets INTEGER NOT NULL DEFAULT 0,      -- leaflets and materials handed out
    consultations INTEGER NOT NULL DEFAULT 0, -- questions answered on the spot
    note TEXT,
    created_by TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS publicity_events_held ON publicity_events(held_on);
CREATE TABLE IF NOT EXISTS mass_messages (
    id INTEGER PRIMARY KEY,
    day_key TEXT,
    text TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft',   -- draft | previewed | queued | sent | failed
    clientmsgid TEXT NOT NULL UNIQUE,       -- WeChat's own dedupe key for the send
    preview_to TEXT,               -- who the last preview went to (masked when shown)
    previewed_at REAL,
    queued_at REAL,
    sent_at REAL,
    msg_id TEXT,                   -- WeChat's id of the mass job
    total_count INTEGER,           -- from WeChat's MASSSENDJOBFINISH event
    sent_count INTEGER,
    created_by TEXT,
    created_at REAL NOT NULL
);
"""


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the database with WAL and a busy timeout, creating the schema if needed."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                           isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    in_memory = str(path) == ":memory:"
    if not in_memory:
        with_retry(lambda: use_wal(conn))
        conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_CHECKPOINT_PAGES}")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    db.write_queue = WriteQueue(None if in_memory else f"{path}-writers", conn,
                                None if in_memory else str(path))
    ensure_schema(db)
    return db


def use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. On a database still in rollback mode (just created by another process's
    first message) SQLite fails at once, without the busy timeout, while another connection
    writes; ``with_retry`` tries again until the writer is done."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise sqlite3.OperationalError(f"database is locked (journal mode stayed {mode})")


class WriteQueue:
    """The bot's writers to one database take turns on a file lock before SQLite's own.

    SQLite's busy handler polls for its write lock, sleeping 1 ms, then 2, 5, 10 ms between tries;
    with two gunicorn workers committing twice per message, that sleep left a fifth of the CPU
    idle while the other worker held the lock for a tenth of a millisecond. A blocking ``flock``
    wakes the waiter as soon as the lock is released. Writers that do not queue (another tool,
    the sqlite3 shell) are still handled by the busy timeout.

    Every CHECKPOINT_TURNS turns, once its turn is over, the WAL is checkpointed: by this
    process's checkpoint thread when the database file is known (``db_path``), else here.
    """

    def __init__(self, path: str | None, conn: sqlite3.Connection | None = None,
                 db_path: str | None = None):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None
        if self.fd is not None:
            weakref.finalize(self, os.close, self.fd)
        self.conn = conn
        self.db_path = db_path
        self.depth = 0      # a write inside a transaction is already in turn
        self.turns = 0

    def __enter__(self):
        if self.fd is not None and self.depth == 0:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.depth += 1
        return self

    def __exit__(self, *exc):
        self.depth -= 1
        if self.fd is not None and self.depth == 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.turns += 1
            if self.turns % CHECKPOINT_TURNS == 0:
                self.checkpoint()
        return False

    def checkpoint(self) -> None:
        """Copy the WAL into the database without blocking anyone (PASSIVE); if it cannot run
        now, the next one will."""
        if self.db_path is not None:
            checkpointer(self.db_path).request()
            return
        if self.conn is None or self.conn.in_transaction:
            return
        try:
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError as exc:
            log.info("checkpoint skipped: %s", exc)


class Checkpointer:
    """Copies one database's WAL back into it in a thread of its own, so that the worker that
    asked goes on answering while the pages are copied and synced to disk (SQLite releases the
    GIL meanwhile). Requests made while a checkpoint runs are folded into one more. The thread
    waits for the next request, and ends after IDLE_SECONDS without one (a test suite opens
    hundreds of databases); starting a thread waits for it to run, so it is not done per turn."""

    IDLE_SECONDS = 60.0

    def __init__(self, path: str):
        self.path = path
        self.changed = threading.Condition()
        self.wanted = self.running = False
        self.done = 0                        # checkpoints run (tests wait on it)

    def request(self) -> None:
        with self.changed:
            self.wanted = True
            if self.running:
                self.changed.notify()
                return
            self.running = True
        threading.Thread(target=self.run, name="legalbot-checkpoint", daemon=True).start()

    def run(self) -> None:
        """Checkpoint at each request through one connection kept while the thread runs
        (``checkpoint_file``): opening one reads the whole schema first, which cost more than
        the checkpoint itself."""
        _thread_kept.connections = {}
        try:
            while self.next_request():
                checkpoint_file(self.path)
                self.done += 1
        finally:
            for conn in _thread_kept.connections.values():
                conn.close()
            _thread_kept.connections = None

    def next_request(self) -> bool:
        """Wait for a request; False (and the thread ends) after IDLE_SECONDS without one."""
        with self.changed:
            if not self.wanted:
                self.changed.wait(self.IDLE_SECONDS)
            if not self.wanted:
                self.running = False
                return False
            self.wanted = False
            return True


_checkpointers: dict[tuple[int, str], Checkpointer] = {}
_checkpointers_lock = threading.Lock()


def checkpointer(path: str) -> Checkpointer:
    """This process's checkpointer for ``path`` (a forked worker gets its own: threads do not
    survive a fork)."""
    key = (os.getpid(), path)
    with _checkpointers_lock:
        found = _checkpointers.get(key)
        if found is None:
            found = _checkpointers[key] = Checkpointer(path)
        return found


# A checkpoint thread's connections, by database path, while it runs (``Checkpointer.run``).
_thread_kept = threading.local()


def checkpoint_file(path: str) -> None:
    """A PASSIVE checkpoint through a connection of its own (the request's connection stays
    free): on a checkpoint thread the one it keeps, elsewhere one opened for it and closed.
    A connection that failed is closed (the next checkpoint opens another)."""
    kept = getattr(_thread_kept, "connections", None)
    conn = kept.pop(path, None) if kept is not None else None
    try:
        conn = conn or checkpoint_connection(path)
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        log.info("checkpoint skipped: %s", exc)
        return
    if kept is None:
        conn.close()
    else:
        kept[path] = conn


def checkpoint_connection(path: str) -> sqlite3.Connection:
    """``mode=rw``: a database deleted meanwhile is not created again."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=rw", uri=True,
                           timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)


def write(db: sqlite_utils.Database, sql: str, params: list[Any] | tuple = ()) -> sqlite3.Cursor:
    """One writing statement on its own (autocommit), in turn with the other writers.

    Straight to the connection, not through sqlite-utils' ``execute``: our connections are in
    autocommit mode (``connect``), where its handling of implicit transactions does nothing."""
    with write_queue(db):
        return with_retry(db.conn.execute, sql, params)


def write_returning(db: sqlite_utils.Database, sql: str, params: list[Any] | tuple = ()) -> dict | None:
    """``write`` for a statement ending in ``RETURNING``: the row it wrote, read in the same turn
    (the statement is finished before the turn is given up)."""
    with write_queue(db):
        return with_retry(lambda: row_of(db.conn.execute(sql, params)))


def write_queue(db: sqlite_utils.Database) -> WriteQueue:
    """The database's write queue (a database opened elsewhere gets one that never waits)."""
    queue = getattr(db, "write_queue", None)
    if queue is None:
        queue = db.write_queue = WriteQueue(None)
    return queue


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Bring the database up to the schema: columns added to a table since it was made, new
    tables and indexes, then the named migrations not yet applied (bot/core/migrations.py)."""
    from bot.core.migrations import apply_migrations
    for table, column, ddl in missing_columns(db):
        add_column(db, table, column, ddl)
    if missing_objects(db):
        with_retry(lambda: db.conn.executescript(SCHEMA))
    apply_migrations(db)


def reference_schema() -> sqlite3.Connection:
    reference = sqlite3.connect(":memory:")
    reference.executescript(SCHEMA)
    return reference


def missing_columns(db: sqlite_utils.Database) -> list[tuple[str, str, str]]:
    """Columns the schema has and the database's existing tables lack."""
    reference = reference_schema()
    tables = [r[0] for r in reference.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    out = []
    for table in set(tables) & set(db.table_names()):
        have = {r[1] for r in db.execute(f"PRAGMA table_info({table})").fetchall()}
        for _, name, kind, notnull, default, _ in reference.execute(f"PRAGMA table_info({table})"):
            if name not in have:
                out.append((table, name, f"{kind}" + (f" NOT NULL DEFAULT {default}" if notnull else "")))
    return out


def missing_objects(db: sqlite_utils.Database) -> bool:
    """Whether a table or an index of the schema is missing from the database."""
    query = "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL"
    wanted = set(reference_schema().execute(query).fetchall())
    return not wanted <= set(db.conn.execute(query).fetchall())


def add_column(db: sqlite_utils.Database, table: str, column: str, ddl: str) -> None:
    """ALTER TABLE … ADD COLUMN; another process may have added it a moment ago."""
    try:
        with_retry(lambda: db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc):
            raise


# Channels whose consultations are test traffic, left out of stats, export and report by default
# (the trigger that marks them is the migration "staff-1 test traffic is marked").
TEST_CHANNELS = ("simulator", "cli")


def with_retry(action, *args: Any, attempts: int = 20, pause: float = 0.05):
    """Run ``action(*args)``; if SQLite reports a lock beyond the busy timeout, try again briefly."""
    for attempt in range(attempts):
        try:
            return action(*args)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause * (attempt + 1))


def fetch_one(db: sqlite_utils.Database, sql: str, params: list[Any] | tuple = ()) -> dict | None:
    """One row as a dict, or None. A plain read: sqlite-utils' ``query`` wraps every read in a
    savepoint, which costs more than the read itself on the webhook's hot path."""
    cursor = db.conn.execute(sql, params)
    row = cursor.fetchone()
    return dict(zip(map(NAME, cursor.description), row)) if row else None


def fetch_all(db: sqlite_utils.Database, sql: str, params: list[Any] | tuple = ()) -> list[dict]:
    """Every row as a dict: ``fetch_one``'s plain read for several rows (no savepoint)."""
    cursor = db.conn.execute(sql, params)
    names = list(map(NAME, cursor.description))
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# A column's name in ``cursor.description`` (read in C: a generator of ``c[0]`` cost a Python
# step per column, eleven for the villager's row).
NAME = operator.itemgetter(0)


def json_text(value: Any) -> str:
    """The JSON text the records store: ``json.dumps(value, ensure_ascii=False)``, from the C
    encoder ``JSONEncoder.encode`` itself uses, made once. ``dumps`` with an argument built a new
    JSONEncoder on every call, and ``encode`` a new C encoder (and a dict to catch circular
    values, which the records never hold: such a value would raise RecursionError here)."""
    return "".join(_C_ENCODER(value, 0))


_C_ENCODER = json.encoder.c_make_encoder(
    None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)


def row_of(cursor: sqlite3.Cursor) -> dict | None:
    """A ``RETURNING`` statement's one row as a dict, the statement run to its end, or None."""
    rows = cursor.fetchall()
    return dict(zip(map(NAME, cursor.description), rows[0])) if rows else None


def now() -> float:
    return time.time()


def before_nested(db: sqlite_utils.Database) -> None:
    """A nested transaction is about to begin, and may be undone on its own: what the outer one
    holds back to write later (bot.core.users.holding) is written now, before it."""
    hook = getattr(db, "before_nested_transaction", None)
    if hook is not None:
        hook()


class transaction:
    """``with transaction(db):`` runs the block in one IMMEDIATE transaction (autocommit otherwise).

    IMMEDIATE takes the write lock at the start, so two processes racing on the same row
    serialize instead of failing half-way. A transaction opened inside another joins it: the
    outermost block commits (or rolls back) the whole, so a function that needs one transaction
    may be called on its own or as part of a larger one. The inner block is a savepoint: when it
    fails, its own writes are undone even if the caller catches the error and the outer block
    commits (delivering waiting answers inside the reply's transaction must not leave half of
    them marked delivered).
    """

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.conn = db.conn
        self.queue = write_queue(db)
        self.outermost = False
        self.savepoint = ""

    def __enter__(self):
        self.queue.__enter__()
        self.outermost = not self.conn.in_transaction
        try:
            if self.outermost:
                per_message.transaction_ended(self.conn)   # nothing read before it is kept in it
                with_retry(self.conn.execute, "BEGIN IMMEDIATE")
            else:
                before_nested(self.db)
                self.savepoint = f"legalbot_{self.queue.depth}"
                self.conn.execute(f"SAVEPOINT {self.savepoint}")
        except BaseException:
            self.queue.__exit__()
            raise
        return self

    def __exit__(self, kind, exc, tb):
        try:
            if self.outermost:
                self.conn.execute("ROLLBACK" if kind else "COMMIT")
            elif self.conn.in_transaction:     # SQLite may have ended it already (a full disk)
                self.leave_savepoint(undo=kind is not None)
        finally:
            if self.outermost or kind is not None:   # rows read inside are read afresh
                per_message.transaction_ended(self.conn)
            self.queue.__exit__()
        return False

    def leave_savepoint(self, undo: bool) -> None:
        if undo:
            self.conn.execute(f"ROLLBACK TO {self.savepoint}")
        self.conn.execute(f"RELEASE {self.savepoint}")
