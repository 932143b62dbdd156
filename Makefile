# The front door: `make run`, `make test`, `make lint`.
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run seed test lint format migrate check clean bench load

help:
	@echo "make run     install, migrate, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make seed    install, migrate and load the Acme CRM demo into an empty database"
	@echo "make test    install and run the whole test suite"
	@echo "make lint    ruff lint and format check, and the apps' import layers"
	@echo "make bench   time pages, writes, reports and API at 10,000 and 100,000 executions"
	@echo "make load    a crowd of simulated testers against gunicorn for a fixed time"
	@echo "make format  apply ruff formatting and safe fixes"
	@echo "make clean   remove the virtual environment and caches"

# The virtual environment is rebuilt only when a requirements file changes,
# so a second `make run` or `make test` starts at once.
$(STAMP): requirements/base.txt requirements/dev.txt scripts/find-python
	@interpreter=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then \
		echo "Creating $(VENV) with $$interpreter"; \
		rm -rf $(VENV); "$$interpreter" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

# The demo goes only into a database without products, so `make run` never touches
# data someone entered.
seed: migrate
	$(PY) manage.py seed_demo --if-empty

# HOST and PORT reach the settings too: emailed links follow them unless SITE_URL is set.
run: seed
	@HOST=$(HOST) PORT=$(PORT) $(PY) manage.py demo_logins
	HOST=$(HOST) PORT=$(PORT) $(PY) manage.py runserver $(HOST):$(PORT)

# axe-core for the accessibility check (tests/browser/test_accessibility.py), pinned in
# tests/browser/axe/package-lock.json. Without npm the check skips (and fails in CI).
AXE := tests/browser/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/axe/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/browser/axe --no-audit --no-fund --ignore-scripts; \
	else echo "npm not found: the accessibility check will be skipped"; fi

test: install $(AXE)
	$(PY) -m pytest $(PYTEST_ARGS)

# The benchmark empties and migrates its own database: bench.sqlite3, or DATABASE_URL
# when it names one for benchmarking. It is not part of `make test`.
bench: install
	$(PY) -m bench

load: install
	$(PY) -m bench.load

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
