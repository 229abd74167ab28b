#!/usr/bin/env bash
# Build es-plugin/aisle-analysis and install it into an Elasticsearch that lacks the analysis-common module.
#
#   scripts/es_plugin.sh ES_HOME      e.g. scripts/es_plugin.sh /var/cache/aisle/elasticsearch-8.19.3
#
# Compiles against ES_HOME/lib (no network, no Gradle), jars the classes and installs jar + descriptor into
# ES_HOME/plugins/aisle-analysis/. Does nothing when the installed jar is newer than the sources, and refuses
# to install when ES_HOME/modules/analysis-common exists (the official distributions): the filter names would
# clash. Restart the node afterwards for it to load the plugin. Set AISLE_ES_PLUGIN_FORCE=1 to rebuild anyway.
set -euo pipefail

say() { printf '[es_plugin] %s\n' "$*"; }
fail() { printf '[es_plugin] FAILED: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || fail "usage: $0 ES_HOME"
ES_HOME="${1%/}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$HERE/../es-plugin/aisle-analysis" && pwd)"
NAME="aisle-analysis"
DEST="$ES_HOME/plugins/$NAME"

[ -d "$ES_HOME/lib" ] || fail "$ES_HOME does not look like an Elasticsearch home (no lib/ directory)"

if [ -d "$ES_HOME/modules/analysis-common" ]; then
  say "$ES_HOME/modules/analysis-common exists; $NAME is not needed there and is not installed"
  if [ -e "$DEST" ]; then
    say "WARNING: $DEST is present from an earlier install; remove it, or the node will refuse to start" >&2
  fi
  exit 0
fi

# The classic-plugin descriptor must carry the server's exact version; read it from the server jar's name.
shopt -s nullglob
server_jars=("$ES_HOME"/lib/elasticsearch-[0-9]*.jar)
shopt -u nullglob
[ ${#server_jars[@]} -eq 1 ] || fail "expected exactly one lib/elasticsearch-<version>.jar in $ES_HOME, found ${#server_jars[@]}"
ES_VERSION="$(basename "${server_jars[0]}" .jar)"
ES_VERSION="${ES_VERSION#elasticsearch-}"
JAR_NAME="$NAME-$ES_VERSION.jar"

# Up to date? The installed jar must exist for this ES version and be newer than every source file.
if [ -z "${AISLE_ES_PLUGIN_FORCE:-}" ] && [ -f "$DEST/$JAR_NAME" ] && [ -f "$DEST/plugin-descriptor.properties" ] \
   && grep -qx "elasticsearch.version=$ES_VERSION" "$DEST/plugin-descriptor.properties" \
   && [ -z "$(find "$SRC/src" "$SRC/plugin-descriptor.properties" "${BASH_SOURCE[0]}" -newer "$DEST/$JAR_NAME" -print -quit)" ]; then
  say "$DEST/$JAR_NAME is up to date; nothing to do"
  exit 0
fi

# A JDK: the one the node runs on if given, else JAVA_HOME, else PATH.
JAVA_BIN=""
for home in "${ES_JAVA_HOME:-}" "${JAVA_HOME:-}"; do
  if [ -n "$home" ] && [ -x "$home/bin/javac" ] && [ -x "$home/bin/jar" ]; then JAVA_BIN="$home/bin/"; break; fi
done
if [ -z "$JAVA_BIN" ]; then
  command -v javac >/dev/null 2>&1 && command -v jar >/dev/null 2>&1 \
    || fail "javac and jar (a JDK 17 or newer) are needed; try: apt-get install openjdk-17-jdk-headless"
fi

BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT

say "compiling $NAME for Elasticsearch $ES_VERSION"
mapfile -t sources < <(find "$SRC/src/main/java" -name '*.java' | sort)
[ ${#sources[@]} -gt 0 ] || fail "no Java sources under $SRC/src/main/java"
"${JAVA_BIN}javac" --release 17 -encoding UTF-8 -cp "$ES_HOME/lib/*" -d "$BUILD/classes" "${sources[@]}"
"${JAVA_BIN}jar" --create --file "$BUILD/$JAR_NAME" -C "$BUILD/classes" .

sed "s/\${elasticsearch.version}/$ES_VERSION/" "$SRC/plugin-descriptor.properties" > "$BUILD/plugin-descriptor.properties"
grep -qx "elasticsearch.version=$ES_VERSION" "$BUILD/plugin-descriptor.properties" \
  || fail "could not set elasticsearch.version in the plugin descriptor"

say "installing into $DEST"
mkdir -p "$DEST"
chmod 0755 "$DEST"
find "$DEST" -maxdepth 1 -name "$NAME-*.jar" ! -name "$JAR_NAME" -delete   # jars built for other versions
install -m 0644 "$BUILD/plugin-descriptor.properties" "$DEST/plugin-descriptor.properties"
install -m 0644 "$BUILD/$JAR_NAME" "$DEST/$JAR_NAME"
# Give the files to whoever owns plugins/ (the node's user, e.g. aisle-es) when we can.
if [ "$(id -u)" -eq 0 ]; then
  chown -R --reference="$ES_HOME/plugins" "$DEST"
fi
say "installed $NAME $ES_VERSION; restart Elasticsearch to load it"
