# Tepat — the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit infra-up infra-down infra-status bench chaos clean-data schemas

## Serve the whole system from one process (embedded mode) on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/tepat serve

## Lint, type-check and run every test against real PostgreSQL and Kafka (started here if needed)
test: $(STAMP)
	@if [ -n "$$TEPAT_TEST_PG_ADMIN_URL" ] && [ -n "$$TEPAT_TEST_KAFKA_BOOTSTRAP" ]; then \
		echo "using the servers in TEPAT_TEST_PG_ADMIN_URL and TEPAT_TEST_KAFKA_BOOTSTRAP"; \
	else bash deploy/scripts/infra.sh up; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

## Tests that need no servers
unit: $(STAMP)
	$(BIN)/pytest tests/unit tests/deploy

infra-up:
	bash deploy/scripts/infra.sh up

infra-down:
	bash deploy/scripts/infra.sh down

infra-status:
	bash deploy/scripts/infra.sh status

## Benchmarks (see bench/README.md); results go to bench/out/ and are summarised in bench/RESULTS.md
bench: $(STAMP)
	bash deploy/scripts/infra.sh up
	$(BIN)/python -m bench.events_pipeline
	$(BIN)/python -m bench.registry_import
	$(BIN)/python -m bench.verification_campaign
	$(BIN)/python -m bench.disbursement_bench
	$(BIN)/python -m bench.gateway_overhead
	$(BIN)/python -m bench.dci_search

## Chaos run: 20,000 families through the pipeline under >= 20 random faults, on its own PostgreSQL and Kafka
## cluster (never the test servers); figures in bench/out/ and bench/RESULTS.md
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos --families 20000 --faults 20

## Publish the JSON Schemas of every event type into shared/events/schemas/
schemas: $(STAMP)
	$(BIN)/tepat schemas --out shared/events/schemas

clean-data:
	rm -rf data

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)
