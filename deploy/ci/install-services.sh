#!/usr/bin/env bash
# Installs PostgreSQL, Redis and headless Chromium from Debian's packages (root, Debian/Ubuntu).
# Idempotent: a package already present is not fetched again. Nothing is started here; the
# project's servers run on loopback at ports of their own (see start-postgres.sh, start-redis.sh).
set -euo pipefail

packages=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
command -v chromium >/dev/null 2>&1 || packages+=(chromium fonts-liberation)
command -v runuser >/dev/null 2>&1 || packages+=(util-linux)

if ((${#packages[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${packages[@]}"
fi
echo "installed: $(ls -d /usr/lib/postgresql/*/bin | head -1), $(command -v redis-server), $(command -v chromium)"
