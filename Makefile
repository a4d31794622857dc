# Two commands for a newcomer: `make run` and `make test`. Everything else builds on them.
PYTHON ?= python3
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
	$(BIN)/legalbot serve --host 127.0.0.1 --port 8000

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
