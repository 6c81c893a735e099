# Palmarès — every command a developer or CI needs, from a fresh clone.
#
#   make run     the whole stack locally + the demo campaign, until Ctrl-C
#   make test    install everything needed, then the whole test suite
#
# Python packages go into .venv/ (git-ignored); Kafka's jars into .cache/;
# local state (data, logs, mails, traces) into .run/ — delete it to reset.

PYTHON ?= python3
# pyenv puts only its global Python on PATH: `PYTHON=python3.13` falls back to pyenv's 3.13.x.
PYTHON_EXE := $(or $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null),\
                   $(lastword $(sort $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(patsubst python%,%,$(PYTHON)).*/bin/python))))
# The default Python gets .venv/; another one its own .venv-3.X/ (make test-unit PYTHON=python3.13).
VENV   := $(if $(filter python3,$(PYTHON)),.venv,.venv-$(patsubst python%,%,$(notdir $(PYTHON))))
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
# uv's downloads are kept with the other downloads, shared by every checkout that links .cache/.
export UV_CACHE_DIR := $(CURDIR)/.cache/uv
STATE  := .run
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

PACKAGES := contracts services/label services/eventkit services/evaluation services/submission services/scoring services/mentions services/notify \
            services/cli deploy/stack
PYPROJECTS := $(foreach p,$(PACKAGES),$(p)/pyproject.toml)

.PHONY: help install lock lock-check kafka-jars languagetool-jars check-french browser axe jaeger kustomize toxiproxy promtool asyncapi layers up down demo run test test-needs test-unit test-runtime test-integration test-reliability bench eval-mentions lint typecheck clean

help:
	@echo "make run | up | down | demo | test | test-unit | test-runtime | test-integration | test-reliability | bench | eval-mentions | check-french | asyncapi | layers | jaeger | kustomize | toxiproxy | promtool | lint | typecheck | lock | lock-check | clean"

# The virtual environment, rebuilt when a package's dependencies or the lock change:
# exactly the locked versions (hashes checked), then the repository's packages, editable.
$(STAMP): $(PYPROJECTS) requirements/lock.txt requirements/bootstrap.txt
	@test -n "$(PYTHON_EXE)" || { echo "no Python found for PYTHON=$(PYTHON)" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON_EXE) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/bootstrap.txt
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements/lock.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps $(foreach p,$(PACKAGES),-e $(p))
	@touch $@

install: $(STAMP)

# The lock: every package's pinned dependencies and the development tools, resolved for
# Python 3.11 to 3.13 on every platform, with hashes. The current lock is read as preferences,
# so a transitive version moves only when a pin asks for it (or with `make lock UPGRADE=1`).
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
              $(foreach p,$(PACKAGES),--no-emit-package $(shell sed -n 's/^name = "\(.*\)"/\1/p' $(p)/pyproject.toml)) \
              $(if $(UPGRADE),--upgrade)
lock: $(STAMP)
	$(UV) pip compile $(LOCK_FLAGS) requirements/lock.in -o requirements/lock.txt
	$(UV) pip compile $(LOCK_FLAGS) requirements/bootstrap.in -o requirements/bootstrap.txt

# Fails when the lock is not what `make lock` would write from the current inputs (CI runs it).
lock-check: $(STAMP)
	@for p in $(PACKAGES); do grep -Eq "^-e \./$$p(\[.*\])?$$" requirements/lock.in || \
		{ echo "requirements/lock.in does not list the package $$p (-e ./$$p)" >&2; exit 1; }; done
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	cp requirements/lock.txt requirements/bootstrap.txt $$tmp/ && \
	$(UV) pip compile $(LOCK_FLAGS) requirements/lock.in -o $$tmp/lock.txt && \
	$(UV) pip compile $(LOCK_FLAGS) requirements/bootstrap.in -o $$tmp/bootstrap.txt && \
	diff -u requirements/lock.txt $$tmp/lock.txt && diff -u requirements/bootstrap.txt $$tmp/bootstrap.txt || \
	{ echo "requirements/lock.txt is stale: run make lock and commit it" >&2; exit 1; }

# Apache Kafka's official artifacts from Maven Central, fetched once into .cache/.
kafka-jars: $(STAMP)
	$(BIN)/python -c "from palmares_stack.kafka_artifacts import ensure_kafka_libs; print(ensure_kafka_libs())"

# LanguageTool's French module from Maven Central, fetched once into .cache/ (for the French check).
languagetool-jars: $(STAMP)
	$(BIN)/python -c "from palmares_stack.languagetool import ensure_languagetool_libs; print(ensure_languagetool_libs())"

# Every user-facing French text (letters, pages, API error messages) through LanguageTool; make test runs it too.
check-french: languagetool-jars
	$(BIN)/python -m tools.french.check

# Debian's Chromium for the browser tests (the test tools must not download their own browser).
browser:
	@command -v chromium >/dev/null || { \
		echo "installing Debian's chromium for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }

# axe-core for the accessibility checks of the browser tests: from npm, pinned by tests/browser/package-lock.json
# (integrity checked by `npm ci`), installed once into .cache/node/.
AXE := .cache/node/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@mkdir -p .cache/node
	cp tests/browser/package.json tests/browser/package-lock.json .cache/node/
	cd .cache/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

axe: $(AXE)

# Operator tools built once from the Go module proxy into .cache/bin/ (minutes cold, seconds with Go's caches warm);
# without Go they are skipped: the stack runs without Jaeger (traces in the JSON-lines store), the kustomize checks skip.
jaeger: $(STAMP)
	@$(BIN)/python -m palmares_stack.gotools build jaeger || echo "no Jaeger: traces stay in the JSON-lines store (palmares trace)"

kustomize: $(STAMP)
	@$(BIN)/python -m palmares_stack.gotools build kustomize || echo "no kustomize: the kustomize build checks of deploy/k8s are skipped"

# Prometheus' checker of deploy/prometheus/ (configuration, alert rules and their unit tests); without it
# the rules are still parsed by a PromQL parser in the unit tests.
promtool: $(STAMP)
	@$(BIN)/python -m palmares_stack.gotools build promtool || echo "no promtool: the promtool checks of deploy/prometheus are skipped"

# The fault proxy between the services and Kafka, PostgreSQL and SMTP (network faults of the reliability campaigns,
# `palmares_stack up --toxiproxy`); without it the network-fault campaign fails and says why.
toxiproxy: $(STAMP)
	@$(BIN)/python -m palmares_stack.gotools build toxiproxy-server && $(BIN)/python -m palmares_stack.gotools build toxiproxy-cli \
		|| echo "no Toxiproxy: the services connect directly; the network-fault campaign cannot run"

# The picture of the layers in docs/architecture.md, drawn from the import rules of pyproject.toml (commit docs/).
layers: $(STAMP)
	$(BIN)/python -m tools.layers

# AsyncAPI documents of the four services and the OpenAPI document of the API, generated from the code (commit docs/).
asyncapi: $(STAMP)
	$(BIN)/python deploy/apidocs/generate.py

# `make run` adds --jaeger (a trace viewer where Go can build one); `make up UP_FLAGS=--jaeger` too.
UP_FLAGS ?=
up: kafka-jars
	$(BIN)/python -m palmares_stack up --services $(UP_FLAGS) --state-dir $(STATE)

down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m palmares_stack down --state-dir $(STATE); fi

demo: $(STAMP)
	$(BIN)/palmares --env-file $(STATE)/stack.env demo

# The main job: stack up, demo campaign loaded and published, then wait for Ctrl-C.
run: UP_FLAGS += --jaeger
run: jaeger up
	@$(BIN)/palmares --env-file $(STATE)/stack.env demo || { $(MAKE) --no-print-directory down; exit 1; }
	@$(BIN)/python -m palmares_stack.runloop --state-dir $(STATE)

# The whole suite, but for the separate reliability campaigns (marker `campaign`): the every-fault campaign injects
# each of their faults on one stream of dossiers (docs/reliability.md). `make test-reliability` runs them all;
# `make test TEST_MARKERS=` runs everything.
TEST_MARKERS ?= not campaign
# What the whole suite needs beside Python; the unit tests' two first (.ci/run prepares them all in the background).
TEST_NEEDS := kustomize promtool jaeger toxiproxy kafka-jars languagetool-jars axe browser
test-needs: $(TEST_NEEDS)
test: $(TEST_NEEDS)
	$(BIN)/python -m pytest $(if $(TEST_MARKERS),-m "$(TEST_MARKERS)") $(PYTEST_ARGS)

test-unit: $(STAMP) kustomize promtool
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-integration: kafka-jars browser axe jaeger toxiproxy
	$(BIN)/python -m pytest tests/runtime tests/integration tests/browser tests/infra $(PYTEST_ARGS)

# The runtime's delivery rules in process: on FastStream's test broker with a real PostgreSQL (seconds), then on Kafka.
test-runtime: kafka-jars
	$(BIN)/python -m pytest tests/runtime $(PYTEST_ARGS)

# Campaigns under injected faults; the report is written to .run/reliability/. CI-sized by default;
# `make test-reliability RELIABILITY_DOSSIERS=10000 RELIABILITY_TESTS=tests/reliability/test_every_fault.py`:
# every fault of the suite in one campaign of 10,000 dossiers (docs/reliability.md).
RELIABILITY_TESTS ?= tests/reliability
test-reliability: kafka-jars toxiproxy
	$(BIN)/python -m pytest $(RELIABILITY_TESTS) -s $(PYTEST_ARGS)

# A national campaign end to end on its own local stack (docs/benchmark.md); `make bench DOSSIERS=2000` for a sample.
bench: kafka-jars
	$(BIN)/python -m bench $(if $(DOSSIERS),--dossiers $(DOSSIERS)) $(BENCH_ARGS)

# Precision and recall of the mention detection on the labelled evaluation set.
eval-mentions: $(STAMP)
	$(BIN)/python -m tools.mentions.evaluation

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy on every package (the list and the exceptions: [tool.mypy] in pyproject.toml), then deploy/'s scripts.
typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy deploy/apidocs deploy/grilles/changelog.py

clean: down
	rm -rf $(STATE)
