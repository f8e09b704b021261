# The set-up the HTTP benchmarks share; source it after setting BIN. It makes WORK (removed,
# with every background job stopped, on exit), a fresh data key, the notice version the
# wrk scripts send, and the rate limits raised far above the load: wrk sends everything
# from one address, and the limits stay on so that their counting is part of what is
# measured. Then it loads scripts/lib/serve.sh.

WORK=$(mktemp -d)
cleanup() {
  for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

RENFANG_DATA_KEY=$(head -c 32 /dev/urandom | base64)
NOTICE_VERSION=$(sed -n 's/^pub const NOTICE_VERSION: &str = "\(.*\)";/\1/p' src/domain/notice.rs)
RENFANG_RATE_IP_PER_MINUTE=100000000
RENFANG_RATE_POSTER_PER_HOUR=100000000
export RENFANG_DATA_KEY NOTICE_VERSION RENFANG_RATE_IP_PER_MINUTE RENFANG_RATE_POSTER_PER_HOUR

# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh
