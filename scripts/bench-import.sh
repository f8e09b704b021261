#!/usr/bin/env bash
# Bulk unit import (底数排摸) of a large survey file, on SQLite and on PostgreSQL.
#
# Writes a CSV of $ROWS rows over 3 communities (GBK-encoded when ENCODING=gbk, as Excel on a
# Chinese Windows saves it; every 100th row has a bad room count, so rejections are part of
# the run), then on a fresh database: `renfang migrate`, the communities, and
# `renfang import units FILE` under GNU time (wall seconds and peak RSS of renfang), then the
# same import again, which must create nothing.
#
#   scripts/bench-import.sh                         # release build, 50,000 rows, both backends
#   ROWS=5000 BIN=target/debug/renfang BACKENDS=sqlite scripts/bench-import.sh
#
# Goal: 50,000 rows in under 10 s on SQLite.
#
# Needs python3, GNU time at /usr/bin/time (package `time`), and for PostgreSQL psql and a
# server at $PG_ADMIN, where a database renfang_bench_import is created and dropped.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-50000}
BACKENDS=${BACKENDS:-sqlite postgres}
ENCODING=${ENCODING:-gbk}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
KEY=$(python3 -c 'import base64; print(base64.b64encode(bytes(range(32))).decode())')

if [[ -z "${BIN:-}" ]]; then
  cargo build --release --locked --quiet
  BIN=target/release/renfang
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK/units.csv" "$ROWS" "$ENCODING" <<'PY'
import sys
path, rows, encoding = sys.argv[1], int(sys.argv[2]), sys.argv[3]
communities = ["影佳", "祥东", "虬长路"]
kinds = ["住宅", "宿舍", "flat", "别墅"]
modes = ["整租", "合租", "群租", "shared"]
lines = ["社区,地址,间数,类型,出租方式,面积"]
for i in range(rows):
    c = communities[i % 3]
    rooms = "0" if i % 100 == 99 else str(1 + i % 5)
    lines.append(f"{c},{c}路 {1 + i // 400}弄 {1 + (i // 20) % 20}号 {101 + i % 20}室,"
                 f"{rooms},{kinds[i % 4]},{modes[i % 4]},{40 + i % 80}")
with open(path, "w", encoding=encoding, newline="") as f:
    f.write("\r\n".join(lines) + "\r\n")
PY
echo "file: $ROWS rows, $ENCODING, $(du -k "$WORK/units.csv" | cut -f1) KiB"

run() { # backend url
  local backend=$1 url=$2
  export RENFANG_DATABASE_URL=$url RENFANG_DATA_KEY=$KEY
  "$BIN" migrate >/dev/null
  case $backend in
    sqlite) python3 - "${url#sqlite://}" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executemany("insert into communities (name, created_at) values (?, 0)",
               [("影佳",), ("祥东",), ("虬长路",)])
db.commit()
PY
    ;;
    postgres) psql -q "$url" -c "insert into communities (name, created_at) values ('影佳', 0), ('祥东', 0), ('虬长路', 0)" ;;
  esac
  for pass in first again; do
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" import units "$WORK/units.csv" > "$WORK/out"
    read -r secs rss < "$WORK/time"
    printf '%-8s %-5s %6s s  peak RSS %4d MB  %s\n' "$backend" "$pass" "$secs" $((rss / 1024)) \
      "$(head -1 "$WORK/out")"
  done
}

for backend in $BACKENDS; do
  case $backend in
    sqlite) run sqlite "sqlite://$WORK/import.db" ;;
    postgres)
      psql -q "$PG_ADMIN" -c "drop database if exists renfang_bench_import" \
        -c "create database renfang_bench_import"
      run postgres "${PG_ADMIN%/*}/renfang_bench_import"
      psql -q "$PG_ADMIN" -c "drop database renfang_bench_import"
      ;;
  esac
done
