#!/usr/bin/env bash
# Where a registration's time goes: `perf record` (software clock, call graphs) on the whole
# machine while wrk sends registrations, then the share of each thread and the server's
# hottest symbols.
#
#   scripts/profile-register.sh                  # SQLite, 10 s, 32 connections
#   BACKEND=postgres scripts/profile-register.sh
#   BIN=path/to/an/older/renfang scripts/profile-register.sh   # the same load, another build
#   LOAD=page scripts/profile-register.sh      # scan page views (GET /q/{token}) instead
#
# Needs wrk and perf (Debian packages `wrk`, `linux-perf`); for PostgreSQL a server at
# $PG_ADMIN. Machines without hardware counters still sample with `cpu-clock`.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND=${BACKEND:-sqlite}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
UNITS=${UNITS:-200}
TOP=${TOP:-40}
LOAD=${LOAD:-register}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
PG_BENCH=${PG_ADMIN%/*}/renfang_profile

command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
if [[ -z ${BIN:-} ]]; then
  cargo build --release --bin renfang >/dev/null 2>&1
  BIN=target/release/renfang
fi
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh

case $BACKEND in
  sqlite) url="sqlite://$WORK/profile.db" ;;
  postgres)
    psql "$PG_ADMIN" -qc "drop database if exists renfang_profile with (force)" >/dev/null 2>&1
    psql "$PG_ADMIN" -qc "create database renfang_profile" >/dev/null
    url=$PG_BENCH
    ;;
  *) echo "BACKEND is sqlite or postgres" >&2; exit 2 ;;
esac
prepare server "$url" 18085
pid=$(cat "$WORK/server.pid")

TOKENS=$WORK/server.tokens wrk -t2 -c"$CONNS" -d"$((DURATION + 2))s" --latency \
  -s "scripts/wrk/$LOAD.lua" http://127.0.0.1:18085 >"$WORK/wrk.txt" 2>&1 &
wrk_pid=$!
sleep 1
# The whole machine, so that the database's and wrk's shares of the two cores show too.
perf record -q -a -e cpu-clock -F 999 -g -o "$WORK/perf.data" -- sleep "$DURATION" \
  >/dev/null 2>&1
wait "$wrk_pid"

echo "$BACKEND, $LOAD.lua, wrk -t2 -c$CONNS, $UNITS units: $(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt") requests/s," \
  "p99 $(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")"
echo
echo "share of all samples by thread name (the server's threads are named by actix,"
echo "tokio, sqlx and the writer; postgres is the database; wrk the load):"
perf report -i "$WORK/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null |
  grep -E '^ +[0-9]' | sed 's/ *$//' | head -14 || true
echo
echo "hottest symbols of the server (self time, share of all samples):"
perf report -i "$WORK/perf.data" --pid "$pid" --no-children --sort comm,dso,symbol --stdio \
  -g none 2>/dev/null | grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -"$TOP" || true
if [[ $BACKEND == postgres ]]; then
  echo
  echo "hottest symbols of PostgreSQL (self time, share of all samples):"
  perf report -i "$WORK/perf.data" --comm postgres --no-children --sort dso,symbol --stdio \
    -g none 2>/dev/null | grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -"$TOP" || true
  psql "$PG_ADMIN" -qc "drop database if exists renfang_profile with (force)" >/dev/null 2>&1 || true
fi
