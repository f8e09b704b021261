#!/usr/bin/env bash
# Durability under SIGKILL, on SQLite and on PostgreSQL: scripts/durability.py on a fresh
# database of each backend (see that file for what it proves).
#
#   scripts/durability.sh                          # release build, both backends
#   BIN=target/debug/renfang BACKENDS=sqlite scripts/durability.sh
#   REQUESTS=3000 KILL_AFTER=1000 scripts/durability.sh
#
# Needs python3, and for PostgreSQL psql and a server at $PG_ADMIN, where a database
# renfang_durability is created and dropped.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKENDS=${BACKENDS:-sqlite postgres}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
export RENFANG_DATA_KEY=${RENFANG_DATA_KEY:-$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')}
if [[ -z "${BIN:-}" ]]; then
  cargo build --release --locked --quiet
  BIN=target/release/renfang
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -r qr-templates "$WORK/"
BIN=$(realpath "$BIN")
cd "$WORK"

status=0
for backend in $BACKENDS; do
  echo "== $backend"
  case $backend in
    sqlite) python3 "$OLDPWD/scripts/durability.py" "$BIN" "sqlite://$WORK/durability.db" || status=1 ;;
    postgres)
      psql -q "$PG_ADMIN" -c "drop database if exists renfang_durability" \
        -c "create database renfang_durability" 2>/dev/null
      python3 "$OLDPWD/scripts/durability.py" "$BIN" "${PG_ADMIN%/*}/renfang_durability" || status=1
      psql -q "$PG_ADMIN" -c "drop database renfang_durability"
      ;;
  esac
done
exit $status
