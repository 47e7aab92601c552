# Gatehouse — `make run` serves on the embedded SQLite database; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck unit clean bench fuzz

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Gatehouse needs Python 3.11 or newer (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

var/jwt_secret:
	@mkdir -p var
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))' > var/jwt_secret
	@echo "wrote a random development signing secret to var/jwt_secret"

run: install var/jwt_secret
	$(BIN)/gatehouse db upgrade
	$(BIN)/gatehouse serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

DB ?= sqlite
bench: install
	$(BIN)/python scripts/bench.py --db $(DB)

# schemathesis against the live /openapi.json of a throwaway server (see README, "Fuzzing").
# FUZZ_MAX_EXAMPLES (default 50 per operation) and FUZZ_SEED tune it.
fuzz: install
	$(BIN)/python scripts/fuzz.py
