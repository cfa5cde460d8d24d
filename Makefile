# Connect Bucket Lockdown. `make demo` and `make test` each set up .venv on their own.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SAM    ?= sam

.DEFAULT_GOAL := help
.PHONY: help venv lint typecheck cfn-lint test unit integration demo build deploy clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt layers/lockdown/requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "error: $(PYTHON) is older than Python 3.11; run with PYTHON=python3.13 (or another 3.11+)"; exit 1; }
	@echo "Setting up $(VENV) with $$($(PYTHON) --version) (first run takes about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv with the development tools

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy over the library, the function, tests and scripts
	$(BIN)/mypy layers/lockdown/connect_lockdown functions/enforcer tests scripts

cfn-lint: $(STAMP) ## cfn-lint on template.yaml
	$(BIN)/cfn-lint template.yaml

test: lint typecheck cfn-lint ## Lint, type checks and every test (unit and integration on moto)
	$(BIN)/python -m pytest

unit: $(STAMP) ## Only the tests that need no socket
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP) ## Only the tests over HTTP against a moto server on 127.0.0.1
	$(BIN)/python -m pytest tests/integration

demo: $(STAMP) ## The whole story on an embedded AWS (moto): lock, restore, quiet, dry run
	$(BIN)/python scripts/demo.py

build: ## sam build without Docker (needs the AWS SAM CLI and python3.13 on PATH)
	$(SAM) build

deploy: build ## sam deploy (needs the AWS SAM CLI and AWS credentials); first time: sam deploy --guided
	$(SAM) deploy

clean: ## Remove .venv, .aws-sam and caches
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
