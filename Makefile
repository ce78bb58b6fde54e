# The two commands of the README: `make run` (srvpulse locally) and `make test`.
# Each does its own set-up on a fresh machine (virtualenv, dependencies, migrations).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit setup clean openapi \
	frontend-setup frontend-build frontend-lint frontend-typecheck frontend-test

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

# The dashboard is (re)built first when its sources changed; without Node.js that step
# says what is missing and srvpulse starts anyway: the API and the ping URLs do not need
# the dashboard, and / then says how to build it.
run: setup
	@$(MAKE) --no-print-directory frontend-build || echo "srvpulse: the dashboard is not built (see above); starting without it." >&2
	$(BIN)/python -m srvpulse.local

# The API's OpenAPI document and the dashboard's types generated from it, both committed
# (tests/unit/test_openapi.py and frontend/tests/schema-drift.spec.ts fail when either is
# out of date): run it after changing a route or a schema.
openapi: setup frontend-setup
	$(BIN)/python -m chalicelib.openapi frontend/src/api/openapi.json
	cd frontend && npm run --silent gen:api

# The dashboard (frontend/): Node.js 20.19+ and npm; `npm ci` installs exactly the
# versions of package-lock.json. Built files (frontend/dist) are not committed.
FRONTEND_SOURCES := $(shell find frontend/src frontend/public frontend/index.html frontend/vite.config.ts -type f 2>/dev/null)
NEED_NODE := command -v npm >/dev/null 2>&1 || { echo "The dashboard needs Node.js 20.19+ with npm (Debian: apt-get install nodejs npm)." >&2; exit 1; }

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	@$(NEED_NODE)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend-setup: frontend/node_modules/.installed

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run --silent build

frontend-build: frontend/dist/index.html

frontend-lint: frontend-setup
	cd frontend && npm run --silent lint

frontend-typecheck: frontend-setup
	cd frontend && npm run --silent typecheck

frontend-test: frontend-setup
	cd frontend && npm run --silent test

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

# The GitLab test job sets SRVPULSE_LINTED=true: on the same commit its lint stage ran
# ruff, mypy, ESLint and vue-tsc and built the dashboard (frontend/dist comes as an
# artifact), and the frontend-test job runs Vitest beside it, so `make test` there is
# pytest alone. Everyone else (.ci/run included) gets everything.
ifeq ($(SRVPULSE_LINTED),true)
CHECKS :=
DASHBOARD :=
else
CHECKS := lint typecheck frontend-lint frontend-typecheck frontend-test
DASHBOARD := frontend-build
endif

# The browser tests (tests/e2e/test_dashboard_e2e.py) open the built dashboard.
unit: setup $(DASHBOARD)
	$(BIN)/pytest

test: $(CHECKS) unit

clean:
	rm -rf $(VENV) $(VENV).setup-lock .mypy_cache .ruff_cache .pytest_cache frontend/node_modules frontend/dist
