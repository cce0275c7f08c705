# sentinel-bridge: `make run` runs the bridge on the embedded local Azure; `make test` runs every check.
# Everything installs from scratch into .venv (Python), .venv-checkov (Bicep checks) and node_modules (Azurite).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
AZURITE := node_modules/.bin/azurite

.PHONY: run test lint typecheck pytest bench deps clean

deps: $(VENV)/.installed $(AZURITE) $(CHECKOV_VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# checkov pins an older pycep-parser than the syntax check uses, so it gets a venv of its own.
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==3.3.30
	touch $@

$(AZURITE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Run the bridge locally: Azurite, the emulators and the local functions host.
run: $(VENV)/.installed $(AZURITE)
	$(PY) -m local.run

## Every check CI runs: lint, format, types, then the test suite (unit, functions, host, infra).
test: lint typecheck pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(VENV)/.installed
	$(PY) -m mypy

pytest: deps
	$(PY) -m pytest

## Benchmarks: figures printed beside their baselines, never asserted.
bench: $(VENV)/.installed $(AZURITE)
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .local .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage
