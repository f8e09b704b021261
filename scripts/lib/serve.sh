# Shell functions shared by the benchmark and topology scripts; source it after setting
# BIN (the renfang binary) and WORK (a scratch folder). Settings reach `renfang serve`
# through exported RENFANG_* variables.

# start NAME DATABASE_URL PORT: runs `renfang serve` in the background, waits for its
# listening line, and leaves its pid in $WORK/NAME.pid.
start() {
  RENFANG_DATABASE_URL=$2 RENFANG_BIND=127.0.0.1:$3 RENFANG_LOG=${RENFANG_LOG:-warn} \
    "$BIN" serve >"$WORK/$1.out" 2>"$WORK/$1.err" &
  echo $! >"$WORK/$1.pid"
  for _ in $(seq 1 100); do
    grep -q "listening on" "$WORK/$1.out" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$1 did not start:" >&2
  cat "$WORK/$1.err" >&2
  exit 1
}

# api_login PORT USER PASSWORD: prints a bearer token.
api_login() {
  curl -sf -X POST "http://127.0.0.1:$1/api/v1/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$2\",\"password\":\"$3\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/'
}

# prepare NAME DATABASE_URL PORT: an admin (bench), a police officer (police), a community
# and $UNITS units; starts the server and writes the units' poster tokens to
# $WORK/NAME.tokens.
prepare() {
  printf 'bench-password-1\n' | RENFANG_DATABASE_URL=$2 "$BIN" user add \
    --username bench --role admin >/dev/null
  start "$1" "$2" "$3"
  local base="http://127.0.0.1:$3" token
  token=$(api_login "$3" bench bench-password-1)
  curl -sf -X POST "$base/api/v1/communities" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"name":"影佳"}' >/dev/null
  printf 'bench-password-1\n' | RENFANG_DATABASE_URL=$2 "$BIN" user add \
    --username police --role police --community 影佳 >/dev/null
  # Eight at a time: thousands of units are made in seconds.
  export base token
  seq 1 "$UNITS" | xargs -P 8 -I{} sh -c '
    i={}
    made=$(curl -sf -X POST "$base/api/v1/units" -H "Authorization: Bearer $token" \
      -H "Content-Type: application/json" \
      -d "{\"community\":\"影佳\",\"address\":\"影佳路 $((i / 40 + 1))弄 ${i}号 201室\",\"rooms\":3,\"kind\":\"flat\",\"rental_mode\":\"shared\"}")
    # One write per line, so lines from parallel jobs never run together.
    printf "%s\n" "$(printf "%s" "$made" | sed "s/.*\"poster_url\":\"[^\"]*\/q\/\([^\"]*\)\".*/\1/")"' >"$WORK/$1.tokens"
  [[ $(grep -c . "$WORK/$1.tokens") == "$UNITS" ]] || { echo "not every unit was made" >&2; exit 1; }
}

# page_cookie PORT USER PASSWORD: signs in through the login page, prints the cookie.
page_cookie() {
  curl -s -o /dev/null -D - -X POST "http://127.0.0.1:$1/login" \
    --data-urlencode "username=$2" --data-urlencode "password=$3" --data-urlencode "next=" |
    sed -n 's/^[Ss]et-[Cc]ookie: \(renfang_session=[^;]*\);.*/\1/p'
}

# peak_rss_mb NAME: the highest resident memory the server NAME has had, in MB.
peak_rss_mb() {
  awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$(cat "$WORK/$1.pid")/status"
}
