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

test: $(STAMP)
	$(BIN)/legalbot kb check
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/lawsearch_eval.py

eval: $(STAMP)
	$(BIN)/python ../shared/eval/score.py ../shared/eval/dev.jsonl

clean:
	rm -rf $(VENV) instance *.egg-info
