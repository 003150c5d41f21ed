# Two entry points (README): `make synth` and `make test`. Both set up on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/default.yaml
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup synth test serve bench clean report preflight

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	# cdk.json runs the app with -O: jsii's Python-side type checks are skipped there (jsii
	# PR #3660; its kernel still checks every value), the tests keep them. -O reads
	# .opt-1.pyc files, which pip does not write; Python writes them on the first -O run
	# unless PYTHONDONTWRITEBYTECODE is set (then every synth recompiles aws-cdk-lib's ~4 s
	# of bindings), so they are written here once.
	$(BIN)/python -O -m compileall -q -j 0 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" > /dev/null
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
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

checkov-setup: $(CHECKOV_VENV)/.installed

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

## The whole test suite.
test: setup checkov-setup
	$(BIN)/python -m pytest -q -n 2

## Local front door + SageMaker runtime emulator on 127.0.0.1:8080.
serve: setup
	$(BIN)/python -m local.serve --config $(CONFIG)

## Benchmarks (by hand; results go to docs/).
bench: setup
	$(BIN)/python bench/synth_bench.py

clean:
	rm -rf cdk.out .pytest_cache
