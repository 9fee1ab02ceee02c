# Every target bootstraps its own virtualenv (.venv) from pyproject.toml on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format bench package clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m burntray

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check src tests bench packaging
	$(PY) -m ruff format --check src tests bench packaging
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff check --fix src tests bench packaging
	$(PY) -m ruff format src tests bench packaging

bench: $(STAMP)
	$(PY) bench/run.py

# The standalone build for this OS (Linux: onedir, .deb, .tar.gz) in dist/; see packaging/.
package: $(STAMP)
	$(PY) packaging/make_package.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
