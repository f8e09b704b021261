#!/usr/bin/env bash
# A city on PostgreSQL: millions of units and tens of millions of occupant rows.
#
# For each number of units in $SCALES, on a fresh database, bulk-loads with plain SQL:
# $COMMUNITIES communities; $SUBLANDLORDS sublandlord accounts letting every fifth unit;
# the units, half of them empty (the 5-day rule) and half occupied (the 30-day
# confirmation), 10 % of all overdue at $AT; one registration per occupied unit with 1 to 15
# occupants (8 on average, so 4 occupant rows per unit) and, for a quarter of them, one more
# who moved out a week later; and a closed door check of the last 60 days on a tenth of the
# units. Then `renfang ledger-rebuild` (as after any bulk import), then
# `renfang sweep --at $AT` under GNU time, and again (which must create nothing). Then it
# serves the swept database and measures, as an admin:
#   - the first page of the open queue, over all communities and over one (wrk);
#   - the first page of the sublandlord ledger (wrk);
#   - a month's statistics, GET /api/v1/stats?month=…, this month and the last, $STATS_RUNS
#     times each, one after another (curl's total time);
# and the peak RSS of the serving process after all of it.
#
#   scripts/bench-city.sh                                  # 500,000 and 5,000,000 units
#   SCALES=20000 DURATION=3s BIN=target/debug/renfang scripts/bench-city.sh
#   KEEP=1 SCALES=5000000 scripts/bench-city.sh   # leaves the last database for a look
#
# Goals: sweep of 5,000,000 units < 10 s; first queue page p99 < 10 ms; a month's
# statistics < 1 s; the ledger's first page p99 < 50 ms; peak RSS flat in the number of
# units.
#
# Needs psql and a PostgreSQL server at $PG_ADMIN (a database renfang_bench_city is created
# and dropped), curl, wrk, GNU time at /usr/bin/time. Disk: about 12 GB for 5,000,000 units.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

UNITS=${UNITS:-5000000}
SCALES=${SCALES:-"$((UNITS / 10)) $UNITS"}
COMMUNITIES=${COMMUNITIES:-300}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-4}
STATS_RUNS=${STATS_RUNS:-5}
AT=${AT:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
PORT=${PORT:-18085}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
PG_DB=renfang_bench_city
KEEP=${KEEP:-0}
PG_URL=${PG_ADMIN%/*}/$PG_DB

BIN=${BIN:-target/release/renfang}
if [[ $BIN == target/release/renfang ]]; then
  cargo build --release --quiet --bin renfang
elif [[ $BIN != /* && -x $CALLER_DIR/$BIN ]]; then
  BIN=$CALLER_DIR/$BIN
fi

die() { echo "bench-city: $*" >&2; exit 2; }
log() { echo "# $(date +%T) $*" >&2; }

[[ -x $BIN ]] || die "no renfang binary at $BIN"
[[ -x /usr/bin/time ]] || die "GNU time is not installed (apt-get install time)"
for tool in psql curl wrk python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
psql "$PG_ADMIN" -qAtc "select 1" >/dev/null || die "no PostgreSQL server at $PG_ADMIN"
AT_S=$(date -u -d "$AT" +%s) || die "AT=$AT is not an instant"
AT_MS=$((AT_S * 1000))
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT is in use (set PORT)"
fi
# The months asked for, in the service's zone (Asia/Shanghai by default).
THIS_MONTH=$(TZ=Asia/Shanghai date -d "@$AT_S" +%Y-%m)
LAST_MONTH=$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date -d "@$AT_S" +%Y-%m-15) -1 month" +%Y-%m)

pg_admin() { PGOPTIONS='-c client_min_messages=warning' psql "$PG_ADMIN" -qc "$1" >/dev/null; }

WORK=$(mktemp -d)
SERVER_PID=
PG_CREATED=
cleanup() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n $PG_CREATED && $KEEP != 1 ]]; then
    pg_admin "drop database if exists $PG_DB with (force)" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

RENFANG_CONFIG=$WORK/none.toml
RENFANG_DATA_KEY=$(head -c 32 /dev/urandom | base64)
RENFANG_OVERDUE_DAYS=5
RENFANG_CONFIRM_DAYS=30
RENFANG_SWEEP_CRON="0 0 3 1 1 *"
RENFANG_LOG=warn
export RENFANG_CONFIG RENFANG_DATA_KEY RENFANG_OVERDUE_DAYS RENFANG_CONFIRM_DAYS RENFANG_SWEEP_CRON
export RENFANG_LOG
COMMUNITY=影佳 # community 1, the one the filtered queue run asks for

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# The whole load for N units: one transaction per table, then `vacuum analyze` (as
# autovacuum would soon after), then one line: units, occupied units, occupant rows, current
# occupants, overdue units. Unit i's clock is as in bench-sweep.sh; times are milliseconds.
load_sql() {
  local n=$1 s=$(($1 / 50))
  cat <<SQL
\\set day 86400000::bigint
\\set at ${AT_MS}::bigint
insert into communities (name, created_at)
select case when c = 1 then '$COMMUNITY' else '居委会' || lpad(c::text, 4, '0') end,
    :at - 800 * :day
from generate_series(1, $COMMUNITIES) c;

insert into users (username, password_hash, role, created_at)
select 'phone:bench' || s, 'bench: no login', 'sublandlord', :at - 400 * :day
from generate_series(1, $s) s;
insert into sublandlords (user_id, person_id, name, phone_enc, phone_index, phone_masked,
    id_type, id_number_enc, id_number_index, id_number_masked, created_at)
select id, id, '房东' || id, decode(md5('p' || id), 'hex'), decode(md5('phone' || id), 'hex'),
    '139****' || lpad((id % 10000)::text, 4, '0'), 'resident_id',
    decode(md5('d' || id), 'hex'), decode(md5('doc' || id), 'hex'),
    '310***********' || lpad((id % 10000)::text, 4, '0'), created_at
from users order by id;

insert into units (community_id, address, address_key, kind, rental_mode, rooms, state,
    watched_since, last_upload_at, first_upload_at, qr_version, created_at, clock_from,
    clock_kind, sublandlord_id, filed_at)
select 1 + i % $COMMUNITIES,
    '测试路 ' || (i / 40 + 1) || '弄 ' || i || '号 201室',
    'ceshilu ' || (i / 40 + 1) || '-' || i || '-201',
    'flat', case i % 3 when 0 then 'whole' when 1 then 'shared' else 'daily' end,
    1 + i % 5, 'active', clock - (1 - i % 2) * :day,
    case when i % 2 = 0 then clock end, case when i % 2 = 0 then clock end,
    1, clock - (1 - i % 2) * :day, clock,
    case when i % 2 = 0 then 'unconfirmed' else 'no_upload' end,
    case when i % 5 = 0 then 1 + (i / 5) % $s end,
    case when i % 5 = 0 then clock - (1 - i % 2) * :day end
from (select i, case
        when i % 20 = 1 then :at - 6 * :day - (i * 7919) % (30 * :day)
        when i % 20 = 0 then :at - 31 * :day - (i * 7919) % (30 * :day)
        when i % 2 = 1 then :at - (i * 7919) % (4 * :day)
        else :at - (i * 7919) % (29 * :day) end as clock
      from generate_series(1::bigint, $n) g(i)) u;

insert into registrations (unit_id, receipt, source, occupant_count, created_at)
select id, 'CITY-' || id, case when sublandlord_id is null then 'scan' else 'sublandlord' end,
    1 + (id * 7919) % 15, clock_from
from units where clock_kind = 'unconfirmed' order by id;

insert into occupants (unit_id, registration_id, name, id_type, id_number_enc,
    id_number_index, id_number_masked, move_in, moved_out_at, created_at)
select r.unit_id, r.id, '住户' || j, 'resident_id', decode(md5('e' || r.id || '-' || j), 'hex'),
    decode(md5('o' || r.id || '-' || j), 'hex'),
    '320***********' || lpad(((r.id * 16 + j) % 10000)::text, 4, '0'),
    to_char(to_timestamp(r.created_at / 1000) at time zone 'Asia/Shanghai', 'YYYY-MM-DD'),
    case when j > r.occupant_count then r.created_at + 7 * :day end, r.created_at
from registrations r,
    generate_series(1, r.occupant_count + case when r.id % 4 = 0 then 1 else 0 end) j;

insert into door_checks (unit_id, community_id, reason, status, outcome, opened_at,
    queue_key, closed_at)
select id, community_id, 'no_upload', 'closed',
    case when id % 4 = 0 then 'violation' else 'verified' end,
    :at - (1 + id % 60) * :day, clock_from, :at - (1 + id % 60) * :day + 3600000 * (1 + id % 20)
from units where id % 10 = 3;

vacuum analyze;
select (select count(*) from units), (select count(*) from registrations),
    (select count(*) from occupants), (select count(*) from occupants where moved_out_at is null),
    (select count(*) from units where state = 'active' and (
        (clock_kind = 'no_upload' and clock_from <= :at - 5 * :day)
        or (clock_kind = 'unconfirmed' and clock_from <= :at - 30 * :day)));
SQL
}

# sweep: runs `renfang sweep --at $AT`; sets SWEEP_S, SWEEP_N and SWEEP_MB.
sweep() {
  local start out kb
  start=$(now)
  out=$(RENFANG_DATABASE_URL=$PG_URL /usr/bin/time -f '%M' -o "$WORK/time" "$BIN" sweep --at "$AT" \
    2>"$WORK/sweep.err") || { cat "$WORK/sweep.err" >&2; die "renfang sweep failed"; }
  SWEEP_S=$(since "$start")
  SWEEP_N=$(sed -n 's/^created \([0-9]*\) door checks$/\1/p' <<<"$out")
  [[ -n $SWEEP_N ]] || die "unexpected sweep output: $out"
  kb=$(tail -n 1 "$WORK/time")
  SWEEP_MB=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
}

# wrk_row LABEL LUA [ENV…]: a wrk run against the server; appends a row to SERVE_ROWS.
wrk_row() {
  local label=$1 lua=$2
  shift 2
  env TOKEN="$TOKEN" "$@" wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "scripts/wrk/$lua" \
    "http://127.0.0.1:$PORT" >"$WORK/wrk.txt" 2>&1
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
  bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
  SERVE_ROWS+=("$(printf '| %s | %s | %.0f | %s | %s | %s |' \
    "$UNITS_NOW" "$label" "${rps:-0}" "${p50:-?}" "${p99:-?}" "${bad:-0}")")
}

# stats_row MONTH: STATS_RUNS answers of GET /api/v1/stats?month=MONTH; appends a row.
stats_row() {
  local times=() i
  for i in $(seq 1 "$STATS_RUNS"); do
    times+=("$(curl -sf "http://127.0.0.1:$PORT/api/v1/stats?month=$1" \
      -H "Authorization: Bearer $TOKEN" -o "$WORK/stats.json" -w '%{time_total}')") ||
      die "stats for $1 failed"
  done
  grep -q '"occupants"' "$WORK/stats.json" || die "stats for $1: unexpected answer"
  STATS_ROWS+=("$(printf '| %s | %s | %s |' "$UNITS_NOW" "$1" \
    "$(printf '%s\n' "${times[@]}" | awk '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $1 }')")")
}

serve_and_measure() {
  printf 'bench-password-1\n' |
    RENFANG_DATABASE_URL=$PG_URL "$BIN" user add --username bench --role admin >/dev/null
  RENFANG_DATABASE_URL=$PG_URL RENFANG_BIND=127.0.0.1:$PORT "$BIN" serve \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; die "server died"; }
    sleep 0.1
  done
  TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/login" \
    -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench-password-1"}' |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [[ -n $TOKEN ]] || die "login failed"
  stats_row "$THIS_MONTH"
  stats_row "$LAST_MONTH"
  wrk_row "queue, all communities" queue.lua
  wrk_row "queue, community=$COMMUNITY" queue.lua COMMUNITY="$COMMUNITY"
  wrk_row "ledger, page 1" ledger.lua
  SERVE_MB=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status")
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

SWEEP_ROWS=()
SERVE_ROWS=()
STATS_ROWS=()
RSS_ROWS=()
FAILED=0
for UNITS_NOW in $SCALES; do
  pg_admin "drop database if exists $PG_DB with (force)"
  pg_admin "create database $PG_DB"
  PG_CREATED=1
  RENFANG_DATABASE_URL=$PG_URL "$BIN" migrate >/dev/null 2>"$WORK/migrate.err" ||
    { cat "$WORK/migrate.err" >&2; die "renfang migrate failed"; }
  start=$(now)
  read -r n_units n_regs n_occ n_current overdue < <(load_sql "$UNITS_NOW" |
    PGOPTIONS='-c client_min_messages=warning' psql "$PG_URL" -qAt -F ' ' -v ON_ERROR_STOP=1 |
    tail -n 1)
  load_s=$(since "$start")
  log "$UNITS_NOW units: loaded in $load_s s: $n_units units, $n_regs registrations," \
    "$n_occ occupant rows ($n_current current), $overdue overdue"
  start=$(now)
  RENFANG_DATABASE_URL=$PG_URL "$BIN" ledger-rebuild >/dev/null 2>"$WORK/rebuild.err" ||
    { cat "$WORK/rebuild.err" >&2; die "renfang ledger-rebuild failed"; }
  rebuild_s=$(since "$start")
  sweep
  created=$SWEEP_N first_s=$SWEEP_S first_mb=$SWEEP_MB
  sweep
  log "sweep $first_s s created $created, re-sweep $SWEEP_S s created $SWEEP_N," \
    "peak RSS $first_mb MB; ledger rebuild $rebuild_s s"
  if [[ $created != "$overdue" || $SWEEP_N != 0 ]]; then
    log "MISMATCH: the sweep should create $overdue, then 0"
    FAILED=1
  fi
  SWEEP_ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |' "$n_units" "$n_occ" \
    "$overdue" "$created" "$first_s" "$SWEEP_S" "$first_mb" "$load_s" "$rebuild_s")")
  # as autovacuum would within a minute of the sweep, which added to one table and updated
  # the other
  psql "$PG_URL" -qc "vacuum analyze door_checks, ledger_rows" >/dev/null
  serve_and_measure
  RSS_ROWS+=("| $n_units | $first_mb | $SERVE_MB |")
done

echo "PostgreSQL, $COMMUNITIES communities, $(nproc) cores, $(date -u +%Y-%m-%d);" \
  "renfang sweep --at $AT (5- and 30-day rules); seconds and peak RSS of the whole process"
echo
echo "| units | occupant rows | overdue | created | sweep s | re-sweep s | sweep peak RSS MB | load s | ledger rebuild s |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${SWEEP_ROWS[@]}"
echo
echo "GET /api/v1/stats?month=…, seconds per answer, $STATS_RUNS answers one after another"
echo
echo "| units | month | seconds |"
echo "|---|---|---|"
printf '%s\n' "${STATS_ROWS[@]}"
echo
echo "First pages (50 rows) as admin, wrk -t2 -c$CONNS -d$DURATION, after the sweep"
echo
echo "| units | list | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${SERVE_ROWS[@]}"
echo
echo "| units | sweep peak RSS MB | serve peak RSS MB |"
echo "|---|---|---|"
printf '%s\n' "${RSS_ROWS[@]}"
[[ $KEEP == 1 ]] && echo && echo "kept: $PG_URL"
exit "$FAILED"
