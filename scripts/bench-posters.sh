#!/usr/bin/env bash
# QR codes and posters, measured side by side in one run.
#
# 1. Bare QR codes as PNG, one thread: examples/qr_codes.rs (fast_qr + png) against Python's
#    segno and qrcode (from PyPI, installed into target/bench-venv on first use) making the
#    same codes: distinct 57-byte poster URLs, level Q, 4-module quiet zone, 8 px a module,
#    in memory.
# 2. Posters with `renfang qr posters` on a fresh SQLite database served by `renfang serve`:
#    a community of $UNITS units (made through POST /api/v1/units) as one PDF (wall seconds
#    and peak RSS under GNU time; page count checked with pdfinfo), and a community of
#    $SMALL units as PNG files at $DPI dpi and as SVG files.
#
#   scripts/bench-posters.sh                       # release build; 10,000 and 200 units
#   UNITS=1000 SMALL=50 CODES=2000 scripts/bench-posters.sh
#
# Goals: bare codes at least 10x segno's rate; a 10,000-poster community PDF in under 30 s
# with peak memory under 500 MB.
#
# Needs python3 with venv and pip (PyPI reachable on first use), curl, GNU time at
# /usr/bin/time, and pdfinfo (poppler-utils).
set -euo pipefail
cd "$(dirname "$0")/.."

UNITS=${UNITS:-10000}
SMALL=${SMALL:-200}
CODES=${CODES:-20000}
PY_CODES=${PY_CODES:-2000}
DPI=${DPI:-300}
PORT=${PORT:-18090}

die() { echo "bench-posters: $*" >&2; exit 2; }
log() { echo "# $(date +%T) $*" >&2; }
for tool in python3 curl pdfinfo; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x /usr/bin/time ]] || die "GNU time is not installed (apt-get install time)"

cargo build --release --quiet --bin renfang --example qr_codes
BIN=target/release/renfang
VENV=target/bench-venv
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import segno, qrcode, PIL' 2>/dev/null; then
  log "installing segno and qrcode into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet segno 'qrcode[pil]'
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [[ -z $SERVER_PID ]] || { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "## Bare QR codes (PNG, one thread)"
echo
rust=$(target/release/examples/qr_codes "$CODES")
segno=$("$VENV/bin/python" scripts/bench_qr.py segno "$PY_CODES")
qrcode=$("$VENV/bin/python" scripts/bench_qr.py qrcode "$PY_CODES")
rate() { sed -n 's/.* = \([0-9]*\) codes\/s.*/\1/p' <<<"$1"; }
echo "| maker | codes | codes/s | vs segno |"
echo "|---|---|---|---|"
for line in "$rust" "$segno" "$qrcode"; do
  name=${line%%:*}
  count=$(sed -n 's/^[^:]*: \([0-9]*\) codes.*/\1/p' <<<"$line")
  echo "| $name | $count | $(rate "$line") | $(awk -v a="$(rate "$line")" -v b="$(rate "$segno")" 'BEGIN { printf "%.1fx", a / b }') |"
done
echo

export RENFANG_CONFIG=$WORK/none.toml
export RENFANG_DATABASE_URL=sqlite://$WORK/posters.db
export RENFANG_DATA_KEY=$(head -c 32 /dev/urandom | base64)
export RENFANG_PUBLIC_URL=https://renfang.example.gov.cn
export RENFANG_LOG=warn
RENFANG_BIND=127.0.0.1:$PORT "$BIN" serve >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening on" "$WORK/serve.out" || { cat "$WORK/serve.err" >&2; die "server did not start"; }
printf 'bench-password-1\n' | "$BIN" user add --username bench --role admin >/dev/null
log "creating $UNITS + $SMALL units through the API"
python3 - "$PORT" "$UNITS" "$SMALL" <<'PY'
import http.client, json, sys, threading
port, big, small = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def call(conn, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request("POST", path, json.dumps(body), headers)
    res = conn.getresponse()
    data = res.read()
    if res.status not in (200, 201):
        raise SystemExit(f"{path}: {res.status} {data[:200]!r}")
    return json.loads(data) if data else None
conn = http.client.HTTPConnection("127.0.0.1", port)
token = call(conn, "/api/v1/login", {"username": "bench", "password": "bench-password-1"})["token"]
for name in ("影佳", "祥东"):
    call(conn, "/api/v1/communities", {"name": name}, token)
def make(community, road, lo, hi):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(lo, hi):
        call(c, "/api/v1/units", {"community": community, "address":
             f"{road} {i // 40 + 1}弄 {i % 40 + 1}号 {101 + i % 6}室", "rooms": 1 + i % 4,
             "kind": "flat", "rental_mode": "shared"}, token)
threads = [threading.Thread(target=make, args=("影佳", "影佳路", big * k // 4, big * (k + 1) // 4))
           for k in range(4)]
threads.append(threading.Thread(target=make, args=("祥东", "祥东路", 0, small)))
for t in threads: t.start()
for t in threads: t.join()
PY

timed() { # timed NAME ARGS...: sets SECONDS_TAKEN and PEAK_MB
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$BIN" qr posters "$@" >"$WORK/$1.out" 2>"$WORK/$1.err" ||
    { cat "$WORK/$1.err" >&2; die "renfang qr posters $* failed"; }
  read -r SECONDS_TAKEN KB < <(tail -n 1 "$WORK/time")
  PEAK_MB=$(awk -v k="$KB" 'BEGIN { printf "%.1f", k / 1024 }')
}

echo "## Posters (renfang qr posters, A4 template)"
echo
echo "| batch | posters | seconds | posters/s | peak RSS MB | output |"
echo "|---|---|---|---|---|---|"
timed --community 影佳 --format pdf --out "$WORK/yingjia.pdf"
pages=$(pdfinfo "$WORK/yingjia.pdf" | awk '/^Pages:/ {print $2}')
[[ $pages == "$UNITS" ]] || die "the PDF has $pages pages, not $UNITS"
size=$(du -m "$WORK/yingjia.pdf" | cut -f1)
echo "| one PDF, community of $UNITS | $pages | $SECONDS_TAKEN | $(awk -v n="$pages" -v s="$SECONDS_TAKEN" 'BEGIN { printf "%.0f", n / s }') | $PEAK_MB | ${size} MB file |"
timed --community 祥东 --format png --dpi "$DPI" --out "$WORK/png"
n=$(ls "$WORK/png" | wc -l)
echo "| PNG files at $DPI dpi | $n | $SECONDS_TAKEN | $(awk -v n="$n" -v s="$SECONDS_TAKEN" 'BEGIN { printf "%.1f", n / s }') | $PEAK_MB | $(du -sm "$WORK/png" | cut -f1) MB |"
timed --community 祥东 --format svg --out "$WORK/svg"
n=$(ls "$WORK/svg" | wc -l)
echo "| SVG files | $n | $SECONDS_TAKEN | $(awk -v n="$n" -v s="$SECONDS_TAKEN" 'BEGIN { printf "%.0f", n / s }') | $PEAK_MB | $(du -sm "$WORK/svg" | cut -f1) MB |"
echo
echo "$(nproc) cores, $(date -u +%Y-%m-%d); seconds and peak RSS are of the whole renfang process"
