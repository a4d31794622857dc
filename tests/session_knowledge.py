"""The knowledge base, matcher and law index, built once per test session and shared by the apps
the tests build (as datasette's session-scoped ``app_client`` shares one app).

Building them costs one to three seconds of CPU, and the suite builds a few hundred apps, each on
its own fresh database: that was most of the suite's time. Every such app would build the same
snapshot (bot/learning/livekb.py) from the same files, so ``build_snapshot`` is wrapped to hand back the
one already built when nothing can make it differ:

- the knowledge directory is inside the project (a test's temporary copy is always built afresh),
  and none of its files changed since (path, size and mtime of each file are the key);
- the database has never had a published entry (kb_version absent or 0, no published rows): a
  test of learning or live rebuilds builds its own snapshots, as production does;
- the settings the build reads are the same: [matcher], [reply] and the local placeholders;
- the process still reads the knowledge directory's dict/ with the same lexicon objects;
- the build is the strict start-up one (a background rebuild is never shared).

The shared objects are read-only in use; a test that wants to change the matcher sets its own on
the services (``Services.matcher`` takes an instance value) or builds one itself. Only the last
few snapshots are kept, so a knowledge base edited during a run does not pile up copies.
"""
from __future__ import annotations

import os
import sqlite3
from collections import OrderedDict
from pathlib import Path

from bot.learning import livekb
from bot.core.config import PROJECT_ROOT, Config
from bot.kb.knowledge import knowledge_dir

KEEP = 3
_built: OrderedDict = OrderedDict()
_build = livekb.build_snapshot
stats = {"built": 0, "shared": 0}


def build_snapshot_once(config: Config, db_path, strict: bool = True):
    """``livekb.build_snapshot``, reusing the session's snapshot when it would be the same."""
    key = snapshot_key(config, db_path) if strict else None
    if key is None:
        return _build(config, db_path, strict)
    found = _built.get(key)
    if found is None:
        found = _built[key] = _build(config, db_path, strict)
        stats["built"] += 1
        while len(_built) > KEEP:
            _built.popitem(last=False)
    else:
        stats["shared"] += 1
    _built.move_to_end(key)
    return found


def snapshot_key(config: Config, db_path) -> tuple | None:
    """What the build depends on, or None when it must not be shared."""
    base = knowledge_dir(config).resolve()
    if not base.is_relative_to(PROJECT_ROOT) or ever_published(db_path):
        return None
    return (str(base), files_stamp(base), repr(sorted(dict(config.local).items())),
            repr(config.reply), repr(config.matcher), lexicons_in_use(config))


def lexicons_in_use(config: Config) -> tuple:
    """Which lexicon objects an app of ``config`` reads with now. A process keeps the last few
    dict/ folders' (bot/core/text.py, bot/retrieval/lexicons.py); after tests with copied
    folders have pushed the shipped one out and it is read anew, a snapshot whose matcher holds
    the old objects must not go to a new app, whose handlers hold the new: a message's findings
    are shared by the handlers and the matcher by the lexicons' identity (triggers.once). The
    shared snapshot keeps its objects alive, so their ids are not reused while it is kept."""
    from bot.retrieval.lexicons import lexicons_for
    lexicons = lexicons_for(config)
    return tuple(id(part) for part in (lexicons.dictionaries, lexicons.triggers, lexicons.question,
                                       lexicons.counterparts))


def files_stamp(base: Path) -> tuple:
    """(path, size, mtime) of every file under the knowledge directory: an edit changes it."""
    stamp = []
    for folder, _, names in os.walk(base):
        for name in names:
            info = os.stat(os.path.join(folder, name))
            stamp.append((folder, name, info.st_size, info.st_mtime_ns))
    return tuple(sorted(stamp))


def ever_published(db_path) -> bool:
    """Whether the database has, or had, an entry published from the console."""
    if str(db_path) == ":memory:" or not Path(db_path).exists():
        return False
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True, timeout=5)
    try:
        version = conn.execute("SELECT max(version) FROM kb_version").fetchone()[0]
        published = conn.execute("SELECT 1 FROM kb_drafts WHERE status = 'published' LIMIT 1").fetchone()
        return bool(version) or published is not None
    except sqlite3.OperationalError:
        return True          # tables missing or locked: build afresh rather than guess
    finally:
        conn.close()


def entry_model_under_lock(patch) -> None:
    """Make a process's first ``entry_model`` call on the default cache take a file lock beside
    the cache: of the workers starting together on the shipped knowledge, one trains and saves,
    the others then load its file. Later calls (other knowledge bases, background rebuilds) go
    unlocked as before, so no test waits on another process's training of another model."""
    import fcntl
    from bot.retrieval import entrymodel, matcher
    from bot.retrieval.lawsearch import default_cache_dir, usable_dir
    train_or_load = entrymodel.entry_model
    first: list = []

    def first_one_at_a_time(indexed, postings, idf, cache_dir="default"):
        cache = default_cache_dir()
        if first or cache_dir != "default" or not usable_dir(cache):
            return train_or_load(indexed, postings, idf, cache_dir)
        first.append(True)
        with open(cache / "entrymodel.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return train_or_load(indexed, postings, idf, cache_dir)
    patch.setattr(entrymodel, "entry_model", first_one_at_a_time)
    patch.setattr(matcher, "entry_model", first_one_at_a_time)


# --- files read once per process ------------------------------------------------------------

def read_once() -> None:
    """Install the readers below (once; every process of the run calls this at start-up)."""
    jiebas_dictionary_read_once()
    knowledge_files_read_once()
    gloss_folders_checked_once()


def jiebas_dictionary_read_once() -> None:
    """Every ``jieba.Tokenizer`` on jieba's own dictionary starts from one copy of its word
    table, read once per process, instead of unmarshalling the 9 MB cache file again (0.5 s).

    The suite builds a tokenizer for each dict/ folder it copies or edits (bot/core/text.py's
    ``new_tokenizer``): fifteen a run, 10 CPU-seconds. A copy of the table (15 ms) is what the
    cache file holds, so each tokenizer still gets its own table, which its user dictionary then
    changes as before. A tokenizer on another dictionary, or with its own cache settings, is
    initialised by jieba as usual."""
    import threading
    import jieba
    initialize = jieba.Tokenizer.initialize
    if getattr(initialize, "reads_once", False):
        return
    table: list = []
    lock = threading.Lock()

    def initialize_once(tokenizer, dictionary=None):
        own = dictionary or tokenizer.dictionary != jieba.DEFAULT_DICT or tokenizer.cache_file or tokenizer.tmp_dir
        if own or tokenizer.initialized:
            return initialize(tokenizer, dictionary)
        with lock:
            if not table:
                initialize(tokenizer)
                table.append((dict(tokenizer.FREQ), tokenizer.total))
                return
        words, total = table[0]
        tokenizer.FREQ, tokenizer.total, tokenizer.initialized = dict(words), total, True
    initialize_once.reads_once = True
    jieba.Tokenizer.initialize = initialize_once


def knowledge_files_read_once() -> None:
    """A statute file or FAQ file with the same bytes is parsed once per process.

    Tests copy knowledge/ to break or extend it (kb check, learning, a private dict/): each copy
    was parsed afresh, 90 times the statutes and the FAQ a run, 10 CPU-seconds of JSON, TOML and
    building frozen objects. The file is still read every time and its bytes are the key, so an
    edited or broken file is parsed (and refused) as before; what differs between copies is put
    back: a law's ``path``, and an entry's file name is part of the key (errors name it)."""
    import dataclasses
    import hashlib
    from bot.kb import knowledge
    if getattr(knowledge.read_law, "reads_once", False):
        return
    read_law, read_entries = knowledge.read_law, knowledge.read_entries
    laws: dict = {}
    entries: dict = {}

    def read_law_once(path):
        key = hashlib.blake2b(Path(path).read_bytes()).digest()
        if key not in laws:
            laws[key] = read_law(path)
        law, articles = laws[key]
        return dataclasses.replace(law, path=str(path)), list(articles)

    def read_entries_once(path, base):
        key = (hashlib.blake2b(Path(path).read_bytes()).digest(), knowledge.shown_path(path, base))
        if key not in entries:
            entries[key] = read_entries(path, base)
        found, errors = entries[key]
        return list(found), list(errors)
    read_law_once.reads_once = read_entries_once.reads_once = True
    knowledge.read_law, knowledge.read_entries = read_law_once, read_entries_once


def gloss_folders_checked_once() -> None:
    """A glosses folder whose files have the same bytes is parsed and checked once per process
    against the same statutes.

    Reading knowledge/glosses (TOML, then every cite parsed and looked up in the statutes) became
    most of a knowledge load as the glosses grew to ~12,000 asks: 0.2-0.3 CPU-s a load, and the
    kb check, editorial, learning and law search tests load copies of knowledge/ a hundred times
    a run (two thirds of the kb check modules' CPU). What ``read_glosses`` returns is a function
    of its files' bytes, the paths its errors name and the statutes its checks read, so those are
    the key: an edited, added or removed file, other statutes or another day are read and
    checked as before."""
    import hashlib
    from bot.kb import glosses
    if getattr(glosses.read_glosses, "reads_once", False):
        return
    read_glosses = glosses.read_glosses
    checked: dict = {}

    def read_glosses_once(directory, statutes, base=None):
        shown = base or directory.parent
        files = tuple((glosses.shown_path(path, shown), hashlib.blake2b(path.read_bytes()).digest())
                      for path in glosses.gloss_files(directory))
        key = (files, statutes_stamp(statutes))
        if key not in checked:
            checked[key] = read_glosses(directory, statutes, base)
        found, errors = checked[key]
        return list(found), list(errors)
    read_glosses_once.reads_once = True
    glosses.read_glosses = read_glosses_once


def statutes_stamp(statutes) -> bytes:
    """A digest of what the statutes hold and today's date (``in_force`` falls back to it): every
    attribute, except that the articles count by citation and law as ``get`` finds them (a gloss's
    checks look an article up and read its law, never its text: hashing 8,000 texts cost as much
    as the checks), and a law's ``path`` is left out (a copy of knowledge/ holds the same laws
    elsewhere; errors name the gloss file, not the statute's)."""
    import dataclasses
    import hashlib
    from bot.kb import knowledge
    digest = hashlib.blake2b(str(knowledge.today()).encode())
    for name, value in sorted(vars(statutes).items()):
        if name == "laws":
            value = {law: dataclasses.replace(held, path="") for law, held in value.items()}
        elif name == "articles":          # looked up through _by_citation
            continue
        elif name == "_by_citation":
            value = [(citation, article.law) for citation, article in value.items()]
        digest.update(f"\0{name}\1{value!r}".encode())
    return digest.digest()
