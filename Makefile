# Hearth. Every target works on a fresh machine that has only python3 (3.11+) and make: the
# first one creates .venv, installs a pinned uv into it and syncs uv.lock. Later targets reuse
# that install, and sync again only when uv.lock or pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)
INSTALLED := $(VENV)/.hearth-installed
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-x tests/api"`.
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run api worker web migrate test lint

help:
	@echo "make run      install, migrate, start Redis, api :8000, worker and web :8080 (Ctrl-C stops)"
	@echo "make test     install and run the whole test suite"
	@echo "make api      the api alone, in the foreground (also: make worker, make web)"
	@echo "make migrate  apply the database migrations"
	@echo "make lint     ruff"
	@echo "make install  only create/update .venv"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
		{ echo "Hearth needs Python 3.11 or newer as '$(PYTHON)' (set PYTHON=...)" >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
		{ echo "'$(PYTHON) -m venv' is not available (on Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# A virtualenv made by uv has no pip: ensurepip brings it, to install uv from PyPI.
$(UV_STAMP): | $(PY)
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --upgrade >/dev/null
	$(PY) -m pip install --disable-pip-version-check --quiet uv==$(UV_VERSION)
	@touch $@

# --inexact keeps what uv.lock does not list (pip and uv themselves).
$(INSTALLED): uv.lock pyproject.toml | $(UV_STAMP)
	$(UV) sync --frozen --inexact
	@touch $@

install: $(INSTALLED)

run: $(INSTALLED)
	@$(PY) scripts/run.py --skip-install

api worker web: $(INSTALLED)
	@$(PY) scripts/run.py --skip-install --only $@

migrate: $(INSTALLED)
	@$(PY) scripts/migrate.py

# pytest exits 5 when it collected no tests: for us that is a failure, not a pass.
test: $(INSTALLED)
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest ran no tests" >&2; exit 1; fi; \
	exit $$status

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

# The performance measurements of DESIGN.md section 6 on PostgreSQL (bench/__main__.py says
# which variables it reads: HEARTH_BENCH_DATABASE_URL, BENCH_SCALE, BENCH_ONLY, ...).
.PHONY: bench
bench: $(INSTALLED)
	@$(PY) -m bench
