# The README's commands. Each creates .venv when missing and installs into it what it needs: `make run` and
# `make check` only what Tocsin needs to run; `make test` (and lint, bench) the test tools as well.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
# pip shows what the build backend says. setuptools notes that an editable install is editable (a note,
# not a problem); the filter hides that note alone, so any real warning still shows.
PIP_INSTALL := $(BIN)/python -W 'ignore:Editable installation:UserWarning' -m pip install --quiet
# Helm's linter (Helm 4) as a library: no registry we use ships the helm binary, and the helm-sdkpy wheel
# that carries the library is built for Linux x86-64 only. Its wheel says Python 3.12+, which binds its
# Python wrapper, not the library tests/helm_lint.py loads; only that library is unpacked, nothing installed.
HELM_SDK := helm-sdkpy==0.1.32
HELM_DIR := $(VENV)/helm
HELM_SO := $(HELM_DIR)/helm_sdkpy/_lib/linux-amd64/libhelm_sdkpy.so
HELM_LIB := $(if $(filter Linux x86_64,$(shell uname -s) $(shell uname -m)),$(HELM_SO))
CHART := deploy/helm/tocsin

.PHONY: run check test lint bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e '.[test]'
	touch $(STAMP) $(RUN_STAMP)

$(HELM_SO): | $(BIN)/python
	rm -rf $(HELM_DIR)
	$(BIN)/python -m pip download --quiet --no-deps --ignore-requires-python --only-binary=:all: -d $(HELM_DIR) '$(HELM_SDK)'
	$(BIN)/python -m zipfile -e $(HELM_DIR)/*.whl $(HELM_DIR)
	rm $(HELM_DIR)/*.whl
	touch $@

run: $(RUN_STAMP)
	$(BIN)/tocsin run

# Check a policy file: `make check` (TOCSIN_CONFIG, else ./tocsin.yml) or `make check POLICY=path/to/tocsin.yml`.
check: $(RUN_STAMP)
	$(BIN)/tocsin check $(POLICY)

lint: $(STAMP) $(HELM_LIB)
	$(BIN)/ruff check bot storage tests
	$(BIN)/ruff format --check bot storage tests
	$(BIN)/hadolint Dockerfile
	$(BIN)/actionlint
	$(BIN)/python -m tests.helm_lint $(CHART)
	$(BIN)/mypy

# Headless Chromium for the browser tests (tests/web): Debian's chromium and chromium-driver, installed only
# when missing and only where apt-get exists (as root, or through sudo). Elsewhere the browser tests skip,
# saying why.
SUDO := $(shell [ "$$(id -u)" = 0 ] || ! command -v sudo >/dev/null 2>&1 || echo sudo)
browser:
	@if { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; } && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium and chromium-driver for the browser tests"; \
		$(SUDO) apt-get update -qq >/dev/null && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null \
		|| echo "Could not install Chromium: the browser tests will skip"; \
	fi

# Four test processes: most tests wait on sockets, timers and subprocesses, so two cores keep four busy.
test: lint browser
	$(BIN)/python -m pytest -q -n 4

bench: $(STAMP)
	$(BIN)/python -m pytest -q -s tests/bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
