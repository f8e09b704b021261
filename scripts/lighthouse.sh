#!/usr/bin/env bash
# Lighthouse (mobile) scores for pages of a running renfang service.
#
# Needs: node with lighthouse (`npm install lighthouse`, run via `npx lighthouse`,
# or set LIGHTHOUSE to the binary, e.g. ./node_modules/.bin/lighthouse),
# a Chromium/Chrome (CHROME_PATH, default: `which chromium`), and jq.
#
# Usage: BASE=http://127.0.0.1:8080 [COOKIE='renfang_session=...'] \
#          scripts/lighthouse.sh /q/<token> /tip /police /console
#   BASE    base URL of the running service (required)
#   COOKIE  optional Cookie header value for staff pages (from POST /login)
#   OUT     folder for the JSON reports (default: ./lighthouse-reports)
#
# Prints `path performance accessibility best-practices` (scores 0-100) and,
# under each path, the ids of audits in those categories that score below 1.
set -euo pipefail

: "${BASE:?set BASE to the service base URL, e.g. http://127.0.0.1:8080}"
COOKIE="${COOKIE:-}"
OUT="${OUT:-./lighthouse-reports}"
export CHROME_PATH="${CHROME_PATH:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
read -r -a LH <<<"${LIGHTHOUSE:-npx --no-install lighthouse}"
CATS=performance,accessibility,best-practices

[ "$#" -gt 0 ] || { echo "usage: BASE=... [COOKIE=...] $0 PATH..." >&2; exit 2; }
mkdir -p "$OUT"

extra=()
if [ -n "$COOKIE" ]; then
  extra=(--extra-headers="$(jq -cn --arg c "$COOKIE" '{Cookie: $c}')")
fi

printf '%-32s %11s %13s %14s\n' path performance accessibility best-practices
for path in "$@"; do
  report="$OUT/$(printf '%s' "$path" | tr -c 'A-Za-z0-9._-' '_').json"
  "${LH[@]}" "${BASE%/}$path" --quiet --output=json --output-path="$report" \
    --only-categories="$CATS" "${extra[@]}" \
    --chrome-flags="--headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
  jq -r --arg p "$path" '
    def pct: if . == null then "n/a" else (. * 100 | round | tostring) end;
    .categories as $c
    | ([$p, ($c.performance.score | pct), ($c.accessibility.score | pct),
        ($c["best-practices"].score | pct)] | @tsv),
      ( [ $c[] | .auditRefs[] | select(.weight > 0) | .id ] as $ids
        | .audits | to_entries[]
        | select((.key | IN($ids[])) and .value.score != null and .value.score < 1)
        | "    failing: \(.key) (\(.value.score))" )
  ' "$report" | awk -F'\t' 'NF == 4 { printf "%-32s %11s %13s %14s\n", $1, $2, $3, $4; next } { print }'
done
