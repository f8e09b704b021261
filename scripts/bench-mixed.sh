#!/usr/bin/env bash
# The mixed load of a working day, in one run: of every 20 requests 16 poster page views,
# 3 registrations and 1 police queue page (scripts/wrk/mixed.lua), at 64 connections for
# 60 s, against
#   - a bare actix-web handler on the same routes (the ceiling),
#   - one instance on SQLite,
#   - two instances on one PostgreSQL database sharing one Redis (32 connections each, as a
#     load balancer would spread them; the police session is made on the first instance
#     and used on both, through Redis; each instance holds half of the DB_CONNECTIONS
#     database connections, 16 unless set).
# Prints one markdown row per run: throughput, its ratio to the ceiling, latency, 5xx
# answers and the servers' peak resident memory.
#
#   scripts/bench-mixed.sh
#   DURATION=20s scripts/bench-mixed.sh
#
# Needs wrk, curl, psql and a PostgreSQL server at $PG_ADMIN, Redis at $REDIS_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60s}
CONNS=${CONNS:-64}
# Registrations spread over the units as over a town's: with a few hundred units a
# minute's load would put a hundred people in each, which no rule allows.
UNITS=${UNITS:-4000}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
PG_BENCH=${PG_ADMIN%/*}/renfang_mixed
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --locked --bin renfang --example bare >/dev/null 2>&1
BIN=target/release/renfang
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh

# load OUT PORT CONNS THREADS TID_BASE TOKENS COOKIE: one wrk run of the mixed script.
load() {
  TOKENS=$6 POLICE_COOKIE=$7 TID_BASE=$5 wrk -t"$4" -c"$3" -d"$DURATION" --latency \
    -s scripts/wrk/mixed.lua "http://127.0.0.1:$2" >"$1" 2>&1
}

# ms FILE PERCENT: a latency percentile of a wrk report, in milliseconds.
ms() {
  awk -v p="$2%" '$1 == p {
    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
    printf "%.1f", v }' "$1"
}
rps() { awk '/^Requests\/sec/ {print $2}' "$@" | awk '{s += $1} END {printf "%.0f", s}'; }
answers() { sed -n "s/^answers: .*$1 \([0-9]*\).*/\1/p" "${@:2}" | awk '{s += $1} END {print s + 0}'; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }

# row LABEL RSS WRK-REPORTS...: one markdown row.
row() {
  local label=$1 rss=$2
  shift 2
  local total p50s=() p99s=() f
  total=$(rps "$@")
  for f in "$@"; do p50s+=("$(ms "$f" 50)"); p99s+=("$(ms "$f" 99)"); done
  printf '| %s | %s | %.0f %% | %s ms | %s ms | %s | %s | %s |\n' "$label" "$total" \
    "$(awk -v a="$total" -v b="$CEILING" 'BEGIN {print 100 * a / b}')" \
    "$(max "${p50s[@]}")" "$(max "${p99s[@]}")" "$(answers 5xx "$@")" "$(answers 429 "$@")" "$rss"
}

echo "wrk, mixed.lua, $CONNS connections, $DURATION, $UNITS units, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| run | requests/s | of ceiling | p50 | p99 | 5xx | 429 | server peak RSS |"
echo "|---|---|---|---|---|---|---|---|"

target/release/examples/bare 127.0.0.1:18099 >"$WORK/bare.out" &
echo $! >"$WORK/bare.pid"
sleep 0.5
seq 1 "$UNITS" | sed 's/^/bare-token-/' >"$WORK/bare.tokens"
load "$WORK/bare.txt" 18099 "$CONNS" 2 0 "$WORK/bare.tokens" ""
CEILING=$(rps "$WORK/bare.txt")
row "bare handler (ceiling)" "$(peak_rss_mb bare) MB" "$WORK/bare.txt"
kill "$(cat "$WORK/bare.pid")"

prepare sqlite "sqlite://$WORK/mixed.db" 18081
cookie=$(page_cookie 18081 police bench-password-1)
load "$WORK/sqlite.txt" 18081 "$CONNS" 2 0 "$WORK/sqlite.tokens" "$cookie"
row "one instance, SQLite" "$(peak_rss_mb sqlite) MB" "$WORK/sqlite.txt"
sqlite_stored=$(curl -sf http://127.0.0.1:18081/metrics | awk '/^renfang_registrations_total/ {print $2}')
# Each class of the mix alone on the same instance, for where the time goes.
printf 'request = function() return wrk.format("GET", "/police", {["Cookie"] = os.getenv("POLICE_COOKIE")}) end\n' \
  >"$WORK/police.lua"
classes=""
for class in page.lua register.lua police; do
  script=scripts/wrk/$class
  [[ $class == police ]] && script=$WORK/police.lua
  TOKENS=$WORK/sqlite.tokens POLICE_COOKIE=$cookie wrk -t2 -c"$CONNS" -d"${CLASS_DURATION:-10s}" \
    --latency -s "$script" http://127.0.0.1:18081 >"$WORK/class.txt" 2>&1
  classes+=$(printf '| %s alone, SQLite | %s | | %s ms | %s ms |' "${class%.lua}" \
    "$(rps "$WORK/class.txt")" "$(ms "$WORK/class.txt" 50)" "$(ms "$WORK/class.txt" 99)")$'\n'
done
kill "$(cat "$WORK/sqlite.pid")"

psql "$PG_ADMIN" -qc "drop database if exists renfang_mixed with (force)" >/dev/null
psql "$PG_ADMIN" -qc "create database renfang_mixed" >/dev/null
export RENFANG_REDIS_URL=$REDIS_URL RENFANG_REDIS_PREFIX="mixed$$:"
# The two instances share the database's connections: together they hold as many as one
# instance does by default.
export RENFANG_DB_MAX_CONNECTIONS=$((${DB_CONNECTIONS:-16} / 2))
prepare pg1 "$PG_BENCH" 18082
start pg2 "$PG_BENCH" 18083
cookie=$(page_cookie 18082 police bench-password-1)
# The session made on the first instance opens the police page on the second.
curl -sf -o /dev/null -H "Cookie: $cookie" http://127.0.0.1:18083/police ||
  { echo "the session of instance 1 was refused by instance 2" >&2; exit 1; }
half=$((CONNS / 2))
load "$WORK/pg1.txt" 18082 "$half" 1 1000 "$WORK/pg1.tokens" "$cookie" &
first=$!
load "$WORK/pg2.txt" 18083 "$half" 1 2000 "$WORK/pg1.tokens" "$cookie" &
second=$!
wait "$first" "$second"
row "two instances, PostgreSQL + Redis" "$(peak_rss_mb pg1) + $(peak_rss_mb pg2) MB" \
  "$WORK/pg1.txt" "$WORK/pg2.txt"
pg_stored=$(psql "$PG_BENCH" -Atc "select count(*) from registrations")

echo
echo "| class | requests/s | | p50 | p99 |"
echo "|---|---|---|---|---|"
printf '%s' "$classes"
echo
echo "registrations stored: SQLite $sqlite_stored, PostgreSQL $pg_stored"
for f in bare sqlite pg1 pg2; do grep -H "answers:" "$WORK/$f.txt"; done | sed "s|$WORK/||"
psql "$PG_ADMIN" -qc "drop database if exists renfang_mixed with (force)" >/dev/null 2>&1 || true
