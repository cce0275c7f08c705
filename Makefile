# sentinel-bridge: `make run` runs the bridge on the embedded local Azure; `make test` runs every check.
# Everything installs from scratch into .venv (Python), .venv-checkov (Bicep checks) and node_modules (Azurite).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
AZURITE := node_modules/.bin/azurite

.PHONY: run test lint typecheck pytest pytest-future coverage-html faketime bench deps clean

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

## Every check CI runs: lint, format, types, the whole suite with branch coverage held at its
## floor, then the suite again (all but e2e and infra) with the clock moved 400 days ahead.
test: lint typecheck pytest pytest-future

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(VENV)/.installed
	$(PY) -m mypy

# Coverage also follows the local host and emulators into their child processes
# (pyproject: patch = subprocess); the floor is fail_under in pyproject.toml.
pytest: deps
	rm -rf .coverage && mkdir -p .coverage
	$(PY) -m coverage run -m pytest
	$(PY) -m coverage combine --quiet
	$(PY) -m coverage report

# A test that only passes near the day it was written fails here. Monotonic clocks move too,
# consistently, and Azurite and the emulators run under the same fake clock.
FUTURE := +400d
pytest-future: deps faketime
	faketime -f '$(FUTURE)' $(PY) -m pytest -q -p no:cacheprovider \
		tests/unit tests/functions tests/host tests/emulators

## The coverage of the last `make test` as HTML, in htmlcov/index.html.
coverage-html: $(VENV)/.installed
	$(PY) -m coverage html
	@echo "open htmlcov/index.html"

# Debian's faketime (LD_PRELOAD libfaketime). Installed here when running as root with apt.
faketime:
	@command -v faketime >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq faketime >/dev/null; \
	  else \
	    echo "make test needs faketime: sudo apt-get install faketime (macOS: brew install libfaketime)"; \
	    exit 1; \
	  fi; }

## Benchmarks: figures printed beside their baselines, never asserted.
bench: $(VENV)/.installed $(AZURITE)
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .local .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage htmlcov
