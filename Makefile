# Two commands on a fresh machine: `make serve` (the API on this machine) and `make test`.
# Both create .venv on first use, with Python 3.13 (Lambda's runtime), the one Python of the project.

SHELL := /bin/bash
export SAM_CLI_TELEMETRY := 0
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000

# A Python 3.13 that runs: on PATH, or in pyenv's versions.
PYTHON ?= $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null \
	&& { command -v $$p; break; }; done)

.PHONY: sam-local serve model test unit lock lint typecheck template key keys revoke sync-keys import export fuzz bench report bench-resolver bench-runs bench-vector-stores bench-transfer build clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "No Python 3.13 was found (Lambda's runtime, the project's one Python): install it (pyenv install 3.13), or name it with PYTHON=/path/to/python3.13." >&2; exit 1; }
	@set -e; start=$$SECONDS; \
	if ! test -x $(PY); then echo "Creating $(VENV) with $(PYTHON) …"; $(PYTHON) -m venv $(VENV); fi; \
	if test -e $@; then echo "Updating the dev dependencies (pyproject.toml changed) …"; \
	else echo "Installing the dev dependencies (first time: about 3 minutes) …"; fi; \
	$(PY) -m pip install --quiet --upgrade pip \
		|| { echo "Upgrading pip failed after $$((SECONDS - start))s (see above); run make again once fixed." >&2; exit 1; }; \
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev,ingest]' \
		|| { echo "Installing the dev dependencies failed after $$((SECONDS - start))s (see above); run make again once fixed." >&2; exit 1; }; \
	touch $@; echo "$(VENV) is ready: done in $$((SECONDS - start))s"

# No project is throttled locally unless PROJECT_RATE_LIMIT asks: <rate> (bursts of as many) or <rate>/<burst>.
serve: $(VENV)/.installed  ## the API on http://127.0.0.1:$(PORT)/v1 (DEPLOYED=1: as sam deploy ships it; TRACING=Active; PROJECT_RATE_LIMIT=25 or 25/50: throttle each project, off by default)
	@PORT=$(PORT) DEPLOYED=$(DEPLOYED) TRACING=$(or $(TRACING),Disabled) PROJECT_RATE_LIMIT=$(PROJECT_RATE_LIMIT) $(PY) -m infra.local.serve

# The test model (infra/ops/chat_server.py) for runs without a real one, with .venv's Python (3.13 and the
# project's packages: another python on PATH may have neither).
MODEL_PORT ?= 8001
model: $(VENV)/.installed  ## the test model on http://127.0.0.1:$(MODEL_PORT)/v1, for make serve MODEL_BASE_URL=<that>
	@$(PY) -m infra.ops.chat_server --port $(MODEL_PORT)

sam-local: $(VENV)/.installed  ## sam local start-api (Docker) on the embedded DynamoDB: http://127.0.0.1:$(PORT), no /v1
	@PORT=$(PORT) $(PY) -m infra.local.sam_local

# The end-to-end suite runs in the deployed mode, tracing off and on, on one worker while the other tests run
# on the other core; a permission no call used fails the run. Then the coverage of the code the tests run in
# their own processes (pyproject.toml's [tool.coverage]; the local API's subprocesses are not measured):
# .venv/bin/coverage report (or html) shows it file by file.
test: $(VENV)/.installed lint typecheck template  ## every test and check, as CI runs them, and the coverage figure
	CHECK_UNUSED_GRANTS=1 $(PY) -m pytest -n 2 --dist loadgroup --cov --cov-report=
	@printf 'Coverage of the code run in the test processes: functions/ %s%%, infra/ %s%%, both %s%%\n' \
		"$$($(PY) -m coverage report --include='functions/*' --format=total)" \
		"$$($(PY) -m coverage report --include='infra/*' --format=total)" \
		"$$($(PY) -m coverage report --format=total)"

# tests/e2e is all e2e: not collecting it (nor loading schemathesis's plugin) saves seconds on each worker.
unit: $(VENV)/.installed  ## the fast tests: in process (no local API, no subprocesses, not the 10,000-message cascade)
	$(PY) -m pytest -n 2 -m "not e2e and not slow and not process" --ignore=tests/e2e -p no:schemathesis -p no:anyio

# The one lock: .venv frozen (pip freeze), its comment lines kept; the layers' requirements generated from it.
lock: $(VENV)/.installed  ## requirements.lock from .venv after a change to pyproject.toml, then the layers' requirements from it
	@{ grep '^#' requirements.lock; $(PY) -m pip freeze --exclude-editable; } > requirements.lock.new
	@mv requirements.lock.new requirements.lock
	$(PY) -m infra.ops.lock

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

template: $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --region us-east-1

# The key commands (python -m infra.ops.keys) answer in sentences; DEBUG=1 adds the traceback. STACK and TABLE_NAME
# reach them through the environment.
KEYS = $(PY) -m infra.ops.keys$(if $(DEBUG), --debug)

key: $(VENV)/.installed  ## make key PROJECT=name [STACK=<stack> | TABLE_NAME=<table>]: a new API key
	@$(KEYS) create --project "$(PROJECT)"

keys: $(VENV)/.installed  ## list the API keys (local API, or STACK= / TABLE_NAME=)
	@$(KEYS) list

revoke: $(VENV)/.installed  ## make revoke KEY=<key or id>
	@$(KEYS) revoke "$(KEY)"

sync-keys: $(VENV)/.installed  ## make sync-keys STACK=<stack>: every project with a key in the usage plan
	@$(KEYS) sync

# Import and export (python -m infra.ops.transfer, docs/import-export.md): the table as for the key commands.
TRANSFER = $(PY) -m infra.ops.transfer$(if $(DEBUG), --debug)

import: $(VENV)/.installed  ## make import FILE=<file.jsonl> PROJECT=name [OVERWRITE=1]: OpenAI objects, ids kept
	@$(TRANSFER) import --project "$(PROJECT)" "$(FILE)"$(if $(OVERWRITE), --overwrite)

export: $(VENV)/.installed  ## make export PROJECT=name > file.jsonl: a project's assistants, threads, messages
	@$(TRANSFER) export --project "$(PROJECT)"

fuzz: $(VENV)/.installed  ## schemathesis with many examples (FUZZ_EXAMPLES, default 500)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(PY) -m pytest tests/e2e/test_fuzz.py

bench: $(VENV)/.installed  ## the performance figures (bench/results.json), then docs/performance.md and the README's figures from them
	$(PY) -m bench
	$(PY) -m bench.report

report: $(VENV)/.installed  ## docs/performance.md and the README's figures from bench/results.json (no measuring; a test checks they agree)
	$(PY) -m bench.report

bench-resolver: $(VENV)/.installed  ## gateway.endpoint vs. Powertools' APIGatewayRestResolver only (printed)
	$(PY) -m bench.resolver

bench-runs: $(VENV)/.installed  ## runs only: overhead after the model's last byte, round trips, worker cold start; a run's file_search (into results.json)
	$(PY) -m bench.runs
	$(PY) -m bench.run_search

bench-vector-stores: $(VENV)/.installed  ## vector stores only: ingestion's cost, search's overhead, recall@5 (into results.json)
	$(PY) -m bench.vector_stores

bench-transfer: $(VENV)/.installed  ## import and export only: threads and messages a second, DynamoDB requests per 1,000 messages, peak memory (into results.json)
	$(PY) -m bench.transfer

build: $(VENV)/.installed  ## sam build, as for a deployment (the layer builds with the Python 3.13 found above)
	@echo "Building with sam build (Python: $(PYTHON)) …"
	@start=$$SECONDS; PATH="$(dir $(PYTHON)):$$PATH" $(VENV)/bin/sam build \
		&& echo "Built in $$((SECONDS - start))s: .aws-sam/build" \
		|| { echo "sam build failed after $$((SECONDS - start))s (see above)." >&2; exit 1; }

clean:
	rm -rf $(VENV) .aws-sam .local .mypy_cache .ruff_cache
