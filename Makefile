# One contract, two implementations. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TWINAPI := $(VENV)/bin/twinapi
SPEC ?= openapi.yaml
HOST ?= 127.0.0.1
# Servers started by `make run*` without APP_ENV are development servers (a random JWT secret if none is set).
DEV_ENV := APP_ENV=$${APP_ENV:-development}

VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node-impl/node_modules/.installed
PY_SOURCES := codegen python-impl contract-tests bench examples/pins.py examples/tests
MYPY_TARGETS := codegen/twinapi_codegen python-impl/runtime/twinapi_runtime python-impl/app contract-tests/twinapi_conformance \
	contract-tests/scale contract-tests/corpus/twinapi_corpus bench/twinapi_bench examples/pins.py examples/tests
BENCH_NODE := bench/node/node_modules/.installed
# Runs the command after it with a throwaway PostgreSQL cluster (TWINAPI_TEST_POSTGRES_URL), stopped even on failure.
WITH_POSTGRES := $(PY) -m twinapi_conformance.postgres --
# This repository's own Python packages: installed editable by `setup`, kept out of the lock.
LOCAL_PACKAGES := twinapi-codegen twinapi-runtime twinapi-example-python twinapi-conformance twinapi-corpus twinapi-bench
# The kit's packages `make dist` builds (the corpus tool is the kit's own and stays here).
DIST := dist
DIST_PYTHON := codegen python-impl/runtime contract-tests
# RealWorld's Conduit, a project of its own on the kit's builds in dist/ (examples/realworld/README.md).
REALWORLD := examples/realworld
# The kit's Python packages it pins: rebuilt under one version while the kit changes, so their hashes are re-read.
REALWORLD_KIT := twinapi-codegen twinapi-runtime twinapi-conformance

.PHONY: help setup lock generate check-generated build-node run run-python run-node test lint fmt \
        test-codegen update-golden test-python test-node test-contract test-docs docs-setup fuzz fuzz-deep \
        bench-setup bench bench-quick test-bench postgres-setup dist test-upgrade test-journey new-project corpus clean \
        test-examples check-realworld-lock realworld-lock scale-setup scale test-scale bench-scale

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(VENV_STAMP) $(NODE_STAMP) ## Install everything, pinned (Python venv from requirements.lock, npm ci)

$(VENV_STAMP): requirements.lock codegen/pyproject.toml python-impl/pyproject.toml python-impl/runtime/pyproject.toml contract-tests/pyproject.toml \
		contract-tests/corpus/pyproject.toml bench/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		-e codegen -e python-impl/runtime -e python-impl -e contract-tests -e contract-tests/corpus -e bench
	touch $@

$(NODE_STAMP): node-impl/package.json node-impl/package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : (console.error("Node >= 20 is required"), 1))'
	cd node-impl && npm ci --no-audit --no-fund
	touch $@

lock: $(VENV_STAMP) ## Re-resolve requirements.lock after changing a pyproject.toml or requirements-dev.in
	$(VENV)/bin/uv pip compile --quiet --python-version 3.11 --generate-hashes --universal requirements-dev.in \
		$(foreach p,$(LOCAL_PACKAGES),--no-emit-package $(p)) -o requirements.lock

generate: setup ## Regenerate models, interfaces and routing of both implementations from the spec (SPEC=openapi.yaml)
	$(TWINAPI) generate --spec $(SPEC)

check-generated: setup ## Fail when the committed generated files differ from what the spec produces
	$(TWINAPI) check --spec $(SPEC)

build-node: setup ## Compile the Node implementation (TypeScript, strict) into node-impl/dist
	cd node-impl && npm run --silent build

run: setup build-node ## Both servers in the foreground (Python :8000, Node :3000); Ctrl-C stops both
	@secret="$${JWT_SECRET:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')}"; \
	echo "Python: http://$(HOST):8000/docs   Node: http://$(HOST):3000/docs"; \
	$(DEV_ENV) JWT_SECRET="$$secret" HOST=$(HOST) PORT=8000 $(PY) -m app & py=$$!; \
	$(DEV_ENV) JWT_SECRET="$$secret" HOST=$(HOST) PORT=3000 node node-impl/dist/app/server.js & node=$$!; \
	trap 'kill $$py $$node 2>/dev/null; wait' INT TERM; \
	wait -n; status=$$?; kill $$py $$node 2>/dev/null || true; wait; exit $$status

run-python: setup ## The Python server (HOST, PORT=8000 and the other settings from the environment)
	$(DEV_ENV) HOST=$(HOST) PORT=$${PORT:-8000} $(PY) -m app

run-node: setup build-node ## The Node server (HOST, PORT=3000 and the other settings from the environment)
	$(DEV_ENV) HOST=$(HOST) PORT=$${PORT:-3000} node node-impl/dist/app/server.js

test: lint test-codegen check-generated test-python test-node test-contract test-docs test-upgrade test-journey test-scale test-examples test-bench bench-quick ## Everything CI runs: lint, generator, both implementations, the contract, the docs, the scale-out, a kit upgrade, new projects, Conduit, the benchmark's upkeep

lint: setup ## ruff, mypy --strict, tsc --noEmit, eslint and prettier --check
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	$(VENV)/bin/mypy --strict $(MYPY_TARGETS)
	cd node-impl && npm run --silent typecheck
	cd node-impl && npm run --silent lint
	cd node-impl && npm run --silent format:check

fmt: setup ## Format and auto-fix the hand-written Python and TypeScript
	$(VENV)/bin/ruff format $(PY_SOURCES)
	$(VENV)/bin/ruff check --fix $(PY_SOURCES)
	cd node-impl && npm run --silent format

test-codegen: setup build-node ## The generator's golden, determinism and error tests
	$(PY) -m pytest -q codegen/tests --ignore=codegen/tests/upgrade --ignore=codegen/tests/journey

update-golden: setup ## Rewrite the generator's expected outputs after an intended template change
	UPDATE_GOLDEN=1 $(PY) -m pytest -q codegen/tests/test_golden.py

test-python: setup postgres-setup ## The Python implementation's own tests, on SQLite, then the app's on PostgreSQL
	$(PY) -m pytest -q python-impl/tests
	$(WITH_POSTGRES) $(PY) -m pytest -q python-impl/tests/app

postgres-setup: ## PostgreSQL's server binaries (Debian's postgresql) for the tests' throwaway clusters; idempotent
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { s=; [ "$$(id -u)" = 0 ] || s=sudo; \
		$$s apt-get update -qq && $$s apt-get install -y -qq postgresql; }

test-node: setup postgres-setup ## The Node implementation's own tests, on SQLite, then the app's on PostgreSQL
	cd node-impl && npm test
	cd node-impl && $(abspath $(PY)) -m twinapi_conformance.postgres -- sh -c "npm run --silent test:app && npm run --silent test:postgres"

test-contract: setup build-node postgres-setup ## The conformance harness with the CI budget (both servers, fuzz + diff + interop), on SQLite then PostgreSQL
	$(TWINAPI) ci --selftest
	$(TWINAPI) ci --database postgresql

scale-setup: postgres-setup ## HAProxy (Debian's haproxy) for the scaled-out deployment, beside PostgreSQL; idempotent
	@command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || { s=; [ "$$(id -u)" = 0 ] || s=sudo; \
		$$s apt-get update -qq && $$s apt-get install -y -qq haproxy; }

scale: setup build-node scale-setup ## 2 Python + 2 Node instances on one throwaway PostgreSQL behind HAProxy, foreground; Ctrl-C stops all
	$(PY) -m twinapi_conformance.scale $(if $(INSTANCES),--instances $(INSTANCES))

test-scale: setup build-node scale-setup ## The scale-out through HAProxy: fuzz, interop across instances, If-Match race, kill -9, a PostgreSQL restart
	$(PY) -m pytest -q -s -p no:cacheprovider contract-tests/scale

docs-setup: ## Chromium (Debian) for the headless-browser docs test; idempotent
	@command -v chromium >/dev/null 2>&1 || { s=; [ "$$(id -u)" = 0 ] || s=sudo; $$s apt-get update -qq && $$s apt-get install -y -qq chromium; }

test-docs: setup build-node docs-setup ## /docs of both real servers in headless Chromium, offline: title and every operation
	$(PY) -m pytest -q -p no:cacheprovider contract-tests/browser

fuzz: setup build-node ## Schemathesis against both servers, CI budget (replay: SEED=… MAX_EXAMPLES=… ONLY=node)
	$(TWINAPI) fuzz $(if $(SEED),--seed $(SEED)) $(if $(MAX_EXAMPLES),--max-examples $(MAX_EXAMPLES)) \
		$(if $(ONLY),--only $(ONLY))

fuzz-deep: setup build-node ## Ten times the budget with a fresh seed, printed for replay
	$(TWINAPI) fuzz --deep

bench-setup: setup ## wrk (Debian) and the Node reference servers of the benchmark; idempotent
	@command -v wrk >/dev/null 2>&1 || { s=; [ "$$(id -u)" = 0 ] || s=sudo; $$s apt-get update -qq && $$s apt-get install -y -qq wrk; }
	@$(MAKE) --no-print-directory $(BENCH_NODE)

$(BENCH_NODE): bench/node/package.json bench/node/package-lock.json
	cd bench/node && npm ci --no-audit --no-fund
	touch $@

bench: bench-setup postgres-setup build-node scale-setup ## Both implementations beside the reference servers, then on PostgreSQL, then the scaled-out set (~45 min); table, JSON and PNG in bench/results/
	$(PY) -m twinapi_bench run --no-build

bench-quick: bench-setup build-node ## The benchmark in about 3 min, to prove it still runs (asserts no speed)
	$(PY) -m twinapi_bench run --quick --no-build

bench-scale: bench-setup build-node scale-setup ## make bench's scale mode alone: the database workloads through HAProxy in front of 2 + 2 instances beside one of each (~5 min)
	$(PY) -m twinapi_bench run --mode scale --no-build

test-bench: bench-setup postgres-setup build-node scale-setup ## The benchmark harness's own tests (short real runs on PostgreSQL and on the scaled-out set among them)
	$(PY) -m pytest -q bench/tests

dist: setup ## Build the kit's packages into dist/: wheels and sdists (twinapi-codegen, -runtime, -conformance), the npm tarball
	mkdir -p $(DIST)
	$(foreach p,$(DIST_PYTHON),$(VENV)/bin/uv build --quiet --no-build-isolation --python $(PY) --out-dir $(DIST) $(p) &&) true
	cd node-impl && npm pack --silent -w fastify-twinapi --pack-destination $(abspath $(DIST)) >/dev/null
	@ls -1 $(DIST)

test-upgrade: setup build-node ## A project made with an older kit build upgraded to this one (real pip and npm installs)
	$(PY) -m pytest -q codegen/tests/upgrade

test-journey: setup ## New projects from fixture specs: setup and lint pass, make test lists what is unimplemented, then passes
	$(PY) -m pytest -q codegen/tests/journey

test-examples: check-realworld-lock postgres-setup ## examples/realworld's make test on this kit build: lint, its tests (Python's on PostgreSQL too), fuzz, diff, interop
	$(PY) -m pytest -q examples/tests
	$(MAKE) -C $(REALWORLD) test KIT_DIST=$(abspath $(DIST))

check-realworld-lock: setup dist ## Fail, saying to run make realworld-lock, when examples/realworld pins another kit build than dist/
	$(PY) examples/pins.py check --dist $(DIST)

realworld-lock: setup dist ## Re-pin examples/realworld's requirements.lock and package-lock.json to the kit build in dist/ (after a kit change)
	cd $(REALWORLD) && UV_CUSTOM_COMPILE_COMMAND="make lock" $(abspath $(VENV))/bin/uv pip compile --quiet --python-version 3.11 \
		--generate-hashes --universal --find-links $(abspath $(DIST)) --no-emit-package app \
		$(foreach p,$(REALWORLD_KIT),--refresh-package $(p) --upgrade-package $(p)) requirements.in -o requirements.lock
	$(PY) examples/pins.py pin-npm --dist $(DIST)
	cd $(REALWORLD)/node-impl && npm install --package-lock-only --ignore-scripts --no-audit --no-fund
	@# pip keeps an installed package of the same version: the example's venv is made again on its next setup.
	rm -rf $(REALWORLD)/.venv
	$(PY) examples/pins.py check --dist $(DIST)

.PHONY: test-realworld
test-realworld: check-realworld-lock ## RealWorld's official Postman suite against both Conduit servers (examples/realworld; COLLECTION=...)
	$(MAKE) -C $(REALWORLD) test-realworld KIT_DIST=$(abspath $(DIST)) $(if $(COLLECTION),COLLECTION=$(abspath $(COLLECTION)))

new-project: setup dist ## A new project from a spec, on the kit's build in dist/: make new-project SPEC=path/to/spec.yaml DEST=path/to/dir [OVERLAYS="a.yaml b.yaml"]
	@test -n "$(DEST)" || { echo "usage: make new-project SPEC=path/to/spec.yaml DEST=path/to/dir [OVERLAYS=...]" >&2; exit 2; }
	$(TWINAPI) new --spec $(SPEC) $(foreach o,$(OVERLAYS),--overlay $(o)) --dest $(DEST) --dist $(DIST)

corpus: setup build-node dist ## Generate, type-check, boot and probe both servers for every spec of a public corpus (~15 min)
	$(TWINAPI) corpus $(CORPUS_ARGS)

clean: ## Remove installs, builds, reports and local data
	rm -rf $(VENV) node-impl/node_modules node-impl/dist node-impl/kit/dist $(DIST) contract-tests/reports data bench/results \
		bench/node/node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
	rm -rf .mypy_cache .ruff_cache .pytest_cache
