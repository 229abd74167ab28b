#!/usr/bin/env bash
# Run Aisle in the foreground: gunicorn, two Celery workers (the default queue; index drains on
# their own queue) and Celery beat; Ctrl-C stops them all.
# `make run` calls this after services are up and the database is migrated, seeded and indexed.
#
# The three never run as root (as in the Docker image): started by root, they run as the system
# user AISLE_RUN_USER (default `aisle`, created once), which can read the repo and the venv and
# writes only to $AISLE_CACHE/run (beat's schedule, gunicorn's control socket).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${AISLE_PORT:-8000}"
LOG_LEVEL="${LOG_LEVEL:-INFO}"
export LOG_LEVEL
BIN=.venv/bin
CACHE="${AISLE_CACHE:-/var/cache/aisle}"
STATE="$CACHE/run"
RUN_USER="${AISLE_RUN_USER:-aisle}"
mkdir -p "$STATE/home"

say() { printf '[run] %s\n' "$*"; }
fail() { printf '[run] FAILED: %s\n' "$*" >&2; exit 1; }

$BIN/python manage.py collectstatic --noinput -v 0

if [ "$(id -u)" -eq 0 ]; then
  [ "$RUN_USER" != root ] || fail "AISLE_RUN_USER=root: web, worker and beat do not run as root"
  id "$RUN_USER" >/dev/null 2>&1 \
    || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER"
  chown -R "$RUN_USER:" "$STATE"
  # setpriv execs (no PAM session, no extra process), so the pids below are the servers' own.
  run_as=(setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --init-groups --)
else
  RUN_USER="$(id -un)"
  run_as=()
fi
# A command, not a function: `"${run_as[@]}" ... &` then puts the server itself behind $!.
as_user() { "${run_as[@]}" "$@"; }
run_env=(env HOME="$STATE/home" PYTHONDONTWRITEBYTECODE=1)

# The venv may sit on an interpreter that only root can reach (pyenv under /root, mode 700).
# Then the run user gets a venv of its own: the system python of the same version, with
# requirements.txt installed (once per requirements.txt), owned by root like the code.
runtime_python() {
  local probe=(-c "import celery, django, gunicorn")
  if as_user "${run_env[@]}" "$BIN/python" "${probe[@]}" 2>/dev/null; then
    echo "$BIN/python"
    return
  fi
  local version base="" venv stamp
  version="$($BIN/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  for candidate in "/usr/bin/python$version" "/usr/local/bin/python$version"; do
    if [ -x "$candidate" ] && as_user "$candidate" -c "" 2>/dev/null; then
      base="$candidate"
      break
    fi
  done
  [ -n "$base" ] || fail "$RUN_USER cannot run the venv's Python ($(readlink -f "$BIN/python")),
  and there is no system python$version: apt-get install python$version-venv, or rebuild .venv on one"
  venv="$CACHE/run-venv-$version"
  stamp="$venv/.installed-$(md5sum requirements.txt | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    say "$RUN_USER cannot run the venv's Python; installing requirements.txt into $venv on $base" >&2
    rm -rf "$venv"
    "$base" -m venv "$venv" >&2 || fail "$base -m venv failed: apt-get install python$version-venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt >&2 \
      || fail "could not install requirements.txt into $venv"
    touch "$stamp"
  fi
  as_user "${run_env[@]}" "$venv/bin/python" "${probe[@]}" \
    || fail "$RUN_USER cannot import the app from $PWD: make the repo readable to it"
  echo "$venv/bin/python"
}
PY="$(runtime_python)"
say "web, worker and beat run as $RUN_USER"

# One local API key per scope (apikeys/): created once, kept in a private file outside the repo,
# printed on every run. Never in production, where keys come from create_api_key or the admin.
if [ "${AISLE_ENV:-development}" != production ]; then
  $BIN/python manage.py ensure_dev_api_keys --file "${AISLE_CACHE:-/var/cache/aisle}/dev-api-keys.txt"
fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo "[run] stopping web, workers and beat"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# No gunicorn access log: the app logs one JSON line per request (`aisle.request`, with its id).
"${run_as[@]}" "${run_env[@]}" "$PY" -m gunicorn config.wsgi:application --bind "127.0.0.1:$PORT" \
  --workers "${WEB_CONCURRENCY:-3}" --timeout 30 &
pids+=($!)
# Celery's per-task and beat's per-send lines are off at the default level (config/logging.py):
# LOG_LEVEL=DEBUG, or LOG_LEVEL_CELERY=INFO for those lines alone, brings them back.
"${run_as[@]}" "${run_env[@]}" "$PY" -m celery -A config worker --loglevel "$LOG_LEVEL" \
  --concurrency "${CELERY_CONCURRENCY:-2}" -Q celery -n "default@%h" &
pids+=($!)
# Index drains and sweeps (CELERY_TASK_ROUTES): a confirmation backlog never delays them.
"${run_as[@]}" "${run_env[@]}" "$PY" -m celery -A config worker --loglevel "$LOG_LEVEL" \
  --concurrency "${CELERY_INDEX_CONCURRENCY:-1}" -Q "${SEARCHINDEX_QUEUE:-searchindex}" -n "index@%h" &
pids+=($!)
"${run_as[@]}" "${run_env[@]}" "$PY" -m celery -A config beat --loglevel "$LOG_LEVEL" \
  --schedule "$STATE/celerybeat-schedule" &
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
