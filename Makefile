# The two set-up commands of the README: `make dev` (the pipeline on the embedded default)
# and `make test` (lint + the whole test suite). Both create .venv and install on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install dev test lint bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

dev: install
	$(BIN)/tiktok-pipeline dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# bench/dlt_baseline.py is the baseline bench/backfill.py runs, not a bench of its own.
bench: install
	$(BIN)/pip install --quiet -e ".[test,bench]"
	for script in bench/[a-z]*.py; do \
		name=$$(basename $$script .py); \
		[ $$name = dlt_baseline ] && continue; \
		$(BIN)/python -m bench.$$name || exit 1; \
	done
