#!/usr/bin/env python3
"""Nothing acknowledged is lost: registrations under load, the server killed midway.

Starts `renfang serve` on a fresh database, makes units through the API, then sends
REQUESTS registrations from CONCURRENCY threads, each with its own Idempotency-Key. Once
KILL_AFTER of them have been answered 2xx it kills the server with SIGKILL, lets the rest
fail, restarts the server on the same database and checks that

  * every acknowledged registration's receipt is stored, and
  * replaying each acknowledged request (same key, same body) returns its original
    receipt and stores nothing twice.

Exit status 0 when both hold, 1 otherwise. Standard library only.

  scripts/durability.py BIN DATABASE_URL            # see scripts/durability.sh
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

REQUESTS = int(os.environ.get("REQUESTS", "1500"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "64"))
KILL_AFTER = int(os.environ.get("KILL_AFTER", "400"))
UNITS = int(os.environ.get("UNITS", "100"))
PASSWORD = "durability-check-1"


def resident_id(n):
    """A valid 18-digit resident ID number (GB 11643 check digit), distinct for n < 25,200."""
    body = f"110105{19700101 + (n // 900) % 28:08d}{n % 900 + 100:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights))
    return body + "10X98765432"[total % 11]


def request(method, url, body=None, token=None, key=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if key:
        req.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Server:
    def __init__(self, binary, env):
        self.proc = subprocess.Popen(
            [binary, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"serve did not start: {line!r}")
        self.url = line.removeprefix("listening on ")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def main():
    binary, database_url = sys.argv[1], sys.argv[2]
    env = dict(os.environ)
    env.update(
        RENFANG_DATABASE_URL=database_url,
        RENFANG_BIND="127.0.0.1:0",
        RENFANG_LOG="warn",
        # Every request comes from one address; the limits stay on, far above this load.
        RENFANG_RATE_IP_PER_MINUTE="10000000",
        RENFANG_RATE_POSTER_PER_HOUR="10000000",
    )
    env.pop("RENFANG_REDIS_URL", None)
    subprocess.run([binary, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [binary, "user", "add", "--username", "durability", "--role", "admin"],
        env=env, input=PASSWORD + "\n", text=True, check=True, stdout=subprocess.DEVNULL,
    )
    server = Server(binary, env)
    status, login = request("POST", f"{server.url}/api/v1/login",
                            {"username": "durability", "password": PASSWORD})
    assert status == 200, (status, login)
    token = login["token"]
    status, _ = request("POST", f"{server.url}/api/v1/communities", {"name": "影佳"}, token)
    assert status in (201, 409), status
    posters = []
    for i in range(UNITS):
        status, made = request("POST", f"{server.url}/api/v1/units", {
            "community": "影佳", "address": f"影佳路 {i // 20 + 1}弄 {i % 20 + 1}号 101室",
            "rooms": 3, "kind": "flat", "rental_mode": "shared"}, token)
        assert status == 201, (status, made)
        posters.append(made["poster_url"].rsplit("/", 1)[1])
    status, info = request("GET", f"{server.url}/api/v1/scan/{posters[0]}")
    notice = info["notice_version"]

    def body(n):
        return {"notice_version": notice, "occupants": [{
            "name": "张三", "id_type": "resident_id", "id_number": resident_id(n),
            "phone": "13800138000", "room": "A", "move_in": "2026-11-01"}]}

    jobs = [(n, posters[n % UNITS], f"durability-{n}-{random.getrandbits(32):08x}")
            for n in range(REQUESTS)]
    acked = {}
    lock = threading.Lock()
    killed = threading.Event()
    base = server.url

    def send(job):
        n, poster, key = job
        if killed.is_set():
            return
        try:
            status, answer = request("POST", f"{base}/api/v1/scan/{poster}/registrations",
                                     body(n), key=key, timeout=10)
        except OSError:
            return
        if 200 <= status < 300:
            with lock:
                acked[n] = answer["receipt"]
                if len(acked) >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    server.kill()

    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(send, jobs))
    if not killed.is_set():
        server.kill()
    print(f"sent up to {REQUESTS} registrations from {CONCURRENCY} threads; "
          f"{len(acked)} acknowledged before SIGKILL "
          f"({time.monotonic() - started:.1f} s)")

    server = Server(binary, env)
    lost, changed = [], []
    for n, receipt in sorted(acked.items()):
        _, poster, key = jobs[n]
        status, answer = request("POST", f"{server.url}/api/v1/scan/{poster}/registrations",
                                 body(n), key=key)
        if not (200 <= status < 300):
            lost.append((n, status, answer))
        elif answer["receipt"] != receipt:
            changed.append((n, receipt, answer["receipt"]))
    server.stop()

    stored = stored_receipts(database_url, set(acked.values()))
    missing = set(acked.values()) - stored
    print(f"after restart: {len(stored)} of {len(acked)} acknowledged receipts stored; "
          f"{len(acked) - len(lost) - len(changed)} replays answered with their original receipt")
    ok = not missing and not lost and not changed
    for what, items in (("missing", sorted(missing)), ("replay failed", lost),
                        ("replay changed", changed)):
        if items:
            print(f"{what}: {len(items)}, e.g. {items[:3]}")
    print("durable: every acknowledged registration survived" if ok else "LOST DATA")
    sys.exit(0 if ok else 1)


def stored_receipts(database_url, receipts):
    """The receipts among `receipts` that the database holds, read directly."""
    if database_url.startswith("sqlite://"):
        import sqlite3
        path = database_url.removeprefix("sqlite://").split("?")[0]
        db = sqlite3.connect(path)
        rows = db.execute("select receipt from registrations").fetchall()
        db.close()
        return {r[0] for r in rows} & receipts
    out = subprocess.run(["psql", "-At", database_url, "-c", "select receipt from registrations"],
                         check=True, capture_output=True, text=True).stdout
    return set(out.split()) & receipts


if __name__ == "__main__":
    main()
