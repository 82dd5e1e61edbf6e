# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ROOT := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
STAMP := $(VENV)/.installed-$(shell cksum $(ROOT)pyproject.toml | cut -d' ' -f1)
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# The PostgreSQL benches drop and rebuild this database's public schema: one of its own.
BENCH_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench

.PHONY: install run test test-sqlite test-pg lint bench clean browser screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Exit 3: `loopstrat dev` started nothing and has said why in one line (a port in use, say).
run: install
	@trap : INT; $(BIN)/loopstrat dev || [ $$? -eq 3 ]

# The browser tests drive Debian's chromium: Playwright never downloads a browser of its own.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if [ ! -x $(CHROMIUM) ] || ! command -v chromedriver >/dev/null; then \
	  echo "installing Debian's chromium and chromium-driver (apt-get)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver \
	  || { echo "ERROR: could not install chromium with apt-get: the browser tests cannot run" >&2; exit 1; }; \
	fi
	@[ -x $(CHROMIUM) ] || { echo "ERROR: $(CHROMIUM) missing after apt-get" >&2; exit 1; }

# The suite on SQLite; with TEST_DATABASE_URL set, on that database instead.
test: install browser
	@echo "tests on database: $${TEST_DATABASE_URL:-sqlite (temporary file)}"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-pg: install browser
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The README's pictures of the dashboard, taken by the browser tests at 375 px and 1280 px.
screenshots: install browser
	SAVE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser -k "phone_and_desktop" -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/speed_to_lead.py
	WEB_CONCURRENCY=2 $(BIN)/python bench/speed_to_lead.py --database $(BENCH_PG_URL)
	$(BIN)/python bench/airtable_sync.py
	$(BIN)/python bench/intake_flood.py
	$(BIN)/python bench/speed_to_lead.py burst
	$(BIN)/python bench/speed_to_lead.py burst --database $(BENCH_PG_URL)
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/dashboard.py --database $(BENCH_PG_URL)
	$(BIN)/python bench/campaign_fanout.py
	$(BIN)/python bench/campaign_fanout.py --database $(BENCH_PG_URL)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
