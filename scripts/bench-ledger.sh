#!/usr/bin/env bash
# The sublandlord ledger (GET /api/v1/sublandlords) at town scale, on SQLite and on PostgreSQL.
#
# For each backend, on a fresh database: bulk-loads with plain SQL 3 communities and
# $SUBLANDLORDS sublandlord accounts, each with its login; about 2% of them share the document
# number of the account before theirs, so that the two are one person in the ledger. Each
# account lets 1 to 5 units (about 3 on average), each unit filed, about 15% of them after
# their first upload (late), with one registration of 1 to 3 current occupants (about 2 on
# average; about a quarter of the units also have one moved-out occupant); about a tenth of
# the units have a door check, open or closed, some of them violations, tips or overcrowding.
# The load is timed apart as "load s" (on PostgreSQL it ends with `vacuum analyze`, as
# autovacuum would do soon after). Then the database is served and pages of the ledger as an
# admin sees it (sort=priority, 50 per page, every community) are measured with wrk: the
# first page, the one staff open, and a deep page ($DEEP_PAGE).
#
#   scripts/bench-ledger.sh                    # release build; 50,000 sublandlords
#   BIN=target/debug/renfang SUBLANDLORDS=2000 DEEP_PAGE=20 DURATION=3s CONNS=2 \
#     scripts/bench-ledger.sh
#   BACKENDS=postgres SUBLANDLORDS=200000 scripts/bench-ledger.sh
#   BIN=./target/release/renfang scripts/bench-ledger.sh   # that binary as it is, no build
#
# After the load, `renfang ledger-rebuild` computes the ledger the service keeps (timed as
# "ledger rebuild s"); every later write keeps it current, so a page is an index read.
#
# Goal: the first page of the ledger at 50,000 sublandlords (49,000 people, about 150,000
# units) in under 50 ms at p99 on both backends, the aim of the project's other lists (the
# issue sets no number). Results and the history of the design are in BENCHMARKS.md.
#
# Needs python3 (its built-in sqlite3 module, 3.33 or later, loads the SQLite data), curl,
# wrk (Debian package `wrk`), and for PostgreSQL psql and a server at $PG_ADMIN, where a
# database renfang_bench_ledger is created and dropped.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

SUBLANDLORDS=${SUBLANDLORDS:-50000}
BACKENDS=${BACKENDS:-sqlite postgres}
DURATION=${DURATION:-15s}
CONNS=${CONNS:-8}
# wrk counts a request slower than this as a timeout and leaves it out of the latencies
# (its default, 2 s, would hide a slow ledger); timeouts are shown in the log.
TIMEOUT=${TIMEOUT:-10s}
DEEP_PAGE=${DEEP_PAGE:-500}
PER_PAGE=${PER_PAGE:-50}
# The instant the data is made as of; now by default.
AT=${AT:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
SQLITE_PORT=${SQLITE_PORT:-18085}
PG_PORT=${PG_PORT:-18086}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
PG_DB=renfang_bench_ledger
PG_URL=${PG_ADMIN%/*}/$PG_DB

BIN=${BIN:-target/release/renfang}
if [[ $BIN == target/release/renfang ]]; then
  cargo build --release --quiet --bin renfang
elif [[ $BIN != /* && -x $CALLER_DIR/$BIN ]]; then
  BIN=$CALLER_DIR/$BIN
fi

die() { echo "bench-ledger: $*" >&2; exit 2; }
log() { echo "# $(date +%T) $*" >&2; }

[[ -x $BIN ]] || die "no renfang binary at $BIN"
for tool in python3 curl wrk; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ $SUBLANDLORDS =~ ^[1-9][0-9]*$ ]] || die "SUBLANDLORDS=$SUBLANDLORDS is not a number"
[[ $DEEP_PAGE =~ ^[1-9][0-9]*$ ]] || die "DEEP_PAGE=$DEEP_PAGE is not a page number"
[[ $PER_PAGE =~ ^[1-9][0-9]*$ ]] || die "PER_PAGE=$PER_PAGE is not a page size"
if [[ " $BACKENDS " == *" sqlite "* ]]; then
  python3 - <<'PY' || die "python3's sqlite3 is older than 3.33 (update ... from)"
import sqlite3, sys
sys.exit(0 if sqlite3.sqlite_version_info >= (3, 33) else 1)
PY
fi
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

# Only the settings below count: no renfang.toml of the working folder, the 5-day rule, and a
# scheduled sweep that will not fire during the run (once a year, 1 January 03:00).
RENFANG_CONFIG=$WORK/none.toml
RENFANG_DATA_KEY=$(head -c 32 /dev/urandom | base64)
RENFANG_OVERDUE_DAYS=5
RENFANG_SWEEP_CRON="0 0 3 1 1 *"
RENFANG_LOG=warn
export RENFANG_CONFIG RENFANG_DATA_KEY RENFANG_OVERDUE_DAYS RENFANG_SWEEP_CRON RENFANG_LOG

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# The pieces of the load SQL that differ between the backends, set by `dialect BACKEND`:
# DAY (milliseconds; bigint on PostgreSQL, where 30 days of them overflow an integer), BLOB
# (the binary column type), and the functions series N (the rows 1..N, as i), rand N (N
# random bytes: the sealed columns, never opened by the ledger), hex64 EXPR (the number as 64
# hex digits, like a blind index) and ymd EXPR (the UTC date of an instant).
dialect() {
  case $1 in
    sqlite)
      DAY=86400000 BLOB=blob
      series() {
        echo "(with recursive g(i) as (select 1 union all select i + 1 from g where i < $1)
          select i from g)"
      }
      rand() { echo "randomblob($1)"; }
      hex64() { echo "printf('%064x', $1)"; }
      ymd() { echo "date(($1) / 1000, 'unixepoch')"; }
      ;;
    postgres)
      DAY=86400000::bigint BLOB=bytea
      series() { echo "(select i from generate_series(1::bigint, $1) as g(i))"; }
      rand() {
        local hex="md5(random()::text)" i
        for ((i = 16; i < $1; i += 16)); do hex+=" || md5(random()::text)"; done
        echo "decode(substr($hex, 1, $(($1 * 2))), 'hex')"
      }
      hex64() { echo "lpad(to_hex($1), 64, '0')"; }
      ymd() { echo "to_char(to_timestamp(($1) / 1000) at time zone 'UTC', 'YYYY-MM-DD')"; }
      ;;
  esac
}

# h EXPR, h2 EXPR: two deterministic pseudo-random numbers (0 to about a million) of a row
# number; their digits in mixed radix (h % 3, h / 3 % 5, …) pick the row's attributes. Each
# is a product of two linear residues, so that neighbouring rows do not get similar digits.
h() { echo "(($1) * 2654435761 % 1000003 * (($1) * 2246822519 % 1000033) % 999983)"; }
h2() { echo "(($1) * 2246822519 % 1000033 * (($1) * 3266489917 % 1000037) % 999979)"; }
SURNAMES=王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高
GIVEN=伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚
# person_name EXPR: a Chinese name of two or three characters picked by the number EXPR.
person_name() {
  echo "substr('$SURNAMES', cast(1 + $1 % 20 as integer), 1)
    || substr('$GIVEN', cast(1 + $1 / 20 % 20 as integer), 1)
    || case when $1 / 400 % 2 = 0 then substr('$GIVEN', cast(1 + $1 / 800 % 20 as integer), 1)
            else '' end"
}
# four EXPR: the last four digits of the number EXPR, zero-padded.
four() { echo "substr(cast(10000 + ($1) % 10000 as text), 2)"; }
ONE_TO_FIVE="(select 1 as j union all select 2 union all select 3 union all select 4
  union all select 5)"

# load_sql BACKEND N: the whole load, one transaction, then one line of counts: accounts,
# people, units, current occupants, door checks.
load_sql() {
  dialect "$1"
  local n=$2 at=$AT_MS doc hs hu hu2 hr hd
  # sublandlord s (its login's id) shares the document number of s - 1 when s % 50 = 0
  doc="case when id % 50 = 0 then id - 1 else id end"
  hs=$(h "s.id")
  # unit k = 8 * sublandlord + 1..5
  hu=$(h "s.id * 8 + j.j")
  hu2=$(h2 "s.id * 8 + j.j")
  hr=$(h "r.id")
  hd=$(h2 "u.id")
  cat <<SQL
begin;
insert into communities (name, created_at) values ('影佳', $at - 800 * $DAY),
    ('祥东', $at - 800 * $DAY), ('虬长路', $at - 800 * $DAY);

insert into users (username, password_hash, role, created_at)
select 'phone:' || $(hex64 "i * 2654435761"), 'bench: no login', 'sublandlord',
    $at - (400 + i % 300) * $DAY - i % $DAY
from $(series "$n") g
order by i;

insert into sublandlords (user_id, person_id, name, phone_enc, phone_index, phone_masked,
    id_type, id_number_enc, id_number_index, id_number_masked, created_at)
select id, 0, $(person_name "$(h "$doc")"), $(rand 40), cast('phone-' || id as $BLOB),
    '139****' || $(four id), 'resident_id', $(rand 48),
    cast('document-' || ($doc) as $BLOB), '310***********' || $(four "$doc"), created_at
from users where role = 'sublandlord'
order by id;
-- accounts sharing a document number are one person: the first account's id
update sublandlords set person_id = m.first_id
from (select id_number_index as k, min(id) as first_id from sublandlords
      group by id_number_index) m
where m.k = sublandlords.id_number_index;

-- Per unit: filed 10 to 369 days ago; first upload 1 to 72 hours after the filing, or for
-- about 15% of the units 1 to 30 days before it (filed late); the clock from that upload.
insert into units (community_id, address, address_key, kind, rental_mode, rooms, state,
    watched_since, last_upload_at, qr_version, created_at, clock_from, sublandlord_id,
    filed_at, first_upload_at, planned_occupants, family)
select 1 + hu % 3,
    '测试路 ' || (k / 40 + 1) || '弄 ' || k || '号 ' || (1 + hu / 3 % 5) || '01室',
    'ceshilu ' || (k / 40 + 1) || '-' || k || '-' || (1 + hu / 3 % 5) || '01',
    'flat',
    case hu / 15 % 4 when 0 then 'whole' when 1 then 'whole' when 2 then 'shared'
        else 'daily' end,
    1 + hu / 3 % 5, 'active',
    case when upload < filed then upload else filed end, upload, 1,
    case when upload < filed then upload else filed end, upload, sid, filed, upload,
    1 + hu2 / 360 % 4, case when hu2 / 1440 % 5 = 0 then 1 else 0 end
from (
  select sid, k, hu, hu2, filed,
      case when hu / 60 % 20 < 3 then filed - (1 + hu / 1200 % 30) * $DAY
           else filed + (1 + hu / 1200 % 72) * 3600000 end as upload
  from (
    select s.id as sid, s.id * 8 + j.j as k, $hu as hu, $hu2 as hu2,
        $at - (10 + $hu2 % 360) * $DAY as filed
    from sublandlords s, $ONE_TO_FIVE j
    where j.j <= 1 + $hs % 5
  ) x
) y
order by k;

-- One registration per unit, at its first upload, of 1 to 3 occupants.
insert into registrations (unit_id, receipt, source, occupant_count, created_at)
select id, 'BENCH-' || id, case when $(h id) % 2 = 0 then 'sublandlord' else 'scan' end,
    1 + $(h id) / 2 % 3, first_upload_at
from units
order by id;

-- Its occupants, current; about a quarter of the units also have a moved-out one.
insert into occupants (unit_id, registration_id, name, id_type, id_number_enc,
    id_number_index, id_number_masked, move_in, moved_out_at, created_at)
select r.unit_id, r.id, $(person_name "$(h2 "r.id * 5 + j.j")"), 'resident_id', $(rand 48),
    cast('occupant-' || r.id || '-' || j.j as $BLOB),
    '320***********' || $(four "r.id * 5 + j.j"), $(ymd r.created_at),
    case when j.j > r.occupant_count then r.created_at + 7 * $DAY end, r.created_at
from registrations r, $ONE_TO_FIVE j
where j.j <= r.occupant_count or (j.j = 4 and $hr % 4 = 0)
order by r.id, j.j;

-- A door check on about a tenth of the units: no upload, tips (15%), overcrowding (15%), a
-- few filing mismatches and manual ones; 40% open, the others closed, a quarter of those
-- with a violation found.
insert into door_checks (unit_id, community_id, reason, status, outcome, opened_at,
    queue_key, attempts, closed_at, note)
select id, community_id,
    case when d % 20 < 3 then 'tip' when d % 20 < 6 then 'overcrowding'
         when d % 20 = 6 then 'filing_mismatch' when d % 20 = 7 then 'manual'
         else 'no_upload' end,
    case when d / 20 % 5 < 2 then 'open' else 'closed' end,
    case when d / 20 % 5 < 2 then null
         else case d / 100 % 4 when 0 then 'violation' when 1 then 'verified'
                  when 2 then 'resolved_by_upload' else 'vacant' end end,
    opened, clock_from, d / 400 % 3,
    case when d / 20 % 5 >= 2 then opened + (1 + d % 20) * 3600000 end,
    case when d / 20 % 5 >= 2 and d / 100 % 4 = 0 then '超员居住' end
from (
  select u.id, u.community_id, u.clock_from, $hd as d,
      $at - (1 + $hd / 1200 % 90) * $DAY as opened
  from units u
  where $(h "u.id * 3") % 10 = 0
) c
order by id;
commit;
SQL
}

COUNTS_SQL="select (select count(*) from sublandlords), (select count(distinct person_id)
    from sublandlords), (select count(*) from units), (select count(*) from occupants
    where moved_out_at is null), (select count(*) from door_checks)"

# load_sqlite FILE N: prints the counts.
load_sqlite() {
  python3 - "$1" "$(load_sql sqlite "$2")" "$COUNTS_SQL" <<'PY'
import sqlite3, sys
path, script, counts = sys.argv[1:]
db = sqlite3.connect(path, isolation_level=None)
db.execute("pragma synchronous = off")  # this loader only; the service sets its own
db.executescript(script)
db.execute("pragma wal_checkpoint(truncate)")
print(*db.execute(counts).fetchone())
PY
}

# load_postgres N: prints the counts. Ends with the `vacuum analyze` that autovacuum would
# run soon after such a load, so that plans do not depend on its timing.
load_postgres() {
  {
    load_sql postgres "$1"
    echo "vacuum analyze;"
    echo "$COUNTS_SQL;"
  } | PGOPTIONS='-c client_min_messages=warning' psql "$PG_URL" -qAt -F ' ' -v ON_ERROR_STOP=1
}

# fresh BACKEND: a new, migrated database with the data; sets URL, LOAD_S and COUNTS
# (accounts, people, units, occupants, checks).
fresh() {
  case $1 in
    sqlite)
      rm -f "$WORK"/ledger.db*
      URL=sqlite://$WORK/ledger.db
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
  local start out
  start=$(now)
  case $1 in
    sqlite) out=$(load_sqlite "$WORK/ledger.db" "$SUBLANDLORDS") ;;
    postgres) out=$(load_postgres "$SUBLANDLORDS") ;;
  esac
  LOAD_S=$(since "$start")
  read -r -a COUNTS <<<"$out"
  [[ ${#COUNTS[@]} == 5 ]] || die "unexpected load output: $out"
  # The loader writes the records only: the ledger the service keeps is computed from them
  # once, as after any bulk import.
  start=$(now)
  out=$(RENFANG_DATABASE_URL=$URL "$BIN" ledger-rebuild)
  REBUILD_S=$(since "$start")
  [[ $out == "ledger rebuilt: ${COUNTS[1]} people" ]] || die "unexpected rebuild output: $out"
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

COMMUNITY=${COMMUNITY:-影佳} # the one the narrowed run asks for
COMMUNITY_Q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' \
  "$COMMUNITY")

# ledger NAME URL PORT: an admin, the server, and for the first and the deep page one checked
# answer and a wrk run; appends rows to LEDGER_ROWS.
ledger() {
  printf 'bench-password-1\n' |
    RENFANG_DATABASE_URL=$2 "$BIN" user add --username bench --role admin >/dev/null
  serve "$1" "$2" "$3"
  local base="http://127.0.0.1:$3" token page total items ms
  token=$(curl -sf -X POST "$base/api/v1/login" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench-password-1"}' |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [[ -n $token ]] || die "$1: login failed"
  for page in 1 "$DEEP_PAGE" "1&community=$COMMUNITY_Q"; do
    local query="sort=priority&page=$page&per_page=$PER_PAGE"
    curl -sf "$base/api/v1/sublandlords?$query" -H "Authorization: Bearer $token" \
      -o "$WORK/page.json" -w '%{time_total}\n' >"$WORK/curl.txt" ||
      die "$1: GET /api/v1/sublandlords?$query failed"
    total=$(sed -n 's/.*"total":\([0-9]*\).*/\1/p' "$WORK/page.json")
    items=$({ grep -o '"person_id":' "$WORK/page.json" || true; } | wc -l)
    ms=$(awk '{ printf "%.1f", $1 * 1000 }' "$WORK/curl.txt")
    log "$1, page $page: total $total, $items items, first answer in $ms ms"
    if [[ $page == 1 ]]; then
      # the top of the ledger, to see that the priority order is plausible
      python3 -c 'import json, sys
for p in json.load(open(sys.argv[1]))["items"][:3]:
    print("#   person %(person_id)s: %(accounts)s accounts, %(units)s units, "
          "%(open_checks)s open / %(past_checks)s past checks, %(violations)s violations, "
          "priority %(priority)s" % p, file=sys.stderr)' "$WORK/page.json"
    fi
    [[ $items -gt 0 ]] || log "$1: page $page is past the last page (set DEEP_PAGE)"
    TOKEN=$token PAGE=$page PER_PAGE=$PER_PAGE wrk -t2 -c"$CONNS" -d"$DURATION" \
      --timeout "$TIMEOUT" --latency -s scripts/wrk/ledger.lua "$base" >"$WORK/wrk.txt" 2>&1
    local rps p50 p99 bad errors
    rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
    bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
    errors=$(sed -n 's/^ *Socket errors: //p' "$WORK/wrk.txt")
    [[ -z $errors ]] || log "$1, page $page: wrk socket errors: $errors"
    local label="page=${page%%&*}"
    [[ $page == *community* ]] && label+=", community=$COMMUNITY"
    LEDGER_ROWS+=("$(printf '| %s | %s | %s | %.1f | %s | %s | %s |' \
      "$1" "$label" "${total:-?}" "${rps:-0}" "${p50:-?}" "${p99:-?}" "${bad:-0}")")
  done
  stop
}

LOAD_ROWS=()
LEDGER_ROWS=()
for backend in $BACKENDS; do
  case $backend in
    sqlite) name=SQLite port=$SQLITE_PORT ;;
    postgres) name=PostgreSQL port=$PG_PORT ;;
    *) die "unknown backend $backend (sqlite, postgres)" ;;
  esac
  fresh "$backend"
  log "$name: load ${LOAD_S} s: ${COUNTS[0]} sublandlords (${COUNTS[1]} people)," \
    "${COUNTS[2]} units, ${COUNTS[3]} current occupants, ${COUNTS[4]} door checks"
  LOAD_ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "$name" "${COUNTS[@]}" \
    "$LOAD_S" "$REBUILD_S")")
  ledger "$name" "$URL" "$port"
  if [[ $backend == postgres ]]; then
    pg_admin "drop database if exists $PG_DB with (force)"
    PG_CREATED=
  fi
  rm -f "$WORK"/ledger.db*
done

echo "$SUBLANDLORDS sublandlords as of $AT, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| backend | sublandlords | people | units | current occupants | door checks | load s | ledger rebuild s |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${LOAD_ROWS[@]}"
echo
echo "GET /api/v1/sublandlords?sort=priority&page=…&per_page=$PER_PAGE as admin," \
  "wrk -t2 -c$CONNS -d$DURATION (PostgreSQL vacuumed and analysed)"
echo
echo "| backend | query | people (total) | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${LEDGER_ROWS[@]}"
