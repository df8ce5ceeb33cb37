# Each target installs what it needs into $(VENV) first (a fresh clone needs nothing else but python3).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test fuzz lint openapi bench-timeline

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the service with demo data (embedded PostgreSQL unless DATABASE_URL is set) and print how to call it.
demo: $(STAMP)
	$(BIN)/poortwachter serve --demo

serve: $(STAMP)
	$(BIN)/poortwachter serve

## The whole test suite against real PostgreSQL (DATABASE_URL's server, or the embedded one).
test: $(STAMP)
	$(BIN)/python -m pytest

## A longer property-based run of the whole API (schemathesis) than the bounded one in `make test`.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest tests/api/test_fuzz.py -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check app tests migrations bench
	$(BIN)/mypy app
	$(BIN)/poortwachter openapi --check

openapi: $(STAMP)
	$(BIN)/poortwachter openapi

bench-timeline: $(STAMP)
	$(BIN)/python bench/timeline.py
