#!/usr/bin/env bash
# Install the command-line tools the test suite drives besides the services: Debian's
# docker-compose (1.29), so `docker-compose config` validates docker-compose.yml on every run.
# It checks the file only; an actual `up` and Kibana still need a Docker engine.
set -euo pipefail

say() { printf '[test-tools] %s\n' "$*"; }

if command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; then
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { say "docker-compose is missing; run as root to install it"; exit 1; }
say "installing docker-compose from Debian's packages"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
