# `make run` starts Soonish on this machine; `make test` runs every check. Both build .venv from scratch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Quiet installs (errors still show) of exactly the versions in constraints.txt.
PIP := $(BIN)/python -m pip install -qq --disable-pip-version-check

.PHONY: run test lint lock clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Soonish needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(VENV)/.run: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -c constraints.txt -e .
	touch $@

$(VENV)/.dev: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -c constraints.txt -e '.[dev]'
	touch $@ $(VENV)/.run

run: $(VENV)/.run
	$(BIN)/soonish up

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Re-resolve the newest versions pyproject.toml allows, and write them to constraints.txt.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install -qq --disable-pip-version-check -e '.[dev]'
	{ head -n 2 constraints.txt; .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^soonish'; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
