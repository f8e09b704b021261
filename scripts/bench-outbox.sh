#!/usr/bin/env bash
# Outbox throughput: $N messages queued with plain SQL on a fresh SQLite database, then
# drained by one `renfang dispatch` (claims of 200, 32 deliveries in flight, every attempt
# recorded) to a local receiver that answers 200 at once (python3's http.server, threaded,
# keep-alive). Prints messages per second, the wall time and the peak RSS of the renfang
# process (the receiver's memory is not in it), and checks that every message is `sent`.
#
#   scripts/bench-outbox.sh                          # release build, 100,000 messages
#   BIN=target/debug/renfang N=20000 scripts/bench-outbox.sh
#
# Needs python3 (its sqlite3 module loads the messages; it also serves as the receiver).
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

N=${N:-100000}
PORT=${PORT:-18093}
BIN=${BIN:-target/release/renfang}
if [[ $BIN == target/release/renfang ]]; then
  cargo build --release --quiet --bin renfang
elif [[ $BIN != /* && -x $CALLER_DIR/$BIN ]]; then
  BIN=$CALLER_DIR/$BIN
fi
[[ -x $BIN ]] || { echo "bench-outbox: no renfang binary at $BIN" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

WORK=$(mktemp -d)
cleanup() {
  for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export RENFANG_DATABASE_URL="sqlite://$WORK/bench.db"
export RENFANG_DATA_KEY
RENFANG_DATA_KEY=$(head -c 32 /dev/urandom | base64)
export RENFANG_CONFIG="$WORK/renfang.toml"
export RENFANG_LOG=error
cat >"$RENFANG_CONFIG" <<TOML
[[webhook]]
name = "bench"
url = "http://127.0.0.1:$PORT/events"
secret = "bench-secret-0123456789"
events = ["*"]
TOML

# The receiver: 200 with an empty body to every POST, as fast as python answers.
cat >"$WORK/receiver.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass

ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
python3 "$WORK/receiver.py" "$PORT" &
sleep 0.5

# An empty run creates and migrates the database.
"$BIN" dispatch >/dev/null

python3 - "$WORK/bench.db" "$N" <<'PY'
import json, sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
now = int(time.time() * 1000)
con.execute("insert into communities (name, created_at) values ('影佳', ?)", (now,))
cid = con.execute("select id from communities").fetchone()[0]
rows = []
for i in range(1, n + 1):
    data = json.dumps({"unit_id": i, "address": f"影佳路 {i}号", "community": "影佳"})
    rows.append((i, "door_check.opened", cid, data, now))
con.executemany("insert into events (id, type, community_id, data, created_at) values (?, ?, ?, ?, ?)", rows)
con.executemany(
    """insert into outbox_messages (event_id, event_type, destination, payload, idempotency_key,
           state, attempts, next_attempt_at, created_at)
       values (?, 'door_check.opened', 'bench', ?, ?, 'pending', 0, ?, ?)""",
    ((i, json.dumps({"id": i, "type": "door_check.opened", "occurred_at": "2026-12-06T00:00:00Z",
                     "data": json.loads(d)}), f"renfang-{i}-bench", now, now)
     for (i, _, _, d, _) in rows))
con.commit()
PY

python3 - "$BIN" "$WORK/bench.db" "$N" <<'PY'
import resource, sqlite3, subprocess, sys, time
bin_, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.monotonic()
out = subprocess.run([bin_, "dispatch"], check=True, capture_output=True, text=True).stdout.strip()
wall = time.monotonic() - start
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
con = sqlite3.connect(db)
sent = con.execute("select count(*) from outbox_messages where state = 'sent'").fetchone()[0]
attempts = con.execute("select count(*) from outbox_attempts").fetchone()[0]
print(f"renfang dispatch: {out}")
print("| backend | messages | wall s | messages/s | peak RSS MB |")
print("|---|---|---|---|---|")
print(f"| SQLite | {n} | {wall:.1f} | {n / wall:.0f} | {rss_mb:.0f} |")
if sent != n or attempts != n:
    sys.exit(f"bench-outbox: {sent} sent and {attempts} attempts recorded, want {n}")
PY
