#!/usr/bin/env bash
# Property-based API testing with Schemathesis against GET /api/openapi.json, on both
# backends: `renfang serve` on a fresh SQLite database in a temporary folder, then on a
# fresh PostgreSQL database with Redis (a key prefix of its own). Each server gets an admin
# account (`renfang user add`), a community, units, registered occupants and a tip through
# the API; Schemathesis then calls every documented operation with the admin's bearer token.
#
#   scripts/schemathesis.sh                 # both backends
#   scripts/schemathesis.sh sqlite          # one of them
#
# Checks: not_a_server_error, status_code_conformance, content_type_conformance,
# response_schema_conformance, response_headers_conformance. Generation is derandomised
# (Hypothesis' deterministic mode) with a bounded number of examples per operation, on one
# worker, so a run repeats exactly on a fresh database. Exits non-zero on any failed check, a 5xx answer, a handler panic
# or a dead server.
#
# Environment:
#   RENFANG_BIN       server binary (default target/debug/renfang; not built here)
#   PG_ADMIN          PostgreSQL URL whose server gets the fresh database
#                     (default postgres://postgres@127.0.0.1:5432/test)
#   REDIS_URL         Redis for the PostgreSQL run (default redis://127.0.0.1:6379)
#   ST_MAX_EXAMPLES   examples per operation and phase (default 20)
#   ST_VENV           virtualenv for Schemathesis (default target/schemathesis-venv)
#   ST_OUT            reports and server logs (default target/schemathesis)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
bin=${RENFANG_BIN:-target/debug/renfang}
pg_admin=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
max_examples=${ST_MAX_EXAMPLES:-20}
venv=${ST_VENV:-target/schemathesis-venv}
out=${ST_OUT:-target/schemathesis}
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)

case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
case "$venv" in /*) ;; *) venv="$root/$venv" ;; esac
case "$out" in /*) ;; *) out="$root/$out" ;; esac
if [ ! -x "$bin" ]; then
    echo "no server binary at $bin: run cargo build first" >&2
    exit 2
fi

# The only download: Schemathesis (pinned) from PyPI, once.
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
st="$venv/bin/schemathesis"

mkdir -p "$out"
work=$(mktemp -d)
server=""
pg_db=""
stop_server() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 "$server" 2>/dev/null || break; sleep 0.25; done
        kill -KILL "$server" 2>/dev/null || true
    fi
    server=""
}
drop_pg_db() {
    if [ -n "$pg_db" ]; then
        psql "$pg_admin" -qc "drop database if exists $pg_db with (force)" >/dev/null 2>&1 || true
        pg_db=""
    fi
}
redis_prefix=""
# The keys the PostgreSQL run's server left in Redis (sessions, counters) go with it.
drop_redis_keys() {
    if [ -n "$redis_prefix" ] && command -v redis-cli >/dev/null; then
        redis-cli -u "$redis_url" --scan --pattern "$redis_prefix*" |
            xargs -r redis-cli -u "$redis_url" del >/dev/null 2>&1 || true
        redis_prefix=""
    fi
}
cleanup() {
    stop_server
    drop_pg_db
    drop_redis_keys
    rm -rf "$work"
}
trap cleanup EXIT

# JSON log lines, so that 5xx answers can be counted by their status field.
export RENFANG_LOG_FORMAT=json NO_COLOR=1
# The public routes' rate limits would answer the generated traffic with 429s.
export RENFANG_RATE_IP_PER_MINUTE=0 RENFANG_RATE_POSTER_PER_HOUR=0 \
    RENFANG_RATE_GUESSES_PER_HOUR=0 RENFANG_RATE_TIPS_PER_HOUR=0
# No scheduled job during the run (sweep, reminders, digest, purge, report): what the
# server answers depends on requests only.
export RENFANG_SWEEP_CRON="0 0 3 1 1 *" RENFANG_REMIND_CRON="0 0 3 1 1 *" \
    RENFANG_DIGEST_CRON="0 0 3 1 1 *" RENFANG_PURGE_CRON="0 0 3 1 1 *" \
    RENFANG_REPORT_CRON="0 0 3 1 1 *"
RENFANG_DATA_KEY=$(head -c 32 /dev/urandom | base64)
export RENFANG_DATA_KEY
admin_password="schemathesis-admin-1"

# serve NAME: starts `renfang serve` on a free loopback port; sets $server and $url.
serve() {
    (
        cd "$work/$1"
        exec "$bin" serve
    ) >"$out/$1.server.stdout" 2>"$out/$1.server.log" &
    server=$!
    url=""
    for _ in $(seq 1 240); do
        url=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$out/$1.server.stdout" | head -n 1)
        [ -n "$url" ] && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.25
    done
    echo "the $1 server did not start:" >&2
    cat "$out/$1.server.log" >&2
    exit 2
}

# call METHOD PATH [JSON]: one API call as the admin; prints the answer's body.
call() {
    curl -fsS -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        ${3:+-d "$3"} "$url$2"
}

# seed: what the generated requests can find: a community, two units (one with an occupant
# registered through its poster), a sublandlord's account and a tip.
seed() {
    call POST /api/v1/communities '{"name":"影佳"}' >/dev/null
    poster=$(call POST /api/v1/units \
        '{"community":"影佳","address":"影佳路 1弄 1号 101室","rooms":2,"kind":"flat","rental_mode":"shared"}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["poster_url"].rsplit("/", 1)[1])')
    call POST /api/v1/units \
        '{"community":"影佳","address":"影佳路 1弄 2号 201室","rooms":3,"kind":"flat","rental_mode":"whole"}' >/dev/null
    local notice
    notice=$(curl -fsS "$url/api/v1/scan/$poster" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["notice_version"])')
    curl -fsS -X POST -H 'Content-Type: application/json' "$url/api/v1/scan/$poster/registrations" \
        -d "{\"notice_version\":\"$notice\",\"occupants\":[{\"name\":\"张三\",\"id_type\":\"resident_id\",\"id_number\":\"11010519491231002X\",\"phone\":\"13800000000\",\"room\":\"1\",\"move_in\":\"2026-01-01\"}]}" >/dev/null
    curl -fsS -X POST -H 'Content-Type: application/json' "$url/api/v1/sublandlords" \
        -d '{"name":"李四","phone":"13900000009","id_type":"resident_id","id_number":"110105194912310038","password":"schemathesis-sub-1"}' >/dev/null
    curl -fsS -X POST -H 'Content-Type: application/json' "$url/api/v1/tips" \
        -d '{"address":"影佳路 1弄 2号 201室","category":"group_rental","description":"楼上住了很多人"}' >/dev/null
    # Path parameters name what was made above (id 1 is the community, the first unit, the
    # tip), so that the generated requests reach past the look-up; the rest are generated.
    cat >"$work/schemathesis.toml" <<EOF
[parameters]
"path.id" = 1
"path.token" = "$poster"
EOF
}

poster=""
failed=0
summary=()
# run BACKEND: one backend from a fresh database to its Schemathesis report.
run() {
    local name=$1 database started
    mkdir -p "$work/$name"
    unset RENFANG_REDIS_URL RENFANG_REDIS_PREFIX
    case "$name" in
    sqlite)
        database="sqlite://$work/$name/renfang.db"
        ;;
    postgres)
        pg_db="renfang_st_$$"
        psql "$pg_admin" -qc "drop database if exists $pg_db with (force)" >/dev/null
        psql "$pg_admin" -qc "create database $pg_db" >/dev/null
        database="${pg_admin%/*}/$pg_db"
        redis_prefix="schemathesis$$:"
        export RENFANG_REDIS_URL="$redis_url" RENFANG_REDIS_PREFIX="$redis_prefix"
        ;;
    *)
        echo "unknown backend $name (sqlite or postgres)" >&2
        exit 2
        ;;
    esac
    export RENFANG_DATABASE_URL="$database" RENFANG_BIND=127.0.0.1:0
    "$bin" migrate >/dev/null
    printf '%s\n' "$admin_password" | "$bin" user add --username schemathesis --role admin >/dev/null
    serve "$name"
    token=$(curl -fsS -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"schemathesis\",\"password\":\"$admin_password\"}" "$url/api/v1/login" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
    seed
    echo "== $name: $url"
    started=$(date +%s)
    local status=0
    # Left out, because they would end the set-up half-way through the run:
    # - POST /api/v1/logout ends the session of the bearer token every request uses;
    # - POST /api/v1/password changes the caller's password and ends its other sessions.
    # Bounded: a run that hangs fails CI in minutes rather than at its time limit.
    timeout "${ST_SECONDS:-480}" "$st" --config-file "$work/schemathesis.toml" run "$url/api/openapi.json" \
        -H "Authorization: Bearer $token" \
        --exclude-path /api/v1/logout \
        --exclude-path /api/v1/password \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
        --max-examples "$max_examples" \
        --generation-deterministic \
        --workers 1 \
        --request-timeout 30 \
        --suppress-health-check all \
        --no-color \
        --report junit \
        --report-dir "$out/$name" >"$out/$name.txt" 2>&1 || status=$?
    local seconds=$(($(date +%s) - started))
    sed -n '/^=* SUMMARY =*$/,$p' "$out/$name.txt"
    [ "$status" -eq 0 ] || sed -n '/^=* FAILURES =*$/,/^=* SUMMARY =*$/p' "$out/$name.txt" | head -n 200
    echo "answers the server logged (status: count):"
    grep -o '"status":[0-9]*' "$out/$name.server.log" | cut -d: -f2 | sort | uniq -c |
        awk '{printf "  %s: %s\n", $2, $1}'
    local verdict=passed
    if [ "$status" -ne 0 ]; then
        verdict="FAILED (schemathesis exit $status, see $out/$name.txt)"
    fi
    if grep -Eq '"status":5[0-9][0-9][,}]' "$out/$name.server.log" ||
        grep -q 'panicked at' "$out/$name.server.log"; then
        verdict="FAILED (server errors, see $out/$name.server.log)"
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        verdict="FAILED (the server died)"
    fi
    [ "$verdict" = passed ] || failed=1
    local tested cases
    tested=$(sed -n 's/^ *Tested: \([0-9]*\).*/\1/p' "$out/$name.txt" | head -n 1)
    cases=$(grep -Eo '[0-9]+ generated' "$out/$name.txt" | head -n 1 | cut -d' ' -f1)
    summary+=("$name: $verdict in ${seconds}s: ${tested:-?} operations, ${cases:-?} test cases")
    stop_server
    drop_pg_db
    drop_redis_keys
}

for backend in "${backends[@]}"; do
    run "$backend"
done
echo "== summary ($max_examples examples per operation and phase)"
printf '  %s\n' "${summary[@]}"
exit "$failed"
