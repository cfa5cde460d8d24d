# Connect Bucket Lockdown. `make demo` and `make test` each set up .venv on their own.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help venv lint typecheck cfn-lint test unit component integration demo sandbox sam build deploy clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The virtualenv itself first: the one checkov installs into lives inside it (`make test` installs both at once).
$(VENV)/pyvenv.cfg:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "error: $(PYTHON) is older than Python 3.11; run with PYTHON=python3.13 (or another 3.11+)"; exit 1; }
	@echo "Setting up $(VENV) with $$($(PYTHON) --version) (first run takes about a minute)"
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/pyvenv.cfg requirements-dev.txt layers/lockdown/requirements.txt pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv with the development tools

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy over the library, the function, tests and scripts
	$(BIN)/mypy layers/lockdown/connect_lockdown functions/enforcer functions/initial_sweep tests scripts devtools

# One Region of every partition the template claims (its ARN parameters accept aws, aws-cn and aws-us-gov): a
# resource type or property missing in one of them fails here. The Slack channel (AWS Chatbot exists only in the
# aws partition) is a nested template, linted for the aws partition. cfn-lint follows every Condition both ways,
# so both profiles (default and lean) are linted.
CFN_LINT_REGIONS := us-east-1 us-gov-west-1 cn-north-1

#
# cfn-lint 1.x does not run the SAM transform: it checks AWS::Serverless::* resources against SAM's schema only,
# so a reference to a missing resource inside a function (its environment, its event patterns) passes. The
# template is therefore also linted as the SAM transform expands it (devtools/sam.py, aws-sam-translator), where
# the functions and their rules are plain resources. W3002 there: the nested templates are local files.
SAM_TRANSFORMED := $(VENV)/template-sam.json
NESTED_LINTED   := $(filter-out nested/slack-channel.yaml,$(wildcard nested/*.yaml))

cfn-lint: $(STAMP) ## cfn-lint on template.yaml, as written and after the SAM transform, and its nested templates
	$(BIN)/cfn-lint --regions $(CFN_LINT_REGIONS) -- template.yaml $(NESTED_LINTED)
	$(BIN)/python -m devtools.sam template.yaml $(SAM_TRANSFORMED)
	$(BIN)/cfn-lint --regions $(CFN_LINT_REGIONS) --ignore-checks W3002 -- $(SAM_TRANSFORMED)
	$(BIN)/cfn-lint --regions us-east-1 -- nested/slack-channel.yaml

# checkov pins an older boto3 than the dev tools, so it gets its own virtualenv inside .venv. It skips
# resources whose Condition is false with the default parameters (the trail, Slack, email), so it also
# scans a copy of the template with every resource's Condition removed. Suppressions are inline, in each
# resource's Metadata, with their reason.
#
# checkov does not evaluate Fn::If, so each profile is also scanned as it deploys (devtools/cfn.py
# resolves the conditions and intrinsics for the given parameters), with every optional resource on:
#   - the default profile (a KMS key of the stack) and an existing key: no suppression beyond the inline ones;
#   - the lean profile (Encryption=aws-owned, Alarms=dead-letters), with these checks skipped because the
#     profile chooses AWS owned encryption on purpose (docs/cost.md):
#       CKV_AWS_26  SNS topics without SSE: SNS has no AWS owned key, and CloudWatch alarms cannot publish to a
#                   topic under the AWS managed key aws/sns; SNS still stores messages on encrypted disks.
#       CKV_AWS_27  the queue uses SSE-SQS (SqsManagedSseEnabled); checkov's check only knows KmsMasterKeyId.
#       CKV_AWS_158 the log groups use CloudWatch Logs' default encryption at rest.
#       CKV_AWS_119 the table uses DynamoDB's AWS owned key.
#       CKV_AWS_35  the trail's log files use SSE-S3, CloudTrail's default.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := $(VENV)/checkov
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
CHECKOV         := $(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation
ALL_RESOURCES   := $(VENV)/template-all-resources.json
EVERY_OPTION    := NotificationEmail=security@example.com CreateTrail=true SlackWorkspaceId=T0123ABCD \
	SlackChannelId=C0123ABCD EnableSecurityHub=true DashboardRegion=eu-west-1
EXISTING_KEY    := arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
LEAN_SKIPS      := CKV_AWS_26,CKV_AWS_27,CKV_AWS_158,CKV_AWS_119,CKV_AWS_35

$(CHECKOV_STAMP): | $(VENV)/pyvenv.cfg
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	@touch $@

.PHONY: checkov
checkov: $(STAMP) $(CHECKOV_STAMP) ## checkov on template.yaml (offline), with every optional resource on, per profile
	$(BIN)/python -c 'import json, sys; from cfnlint.decode import cfn_yaml; t = cfn_yaml.load(sys.argv[1]); \
		[r.pop("Condition", None) for r in t["Resources"].values()]; json.dump(t, open(sys.argv[2], "w"), indent=1)' \
		template.yaml $(ALL_RESOURCES)
	$(BIN)/python -m devtools.cfn --deployed template.yaml $(VENV)/template-default.json $(EVERY_OPTION)
	$(BIN)/python -m devtools.cfn --deployed template.yaml $(VENV)/template-existing-key.json $(EVERY_OPTION) \
		Encryption=existing-key EncryptionKeyArn=$(EXISTING_KEY)
	$(BIN)/python -m devtools.cfn --deployed template.yaml $(VENV)/template-lean.json $(EVERY_OPTION) \
		Encryption=aws-owned Alarms=dead-letters
	$(CHECKOV) --file template.yaml --file $(ALL_RESOURCES) --file $(VENV)/template-default.json \
		--file $(VENV)/template-existing-key.json $(addprefix --file ,$(wildcard nested/*.yaml))
	$(CHECKOV) --file $(VENV)/template-lean.json --skip-check $(LEAN_SKIPS)

# The checks run CHECK_JOBS at a time (the two virtualenvs install side by side, then the linters), each one's
# output kept together; the tests then run in one process per core (pytest-xdist). PYTEST_WORKERS=0 and
# CHECK_JOBS=1 run everything in this process, in order.
CHECK_JOBS     ?= 2
PYTEST_WORKERS ?= auto
# Each check's output together where make can (GNU make 4; macOS ships 3.81, which interleaves it).
OUTPUT_SYNC    := $(if $(filter output-sync,$(.FEATURES)),--output-sync=target)

.PHONY: checks
checks: lint typecheck cfn-lint checkov ## Lint, type checks, cfn-lint and checkov

test: ## Lint, type checks, cfn-lint, checkov and every test (unit and integration on moto)
	@$(MAKE) --no-print-directory --jobs=$(CHECK_JOBS) $(OUTPUT_SYNC) checks
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

unit: $(STAMP) ## Only the pure tests: no AWS, no moto
	$(BIN)/python -m pytest tests/unit

component: $(STAMP) ## The library and the handler on in-process moto
	$(BIN)/python -m pytest tests/component

integration: $(STAMP) ## Only the tests over HTTP against a moto server on 127.0.0.1
	$(BIN)/python -m pytest tests/integration

demo: $(STAMP) ## The whole story on an embedded AWS (moto): lock, restore, quiet, dry run, command line
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

sandbox: $(STAMP) ## An embedded AWS (moto) with a small Connect estate to try the command line on; Ctrl-C stops it
	@$(BIN)/python scripts/sandbox.py

# Reliability at soak scale (docs/reliability.md): 20,000 examples per property, 100,000 hostile events, 40
# throttling rounds, 10 concurrency rounds. Not part of `make test`, which runs the same tests at its own
# scale; `make soak SOAK_PROFILE=default` prints the figures of that scale. RELIABILITY_SEED=<n> replays a run.
SOAK_PROFILE ?= soak
SOAK_FIGURES := $(VENV)/reliability-figures.jsonl
SOAK_TESTS   := tests/reliability/test_reliability_properties.py tests/reliability/test_policy_regressions.py \
	tests/reliability/test_hostile_events.py tests/reliability/test_faults.py tests/integration/test_faults_http.py \
	tests/integration/test_concurrency.py

.PHONY: soak
soak: $(STAMP) ## Reliability tests at soak scale (about an hour); prints the figures of docs/reliability.md
	rm -f $(SOAK_FIGURES)
	HYPOTHESIS_PROFILE=$(SOAK_PROFILE) RELIABILITY_FIGURES=$(SOAK_FIGURES) $(BIN)/python -m pytest $(SOAK_TESTS)
	@cat $(SOAK_FIGURES)

# Benchmarks (docs/benchmarks.md): their own virtualenv inside .venv, so that they can run on another Python
# than the project's. Not part of `make test`. Lambda runs python3.13: `make bench BENCH_PYTHON=python3.13`
# measures on the same minor version.
BENCH_PYTHON ?= $(PYTHON)
BENCH_VENV   := $(VENV)/bench
BENCH_STAMP  := $(BENCH_VENV)/.installed-stamp

$(BENCH_STAMP): requirements-dev.txt layers/lockdown/requirements.txt
	$(BENCH_PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

.PHONY: bench
bench: $(BENCH_STAMP) ## Benchmarks (about 6 min): rewrites docs/benchmarks.md
	SAM="$(SAM)" $(BENCH_VENV)/bin/python -m bench $(BENCH_ARGS)

# The cost model (docs/cost.md): list prices in bench/prices.json times counts from the bench's results and the
# template evaluated per profile. Rewrites the generated tables of docs/cost.md; tests/infra/test_cost.py fails
# while they are stale.
.PHONY: cost
cost: $(STAMP) ## Rewrite docs/cost.md's tables from bench/prices.json, the bench results and the template
	$(BIN)/python -m bench.cost

# The AWS SAM CLI is not a project dependency: it pins its own boto3, so `make sam` gives it its own virtualenv,
# made with Python 3.13 when one is found. That virtualenv's python3.13 then also serves `sam build`, which
# builds for the python3.13 runtime and compiles the layer's bytecode with it. A `sam` on PATH wins.
SAM_CLI_VERSION ?= 1.170.0
SAM_VENV        := $(VENV)/sam
SAM_PYTHON      ?= $(shell for p in python3.13 $(PYTHON); do $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
	2>/dev/null && { echo $$p; break; }; done)
# The stamp names the SAM CLI version and the Python it was installed with: another SAM_PYTHON installs again.
SAM_STAMP       := $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)-$(subst /,_,$(or $(SAM_PYTHON),$(PYTHON)))
SAM             ?= $(or $(shell command -v sam 2>/dev/null),$(wildcard $(abspath $(SAM_VENV))/bin/sam))
SAM_INSTALL_URL := https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html

$(SAM_STAMP):
	@if [ -n "$(SAM_PYTHON)" ]; then echo "Setting up $(SAM_VENV) with $$($(SAM_PYTHON) --version)"; else \
		echo "warning: no Python 3.13 found (set SAM_PYTHON=/path/to/python3.13); using $(PYTHON). sam build will"; \
		echo "         still need python3.13 on PATH, for the python3.13 runtime"; fi
	rm -f $(SAM_VENV)/.installed-*
	$(or $(SAM_PYTHON),$(PYTHON)) -m venv --clear $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	@touch $@
	@echo "Installed: $$($(SAM_VENV)/bin/sam --version) in $(SAM_VENV)/bin/sam"

sam: $(SAM_STAMP) ## Install the AWS SAM CLI into .venv/sam (for build and deploy; with Python 3.13 if found)

# Without a SAM CLI, build and deploy say what to do and fail.
define require_sam
	@if [ -z "$(SAM)" ] || ! command -v "$(SAM)" >/dev/null 2>&1; then \
		echo "error: the AWS SAM CLI is not installed: no sam on PATH and no $(SAM_VENV)/bin/sam." >&2; \
		echo "  Run 'make sam' (installs it into $(SAM_VENV)), then 'make $(or $(MAKECMDGOALS),$@)' again;" >&2; \
		echo "  or install it yourself ($(SAM_INSTALL_URL)), or pass SAM=/path/to/sam." >&2; \
		exit 2; fi
endef

# sam build checks that a `python3.13` is on PATH before it builds for the python3.13 runtime. LAYER_PYTHON (a
# Python 3.13 under any name) is put first on PATH under that name, and the layer's Makefile builds with it;
# otherwise .venv/sam/bin (made with Python 3.13 when one was found) comes first.
LAYER_PYTHON ?=
LAYER_SHIM   := $(VENV)/layer-python

build: ## sam build, without Docker (needs the AWS SAM CLI: make sam; or LAYER_PYTHON=/path/to/python3.13)
	$(require_sam)
ifneq ($(strip $(LAYER_PYTHON)),)
	@command -v "$(LAYER_PYTHON)" >/dev/null 2>&1 || { echo "error: LAYER_PYTHON=$(LAYER_PYTHON) is not a program" >&2; exit 2; }
	mkdir -p $(LAYER_SHIM) && ln -sf "$$(command -v "$(LAYER_PYTHON)")" $(LAYER_SHIM)/python3.13
	PATH="$(abspath $(LAYER_SHIM)):$(abspath $(SAM_VENV))/bin:$$PATH" LAYER_PYTHON=python3.13 $(SAM) build
else
	PATH="$(abspath $(SAM_VENV))/bin:$$PATH" $(SAM) build
endif

deploy: build ## sam deploy (needs the AWS SAM CLI and AWS credentials); first time: sam deploy --guided
	$(require_sam)
	$(SAM) deploy

clean: ## Remove .venv, .aws-sam and caches
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
