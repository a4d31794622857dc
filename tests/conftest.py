"""Shared fixtures: an app on a fresh SQLite file with the official test vector's credentials."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from bot import create_app
from bot.core.config import load_config
from tests.support import VECTOR_AES_KEY, VECTOR_APPID, VECTOR_TOKEN, WeChatSender

TMPFS = "/dev/shm"
RUN_TMPDIR = "LEGALBOT_TESTS_TMPDIR"


def run_temp_folder() -> str | None:
    """One temporary folder for the whole run, in memory, shared by the xdist workers and every
    process the tests start (TMPDIR): tmp_path, each test's SQLite file, the law index and entry
    model caches (``default_cache_dir`` is under TMPDIR), gunicorn's and Chromium's files.

    In memory: a new SQLite database in WAL mode syncs to the disk as it is made, 60-80 ms on
    this machine's shared disk against 15 ms in /dev/shm, and the suite makes a thousand. Still
    real files, real SQLite, real locks. Its own: the caches in the machine's /tmp are shared
    with every other checkout and run, whose index builds held the cache's file lock while our
    tests waited up to 50 s; a fresh folder is what a fresh machine has (one cold build per run).
    The folder is placed under TMPDIR when that is set, else in /dev/shm when writable."""
    inherited = os.environ.get(RUN_TMPDIR)
    if inherited:                                   # an xdist worker: the controller made it
        tempfile.tempdir = inherited
        return None
    base = os.environ.get("TMPDIR") or (TMPFS if os.access(TMPFS, os.W_OK) else None)
    run = tempfile.mkdtemp(prefix="legalbot-tests-", dir=base)
    os.environ["TMPDIR"] = os.environ[RUN_TMPDIR] = tempfile.tempdir = run
    return run


OWN_RUN_TMPDIR = run_temp_folder()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """The run's folder goes when the run ends (last: after xdist has stopped its workers); after
    a failure only pytest's folder of the failed tests' tmp_path stays, for a look
    (tmp_path_retention_policy); the caches go either way."""
    if not OWN_RUN_TMPDIR:
        return
    import shutil
    for path in Path(OWN_RUN_TMPDIR).iterdir():
        if exitstatus == 0 or not path.name.startswith("pytest-of-"):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    if exitstatus == 0 or not any(Path(OWN_RUN_TMPDIR).iterdir()):
        shutil.rmtree(OWN_RUN_TMPDIR, ignore_errors=True)


def test_overrides(tmp_path, **extra) -> dict:
    base = {
        "app": {"db_path": str(tmp_path / "legalbot.db"), "worker_thread": False},
        # compatible: most tests post plaintext (readable replies) with a key configured; the
        # default with a key, safe mode, is pinned by tests/test_hardening_webhook.py
        "wechat": {"token": VECTOR_TOKEN, "appid": VECTOR_APPID, "aes_key": VECTOR_AES_KEY,
                   "appsecret": "test-secret", "api_base": "http://127.0.0.1:9",
                   "message_mode": "compatible"},
        "console": {"secret_key": "test-secret-key-0123456789abcdef"},
        # No 普法日历 by default: its line under answers depends on the day the tests run.
        # tests/test_publicity.py pins the calendar with the shipped days (shipped_publicity).
        "publicity": {"days": []},
    }
    for section, values in extra.items():
        base.setdefault(section, {}).update(values)
    return base


def pytest_collection_modifyitems(items):
    """Fuzzers (hypothesis) and browser walks are ``slow``: `make test` runs them, and
    ``pytest -m "not slow"`` leaves them out while developing. Marked here, by kind, so a new
    fuzzer or browser test is marked without anyone remembering to."""
    for item in items:
        fuzzer = getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        if fuzzer or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
    long_first(items)


def long_first(items: list) -> None:
    """Modules with a ``slow`` test run first: the long servers, browser walks and fuzzers start
    early and the many short tests fill in the end, instead of a 20-second test starting last
    while the other worker has nothing left to do. `make test` hands out whole modules in this
    order (``--dist loadscope --no-loadscope-reorder``), so each module's fixtures (a gunicorn,
    an index) are set up once and the slow modules alternate between the two workers; xdist's
    default, ``load``, gave the first 187 tests (all the slow ones) to one worker. The browser
    walks, the longest unit (pytest_xdist_make_scheduler), go first of all."""
    slow = {module_of(item) for item in items if item.get_closest_marker("slow")} - {None}
    items.sort(key=lambda item: (module_of(item) not in slow, not item.nodeid.startswith(BROWSER_TESTS)))


BROWSER_TESTS = "tests/browser/"


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` with the browser modules as one unit of work: one worker starts
    Chromium and Playwright's driver once (4-5 s a start) and walks every page, instead of each
    worker starting its own for half of them. Every other module is a unit, as before."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(BROWSER_TESTS):
                return BROWSER_TESTS
            return super()._split_scope(nodeid)
    return BrowserTogether(config, log)


def module_of(item):
    """The test's module; None for an item that is not a Python test (a doctest, a plugin's)."""
    return getattr(item, "module", None)


def pytest_configure(config):
    """Files every app reads are read once per process (tests/session_knowledge.py), from before
    collection on: tests/test_gaps.py reads text as it is imported."""
    from tests import session_knowledge
    session_knowledge.read_once()
    collect_less_often()


def collect_less_often() -> None:
    """The test processes run the cycle collector's youngest pass every 20,000 new objects, not
    every 700. A test process builds app after app and keeps the session's matcher, law index
    and pages alive, so the frequent passes often went on to full ones: on the webhook, handler,
    console and learning modules the collector took a tenth of the CPU, under half of that now
    (the whole run: 154 → 148 CPU-seconds).
    Garbage is still collected (tests that check an app is freed call gc.collect themselves);
    the bot's own processes (gunicorn, the command line) keep Python's default."""
    import gc
    gc.set_threshold(20_000, 20, 10)


@pytest.fixture(scope="session", autouse=True)
def knowledge_built_once():
    """Apps share the session's knowledge, matcher and law index (tests/session_knowledge.py):
    rebuilding them for every app was most of the suite's time."""
    from bot.learning import livekb
    from tests import session_knowledge
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(livekb, "build_snapshot", session_knowledge.build_snapshot_once)
        yield session_knowledge.stats


@pytest.fixture(scope="session", autouse=True)
def entry_model_trained_once_per_run():
    """The shipped knowledge's entry model is trained by one test process and read by the others
    from the run's disk cache (the folder every process of the run shares, run_temp_folder), as
    the law index already is (bot/learning/livekb.py's law_index_for): the three workers' first
    apps all start together and each trained the same model into the same cache file (2.6 CPU-s
    each). ``entry_model`` itself is unchanged; only each process's first call waits its turn."""
    from tests import session_knowledge
    with pytest.MonkeyPatch.context() as patch:
        session_knowledge.entry_model_under_lock(patch)
        yield


@pytest.fixture(scope="session", autouse=True)
def cheaper_password_hashing():
    """Console passwords are hashed with werkzeug's scrypt at a test work factor (N=2^10, not
    2^15): the same function and checks, a thirtieth of the CPU (0.1 s a login). The fuzzers log
    in for every example; at full cost hashing was a fifth of the suite. As Django's testing
    docs advise, only the cost changes: hashes still start "scrypt:" and are checked for real."""
    from functools import partial
    from werkzeug.security import generate_password_hash
    from bot.app.console import auth
    cheap = partial(generate_password_hash, method="scrypt:1024:8:1")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "generate_password_hash", cheap)
        patch.setattr(auth, "_DUMMY_HASH", cheap("not-a-real-password"))
        yield


@pytest.fixture(scope="session", autouse=True)
def url_builders_compiled_once():
    """Werkzeug writes and compiles Python source for each URL rule of each app (two builder
    functions a rule, for ``url_for``): 40 rules, 13 ms of every create_app, 6 CPU-seconds of
    the suite. The builder is a function of the rule alone (its text, parts, defaults and
    converters; the converters themselves are looked up on the rule when it runs), so here each
    distinct rule is compiled once per process and every app's rule gets that function."""
    from werkzeug.routing.rules import Rule
    compile_builder = Rule._compile_builder
    built: dict = {}

    def compiled_once(rule, append_unknown=True):
        key = (rule.rule, tuple(rule._trace), repr(sorted((rule.defaults or {}).items())),
               tuple((name, type(converter)) for name, converter in rule._converters.items()),
               append_unknown)
        if key not in built:
            built[key] = compile_builder(rule, append_unknown)
        return built[key]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", compiled_once)
        yield


def shipped_publicity() -> dict:
    """config.toml's [publicity] table, for tests of the calendar itself."""
    import tomllib
    from bot.core.config import DEFAULT_CONFIG_PATH
    return tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))["publicity"]


@pytest.fixture
def config(tmp_path):
    return load_config(overrides=test_overrides(tmp_path), environ={})


@pytest.fixture
def app(config):
    app = create_app(config)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def wechat(client):
    """Plaintext-mode sender; set ``.mode = "safe"`` or "compatible" to encrypt."""
    return WeChatSender(client)


@pytest.fixture
def db(app):
    database = app.extensions["legalbot"].open_db()
    yield database
    database.conn.close()


@pytest.fixture
def fake_wechat():
    """WeChat's HTTP API, faked on 127.0.0.1 (tests/fake_wechat.py); stopped after the test."""
    from tests.fake_wechat import FakeWeChat
    server = FakeWeChat().start()
    yield server
    server.stop()
