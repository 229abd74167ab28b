#!/usr/bin/env bash
# Bring up (or reuse) PostgreSQL, Redis and Elasticsearch on this machine, without Docker.
#
#   scripts/services.sh up       start whatever is not already answering, then wait until ready
#   scripts/services.sh status   say what answers
#   scripts/services.sh stop-es  stop the Elasticsearch node this script started
#
# PostgreSQL and Redis come from Debian's packages; Elasticsearch is the official integ-test-zip
# from Maven Central, run on the machine's JDK. Downloads are cached in $AISLE_CACHE, outside the repo.
set -euo pipefail

ES_VERSION="${AISLE_ES_VERSION:-8.19.3}"
CACHE="${AISLE_CACHE:-/var/cache/aisle}"
ES_HOME="$CACHE/elasticsearch-$ES_VERSION"
ES_PORT="${AISLE_ES_PORT:-9200}"
ES_USER="aisle-es"
REDIS_PORT="${AISLE_REDIS_PORT:-6379}"
REDIS_MAXMEMORY="${AISLE_REDIS_MAXMEMORY:-256mb}"
PG_PORT="${AISLE_PG_PORT:-5432}"
DB_NAME="${AISLE_DB_NAME:-aisle}"
DB_USER="${AISLE_DB_USER:-aisle}"
DB_PASSWORD="${AISLE_DB_PASSWORD:-aisle}"
WAIT_SECONDS="${AISLE_WAIT_SECONDS:-180}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

say() { printf '[services] %s\n' "$*"; }
fail() { printf '[services] FAILED: %s\n' "$*" >&2; exit 1; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    apt-get update -qq >/dev/null || fail "apt-get update did not work"
    apt_updated=1
  fi
  say "installing $* from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || fail "apt-get install $* did not work"
}

need_command() {  # need_command COMMAND PACKAGE...
  local cmd="$1"; shift
  command -v "$cmd" >/dev/null 2>&1 || apt_install "$@"
}

wait_for() {  # wait_for NAME SECONDS COMMAND...
  local name="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
  say "$name is ready"
}

# --- PostgreSQL -------------------------------------------------------------------------------
pg_answers() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

postgres_up() {
  if ! command -v pg_isready >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql postgresql-contrib
  fi
  if pg_answers; then
    say "PostgreSQL already answers on port $PG_PORT; reusing it"
  else
    local version
    version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    if ! pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "$version/main"; then
      say "creating PostgreSQL $version cluster 'main'"
      pg_createcluster "$version" main -p "$PG_PORT" >/dev/null
    fi
    say "starting PostgreSQL $version"
    pg_ctlcluster "$version" main start 9>&- || fail "PostgreSQL $version did not start (see /var/log/postgresql/)"
    wait_for "PostgreSQL" 60 pg_answers || fail "PostgreSQL did not answer on port $PG_PORT within 60 s"
  fi
  # Role and database, created once; CREATEDB lets the test runner make its own test database.
  runuser -u postgres -- psql -q -p "$PG_PORT" -v ON_ERROR_STOP=1 <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE "$DB_USER" LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
SQL
  if ! runuser -u postgres -- psql -p "$PG_PORT" -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
    runuser -u postgres -- createdb -p "$PG_PORT" -O "$DB_USER" "$DB_NAME"
  fi
}

# --- Redis ------------------------------------------------------------------------------------
redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

redis_up() {
  need_command redis-server redis-server
  if redis_answers; then
    say "Redis already answers on port $REDIS_PORT; reusing it"
    return
  fi
  mkdir -p "$CACHE/redis"
  say "starting Redis on 127.0.0.1:$REDIS_PORT (maxmemory $REDIS_MAXMEMORY, volatile-lru)"
  # maxmemory bounds what clients can make Redis hold. volatile-lru evicts only keys with a TTL
  # (every cache key and throttle counter has one); the Celery broker's queues (db 1) have
  # none, so they are never evicted, as allkeys-lru could. Loopback only, so no password here.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$CACHE/redis" \
    --maxmemory "$REDIS_MAXMEMORY" --maxmemory-policy volatile-lru \
    --save "" --appendonly no --logfile "$CACHE/redis/redis.log" --pidfile "$CACHE/redis/redis.pid" 9>&- \
    || fail "Redis did not start (see $CACHE/redis/redis.log)"
  wait_for "Redis" 30 redis_answers || fail "Redis did not answer on port $REDIS_PORT within 30 s"
}

# --- Elasticsearch ----------------------------------------------------------------------------
es_answers() { curl -sf "http://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null; }

java_home() { dirname "$(dirname "$(readlink -f "$(command -v java)")")"; }

es_install() {
  need_command java openjdk-17-jre-headless
  need_command javac openjdk-17-jdk-headless
  need_command mvn maven
  need_command unzip unzip
  need_command curl curl
  local zip="$CACHE/dl/elasticsearch-$ES_VERSION.zip"
  mkdir -p "$CACHE/dl"
  if [ ! -s "$zip" ]; then
    say "fetching Elasticsearch $ES_VERSION (integ-test-zip) from Maven Central"
    (cd "$CACHE" && mvn -q -B dependency:copy \
      -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
      -DoutputDirectory="$CACHE/dl") || fail "Maven could not fetch the Elasticsearch $ES_VERSION zip"
  fi
  if [ ! -x "$ES_HOME/bin/elasticsearch" ]; then
    say "unpacking Elasticsearch into $ES_HOME"
    rm -rf "$ES_HOME.partial" && mkdir -p "$ES_HOME.partial"
    unzip -q "$zip" -d "$ES_HOME.partial" || fail "could not unpack $zip"
    mv "$ES_HOME.partial/elasticsearch-$ES_VERSION" "$ES_HOME" && rmdir "$ES_HOME.partial"
  fi
  id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
  mkdir -p "$CACHE/es-data" "$CACHE/es-logs" "$CACHE/es-run"
  # Loopback only and no security: a development node that nothing off this machine can reach.
  cat > "$ES_HOME/config/elasticsearch.yml" <<YML
cluster.name: aisle-dev
node.name: aisle-dev-1
network.host: 127.0.0.1
http.port: $ES_PORT
discovery.type: single-node
path.data: $CACHE/es-data
path.logs: $CACHE/es-logs
xpack.security.enabled: false
action.destructive_requires_name: false
YML
  bash "$HERE/es_plugin.sh" "$ES_HOME" || fail "could not build the aisle-analysis Elasticsearch plugin"
  chown -R "$ES_USER" "$ES_HOME" "$CACHE/es-data" "$CACHE/es-logs" "$CACHE/es-run"
}

es_up() {
  if es_answers; then
    say "Elasticsearch already answers on port $ES_PORT; reusing it"
    return
  fi
  es_install
  say "starting Elasticsearch $ES_VERSION on 127.0.0.1:$ES_PORT"
  local pidfile="$CACHE/es-run/es.pid"
  runuser -u "$ES_USER" -- env ES_JAVA_HOME="$(java_home)" \
    ES_JAVA_OPTS="${AISLE_ES_JAVA_OPTS:--Xms512m -Xmx512m}" \
    "$ES_HOME/bin/elasticsearch" -d -p "$pidfile" >"$CACHE/es-run/start.log" 2>&1 9>&- \
    || fail "Elasticsearch did not start (see $CACHE/es-run/start.log)"
  if ! wait_for "Elasticsearch" "$WAIT_SECONDS" es_answers; then
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    fail "Elasticsearch did not reach yellow within $WAIT_SECONDS s (see $CACHE/es-logs/aisle-dev.log); stopped it"
  fi
}

es_stop() {
  local pidfile="$CACHE/es-run/es.pid"
  if [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; then
    say "stopping Elasticsearch"
    while kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; do sleep 1; done
  fi
}

status() {
  pg_answers && say "PostgreSQL: up" || say "PostgreSQL: down"
  redis_answers && say "Redis: up" || say "Redis: down"
  es_answers && say "Elasticsearch: up" || say "Elasticsearch: down"
}

main() {
  [ "$(id -u)" -eq 0 ] || fail "run as root: it installs packages and starts services"
  mkdir -p "$CACHE"
  case "${1:-up}" in
    up)
      # One bootstrap at a time: two shells starting the same node would race. Daemons started
      # below get fd 9 closed, or they would hold the lock for their whole life.
      exec 9>"$CACHE/bootstrap.lock"
      flock 9
      local started=$SECONDS
      postgres_up
      redis_up
      es_up
      say "all services ready in $((SECONDS - started)) s"
      ;;
    status) status ;;
    stop-es) es_stop ;;
    *) fail "usage: $0 [up|status|stop-es]" ;;
  esac
}

main "$@"
