# `make run`: set everything up and serve the portal with SQLite and demo data on http://127.0.0.1:5000.
# `make test`: set everything up and run every check (ruff, SQLite, PostgreSQL, headless Chromium).
# Both install what is missing (Debian packages, the virtualenv) and are safe to run again.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
DEV := PORTAL_ENV=development
HOST ?= 127.0.0.1
PORT ?= 5000
BENCH_ARGS ?=

.PHONY: help setup system-packages venv translations run test lint bench clean

help:
	@echo "make run    set up, migrate, seed the demo data and serve http://$(HOST):$(PORT)"
	@echo "make test   set up and run ruff, the tests on SQLite and PostgreSQL, and the browser tests"
	@echo "            (TEST_ARGS=\"--only sqlite,postgres -x -k login\" narrows it)"
	@echo "make setup  install missing system packages, the virtualenv and compiled translations"
	@echo "make lint   ruff check"
	@echo "make bench  load benchmark: gunicorn + PostgreSQL + national dataset, pages, PDFs, deadline day"
	@echo "            (BENCH_ARGS=\"--scale 1 --duration 10 --deadline-minutes 2\" for a quicker run)"
	@echo "make clean  remove the virtualenv, caches and compiled translations"

setup: system-packages venv translations

system-packages:
	@scripts/install-system-packages

venv: $(STAMP)

# Re-installed only when pyproject.toml changes (or the virtualenv is missing or broken).
$(STAMP): pyproject.toml
	@if ! $(BIN)/python -c "import sys" >/dev/null 2>&1; then \
		echo "creating $(VENV)"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

translations: venv
	@if [ -d portal/translations ]; then $(BIN)/pybabel --quiet compile -d portal/translations -f; fi

run: setup
	$(DEV) $(BIN)/flask --app wsgi db upgrade
	$(DEV) $(BIN)/flask --app wsgi seed-demo
	$(DEV) $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

# TEST_ARGS passes on, e.g. make test TEST_ARGS="--only sqlite -x -k login"
test: setup
	@$(BIN)/python scripts/run-tests $(TEST_ARGS)

lint: venv
	$(BIN)/ruff check .

# BENCH_ARGS passes on to bench/run.py, e.g. make bench BENCH_ARGS="--scale 1 --deadline-minutes 2"
bench: setup
	@$(BIN)/python -c "import locust" >/dev/null 2>&1 || \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	scripts/with-postgres $(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .hypothesis bench/results
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
	if [ -d portal/translations ]; then find portal/translations -name '*.mo' -delete; fi
