# tickshop — see README.md. `make run` (embedded) and `make test` are the two commands.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := requirements/dev.lock
STAMP := $(VENV)/.installed
# openapi-typescript and tsc, for the test that type-checks generated TypeScript (SPEC §12).
NPM_DIR := clients/typescript
NPM_STAMP := $(NPM_DIR)/node_modules/.installed

# The test suite runs against the real services (SPEC §2).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tickshop
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# pytest-xdist workers: each has its own test database and Redis database (conftest.py), and the
# live servers it starts listen on free ports. Two, on this 2-core machine: most live tests wait on
# other processes, so the suite runs in well under the time of one (docs/testing.md has the figures).
TEST_WORKERS ?= 2
PYTEST := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest
# The same services, selectors, stores and order API on SQLite (embedded mode): every rule written
# twice (ORM and SQL, shop/*/…store.py) is tested on both databases.
EMBEDDED_TESTS := shop/*/tests/test_services.py shop/*/tests/test_selectors.py shop/*/tests/test_store.py \
	shop/catalog/tests/services shop/webhooks/tests/services shop/orders/tests/test_api.py shop/orders/tests/test_order_price.py \
	shop/orders/tests/test_life_api.py shop/pricewatch/tests/test_api.py
EMBEDDED_PYTEST := DATABASE_URL=sqlite:///$(CURDIR)/var/test-embedded.sqlite3 REDIS_URL=$(TEST_REDIS_URL) \
	$(BIN)/pytest -m "not postgres and not slow"

.PHONY: run stack test test-fast flaky-check lint format services install lock bench fuzz clean vendor clients

$(STAMP): $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r $(LOCK)
	@touch $(STAMP)

install: $(STAMP)

$(NPM_STAMP): $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

clients: $(NPM_STAMP)  ## the npm tools the client-generation tests use

run: $(STAMP)  ## embedded mode: SQLite, in-process ticker, one process
	$(BIN)/python manage.py serve

stack: $(STAMP)  ## stack mode: web, worker and beat against DATABASE_URL and REDIS_URL
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || { echo "set DATABASE_URL and REDIS_URL"; exit 2; }
	$(BIN)/python manage.py prepare
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

services:  ## start PostgreSQL and Redis when installed here but stopped
	@scripts/services.sh

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy shop config
	$(BIN)/lint-imports --no-cache  # the layers of shop/ (.importlinter, docs/architecture.md)
	$(BIN)/python scripts/audit_deps.py  # known vulnerabilities in the locks; says so when it cannot check

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) $(NPM_STAMP) services lint  ## lint, then the whole suite (what CI runs); the 15 slowest tests at the end
	@scripts/chromium.sh
	@scripts/nginx.sh
	$(PYTEST) -n $(TEST_WORKERS) --durations=15 $(PYTEST_ARGS)
	$(EMBEDDED_PYTEST) -n $(TEST_WORKERS) $(EMBEDDED_TESTS)

test-fast: $(STAMP) services  ## the inner loop: no browser, no live servers or workers (-m "not slow")
	$(PYTEST) -n $(TEST_WORKERS) -m "not slow" --durations=15 $(PYTEST_ARGS)

flaky-check: $(STAMP) $(NPM_STAMP) services  ## the live tests (-m slow) N times (default 5); lists any that failed once
	@scripts/chromium.sh
	@scripts/nginx.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) N=$${N:-5} \
		scripts/flaky_check.sh $(BIN)/pytest -n $(TEST_WORKERS) -m slow $(PYTEST_ARGS)

fuzz: $(STAMP) services  ## Schemathesis, every phase and role, 25 examples per operation, a new seed (FUZZ_SEED=… replays)
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-25} FUZZ_RANDOM=1 \
		$(BIN)/pytest -s shop/core/tests/test_fuzz.py

bench: $(STAMP) services  ## every SPEC §9 benchmark, quick sizes (BENCH_ARGS=--full for the SPEC's)
	@scripts/nginx.sh  # bench/scale.py puts nginx in front of the web processes
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lock:  ## re-resolve requirements/*.lock from requirements/*.in, with hashes (needs uv)
	cd requirements && uv pip compile --quiet --universal --python-version 3.11 --generate-hashes base.in -o base.lock
	cd requirements && uv pip compile --quiet --universal --python-version 3.11 --generate-hashes dev.in -o dev.lock

vendor:  ## refresh the vendored axe-core (browser tests) and lightweight-charts (goods page) from package-lock.json (needs npm)
	npm ci --no-audit --no-fund
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE node_modules/axe-core/LICENSE-3RD-PARTY.txt shop/storefront/tests/vendor/axe-core/
	node -p 'require("axe-core/package.json").version' > shop/storefront/tests/vendor/axe-core/VERSION
	cp node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs node_modules/lightweight-charts/LICENSE shop/storefront/static/storefront/vendor/lightweight-charts/
	node -p 'require("lightweight-charts/package.json").version' > shop/storefront/static/storefront/vendor/lightweight-charts/VERSION

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache $(NPM_DIR)/node_modules
