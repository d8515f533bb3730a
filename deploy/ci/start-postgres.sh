#!/usr/bin/env bash
# Starts a disposable PostgreSQL server on 127.0.0.1 for CI and tests (Debian's packages; see
# install-services.sh). Usage: start-postgres.sh DIR [PORT]
#   DIR   a new folder for the cluster, its socket and log (e.g. /tmp/outlook-postgres)
#   PORT  TCP port on 127.0.0.1 (default: a free one)
# Prints `export DAGSTER_PG_*=...` lines for deploy/postgres/dagster.yaml (eval them) and writes
# the same to DIR/env. The password is random per start; nothing is stored outside DIR.
# Durability is off (fsync, synchronous_commit): this server is for tests, never for data.
set -euo pipefail

dir=${1:?usage: start-postgres.sh DIR [PORT]}
port=${2:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "start-postgres.sh: no PostgreSQL server binaries under /usr/lib/postgresql; run deploy/ci/install-services.sh" >&2
  exit 2
fi
if [ -e "$dir/data" ]; then
  echo "start-postgres.sh: $dir/data already exists; pick a new DIR or run stop-postgres.sh $dir --remove" >&2
  exit 2
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
as_owner=()
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ "$(id -u)" = 0 ]; then
  as_owner=(runuser -u postgres --)
  chown postgres: "$dir"
  chmod 700 "$dir"
fi

user=dagster
db=dagster
password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
pwfile="$dir/.pwfile"
(umask 077 && printf '%s\n' "$password" >"$pwfile")
[ ${#as_owner[@]} -eq 0 ] || chown postgres: "$pwfile"

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U "$user" --pwfile="$pwfile" \
  --auth=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
  { echo "start-postgres.sh: initdb failed, see $dir/initdb.log" >&2; exit 1; }
rm -f "$pwfile"

"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
  start >/dev/null ||
  { echo "start-postgres.sh: server did not start on 127.0.0.1:$port, see $dir/server.log" >&2; exit 1; }

PGPASSWORD=$password "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$user" "$db"

cat >"$dir/env" <<ENV
export DAGSTER_PG_HOST=127.0.0.1
export DAGSTER_PG_PORT=$port
export DAGSTER_PG_USER=$user
export DAGSTER_PG_PASSWORD=$password
export DAGSTER_PG_DB=$db
ENV
chmod 600 "$dir/env"
cat "$dir/env"
