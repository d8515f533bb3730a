#!/usr/bin/env bash
# Stops a server started by start-postgres.sh. Usage: stop-postgres.sh DIR [--remove]
# With --remove the folder (cluster, log, env) is deleted afterwards.
set -euo pipefail

dir=${1:?usage: stop-postgres.sh DIR [--remove]}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bindir" ]; then
  as_owner=()
  [ "$(id -u)" = 0 ] && as_owner=(runuser -u postgres --)
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
fi
if [ "${2:-}" = --remove ]; then
  rm -rf "$dir"
fi
