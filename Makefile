# The README's two commands. Both create .venv when missing and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tocsin run

lint: $(STAMP)
	$(BIN)/ruff check bot storage tests
	$(BIN)/ruff format --check bot storage tests
	$(BIN)/hadolint Dockerfile
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pytest -q -s tests/bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
