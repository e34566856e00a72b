# Each target installs what it needs first (a virtualenv in .venv), so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= var/demo

.PHONY: setup demo test lint bench bench-repeat bench-kill bench-load bench-load-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/transitions demo --out $(DEMO_DIR) --replace

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

# Every figure beside its floor, measured in one run (about 5 min on 2 cores): writes bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py

# Is each ratio repeatable? Two runs in a row, compared ratio by ratio (bench/REPEAT.md; exit 1 past 15%).
bench-repeat: $(STAMP)
	mkdir -p var/bench-first
	$(BIN)/python bench/run.py --out var/bench-first/RESULTS.md
	$(BIN)/python bench/run.py
	$(BIN)/python bench/compare.py var/bench-first/results.json bench/results.json --markdown bench/REPEAT.md

# Crash safety of delivery under 100 SIGKILLs (slow): writes bench/RESULTS-kill.md.
bench-kill: $(STAMP)
	$(BIN)/python bench/kill.py

# The real portal (2 workers, PostgreSQL from TEST_DATABASE_URL) under 50 and 100 simulated people at 100 and
# 1,000 pilots while ticks run, beside a bare FastAPI endpoint (8–20 min): writes bench/RESULTS-load.md.
bench-load: $(STAMP)
	$(BIN)/python bench/load.py

# The same at 10 pilots and 6 people (a smoke check): writes var/bench-load-quick/, drops what it built.
bench-load-quick: $(STAMP)
	$(BIN)/python bench/load.py --quick

clean:
	rm -rf $(VENV) var build *.egg-info
