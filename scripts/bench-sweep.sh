#!/usr/bin/env bash
# The overdue sweep and the door-check queue at city scale, on SQLite and on PostgreSQL.
#
# For each number of units in $SCALES, on a fresh database: bulk-loads 3 communities and the
# units with plain SQL (half empty, half occupied; about 10% of the units overdue at $AT, as
# many under each rule; timed apart as "load s"), runs
# `renfang sweep --at $AT` under GNU time (wall seconds, count, peak RSS of the renfang
# process; the database server's memory is not in it), then runs it again, which must create
# nothing. Two scales 10x apart show whether peak RSS grows with the number of units.
# Then the last (largest) scale, just swept, with about a tenth of its units as open checks,
# is served and the first page of its open queue (GET /api/v1/door-checks, 50 per page, most
# overdue first) is measured with wrk, over all communities and over one. On PostgreSQL,
# door_checks is first vacuumed and analysed, as autovacuum does within about a minute of a
# sweep; PG_VACUUM=0 measures the queue right after the sweep instead, without statistics.
#
#   scripts/bench-sweep.sh                     # release build; 100,000 and 1,000,000 units
#   BIN=target/debug/renfang SCALES="2000 20000" DURATION=3s scripts/bench-sweep.sh
#   BACKENDS=postgres UNITS=2000000 scripts/bench-sweep.sh
#   BIN=./target/release/renfang scripts/bench-sweep.sh   # that binary as it is, no build
#
# Goals: a sweep over 1,000,000 units in under 5 s with memory flat in the number of units,
# and the first queue page of 100,000 open checks in under 50 ms at p99, on both backends.
#
# Needs python3 (its built-in sqlite3 module loads the SQLite data), curl, wrk (Debian
# package `wrk`), GNU time at /usr/bin/time (package `time`), and for PostgreSQL psql and a
# server at $PG_ADMIN, where a database renfang_bench_sweep is created and dropped.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

UNITS=${UNITS:-1000000}
SCALES=${SCALES:-"$((UNITS / 10)) $UNITS"}
BACKENDS=${BACKENDS:-sqlite postgres}
DURATION=${DURATION:-15s}
CONNS=${CONNS:-8}
# The sweep instant; now by default, so that the queue's ages read as they would after a
# real sweep.
AT=${AT:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
SQLITE_PORT=${SQLITE_PORT:-18083}
PG_PORT=${PG_PORT:-18084}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
PG_DB=renfang_bench_sweep
PG_VACUUM=${PG_VACUUM:-1}
PG_URL=${PG_ADMIN%/*}/$PG_DB

BIN=${BIN:-target/release/renfang}
if [[ $BIN == target/release/renfang ]]; then
  cargo build --release --quiet --bin renfang
elif [[ $BIN != /* && -x $CALLER_DIR/$BIN ]]; then
  BIN=$CALLER_DIR/$BIN
fi

die() { echo "bench-sweep: $*" >&2; exit 2; }
log() { echo "# $(date +%T) $*" >&2; }

[[ -x $BIN ]] || die "no renfang binary at $BIN"
[[ -x /usr/bin/time ]] || die "GNU time is not installed (apt-get install time)"
for tool in python3 curl wrk; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
if [[ " $BACKENDS " == *" postgres "* ]]; then
  command -v psql >/dev/null || die "psql is not installed (apt-get install postgresql-client)"
  psql "$PG_ADMIN" -qAtc "select 1" >/dev/null || die "no PostgreSQL server at $PG_ADMIN"
fi
AT_S=$(date -u -d "$AT" +%s) || die "AT=$AT is not an instant"
AT_MS=$((AT_S * 1000))
for port in $SQLITE_PORT $PG_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use (set SQLITE_PORT / PG_PORT)"
  fi
done

# pg_admin SQL: one statement on the admin database, without notices.
pg_admin() { PGOPTIONS='-c client_min_messages=warning' psql "$PG_ADMIN" -qc "$1" >/dev/null; }

WORK=$(mktemp -d)
SERVER_PID=
PG_CREATED=
cleanup() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n $PG_CREATED ]]; then
    pg_admin "drop database if exists $PG_DB with (force)" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Only the settings below count: no renfang.toml of the working folder, the 5- and 30-day
# rules, and a
# scheduled sweep that will not fire during the run (once a year, 1 January 03:00).
RENFANG_CONFIG=$WORK/none.toml
RENFANG_DATA_KEY=$(head -c 32 /dev/urandom | base64)
RENFANG_OVERDUE_DAYS=5
RENFANG_CONFIRM_DAYS=30
RENFANG_SWEEP_CRON="0 0 3 1 1 *"
RENFANG_LOG=warn
export RENFANG_CONFIG RENFANG_DATA_KEY RENFANG_OVERDUE_DAYS RENFANG_CONFIRM_DAYS RENFANG_SWEEP_CRON
export RENFANG_LOG
COMMUNITY=${COMMUNITY:-影佳} # the one the filtered queue run asks for
COMMUNITY_Q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' \
  "$COMMUNITY")

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# Unit i (1..N) is in community 1 + i % 3. Odd units have nobody registered (the 5-day rule,
# `no_upload`), even ones are occupied (the 30-day confirmation, `unconfirmed`); one unit in
# twenty of each kind is overdue at $AT (10 % in all): an empty one's clock started 6 to 36
# days before, an occupied one's 31 to 61 days before; the others' within their period.
# Times are milliseconds, as stored. The same expressions serve both backends (:n, :at bound
# by each loader).
CLOCK_SQL='case
    when i % 20 = 1 then :at - 6 * 86400000 - (i * 7919) % (30 * 86400000)
    when i % 20 = 0 then :at - 31 * 86400000 - (i * 7919) % (30 * 86400000)
    when i % 2 = 1 then :at - (i * 7919) % (4 * 86400000)
    else :at - (i * 7919) % (29 * 86400000) end'
UNIT_COLUMNS='community_id, address, address_key, kind, rental_mode, rooms, state,
    watched_since, qr_version, created_at, clock_from, clock_kind'
UNIT_VALUES="1 + i % 3,
    '测试路 ' || (i / 40 + 1) || '弄 ' || i || '号 201室',
    'ceshilu ' || (i / 40 + 1) || '-' || i || '-201',
    'flat',
    case i % 3 when 0 then 'whole' when 1 then 'shared' else 'daily' end,
    1 + i % 5, 'active', clock, 1, clock, clock,
    case when i % 2 = 0 then 'unconfirmed' else 'no_upload' end"
COMMUNITY_ROWS="('影佳', :at - 400 * 86400000), ('祥东', :at - 400 * 86400000),
    ('虬长路', :at - 400 * 86400000)"
OVERDUE_SQL="select count(*) from units where state = 'active' and (
    (clock_kind = 'no_upload' and clock_from <= :at - 5 * 86400000)
    or (clock_kind = 'unconfirmed' and clock_from <= :at - 30 * 86400000))"

# load_sqlite FILE N: prints the number of overdue units.
load_sqlite() {
  python3 - "$1" "$2" "$AT_MS" "$COMMUNITY_ROWS" "$UNIT_COLUMNS" "$UNIT_VALUES" "$CLOCK_SQL" \
    "$OVERDUE_SQL" <<'PY'
import sqlite3, sys
path, n, at, communities, columns, values, clock, overdue = sys.argv[1:]
db = sqlite3.connect(path, isolation_level=None)
db.execute("pragma synchronous = off")  # this loader only; the service sets its own
db.execute("begin")
db.execute(f"insert into communities (name, created_at) values {communities}", {"at": int(at)})
db.execute(f"""with recursive n(i) as (select 1 union all select i + 1 from n where i < :n),
    u(i, clock) as (select i, {clock} from n)
    insert into units ({columns}) select {values} from u""", {"n": int(n), "at": int(at)})
db.execute("commit")
db.execute("pragma wal_checkpoint(truncate)")
print(db.execute(overdue, {"at": int(at)}).fetchone()[0])
PY
}

# load_postgres N: prints the number of overdue units. Ends with the `vacuum analyze` that
# autovacuum would run soon after such a load, so that plans do not depend on its timing.
load_postgres() {
  # 86400000 * 30 overflows PostgreSQL's 4-byte integers: days in bigint there.
  local day=86400000::bigint
  psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -v n="$1" -v at="$AT_MS" <<SQL
begin;
insert into communities (name, created_at) values ${COMMUNITY_ROWS//86400000/$day};
insert into units ($UNIT_COLUMNS)
select $UNIT_VALUES
from (select i, ${CLOCK_SQL//86400000/$day} as clock
      from generate_series(1::bigint, :n) as g(i)) u;
commit;
vacuum analyze communities;
vacuum analyze units;
${OVERDUE_SQL//86400000/$day};
SQL
}

# sweep URL: runs `renfang sweep --at $AT`; sets SWEEP_S, SWEEP_N and SWEEP_MB.
sweep() {
  local start out kb
  start=$(now)
  out=$(RENFANG_DATABASE_URL=$1 /usr/bin/time -f '%M' -o "$WORK/time" "$BIN" sweep --at "$AT")
  SWEEP_S=$(since "$start")
  SWEEP_N=$(sed -n 's/^created \([0-9]*\) door checks$/\1/p' <<<"$out")
  [[ -n $SWEEP_N ]] || die "unexpected sweep output: $out"
  kb=$(tail -n 1 "$WORK/time")
  SWEEP_MB=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
}

# fresh BACKEND N: a new, migrated database with N units; sets URL, LOAD_S and OVERDUE.
fresh() {
  case $1 in
    sqlite)
      rm -f "$WORK"/sweep.db*
      URL=sqlite://$WORK/sweep.db
      ;;
    postgres)
      pg_admin "drop database if exists $PG_DB with (force)"
      pg_admin "create database $PG_DB"
      PG_CREATED=1
      URL=$PG_URL
      ;;
  esac
  # (its log, e.g. a slow-statement warning, is shown only if it fails)
  RENFANG_DATABASE_URL=$URL "$BIN" migrate >/dev/null 2>"$WORK/migrate.err" ||
    { cat "$WORK/migrate.err" >&2; die "renfang migrate failed"; }
  local start
  start=$(now)
  case $1 in
    sqlite) OVERDUE=$(load_sqlite "$WORK/sweep.db" "$2") ;;
    postgres) OVERDUE=$(load_postgres "$2") ;;
  esac
  LOAD_S=$(since "$start")
}

# serve NAME URL PORT: starts `renfang serve` and waits for its listening line.
serve() {
  RENFANG_DATABASE_URL=$2 RENFANG_BIND=127.0.0.1:$3 "$BIN" serve >"$WORK/$1.out" 2>"$WORK/$1.err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    grep -q "listening on" "$WORK/$1.out" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/$1.err" >&2
  die "$1 server did not start"
}

stop() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# queue NAME URL PORT: an admin, the server, one checked answer and two wrk runs; appends
# rows to QUEUE_ROWS.
queue() {
  printf 'bench-password-1\n' |
    RENFANG_DATABASE_URL=$2 "$BIN" user add --username bench --role admin >/dev/null
  serve "$1" "$2" "$3"
  local base="http://127.0.0.1:$3" token label community total
  token=$(curl -sf -X POST "$base/api/v1/login" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench-password-1"}' |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [[ -n $token ]] || die "$1: login failed"
  for community in "" "$COMMUNITY"; do
    label="all communities"
    local query="status=open&page=1&per_page=50"
    if [[ -n $community ]]; then
      label="community=$community"
      query+="&community=$COMMUNITY_Q"
    fi
    curl -sf "$base/api/v1/door-checks?$query" -H "Authorization: Bearer $token" \
      -o "$WORK/page.json" -w '%{time_total}\n' >"$WORK/curl.txt"
    total=$(sed -n 's/.*"total":\([0-9]*\).*/\1/p' "$WORK/page.json")
    log "$1, $label: total $total, $(grep -o '"id":' "$WORK/page.json" | wc -l) items," \
      "first answer in $(awk '{ printf "%.1f", $1 * 1000 }' "$WORK/curl.txt") ms"
    TOKEN=$token COMMUNITY=$community wrk -t2 -c"$CONNS" -d"$DURATION" --latency \
      -s scripts/wrk/queue.lua "$base" >"$WORK/wrk.txt" 2>&1
    local rps p50 p99 bad
    rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
    bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
    QUEUE_ROWS+=("$(printf '| %s | %s | %s | %.0f | %s | %s | %s |' \
      "$1" "$label" "${total:-?}" "${rps:-0}" "${p50:-?}" "${p99:-?}" "${bad:-0}")")
  done
  stop
}

SWEEP_ROWS=()
QUEUE_ROWS=()
FAILED=0
for backend in $BACKENDS; do
  case $backend in
    sqlite) name=SQLite port=$SQLITE_PORT ;;
    postgres) name=PostgreSQL port=$PG_PORT ;;
    *) die "unknown backend $backend (sqlite, postgres)" ;;
  esac
  for units in $SCALES; do
    fresh "$backend" "$units"
    sweep "$URL"
    created=$SWEEP_N first_s=$SWEEP_S first_mb=$SWEEP_MB
    sweep "$URL"
    log "$name, $units units: load ${LOAD_S} s, sweep ${first_s} s created $created" \
      "(overdue $OVERDUE), re-sweep ${SWEEP_S} s created $SWEEP_N, peak RSS $first_mb MB"
    if [[ $created != "$OVERDUE" || $SWEEP_N != 0 ]]; then
      log "MISMATCH: the sweep should create $OVERDUE, then 0"
      FAILED=1
    fi
    SWEEP_ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "$name" "$units" \
      "$OVERDUE" "$created" "$first_s" "$SWEEP_S" "$first_mb" "$LOAD_S")")
  done
  # The database now holds the last (largest) scale, swept.
  if [[ $backend == postgres && $PG_VACUUM == 1 ]]; then
    psql "$URL" -qc "vacuum analyze door_checks" >/dev/null
  fi
  queue "$name" "$URL" "$port"
  if [[ $backend == postgres ]]; then
    pg_admin "drop database if exists $PG_DB with (force)"
    PG_CREATED=
  fi
  rm -f "$WORK"/sweep.db*
done

echo "renfang sweep --at $AT ($RENFANG_OVERDUE_DAYS-day rule), $(nproc) cores," \
  "$(date -u +%Y-%m-%d); seconds and peak RSS are of the whole renfang process" \
  "(start, connect, migration check, sweep)"
echo
echo "| backend | units | overdue | created | sweep s | re-sweep s | peak RSS MB | load s |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${SWEEP_ROWS[@]}"
echo
stats="not analysed"
[[ $PG_VACUUM == 1 ]] && stats="vacuumed and analysed"
echo "GET /api/v1/door-checks?status=open&page=1&per_page=50 as admin," \
  "wrk -t2 -c$CONNS -d$DURATION, on the last scale after its sweep" \
  "(PostgreSQL door_checks $stats)"
echo
echo "| backend | list | open checks (total) | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${QUEUE_ROWS[@]}"
exit "$FAILED"
