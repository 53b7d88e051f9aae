# Switchboard: `make run` to try it, `make test` to check everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
VENDOR := ui/static/vendor
PORT ?= $(or $(SWITCHBOARD_PORT),8000)

.PHONY: help install install-run run test checks lint typecheck layers pytest system-deps assets bench api-fuzz clean

help:
	@echo "make run      install, migrate, seed the demo and serve on http://127.0.0.1:$(PORT)"
	@echo "make install  install Switchboard and its development tools into $(VENV)"
	@echo "make test     install what the tests need (PostgreSQL, Chromium) and run every check"
	@echo "make api-fuzz several hundred generated requests per REST operation, checked against the OpenAPI document"
	@echo "make bench    start-up, idle memory, token verification, recipe engine and MCP call overhead against baselines"

# What running needs: Switchboard and its dependencies.
$(VENV)/.installed-run: pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

# What checking needs besides: the test, lint and type-check tools.
$(VENV)/.installed: $(VENV)/.installed-run
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# The pages' assets (Pico, htmx): npm's dependencies without the development ones.
$(VENDOR)/.installed: package.json package-lock.json
	@command -v npm >/dev/null || scripts/apt-install.sh nodejs npm
	npm install --omit=dev --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/pico.min.css
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	@touch $@

# The tests' Node tools: Node 22 (node_modules/.bin/node), the MCP conformance suite and oidc-provider.
node_modules/.dev-installed: $(VENDOR)/.installed
	npm install --no-audit --no-fund --loglevel=error
	@node_modules/.bin/node --version | grep -q '^v22\.' || { echo "node_modules/.bin/node is not Node 22"; exit 1; }
	@test -f node_modules/.bin/conformance || { echo "the MCP conformance suite is not installed"; exit 1; }
	@test -d node_modules/oidc-provider || { echo "oidc-provider (the tests' third-party OAuth server) is not installed"; exit 1; }
	@touch $@

assets: $(VENDOR)/.installed

# `make run` installs what running needs; `make install` (and every check) adds the development tools.
install-run: $(VENV)/.installed-run assets

install: $(VENV)/.installed assets node_modules/.dev-installed

run: install-run
	$(BIN)/switchboard db migrate
	$(BIN)/switchboard demo
	@echo
	@echo "  Switchboard: http://127.0.0.1:$(PORT)"
	@echo "  Sign in as admin@example.com (or alice@example.com, bob@example.com), password switchboard-demo"
	@echo
	$(BIN)/switchboard serve --port $(PORT)

# PostgreSQL (server binaries for the throwaway test cluster) and Chromium (browser tests).
system-deps:
	@scripts/apt-install.sh postgresql chromium

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	@scripts/typecheck.sh

layers: install
	@scripts/check-layers.sh

# Two workers (pytest-xdist), one per core; each test file stays on one worker, and so does each package
# whose fixtures start servers for the package (tests/conftest.py), so those servers start once. The
# slowest steps are listed at the end. PYTEST_ARGS="-n 0" runs in one process.
pytest: install system-deps
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15 $(PYTEST_ARGS)

checks: lint typecheck layers pytest

# Every check, then how long the whole run took (install included).
test:
	@SECONDS=0; status=0; $(MAKE) --no-print-directory checks || status=$$?; \
	echo "make test: $$SECONDS s wall time ($$( [ $$status = 0 ] && echo passed || echo FAILED ))"; \
	exit $$status

# The REST API against its OpenAPI document, as `make test` checks it but with every boundary and wrong type
# of every input and several hundred generated requests per operation (derandomised: reproducible).
API_FUZZ_EXAMPLES ?= 300
api-fuzz: install
	@SECONDS=0; status=0; SWITCHBOARD_API_FUZZ_EXAMPLES=$(API_FUZZ_EXAMPLES) $(BIN)/python -m pytest -n 2 -q \
		-p no:cacheprovider tests/platform/test_api_conformance.py || status=$$?; \
	echo "make api-fuzz: $$SECONDS s wall time"; exit $$status

# The MCP call benchmark's load client is wrk; MCP_BENCH passes options (e.g. MCP_BENCH=--postgres).
bench: install
	scripts/apt-install.sh wrk
	$(PY) bench/startup.py
	$(PY) bench/token_verify.py
	$(PY) bench/recipe_engine.py
	$(PY) bench/mcp_calls.py $(MCP_BENCH)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) build dist *.egg-info
