# Itsmo: `make demo` runs it, `make test` tests it. Everything else is a helper of those two.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ITSMO := $(BIN)/itsmo
export ITSMO_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Test files spread over one process per core (pytest-xdist); TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: install demo test lint test-sqlite test-postgres bench messages clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Migrate, load the demo organisation into an empty database, serve it with the worker.
# Options pass through: make demo DEMO_ARGS="--scale medium --bind 0.0.0.0:8000"
demo: install
	$(ITSMO) demo $(DEMO_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	ITSMO_VAR_DIR=$$(mktemp -d) $(ITSMO) makemigrations --check --dry-run

# The whole-file imports of the real data sets (marker `slow`, minutes each) run once: on
# the PostgreSQL leg, or on SQLite when no PostgreSQL answers (scripts/postgres_leg.py).
test-sqlite: install
	ITSMO_DATABASE_URL= $(PYTEST) -m "not slow"

test-postgres: install
	$(BIN)/python scripts/postgres_leg.py $(PYTEST)

test: lint test-sqlite test-postgres

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

messages: install
	cd src/itsmo && ../../$(ITSMO) makemessages -l es -l pt --no-obsolete && ../../$(ITSMO) compilemessages

clean:
	rm -rf $(VENV) var build *.egg-info src/*.egg-info
