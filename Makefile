# Gears: every task a developer or CI runs. `make run` starts the shop locally, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .sam-venv
SAM := $(SAM_VENV)/bin/sam
STAMP := $(VENV)/.installed

.PHONY: install run test test-unit test-functional test-e2e lint bench build validate clean

$(STAMP): pyproject.toml shared/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (the Lambda runtime is python3.11)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## the development environment in .venv

run: $(STAMP) ## the whole shop on this machine: moto cloud, local API on :3000, demo data
	$(VENV)/bin/gears local

test: $(STAMP) ## every test: unit, functional, end-to-end (the e2e tier starts its own local runtime)
	$(PY) -m pytest -n 2 --dist loadgroup

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

test-functional: $(STAMP)
	$(PY) -m pytest tests/functional

test-e2e: $(STAMP)
	$(PY) -m pytest tests/e2e

bench: $(STAMP) ## benchmarks; results in bench/results/
	$(PY) -m gears.bench

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .gears
