# blindmark developer entry points. `make demo` and `make test` are the README quick start.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MO     := web/translations/zh_Hans_CN/LC_MESSAGES/messages.mo
# The PostgreSQL pass of the suite; CI sets CI=1, and then a missing server fails the run.
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: setup fonts demo test lint typecheck test-sqlite test-postgres test-slow browser bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The web's message catalogs, built from web/translations/*.json (generated, not committed).
$(MO): $(STAMP) web/translations/zh_CN.json $(wildcard web/templates/*.html web/templates/*/*.html web/*.py)
	$(BIN)/python -m web.i18n --check

setup: $(STAMP) $(MO) fonts

## What the reports need from Debian: Noto Sans CJK (embedded in every PDF), HarfBuzz's subsetter
## (WeasyPrint subsets the embedded fonts with it) and pdftoppm
## (poppler-utils, for the test that rasterizes a page). Installed only when missing, and
## only as root; otherwise it says what to install.
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
fonts:
	@missing=""; \
	[ -f $(CJK_FONT) ] || [ -n "$$BLINDMARK_CJK_FONT_DIR" ] || missing="$$missing fonts-noto-cjk"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	ls /usr/lib/*/libharfbuzz-subset.so.0 >/dev/null 2>&1 || missing="$$missing libharfbuzz-subset0"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing for the reports:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "the reports need:$$missing (sudo make fonts, or apt-get install$$missing)" >&2; \
		fi; \
	fi

## The main job: seed demo sessions on the SQLite default (./instance/) and serve them on
## http://127.0.0.1:8000/, printing the demo accounts. `blindmark demo` is the engine's flow.
demo: setup
	$(BIN)/blindmark serve --demo --host 127.0.0.1 --port 8000

## Lint, types, then the suite on SQLite and on PostgreSQL.
test: lint typecheck test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test-sqlite: setup
	$(BIN)/pytest

test-postgres: setup
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		BLINDMARK_TEST_DATABASE_URL='$(PG_TEST_URL)' $(BIN)/pytest; \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) is unreachable and CI is set: failing, not skipping." >&2; exit 1; \
	else \
		echo "PostgreSQL at $(PG_TEST_URL) is unreachable: PostgreSQL pass NOT run (set PG_TEST_URL)." >&2; \
	fi

## The browser tests alone (Playwright driving Debian's chromium; `apt-get install chromium`
## first: Playwright's own browser download is never used). Screenshots: test-output/screenshots/.
browser: setup
	$(BIN)/pytest tests/browser

## Only the slow tests (concurrency under load; part of `make test` too), on both databases.
test-slow: $(STAMP)
	$(BIN)/pytest -m slow
	BLINDMARK_TEST_DATABASE_URL='$(PG_TEST_URL)' $(BIN)/pytest -m slow

bench: $(STAMP)
	$(BIN)/python bench/intake.py --quick
	$(BIN)/python bench/queue.py --quick
	$(BIN)/python bench/publish.py --quick
	$(BIN)/python bench/reports.py --quick
	$(BIN)/python bench/http.py --quick
	$(BIN)/python bench/handback.py --quick
	$(BIN)/python bench/pace.py --quick

clean:
	rm -rf $(VENV) instance test-output .pytest_cache .mypy_cache .ruff_cache
