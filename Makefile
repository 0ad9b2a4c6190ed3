# Gears: every task a developer or CI runs. `make run` starts the shop locally, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .sam-venv
SAM := $(SAM_VENV)/bin/sam
STAMP := $(VENV)/.installed
# SAM CLI pins its own boto3, so it lives in its own venv; the stamp carries the version so a bump reinstalls.
SAM_CLI_VERSION := 1.170.0
SAM_STAMP := $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)
REGION ?= us-east-1
# No telemetry calls home from CI or a developer's machine.
export SAM_CLI_TELEMETRY := 0


.PHONY: openapi demo-data segments evaluate web browser
.PHONY: install run test test-unit test-functional test-e2e lint lint-ruff lint-types validate build bench chaos load clean

$(STAMP): pyproject.toml shared/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (the Lambda runtime is python3.11)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(SAM_STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	test -d $(SAM_VENV) || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet 'aws-sam-cli==$(SAM_CLI_VERSION)'
	rm -f $(SAM_VENV)/.installed-*
	touch $(SAM_STAMP)

install: $(STAMP) ## the development environment in .venv

# The storefront and admin console (web/): Node's packages from the lock file, the API's types generated from
# docs/openapi.json, type-checked and built into web/dist, which `make run` serves at the gateway's address.
WEB_STAMP := web/node_modules/.installed
$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "needs Node.js 20.19+ and npm for the storefront (web/)"; exit 1; }
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

web: $(WEB_STAMP) ## build the storefront and admin console into web/dist
	cd web && npm run build

# The browser tests drive Debian's chromium through playwright-core (Playwright's own browser download is never used).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser: ## Debian's chromium, for the browser tests
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; }

# `make run ARGS="--port 3300 --settle"` passes flags to `gears local` (see `.venv/bin/gears local --help`).
ARGS ?=
run: $(STAMP) web ## the whole shop on this machine: moto cloud, local API and the storefront on :3000, demo data
	$(VENV)/bin/gears local $(ARGS)

test: $(STAMP) web browser ## every test: unit and functional on two workers, then e2e, browser and security against one local shop
	$(PY) -m pytest -n 2 tests/unit tests/functional
	$(PY) -m pytest --durations=20 tests/e2e tests/security

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

test-functional: $(STAMP)
	$(PY) -m pytest tests/functional

test-e2e: $(STAMP) web browser
	$(PY) -m pytest tests/e2e

# `make -k lint` carries on past a failing check and reports every one (CI does that).
lint: lint-ruff lint-types validate build ## every static check: ruff, mypy, sam validate --lint, cfn-lint (+serverless rules), sam build

lint-ruff: $(STAMP)
	$(VENV)/bin/ruff check .

lint-types: $(STAMP) ## mypy; which files and how strictly is in pyproject.toml
	$(VENV)/bin/mypy

validate: $(STAMP) $(SAM_STAMP) ## the template: SAM's own validation with cfn-lint, then cfn-lint with the serverless rules
	$(SAM) validate --lint --region $(REGION) --template-file template.yaml
	$(VENV)/bin/cfn-lint --regions $(REGION) -a cfn_lint_serverless.rules -- template.yaml

# No container: the layer and functions are built with the host's python3.11 (the .venv's, first on PATH), which
# is the Lambda runtime's version; pure-Python wheels or manylinux x86_64 wheels only.
build: $(STAMP) $(SAM_STAMP) ## sam build into .aws-sam/build (what sam deploy uploads)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SAM) build --parallel --cached --language-extensions --template-file template.yaml --build-dir .aws-sam/build

openapi: $(STAMP) ## regenerate docs/openapi.json from the resolvers and the template
	$(PY) -m gears.openapi

# Each service's demo data, derived from the dataset in data/ and shipped in its function's bundle (the catalog's
# first: inventory's opening stock is for the catalog's products). A unit test fails when a file is stale.
DATASET := data/online-retail/online-retail-sample.csv
demo-data: $(STAMP) ## regenerate the services' demo data files from $(DATASET)
	PYTHONPATH=shared:functions/ecommerce $(PY) -m ecommerce.catalog.demo $(DATASET)
	PYTHONPATH=shared:functions/inventory $(PY) -m inventory.demo $(DATASET) functions/ecommerce/ecommerce/catalog/demo_products.csv
	$(PY) -m gears.backfill --csv $(DATASET) --demo-file functions/orders/orders/demo_history.jsonl.gz

# The CRM's RFM segments (functions/crm/crm/rfm.py, the shop's own scoring) over the dataset's customers; the table
# and what a retailer reads in it are in docs/crm.md.
segments: $(STAMP) ## each RFM segment's size and revenue share over $(DATASET)
	PYTHONPATH=shared:functions/crm $(PY) -m crm.dataset $(DATASET)

bench: $(STAMP) web ## benchmarks; results in bench/results/ (latest.md, search.md, web.md, and the evaluations)
	$(PY) -m gears.bench
	$(PY) -m gears.bench_search
	$(PY) -m gears.bench_web
	$(MAKE) evaluate

# The evaluations on $(DATASET): recommendations (hit rate and recall at 10 against most-popular, trained before a
# cut-off) and the sales forecast (rolling origins over the last eight weeks against seasonal-naive). Each writes its
# table to bench/results/ (recommendations.md, forecast.md); docs/recommendations.md and docs/analytics.md say what
# the figures mean.
evaluate: $(STAMP) ## the recommendation and forecast evaluations on $(DATASET)
	$(PY) -m gears.eval_recommendations --csv $(DATASET)
	$(PY) -m gears.eval_forecast --csv $(DATASET)

chaos: $(STAMP) ## the long chaos run on a shop of its own (300 invoices under faults, then gears check); bench/results/chaos.md
	$(PY) -m gears.chaos

# `make load ARGS="--customers 16 --seconds 120"` changes the load.
load: $(STAMP) ## the load test on a shop of its own (8 customers and an admin for 60 s, then gears check); bench/results/load.md
	$(PY) -m gears.load $(ARGS)

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .gears
