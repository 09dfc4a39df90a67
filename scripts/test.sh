#!/usr/bin/env bash
# Runs every suite the way CI does: lint; the whole suite on SQLite (Redis/Dramatiq against a real
# redis-server, browser journeys in headless Chromium); then again on a throwaway PostgreSQL cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[[ -n "$PG_BIN" && -x "$PG_BIN/initdb" ]] || missing+=(postgresql)
if (( ${#missing[@]} )); then
  echo "make test needs: ${missing[*]} — install with: sudo apt-get install -y ${missing[*]}  (or run .ci/run)" >&2
  exit 1
fi

echo "== ruff"
.venv/bin/ruff check .

workers=${TEST_WORKERS:-2}
export PYTHONDONTWRITEBYTECODE=1

echo "== tests on SQLite (with Redis, Dramatiq and headless Chromium)"
env -u DATABASE_URL -u REDIS_URL $PY -m pytest -q -n "$workers" -p no:cacheprovider "$@"

echo "== tests on PostgreSQL"
pgdir=$(mktemp -d /tmp/softdukan-pg.XXXXXX)
chmod 755 "$pgdir"
as_pg=()
if [[ $(id -u) -eq 0 ]]; then  # PostgreSQL refuses to run as root
  chown postgres "$pgdir"
  as_pg=(runuser -u postgres --)
fi
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$PG_BIN/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
trap '"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/postgres" \
  env -u REDIS_URL $PY -m pytest -q -n "$workers" -p no:cacheprovider -m "not browser" "$@"
