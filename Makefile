# The two commands a newcomer needs are `make run` and `make test`; the rest are for the curious.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
CLUSTER_PORT ?= 9260
# The drills restart nodes on 2 shared cores: C1-only JIT makes a JVM start on far less CPU.
CLUSTER_JAVA_OPTS ?= -Xms384m -Xmx384m -XX:TieredStopAtLevel=1
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-12)

.DEFAULT_GOAL := help
.PHONY: help run test test-cluster lint docs format services venv migrate seed index bench bench-orders bench-index bench-search bench-search-cluster bench-import bench-relevance bench-scale bench-analytics bench-console bench-cpu bench-events drill-events fuzz drills load

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## Create the virtualenv and install pinned dependencies

services: ## Start (or reuse) PostgreSQL, Redis and Elasticsearch on this machine
	bash scripts/services.sh up

migrate: services venv ## Apply database migrations
	$(MANAGE) migrate --noinput

seed: migrate ## Seed a realistic catalog if the database is empty
	$(MANAGE) seed_data --if-empty

index: seed ## Build the product index behind its alias
	$(MANAGE) rebuild_index

run: index ## Run Aisle: services, migrate, seed, index, then web + Celery worker + beat
	bash scripts/run.sh

test: services venv lint docs ## Lint, build the docs, the whole test suite against the real services, then the short cluster drills
	bash scripts/test_tools.sh
	AISLE_REQUIRE_COMPOSE_CLI=1 $(PY) -m pytest
	$(MAKE) --no-print-directory test-cluster

# A throwaway 3-node Elasticsearch cluster on ports of its own (HTTP 9260-9262, transport
# 9360-9362), stopped whatever the drills' outcome. CLUSTER_DRILL_ROLLING=1 adds the rolling restart.
test-cluster: services venv ## Cluster drills (node kills under mixed traffic) on a local 3-node cluster
	AISLE_ES_NODES=3 AISLE_ES_PORT=$(CLUSTER_PORT) AISLE_ES_CLUSTER_JAVA_OPTS="$(CLUSTER_JAVA_OPTS)" \
		bash scripts/services.sh es-cluster-up
	AISLE_ES_CLUSTER_PORT=$(CLUSTER_PORT) $(PY) -m pytest tests/test_cluster_drills.py \
		tests/test_bench_smoke.py::test_bench_search_cluster_runs_in_smoke_mode_and_prints_its_figures \
		-p no:cacheprovider -s -rA; \
		status=$$?; AISLE_ES_NODES=3 AISLE_ES_PORT=$(CLUSTER_PORT) bash scripts/services.sh es-cluster-stop; exit $$status

lint: venv ## ruff (lint + format check), mypy and a check for missing migrations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	DJANGO_SETTINGS_MODULE=config.settings $(MANAGE) makemigrations --check --dry-run

docs: venv ## Build the docs site into site/ (mkdocs --strict: a broken link or unlisted page fails)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

format: venv ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench-events: services venv ## Search events accepted/s and p99 (8 clients, batches of 20); hot-SKU orders with vs without query_id
	$(PY) bench/events.py

drill-events: services venv ## Web SIGKILLed + Elasticsearch unreachable while events and orders flow: nothing lost or doubled
	$(PY) bench/events_drill.py

fuzz: services venv ## Schema fuzzing, long run: every operation, >= 1,000 cases (FUZZ_MAX_EXAMPLES)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-250} FUZZ_MIN_CASES=$${FUZZ_MIN_CASES:-1000} \
		$(PY) -m pytest tests/test_schema_fuzz.py -p no:cacheprovider -s

bench: bench-orders bench-index bench-search ## All benchmarks (each prints its figures and ratios)

bench-orders: services venv ## Order placement: HTTP latency, hot-product throughput vs raw UPDATE
	$(PY) bench/orders.py

bench-search: services venv ## Search + suggest API vs raw Elasticsearch vs Postgres ILIKE (100k products)
	$(PY) bench/search.py

# The cluster's nodes get the single node's heap and a full JIT here: it is a speed comparison.
bench-search-cluster: services venv ## bench-search's search and suggest on a local 3-node cluster vs one node, same run
	AISLE_ES_NODES=3 AISLE_ES_PORT=$(CLUSTER_PORT) AISLE_ES_CLUSTER_JAVA_OPTS="$${BENCH_CLUSTER_JAVA_OPTS:--Xms512m -Xmx512m}" \
		bash scripts/services.sh es-cluster-up
	AISLE_ES_CLUSTER_PORT=$(CLUSTER_PORT) $(PY) bench/search_cluster.py; \
		status=$$?; AISLE_ES_NODES=3 AISLE_ES_PORT=$(CLUSTER_PORT) bash scripts/services.sh es-cluster-stop; exit $$status

bench-cpu: services venv ## Web CPU per search, suggestion and order, in-process, with cProfile (2k products)
	$(PY) bench/cpu_profile.py

bench-index: services venv ## Rebuild docs/s vs raw parallel_bulk, index bytes/product (100k products); commit-to-search lag
	$(PY) bench/index.py

bench-import: services venv ## import_catalog on 100,000 generated JSON lines: first, unchanged, 10% changed
	$(PY) bench/import.py

bench-relevance: services venv ## NDCG@10 on the ESCI human judgments: Aisle's search vs plain BM25
	$(PY) bench/relevance.py

bench-scale: services venv ## Seed, rebuild, index size, heap, search, suggest, lag at 10k/100k/1M (30 min budget)
	$(PY) bench/scale.py $${SCALE_ARGS:-}

bench-analytics: services venv ## Search API p50 with analytics off, on and with a dead sink (short run)
	$(PY) bench/analytics.py

bench-console: services venv ## Search console: analytics page p50 on 1,000,000 events (--smoke: seconds)
	$(PY) bench/console.py $${CONSOLE_BENCH_ARGS:-}

drills: services venv ## Fault drills (ES, Redis, Celery worker, Postgres down/restarted mid-traffic), then the long cluster drills
	$(PY) bench/drills.py --scale $${DRILL_SCALE:-3}
	$(PY) bench/pg_restart.py
	DRILL_SCALE=$${DRILL_SCALE:-3} CLUSTER_DRILL_ROLLING=1 $(MAKE) --no-print-directory test-cluster

load: services venv ## Mixed load run (60 s) on a live gunicorn, then stock and index invariants
	$(PY) bench/load.py --duration $${LOAD_DURATION:-60}
