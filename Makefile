# Two commands matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench bench-scale drill stop clean-var

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## Start the whole IOC with the demo city (embedded PostgreSQL and Redis unless configured).
run: $(STAMP)
	$(BIN)/python manage.py runall

## Run the whole test suite against real PostgreSQL and Redis.
test: export IOC_VAR_DIR ?= $(CURDIR)/var/test
test: export IOC_CHANNEL_PREFIX ?= ioc-test
test: export IOC_CELERY_QUEUE ?= ioc-test
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

## The screens on a year of data: 1M reports, 5M camera events, 1M dossiers (docs/scale.md).
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

## Kill Redis and PostgreSQL under load and show that everything heals (docs/operations.md).
drill: $(STAMP)
	$(BIN)/python -m bench.drill $(DRILL_ARGS)

## Stop the embedded PostgreSQL and Redis if something left them running.
stop: $(STAMP)
	$(BIN)/python -c "from ioc import embedded; embedded.stop_all()"
	IOC_VAR_DIR=var/test $(BIN)/python -c "from ioc import embedded; embedded.stop_all()"
	IOC_VAR_DIR=var/drill $(BIN)/python -c "from ioc import embedded; embedded.stop_all()"
