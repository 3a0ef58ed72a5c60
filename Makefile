# Two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := .tools/bin
export PATH := $(CURDIR)/$(TOOLS):$(CURDIR)/$(BIN):$(PATH)

.PHONY: demo test check venv tools bench lint clean help

help:  ## Show the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The platform's own services (and the library they share) are packages of their own; the root venv
# installs each one editable with its test extra so `make test` runs their tests too.
SERVICE_PACKAGES := $(patsubst %/pyproject.toml,%,$(wildcard libs/*/pyproject.toml services/*/pyproject.toml))

# setup.py and C sources too: an editable install builds a package's C extension once, at install.
$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(SERVICE_PACKAGES)) \
	$(wildcard $(addsuffix /setup.py,$(SERVICE_PACKAGES)) $(addsuffix /src/*/*.c,$(SERVICE_PACKAGES)))
	@echo "==> creating $(VENV) and installing gitops-poc, its services and test dependencies"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' $(foreach p,$(SERVICE_PACKAGES),-e '$(p)[test]')
	@touch $(STAMP)

venv: $(STAMP)  ## Create .venv and install the package

tools: $(STAMP)  ## Install helm, kubectl and gitlab-ci-local (node 22, rsync) into .tools/
	@bash scripts/install-tools.sh all

demo: venv tools  ## Run the platform demo on built-in defaults (no cluster, no GitLab)
	@bash scripts/demo.sh

test: venv tools  ## Run every test
	$(BIN)/python -m pytest -n auto

check: venv  ## Static checks: ruff lint, ruff format --check, mypy --strict (CI runs it before the tests)
	$(BIN)/ruff check src tests bench libs services
	$(BIN)/ruff format --check src tests bench libs services
	$(BIN)/mypy --strict src
	@# Each service package on its own (they are separate repositories with packages of their own).
	@for p in $(SERVICE_PACKAGES); do echo "mypy --strict $$p/src"; $(BIN)/mypy --strict $$p/src || exit 1; done

bench: venv tools  ## Run the benchmarks and print their figures
	@for b in bench/bench_*.py; do echo "==> $$b"; $(BIN)/python $$b || exit 1; done

clean:  ## Remove the virtual environment and installed tools
	rm -rf $(VENV) .tools demo-out
