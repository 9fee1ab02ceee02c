# Every target bootstraps its own virtualenv (.venv) from pyproject.toml on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Two stamps: `make run` needs only burntray's runtime dependencies; every other target installs
# the dev extra (test tools, linters, PyInstaller) on top, once.
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-runtime
# Test workers (pytest-xdist): most tests wait on subprocesses, sockets and displays, so several
# run side by side. loadgroup keeps each xdist_group (the PyInstaller and Wine builds) on one
# worker. TEST_WORKERS=0 runs everything in this one process.
TEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadgroup

.PHONY: run test test-fast lint format bench package package-windows clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# A venv that already has the dev extra for this pyproject.toml has the runtime ones too.
$(RUN_STAMP): pyproject.toml | $(PY)
	if [ ! $(STAMP) -nt pyproject.toml ]; then $(PY) -m pip install --quiet -e .; fi
	touch $(RUN_STAMP)

run: $(RUN_STAMP)
	$(PY) -m burntray

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_PARALLEL)

test-fast: $(STAMP)
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not slow"

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

# The Windows onedir and installer, built on Linux under Wine (dist/windows/burntray and
# dist/burntray-<version>-setup.exe); see packaging/windows/build_wine.py. Needs npm, and wine with
# wine32:i386 or (as root) mmdebstrap for a Wine chroot. On Windows, `make package` builds natively.
package-windows: $(STAMP)
	$(PY) packaging/windows/build_wine.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
