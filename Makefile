# `make run` serves the API on SQLite with demo data; `make test` runs the whole suite.
# Both set everything up first (a .venv with the project and its dev tools).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-postgres lint openapi bench screenshots clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

run: install
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(PY) -m api demo
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(PY) -m api serve --host $(HOST) --port $(PORT)

# tests/ensure-tools installs Chromium and PostgreSQL when it can (root or sudo, apt);
# otherwise the tests needing them are skipped, each reason on one line of the summary.
test: install
	tests/ensure-tools
	$(PY) -m pytest

# The same suite on a throwaway PostgreSQL cluster (needs Debian's postgresql package).
test-postgres: install
	tests/ensure-tools
	tests/with-postgres $(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check api db mobile_contract tests bench
	$(VENV)/bin/ruff format --check api db mobile_contract tests bench
	$(VENV)/bin/mypy api db mobile_contract bench

# The benchmark table (about 12-20 minutes; installs wrk and postgresql if missing).
bench: install
	bench/ensure-tools
	tests/with-postgres $(PY) -m bench.run

# Rewrite mobile_contract/openapi.json from the served schema (review the diff!).
openapi: install
	$(PY) -m api openapi > mobile_contract/openapi.json

# Retake the README's pictures of the demo pages (docs/screenshots/*.png) in Chromium.
screenshots: install
	$(PY) docs/screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
