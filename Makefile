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

test: lint
	$(BIN)/pytest

bench: install
	for script in bench/[a-z]*.py; do $(BIN)/python -m bench.$$(basename $$script .py) || exit 1; done
