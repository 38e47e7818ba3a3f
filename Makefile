# Each target bootstraps its own .venv on a fresh machine. The [train] extra brings PyTorch
# (CPU build, pinned in constraints.txt) for the learned ship detector's training and its
# numpy-equals-torch test; nothing at run time imports it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint arch types pytest clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,train]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rasonwatch demo

lint: $(STAMP)
	$(BIN)/ruff check pipeline tests scripts
	$(BIN)/ruff format --check pipeline tests scripts

# Architecture: the layer contracts in pyproject.toml, and no dead code.
arch: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/vulture pipeline --min-confidence 80

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

# The fast tier for day-to-day work: no servers, subprocesses, browsers or flow runs
# (tests marked `slow` are left out).
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

test: lint arch types pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
