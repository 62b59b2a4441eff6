# The README's two commands: `make run` (demo on SQLite) and `make test` (the whole suite).
# Both create or refresh .venv themselves; only Python 3.11+ is needed beforehand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-fast lint types pytest bench load venv browser-deps clean audit messages

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Circlework needs Python 3.11 or newer")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-virtualenv -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: $(STAMP)

run: venv
	$(PY) manage.py migrate --noinput
	bin/run-dev

# ruff, then the import contracts in pyproject.toml (apps depend downwards only).
lint: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

types: venv
	$(VENV)/bin/mypy circlework config tests

# The translation catalogue (circlework/locale/en): every marked text, refreshed from the code
# and templates. Run it when texts change; a translator starts from a copy of it.
messages: venv
	cd circlework && ../$(PY) ../manage.py makemessages -l en --no-obsolete

browser-deps:
	@bin/ensure-chromium

# Spread over every core (pytest-xdist); PYTEST_ARGS adds to it, e.g. PYTEST_ARGS='-m "not fuzz"'.
XDIST ?= -n auto
pytest: venv browser-deps
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test: lint types pytest

# The inner loop: no browser flows and no API fuzz run (both run in `make test`).
test-fast: venv
	$(PY) -m pytest $(XDIST) -m "not browser and not fuzz" $(PYTEST_ARGS)

# Key pages through gunicorn + wrk against the bare-Django floor, on PostgreSQL and SQLite, small
# and large data, each page with the page cache off (first view) and on (repeat view); writes
# bench/report.md and report.json. BENCH_ARGS adds options, e.g. "--quick", "--page-cache off".
bench: venv
	@bin/ensure-wrk
	$(PY) bench/run.py $(BENCH_ARGS)

# Load test against a real server (gunicorn + PostgreSQL on loopback) with a database restart and
# a killed worker mid-run; writes bench/reports/load.md. Not part of `test`: it restarts PostgreSQL.
# LOAD_ARGS="--large": on the demo plus seed_scale at the bench's large size (--report to name it).
load: venv
	$(PY) bench/load.py $(LOAD_ARGS)

# Dependency audit (pip-audit in its own virtualenv, pinned in requirements-audit.lock).
audit:
	bin/audit-deps

clean:
	rm -rf $(VENV) .venv-audit staticfiles test-artifacts
