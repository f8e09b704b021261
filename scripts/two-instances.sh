#!/usr/bin/env bash
# The scale-out deployment of docker-compose.yml, started from the programs directly (no
# container engine needed): two `renfang serve` on loopback ports, one PostgreSQL database,
# one Redis. Then it checks what the topology promises:
#   1. a session made on instance A works on instance B, and a logout on B ends it on A;
#   2. the public limits are counted together (guessed posters, from one forwarded client);
#   3. both instances' schedulers sweep every 2 s, and each overdue unit gets one door check.
#
#   scripts/two-instances.sh             # start, check, stop
#   KEEP=1 scripts/two-instances.sh      # start, check, keep running until Ctrl-C
#
# Needs curl, psql, PostgreSQL at $PG_ADMIN and Redis at $REDIS_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
DB=${PG_ADMIN%/*}/renfang_two
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
UNITS=${UNITS:-5}
A=${PORT_A:-18181}
B=${PORT_B:-18182}
if [[ -z "${BIN:-}" ]]; then
  cargo build --release --locked --bin renfang >/dev/null 2>&1
  BIN=target/release/renfang
fi
WORK=$(mktemp -d)
cleanup() {
  for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PG_ADMIN" -qc "drop database if exists renfang_two with (force)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

RENFANG_DATA_KEY=$(head -c 32 /dev/urandom | base64)
RENFANG_REDIS_URL=$REDIS_URL
RENFANG_REDIS_PREFIX="two$$:"
RENFANG_TRUSTED_PROXIES=127.0.0.1
RENFANG_RATE_GUESSES_PER_HOUR=4
RENFANG_SWEEP_CRON="*/2 * * * * *"
RENFANG_LOG=info
export RENFANG_DATA_KEY RENFANG_REDIS_URL RENFANG_REDIS_PREFIX RENFANG_TRUSTED_PROXIES \
  RENFANG_RATE_GUESSES_PER_HOUR RENFANG_SWEEP_CRON RENFANG_LOG
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh

fail() {
  echo "FAILED: $*" >&2
  tail -n 5 "$WORK"/a.err "$WORK"/b.err >&2
  exit 1
}

psql "$PG_ADMIN" -qc "drop database if exists renfang_two with (force)" >/dev/null
psql "$PG_ADMIN" -qc "create database renfang_two" >/dev/null
prepare a "$DB" "$A"
start b "$DB" "$B"
echo "instance A http://127.0.0.1:$A, instance B http://127.0.0.1:$B, PostgreSQL renfang_two, Redis $REDIS_URL"

# 1. Sessions.
token=$(api_login "$A" bench bench-password-1)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$B/api/v1/stats")
[[ $code == 200 ]] || fail "a session made on A got $code on B"
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $token" "http://127.0.0.1:$B/api/v1/logout"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$A/api/v1/stats")
[[ $code == 401 ]] || fail "a session ended on B got $code on A"
echo "1. session made on A works on B; logout on B ends it on A"

# 2. Limits: four guesses per client per hour, wherever they land.
answers=""
for port in $A $B $A $B $A $B; do
  answers+=" $(curl -s -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 198.51.100.9' \
    "http://127.0.0.1:$port/q/$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')")"
done
[[ $answers == " 404 404 404 404 429 429" ]] || fail "guesses over A and B answered$answers"
echo "2. guesses alternating A, B:$answers (limit 4, counted together)"

# 3. Sweeps: make every unit overdue; both schedulers run every 2 s.
psql "$DB" -qc "update units set clock_from = 0, watched_since = 0" >/dev/null
sleep 7
checks=$(psql "$DB" -Atc "select count(*) from door_checks")
per_unit=$(psql "$DB" -Atc "select coalesce(max(n), 0) from (select count(*) n from door_checks group by unit_id) t")
runs_a=$(grep -c "overdue sweep created" "$WORK/a.err" || true)
runs_b=$(grep -c "overdue sweep created" "$WORK/b.err" || true)
[[ $runs_a -ge 2 && $runs_b -ge 2 ]] || fail "sweeps ran $runs_a times on A and $runs_b on B"
[[ $checks == "$UNITS" && $per_unit == 1 ]] || fail "$checks door checks for $UNITS units (max $per_unit per unit)"
echo "3. sweeps ran $runs_a times on A and $runs_b on B: $checks door checks for $UNITS overdue units"

if [[ -n "${KEEP:-}" ]]; then
  echo "running; Ctrl-C stops both instances"
  wait
fi
