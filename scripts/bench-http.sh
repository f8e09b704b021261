#!/usr/bin/env bash
# Durable registrations per second (POST /api/v1/scan/{token}/registrations) and scan-page
# views per second (GET /q/{token}) with wrk on loopback, on SQLite and on PostgreSQL, side by
# side in one run with a bare actix-web handler as the ceiling.
#
#   scripts/bench-http.sh                # 20 s per run, 32 connections
#   DURATION=60s CONNS=64 scripts/bench-http.sh
#
# Needs wrk (Debian package `wrk`), curl, and for PostgreSQL a server at $PG_ADMIN.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20s}
CONNS=${CONNS:-32}
UNITS=${UNITS:-200}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
PG_BENCH=${PG_ADMIN%/*}/renfang_bench

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --bin renfang --example bare >/dev/null 2>&1
BIN=target/release/renfang
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh

# measure LABEL PORT SCRIPT TOKENS: one wrk run, one markdown row.
measure() {
  TOKENS=$4 wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "scripts/wrk/$3" \
    "http://127.0.0.1:$2" >"$WORK/wrk.txt" 2>&1
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
  bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
  printf '| %s | %.0f | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "${bad:-0}"
}

stored() {
  curl -sf "http://127.0.0.1:$1/metrics" | awk '/^renfang_registrations_total/ {print $2}'
}

psql "$PG_ADMIN" -qc "drop database if exists renfang_bench with (force)" >/dev/null
psql "$PG_ADMIN" -qc "create database renfang_bench" >/dev/null

prepare sqlite "sqlite://$WORK/bench.db" 18081
prepare postgres "$PG_BENCH" 18082
target/release/examples/bare 127.0.0.1:18099 >/dev/null &
sleep 0.5

echo "wrk -t2 -c$CONNS -d$DURATION, $UNITS units, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| run | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
measure "bare handler, POST (ceiling)" 18099 register.lua "$WORK/sqlite.tokens"
measure "registrations, SQLite" 18081 register.lua "$WORK/sqlite.tokens"
measure "registrations, PostgreSQL" 18082 register.lua "$WORK/postgres.tokens"
measure "bare handler, GET (ceiling)" 18099 page.lua "$WORK/sqlite.tokens"
measure "scan page /q/{token}, SQLite" 18081 page.lua "$WORK/sqlite.tokens"
measure "scan page /q/{token}, PostgreSQL" 18082 page.lua "$WORK/postgres.tokens"
echo
echo "registrations stored (committed, from /metrics): SQLite $(stored 18081), PostgreSQL $(stored 18082)"

psql "$PG_ADMIN" -qc "drop database if exists renfang_bench with (force)" >/dev/null 2>&1 || true
