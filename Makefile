# Two entry points (README): `make synth` and `make test`. Both set up on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/default.yaml
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# Python writes each module's bytecode on its first import and every later process reuses it;
# with PYTHONDONTWRITEBYTECODE set (some images set it) every process would compile aws-cdk-lib's
# bindings again (~10 s per test worker, ~4 s per synth; docs/testing.md). cdk.json runs the app
# with -O (jsii's Python-side type checks off at synth, kept in the tests), whose .opt-1.pyc
# files are written the same way on the first synth. __pycache__ is ignored by git and left out
# of the Lambda assets.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup synth test serve bench clean report preflight tenant

# uv installs the pinned requirements in seconds where pip takes minutes (parallel downloads,
# no bytecode compile of every file: Python compiles what is imported, see above); it is itself
# a pinned wheel from PyPI, put in the venv by the venv's own pip.
UV_VERSION := 0.13.10
UV := $(BIN)/uv

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(BIN)/python -r requirements-dev.txt
	touch $@

# The Lambda packages (lambdas/: frontdoor, summarizer, inference, ...) importable by the app
# at synth as top-level packages, exactly as the Lambda runtime and pytest (`pythonpath`) see
# them: one path entry in a .pth file, which Python's `site` reads at start-up. It is what an
# editable install of a package-dir "" -> lambdas/ project writes, without a build backend:
# offline, and the same on every Python (3.11's venv setuptools cannot build an editable wheel
# without the `wheel` package; 3.12+ venvs have no setuptools at all).
$(BIN)/.lambdas-importable: $(BIN)/.installed
	$(BIN)/python -c 'import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_path("purelib"), "fm-platform-lambdas.pth").write_text(sys.argv[1] + "\n")' "$(CURDIR)/lambdas"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed $(BIN)/.lambdas-importable node_modules/.installed

## checkov (tests/stacks/test_checkov.py) in its own venv: its pins never meet the app's.
.PHONY: checkov-setup
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt $(BIN)/.installed
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(UV) pip install --quiet --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

checkov-setup: $(CHECKOV_VENV)/.installed

## The lecture notebook's kernel (tests/studio/test_lecture_notebook.py) in its own venv: the
## SageMaker SDK 2.x it deploys with cannot share the app's venv (requirements-notebook.txt).
.PHONY: notebook-setup
NOTEBOOK_VENV := .venv-notebook
$(NOTEBOOK_VENV)/.installed: requirements-notebook.txt $(BIN)/.installed
	$(PYTHON) -m venv $(NOTEBOOK_VENV)
	$(UV) pip install --quiet --python $(NOTEBOOK_VENV)/bin/python -r requirements-notebook.txt
	touch $@

notebook-setup: $(NOTEBOOK_VENV)/.installed

## Synthesize the chosen config with the pinned CDK CLI (cdk.json context applies) and summarize it.
synth: setup
	cdk synth --quiet -c config=$(CONFIG)
	$(BIN)/python -m tools.summary cdk.out --config $(CONFIG)

## Review report + architecture picture for $(CONFIG) under cdk.out/report/
## (DOCS=1 also refreshes docs/architecture.*; use it with the default config only).
report: setup
	cdk synth --quiet -c config=$(CONFIG)
	$(BIN)/python -m tools.report --config $(CONFIG) --assembly cdk.out --out cdk.out/report $(if $(DOCS),--docs)

## Read-only checks of the target AWS account for $(CONFIG) before a deploy (needs credentials).
preflight: setup
	$(BIN)/python -m tools.preflight --config $(CONFIG)

## Tenants of a tenant_keys deployment (docs/tenants.md), e.g.
## make tenant ARGS="create acme --tier standard" CONFIG=config/examples/tenants.yaml
## (ARGS="--local create demo --tier free" against `make serve`).
tenant: setup
	$(BIN)/python -m tools.tenants --config $(CONFIG) $(ARGS)

## The whole test suite.
test: setup checkov-setup notebook-setup
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

## Local front door + SageMaker runtime emulator on 127.0.0.1:8080.
serve: setup
	$(BIN)/python -m local.serve --config $(CONFIG)

## Benchmarks (by hand; results go to docs/).
bench: setup
	$(BIN)/python bench/synth_bench.py

clean:
	rm -rf cdk.out .pytest_cache
