# Two commands on a fresh machine: `make serve` (the API on this machine) and `make test`.
# Both create .venv on first use, with Python 3.13 (Lambda's runtime) where it can be found.

SHELL := /bin/bash
export SAM_CLI_TELEMETRY := 0
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000

# A Python 3.13 (else 3.12) that runs: on PATH, or in pyenv's versions.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3.13 \
	$$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null \
	&& { command -v $$p; break; }; done)

.PHONY: serve test unit lint typecheck template key keys revoke fuzz bench build clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12+ is needed (3.13 preferred)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

serve: $(VENV)/.installed  ## the API on http://127.0.0.1:$(PORT)/v1, on an embedded DynamoDB
	PORT=$(PORT) $(PY) -m infra.serve

test: $(VENV)/.installed lint typecheck template  ## every test and check, as CI runs them
	$(PY) -m pytest

unit: $(VENV)/.installed  ## the fast tests only (no local API)
	$(PY) -m pytest -m "not e2e"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

template: $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --region us-east-1

key: $(VENV)/.installed  ## make key PROJECT=name: a new API key (local API, or STACK=<stack>)
	@test -n "$(PROJECT)" || { echo "usage: make key PROJECT=<name> [STACK=<stack>]"; exit 2; }
	@$(PY) -m infra.keys mint --project "$(PROJECT)"

keys: $(VENV)/.installed  ## list the API keys
	@$(PY) -m infra.keys list

revoke: $(VENV)/.installed  ## make revoke KEY=<key or id>
	@$(PY) -m infra.keys revoke "$(KEY)"

fuzz: $(VENV)/.installed  ## schemathesis with many examples (FUZZ_EXAMPLES, default 500)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(PY) -m pytest tests/e2e/test_fuzz.py

bench: $(VENV)/.installed  ## the performance figures (bench/results.json)
	$(PY) -m bench

build: $(VENV)/.installed  ## sam build, as for a deployment (the layer builds with the Python 3.13 found above)
	PATH="$(dir $(PYTHON)):$$PATH" $(VENV)/bin/sam build

clean:
	rm -rf $(VENV) .aws-sam .local .mypy_cache .ruff_cache
