#!/usr/bin/env bash
# Run Aisle in the foreground: gunicorn, a Celery worker and Celery beat; Ctrl-C stops all three.
# `make run` calls this after services are up and the database is migrated, seeded and indexed.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${AISLE_PORT:-8000}"
BIN=.venv/bin
STATE="${AISLE_CACHE:-/var/cache/aisle}/run"
mkdir -p "$STATE"

$BIN/python manage.py collectstatic --noinput -v 0

# One local API key per scope (apikeys/): created once, kept in a private file outside the repo,
# printed on every run. Never in production, where keys come from create_api_key or the admin.
if [ "${AISLE_ENV:-development}" != production ]; then
  $BIN/python manage.py ensure_dev_api_keys --file "${AISLE_CACHE:-/var/cache/aisle}/dev-api-keys.txt"
fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo "[run] stopping web, worker and beat"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# No gunicorn access log: the app logs one JSON line per request (`aisle.request`, with its id).
$BIN/gunicorn config.wsgi:application --bind "127.0.0.1:$PORT" --workers "${WEB_CONCURRENCY:-3}" \
  --timeout 30 &
pids+=($!)
$BIN/celery -A config worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" &
pids+=($!)
$BIN/celery -A config beat --loglevel INFO --schedule "$STATE/celerybeat-schedule" &
pids+=($!)

for _ in $(seq 60); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 1
done
cat <<MSG

[run] Aisle is up:
  API          http://127.0.0.1:$PORT/api/search/products/?q=milk
  Readiness    http://127.0.0.1:$PORT/readyz
  Swagger UI   http://127.0.0.1:$PORT/api/docs/
  Admin        http://127.0.0.1:$PORT/admin/   (create a user: .venv/bin/python manage.py createsuperuser)
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
