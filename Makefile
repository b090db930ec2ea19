# Two commands on a fresh machine with Python 3.11+:  make demo  ·  make test
# Each creates (once) its own virtualenv in .venv and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit bench eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "claimwatch needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,postgres]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/claimwatch demo

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check bot adapters storage tests bench
	$(BIN)/ruff format --check bot adapters storage tests bench
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.ingest_workers
	$(BIN)/python -m bench.soak
	$(BIN)/python -m bench.scale_queries

# Quality on real text: replay the labelled dev set (../shared/eval/dev) and print the scorer's table.
eval: $(STAMP)
	$(BIN)/python -m bench.dev_eval --verbose

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
