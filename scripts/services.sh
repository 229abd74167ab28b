#!/usr/bin/env bash
# Bring up (or reuse) PostgreSQL, Redis and Elasticsearch on this machine, without Docker.
#
#   scripts/services.sh up       start whatever is not already answering, then wait until ready
#   scripts/services.sh status   say what answers
#   scripts/services.sh stop-es  stop the Elasticsearch node this script started
#
# A local N-node Elasticsearch cluster, for drills and for trying Aisle on a cluster
# (AISLE_ES_NODES nodes, HTTP ports AISLE_ES_PORT.., transport ports AISLE_ES_TRANSPORT_PORT..):
#
#   AISLE_ES_NODES=3 AISLE_ES_PORT=9260 scripts/services.sh es-cluster-up     start, wait for green
#   AISLE_ES_NODES=3 AISLE_ES_PORT=9260 scripts/services.sh es-cluster-stop   stop every node
#   AISLE_ES_NODES=3 AISLE_ES_PORT=9260 scripts/services.sh es-node-start 2   (re)start node 2
#
# A cluster that no node of answers starts from empty data directories: it is a throwaway.
# tests/escluster.py drives these commands and SIGKILLs nodes by their pid files.
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

# --- A local Elasticsearch cluster ------------------------------------------------------------
ES_NODES="${AISLE_ES_NODES:-1}"
ES_TRANSPORT_PORT="${AISLE_ES_TRANSPORT_PORT:-$((ES_PORT + 100))}"
CLUSTER_DIR="$CACHE/es-cluster-$ES_PORT"
# Three JVMs share 2 cores and 24 GB with Postgres, Redis, the single node and the app.
CLUSTER_JAVA_OPTS="${AISLE_ES_CLUSTER_JAVA_OPTS:--Xms384m -Xmx384m}"

node_dir() { echo "$CLUSTER_DIR/node$1"; }
node_http() { echo $((ES_PORT + $1 - 1)); }
node_pid() { cat "$(node_dir "$1")/run/es.pid" 2>/dev/null || true; }
node_alive() { local pid; pid="$(node_pid "$1")"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

cluster_answers() {  # every node joined and the cluster at least $1 (default green)
  curl -sf "http://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=${1:-green}&wait_for_nodes=$ES_NODES&timeout=1s" >/dev/null
}

cluster_config() {  # cluster_config N: node N's config directory, written fresh
  local n="$1" dir seeds="" masters="" i
  dir="$(node_dir "$n")"
  for i in $(seq 1 "$ES_NODES"); do
    seeds="$seeds${seeds:+, }\"127.0.0.1:$((ES_TRANSPORT_PORT + i - 1))\""
    masters="$masters${masters:+, }aisle-$ES_PORT-$i"
  done
  mkdir -p "$dir/config" "$dir/data" "$dir/logs" "$dir/run" "$dir/tmp"
  # jvm.options, log4j2 and the keystore from the shared home; elasticsearch.yml is the node's.
  cp -r "$ES_HOME/config/." "$dir/config/"
  # The heap and JVM options live with the node, so a restart (es-node-start) gets them too.
  mkdir -p "$dir/config/jvm.options.d"
  printf '%s\n' $CLUSTER_JAVA_OPTS > "$dir/config/jvm.options.d/aisle-cluster.options"
  cat > "$dir/config/elasticsearch.yml" <<YML
cluster.name: aisle-cluster-$ES_PORT
node.name: aisle-$ES_PORT-$n
network.host: 127.0.0.1
http.port: $(node_http "$n")
transport.port: $((ES_TRANSPORT_PORT + n - 1))
discovery.seed_hosts: [$seeds]
cluster.initial_master_nodes: [$masters]
path.data: $dir/data
path.logs: $dir/logs
xpack.security.enabled: false
action.destructive_requires_name: false
# A nearly full disk would otherwise make every index read-only mid-drill.
cluster.routing.allocation.disk.threshold_enabled: false
YML
  chown -R "$ES_USER" "$dir"
}

es_node_start() {  # es_node_start N: start node N unless it runs; does not wait
  local n="$1" dir
  [ "$n" -ge 1 ] && [ "$n" -le "$ES_NODES" ] || fail "node $n is not in 1..$ES_NODES"
  dir="$(node_dir "$n")"
  if node_alive "$n"; then
    say "node $n already runs (pid $(node_pid "$n"))"
    return
  fi
  [ -f "$dir/config/elasticsearch.yml" ] || cluster_config "$n"
  say "starting node $n on 127.0.0.1:$(node_http "$n")"
  (cd "$dir" && runuser -u "$ES_USER" -- env ES_JAVA_HOME="$(java_home)" ES_PATH_CONF="$dir/config" \
    ES_TMPDIR="$dir/tmp" \
    "$ES_HOME/bin/elasticsearch" -d -p "$dir/run/es.pid" >"$dir/run/start.log" 2>&1 9>&-) \
    || fail "node $n did not start (see $dir/run/start.log and $dir/logs/)"
}

es_cluster_up() {
  [ "$ES_NODES" -ge 2 ] || fail "es-cluster-up needs AISLE_ES_NODES >= 2 (the single node is 'up')"
  if cluster_answers yellow; then
    say "Elasticsearch cluster already answers on port $ES_PORT; reusing it"
    return
  fi
  # The shared home (with the plugin) comes from `up`; es_install would rewrite its single-node config.
  [ -x "$ES_HOME/bin/elasticsearch" ] && [ -d "$ES_HOME/plugins/aisle-analysis" ] \
    || fail "no Elasticsearch home with the aisle-analysis plugin in $ES_HOME: run '$0 up' first"
  local n
  for n in $(seq 1 "$ES_NODES"); do
    node_alive "$n" && fail "node $n runs (pid $(node_pid "$n")) but the cluster does not answer; es-cluster-stop first"
  done
  # Nothing answers: a fresh cluster from empty data directories.
  rm -rf "$CLUSTER_DIR"
  local starts=()
  for n in $(seq 1 "$ES_NODES"); do
    cluster_config "$n"
    # In parallel: `elasticsearch -d` returns only once its node has started.
    es_node_start "$n" &
    starts+=($!)
  done
  for n in "${starts[@]}"; do wait "$n" || { es_cluster_stop; fail "a node did not start"; }; done
  if ! wait_for "Elasticsearch cluster ($ES_NODES nodes, ports $ES_PORT..$(node_http "$ES_NODES"))" \
    "$WAIT_SECONDS" cluster_answers green; then
    es_cluster_stop
    fail "the cluster did not reach green with $ES_NODES nodes within $WAIT_SECONDS s (see $CLUSTER_DIR/node*/logs/); stopped it"
  fi
}

es_cluster_stop() {
  local n pid
  for n in $(seq 1 "$ES_NODES"); do
    pid="$(node_pid "$n")"
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
      say "stopping node $n (pid $pid)"
    fi
  done
  for n in $(seq 1 "$ES_NODES"); do
    while node_alive "$n"; do sleep 0.5; done
    rm -f "$(node_dir "$n")/run/es.pid"
  done
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
    es-cluster-up)
      exec 9>"$CACHE/bootstrap.lock"
      flock 9
      es_cluster_up
      ;;
    es-cluster-stop) es_cluster_stop ;;
    es-node-start) es_node_start "${2:?node number}" ;;
    *) fail "usage: $0 [up|status|stop-es|es-cluster-up|es-cluster-stop|es-node-start N]" ;;
  esac
}

main "$@"
