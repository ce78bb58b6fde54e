# The two commands of the README: `make run` (srvpulse locally) and `make test`.
# Each does its own set-up on a fresh machine (virtualenv, dependencies, migrations).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit setup clean openapi

$(BIN)/.installed: requirements.txt requirements-dev.txt requirements-compat.txt layers/core/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt -e layers/core
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -r requirements-compat.txt
	touch $@

# One set-up at a time: `make run &` and then `make test` on a fresh clone would both
# build .venv at once (and one would find a half-made one). The second waits for the
# lock, and the inner make then sees the finished .installed and does nothing.
# flock is util-linux (every Linux and CI image); without it (macOS) set-ups do not wait.
LOCK := $(shell command -v flock >/dev/null 2>&1 && echo flock $(VENV).setup-lock)
setup:
	@$(LOCK) $(MAKE) --no-print-directory $(BIN)/.installed

run: setup
	$(BIN)/python -m srvpulse.local

# The API's OpenAPI document, which the dashboard's typed client is generated from
# (tests/unit/test_openapi.py fails when the committed copy is out of date).
openapi: setup
	$(BIN)/python -m chalicelib.openapi frontend/src/api/openapi.json

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

# The GitLab test job sets SRVPULSE_LINTED=true: its lint stage ran ruff and mypy on the
# same commit already. Everyone else (.ci/run included) gets all three.
test: $(if $(filter true,$(SRVPULSE_LINTED)),,lint typecheck) unit

clean:
	rm -rf $(VENV) $(VENV).setup-lock .mypy_cache .ruff_cache .pytest_cache
