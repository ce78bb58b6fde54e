# The two commands of the README: `make run` (srvpulse locally) and `make test`.
# Each does its own set-up on a fresh machine (virtualenv, dependencies, migrations).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit setup clean openapi

$(BIN)/.installed: requirements.txt requirements-dev.txt layers/core/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt -e layers/core
	touch $@

setup: $(BIN)/.installed

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

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
