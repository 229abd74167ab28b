#!/bin/sh
# One-shot setup for `docker compose up`: schema, demo catalog, search index, Kibana objects.
# Every step is safe to repeat, so the service runs on each `up` and finishes in seconds when warm.
set -eu

step() { printf '[init] %s\n' "$*"; }

step "migrate"
python manage.py migrate --noinput

# Demo data is for local use; the production overlay turns it off (AISLE_SEED_ON_INIT=0).
if [ "${AISLE_SEED_ON_INIT:-1}" = "1" ]; then
  step "seed_data --if-empty"
  python manage.py seed_data --if-empty
fi

step "rebuild_index (new timestamped index, alias swapped atomically)"
python manage.py rebuild_index

# An empty KIBANA_URL skips the step, for deployments that run no Kibana.
if [ -n "${KIBANA_URL:-}" ]; then
  step "Kibana data view for the products alias; search analytics dashboard (docker/kibana)"
  python docker/kibana_data_view.py
fi

step "done"
