# Two commands matter: `make run` and `make test`. Everything else is a helper.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

## run: install into .venv, load the real sample into ./var/catchment.db on first start, serve on :8000
run: $(STAMP)
	$(VENV)/bin/catchment serve --host 127.0.0.1 --port 8000

## test: layer contracts, lint, types, then the whole suite (PostGIS tests skip locally when no server; never in CI)
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check geo maps service tests bench
	$(VENV)/bin/mypy
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check geo maps service tests bench
	$(VENV)/bin/mypy

## bench: benchmarks against peers measured in the same run (see bench/README.md)
bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,bench]"
	$(VENV)/bin/catchment bench

clean:
	rm -rf var .pytest_cache
