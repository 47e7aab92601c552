# Gatehouse — `make run` serves on the embedded SQLite database; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: install install-dev run test lint typecheck unit clean bench fuzz

# The service alone (requirements.lock): what `make run` needs.
install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Gatehouse needs Python 3.11 or newer (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes --no-deps -r requirements.lock
	$(PIP) --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The service plus the test and lint tools (requirements-dev.lock, the same versions and more).
install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(PIP) --require-hashes --no-deps -r requirements-dev.lock
	@touch $(DEV_STAMP)

var/jwt_secret:
	@mkdir -p var
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))' > var/jwt_secret
	@echo "wrote a random development signing secret to var/jwt_secret"

var/data_key:
	@mkdir -p var
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))' > var/data_key
	@echo "wrote a random development data key (seals secrets at rest) to var/data_key"

run: install var/jwt_secret var/data_key
	$(BIN)/gatehouse db upgrade
	$(BIN)/gatehouse serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports

typecheck: install-dev
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

# Every row on SQLite and PostgreSQL (DB=sqlite or DB=postgres for one); WORKERS=2 for two workers.
DB ?= both
WORKERS ?= 1
bench: install-dev
	$(BIN)/python scripts/bench.py --db $(DB) --workers $(WORKERS)

# schemathesis against the live /openapi.json of a throwaway server (see README, "Fuzzing").
# FUZZ_MAX_EXAMPLES (default 50 per operation) and FUZZ_SEED tune it.
fuzz: install-dev
	$(BIN)/python scripts/fuzz.py
