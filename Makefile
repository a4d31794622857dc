# Two commands for a newcomer: `make run` and `make test`. Everything else builds on them.
# `make run PORT=8001` serves on another port; the commands live in .venv/bin/ (e.g. .venv/bin/legalbot).
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench eval check install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/legalbot init-db
	$(BIN)/legalbot kb check
	$(BIN)/legalbot serve --host $(HOST) --port $(PORT)

# Three test processes (pytest-xdist) on the two cores of the small machine the bot runs on: many
# tests wait for a child (gunicorn, Chromium, a worker killed and restarted), and a third process
# uses those waits (fresh clone, quiet machine: 87.7-91.3 s against 96.1-103.0 s with two). Each
# builds the knowledge base, matcher and law index once (tests/session_knowledge.py). Whole modules
# are handed out, slow ones first (tests/conftest.py's long_first), as each worker is free; the
# browser modules are one unit, so Chromium starts once. A run keeps its temporary files, SQLite
# databases and caches in its own folder in /dev/shm (memory), removed when every test passes.
# `make test TEST_WORKERS=0` runs in one process; `.venv/bin/python -m pytest -m "not slow"`
# leaves out the fuzzers, browser walks and real servers while developing.
TEST_WORKERS ?= 3

test: $(STAMP)
	$(BIN)/legalbot kb check
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

# wrk drives the load; as .ci/run does for Chromium, it is installed with apt when we are root
# (CI, a fresh container). Otherwise bench/run.py falls back to its Python load generator and
# says so in its first line.
bench: $(STAMP)
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  echo "wrk could not be installed: the Python load generator is used" >&2
	$(BIN)/python bench/run.py
	$(BIN)/python bench/lawsearch_eval.py

eval: $(STAMP)
	$(BIN)/python ../shared/eval/score.py ../shared/eval/dev.jsonl

clean:
	rm -rf $(VENV) instance *.egg-info
