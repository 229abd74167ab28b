# The two commands a newcomer needs are `make run` and `make test`; the rest are for the curious.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-12)

.DEFAULT_GOAL := help
.PHONY: help run test lint format services venv migrate seed index bench bench-orders bench-index bench-search fuzz drills load

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

test: services venv lint ## Run the whole test suite against the real services
	$(PY) -m pytest

lint: venv ## ruff (lint + format check) and a check for missing migrations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings $(MANAGE) makemigrations --check --dry-run

format: venv ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
