#!/usr/bin/env bash
# Property-based API testing with Schemathesis against GET /api/openapi.json of a fresh
# demo server (its own SQLite database in a temporary folder): once without credentials,
# once with the demo admin's bearer token and once with the demo sublandlord's; all
# checks, bounded in examples and time.
#
#   scripts/schemathesis.sh
#
# Environment:
#   RENFANG_BIN       server binary (default target/debug/renfang; not built here)
#   ST_MAX_EXAMPLES   examples per operation (default 30)
#   ST_MAX_TIME       seconds per run, three runs (default 240)
#   ST_WORKERS        concurrent workers (default 1: Hypothesis on Python 3.11 fails with
#                     "AST constructor recursion depth mismatch" when run in threads)
#   ST_SEED           random seed (default 1, so a run can be repeated)
#   ST_VENV           virtualenv for Schemathesis (default target/schemathesis-venv)
#   ST_OUT            reports and the server log (default target/schemathesis)
#
# Exits non-zero on any server error: a 5xx answer, a handler panic (the connection is
# dropped unanswered) or a dead server. Other check failures are reported (summary, and
# JUnit/NDJSON reports in ST_OUT) but do not fail it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
bin=${RENFANG_BIN:-target/debug/renfang}
max_examples=${ST_MAX_EXAMPLES:-30}
max_time=${ST_MAX_TIME:-240}
workers=${ST_WORKERS:-1}
seed=${ST_SEED:-1}
venv=${ST_VENV:-target/schemathesis-venv}
out=${ST_OUT:-target/schemathesis}

case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
if [ ! -x "$bin" ]; then
    echo "no server binary at $bin: run cargo build first" >&2
    exit 2
fi

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
st="$root/$venv/bin/schemathesis"
case "$venv" in /*) st="$venv/bin/schemathesis" ;; esac

mkdir -p "$out"
case "$out" in /*) ;; *) out="$root/$out" ;; esac
work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 "$server" 2>/dev/null || break; sleep 0.25; done
        kill -KILL "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# `demo` seeds communities, units, occupants and one account per role into data/demo.db
# under its working folder (it ignores RENFANG_DATABASE_URL), then serves.
cp -r qr-templates "$work/"
(
    cd "$work"
    export RENFANG_DATABASE_URL="sqlite://$work/s.db"
    export RENFANG_BIND=127.0.0.1:0
    # JSON log lines, so that 5xx answers can be found by their status field.
    export RENFANG_LOG_FORMAT=json NO_COLOR=1
    # The public-route rate limits would answer the generated traffic with 429s.
    export RENFANG_RATE_IP_PER_MINUTE=0 RENFANG_RATE_POSTER_PER_HOUR=0 RENFANG_RATE_GUESSES_PER_HOUR=0
    exec "$bin" demo --bind 127.0.0.1:0
) >"$out/server.stdout" 2>"$out/server.log" &
server=$!

url=""
for _ in $(seq 1 240); do
    url=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$out/server.stdout" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || { echo "server exited:" >&2; cat "$out/server.log" >&2; exit 2; }
    sleep 0.5
done
[ -n "$url" ] || { echo "server did not start" >&2; exit 2; }
echo "server at $url"

# login USER PASSWORD: a bearer token of a demo account.
login() {
    curl -fsS -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$url/api/v1/login" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
token=$(login admin renfang-admin)
sublandlord=$(login 13900000001 renfang-sublandlord)

common=(
    --checks all
    --max-examples "$max_examples"
    --max-time "$max_time"
    --workers "$workers"
    --seed "$seed"
    --request-timeout 30
    --suppress-health-check all
    --report junit,ndjson
)

status=0
server_errors=0
# run NAME ARGS…: one Schemathesis run, and the answers the server logged during it.
run() {
    local name=$1
    shift
    local before
    before=$(wc -l <"$out/server.log")
    echo "== $name"
    "$st" run "$@" "${common[@]}" --report-dir "$out/$name" >"$out/$name.txt" 2>&1 || status=$?
    sed -n '/^=* SUMMARY =*$/,$p' "$out/$name.txt"
    tail -n +"$((before + 1))" "$out/server.log" >"$out/$name.server.log"
    echo "answers logged by the server during $name (status: count):"
    grep -o '"status":[0-9]*' "$out/$name.server.log" | cut -d: -f2 | sort | uniq -c |
        awk '{printf "  %s: %s\n", $2, $1}'
    # A 5xx answer, or a handler that panicked: the worker drops the connection without an
    # answer (Schemathesis reports "Network Error", and no status is logged).
    local panics
    panics=$(grep -c 'panicked at' "$out/$name.server.log" || true)
    if [ "$panics" -gt 0 ]; then
        echo "  handler panics: $panics"
        grep -o 'panicked at [^ ]*' "$out/$name.server.log" | sort | uniq -c | sed 's/^/   /'
    fi
    if grep -Eq '"status":5[0-9][0-9][,}]' "$out/$name.server.log" ||
        [ "$panics" -gt 0 ] ||
        grep -Eq 'Server error|Network Error' "$out/$name.txt"; then
        echo "SERVER ERRORS in $name (see $out/$name.txt and $out/$name.server.log)" >&2
        server_errors=1
    fi
}

run anonymous "$url/api/openapi.json"
# Logging out would end the token's session half-way through the run, so the
# authenticated runs leave that one operation out (the anonymous run covers it).
run admin "$url/api/openapi.json" -H "Authorization: Bearer $token" --exclude-path /api/v1/logout
# The sublandlord's own operations answer 403 to the admin; this run reaches them.
run sublandlord "$url/api/openapi.json" -H "Authorization: Bearer $sublandlord" \
    --exclude-path /api/v1/logout --exclude-path /api/v1/password

failed=$server_errors
if ! kill -0 "$server" 2>/dev/null; then
    echo "the server died during the run" >&2
    failed=1
fi
if [ "$status" -ne 0 ]; then
    echo "some checks other than server errors failed: see the summaries above and $out/*.txt"
fi
if [ "$failed" -eq 0 ]; then
    echo "no server errors"
fi
exit "$failed"
