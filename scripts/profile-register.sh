#!/usr/bin/env bash
# Where a registration's time goes: `perf record` (software clock, call graphs) on the server
# while wrk sends registrations, then the hottest symbols and the time per thread.
#
#   scripts/profile-register.sh                  # SQLite, 10 s, 32 connections
#   BACKEND=postgres scripts/profile-register.sh
#   BIN=path/to/an/older/renfang scripts/profile-register.sh   # the same load, another build
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
  -s scripts/wrk/register.lua http://127.0.0.1:18085 >"$WORK/wrk.txt" 2>&1 &
wrk_pid=$!
sleep 1
perf record -q -e cpu-clock -F 1999 -g -p "$pid" -o "$WORK/perf.data" -- sleep "$DURATION" \
  >/dev/null 2>&1
wait "$wrk_pid"

echo "$BACKEND, wrk -t2 -c$CONNS, $UNITS units: $(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt") registrations/s," \
  "p99 $(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")"
echo
echo "samples per thread (the server's share of $DURATION s on $(nproc) cores):"
perf report -i "$WORK/perf.data" --no-children --sort comm --stdio 2>/dev/null |
  grep -E '^ +[0-9]' | head -12
echo
echo "hottest symbols (self time):"
perf report -i "$WORK/perf.data" --no-children --sort comm,symbol --stdio -g none 2>/dev/null |
  grep -E '^ +[0-9]' | head -"$TOP"
if [[ $BACKEND == postgres ]]; then
  psql "$PG_ADMIN" -qc "drop database if exists renfang_profile with (force)" >/dev/null 2>&1 || true
fi
