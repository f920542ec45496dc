# opsnb — run `make help` for the list of targets.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
export OPSNB_HOME := $(CURDIR)
export MPLBACKEND := Agg

.DEFAULT_GOAL := help
.PHONY: help setup system demo test test-fast lint lab bench sample clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

system: ## Install Debian packages the project needs (CJK font, Chromium for browser tests); needs root or sudo
	@bash scripts/setup_system.sh

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install opsnb with its dev tools

sample: setup ## Write the sample pack to data/sample (once; delete the folder to regenerate)
	@test -d data/sample || $(BIN)/opsnb sample --out data/sample

demo: setup ## Set up, then run the whole review on the sample pack; prints the path of index.html
	$(BIN)/opsnb run

test: setup ## Set up, then run lint and the full test suite (what CI runs)
	$(BIN)/ruff check opsnb tests benchmarks scripts
	$(BIN)/mypy opsnb
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=25; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

test-fast: setup ## Unit tests only
	$(BIN)/python -m pytest -q -n 2 tests/unit

lint: setup ## ruff and mypy
	$(BIN)/ruff check opsnb tests benchmarks scripts
	$(BIN)/mypy opsnb

lab: setup sample ## Open JupyterLab on the notebooks (the project's environment)
	$(BIN)/jupyter lab notebooks/

bench: setup ## Run the benchmark harness; writes benchmarks/results.json
	$(BIN)/python -m benchmarks

clean: ## Remove outputs and caches (keeps .venv and data)
	rm -rf outputs/*/ .pytest_cache .ruff_cache .mypy_cache
