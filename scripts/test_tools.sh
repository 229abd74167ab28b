#!/usr/bin/env bash
# Install the command-line tools the test suite drives besides the services, idempotently:
# - Debian's docker-compose (1.29), so `docker-compose config` validates docker-compose.yml on
#   every run. It checks the file only; an actual `up` and Kibana still need a Docker engine.
# - Debian's chromium and chromium-driver, for the search console's browser tests (Selenium).
# - axe-core (pinned, from the npm registry) for their accessibility checks, unpacked into a
#   cache directory outside the repo: tests/console/ reads it from there (AXE_CORE_JS).
set -euo pipefail

AXE_CORE_VERSION=4.14.1
CACHE="${AISLE_CACHE:-/var/cache/aisle}"
AXE_DIR="$CACHE/axe-core-$AXE_CORE_VERSION"

say() { printf '[test-tools] %s\n' "$*"; }

missing=()
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 \
  || missing+=(docker-compose)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { say "missing ${missing[*]}; run as root to install them"; exit 1; }
  say "installing ${missing[*]} from Debian's packages"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -s "$AXE_DIR/axe.min.js" ]; then
  command -v npm >/dev/null 2>&1 || { say "npm is missing: needed once to fetch axe-core"; exit 1; }
  say "fetching axe-core $AXE_CORE_VERSION from the npm registry into $AXE_DIR"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "axe-core@$AXE_CORE_VERSION" >/dev/null)
  tar -xzf "$tmp/axe-core-$AXE_CORE_VERSION.tgz" -C "$tmp" package/axe.min.js
  mkdir -p "$AXE_DIR"
  mv "$tmp/package/axe.min.js" "$AXE_DIR/axe.min.js"
fi
