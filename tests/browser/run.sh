#!/usr/bin/env bash
# Browser test of the Mini App: starts `tapwave serve` on a free loopback port
# with a throwaway SQLite database (no BOT_TOKEN, so the demo login is on), then
# drives the page with headless Chromium (tests/browser/*.test.mjs, one after
# the other). The game is the built-in one, except a claim minimum of 10 coins,
# so a test can tap its way to a claim, and three cheap upgrade cards. A test
# with a game file of its own beside it (NAME.game.toml for NAME.test.mjs) gets
# a server of its own, started with that file and a fresh database.
#
#   TAPWAVE_BIN  the tapwave binary (default target/debug/tapwave, from the repo root)
#   CHROMIUM     the browser (default /usr/bin/chromium, Debian's package `chromium`)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

bin="${TAPWAVE_BIN:-target/debug/tapwave}"
[[ "$bin" = /* ]] || bin="$root/$bin"
if [[ ! -x "$bin" ]]; then
  echo "run.sh: no tapwave binary at $bin (cargo build, or set TAPWAVE_BIN)" >&2
  exit 1
fi
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  echo "run.sh: no browser at $CHROMIUM (apt-get install chromium, or set CHROMIUM)" >&2
  exit 1
fi

if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

tmp="$(mktemp -d)"
server_pids=()
cleanup() {
  for pid in "${server_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${server_pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$tmp/game.toml" <<'TOML'
[claims]
min_amount = 10

# Cheap cards, so economy.test.mjs can tap its way to a purchase; low income, so
# passive coins do not move a balance during a test. "vault" stays out of reach.
[[upgrades]]
id = "stall"
name = "Market stall"
category = "markets"
base_cost = 8
cost_growth = 2.0
base_income_per_hour = 12
income_growth = 1.5
max_level = 5

[[upgrades]]
id = "vault"
name = "Vault"
category = "markets"
base_cost = 1000000
cost_growth = 2.0
base_income_per_hour = 1000
income_growth = 1.0
max_level = 3

[[upgrades]]
id = "intern"
name = "Intern"
category = "team"
base_cost = 5
cost_growth = 1.0
base_income_per_hour = 6
income_growth = 1.0
max_level = 1
TOML

# start_server NAME GAME_FILE: starts `tapwave serve` on a free loopback port with
# a database of its own, waits for /healthz, and sets `url` and `log`.
start_server() {
  local name="$1" game="$2" port pid
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  url="http://127.0.0.1:$port"
  log="$tmp/$name.log"
  (
    cd "$tmp"
    unset BOT_TOKEN REDIS_URL WEBHOOK_URL WEBHOOK_SECRET GAME_CONFIG TRUSTED_PROXIES WAREHOUSE_URL
    export BIND="127.0.0.1:$port"
    export DATABASE_URL="sqlite://$tmp/$name.db?mode=rwc"
    export GAME_CONFIG="$game"
    exec "$bin" serve
  ) >"$log" 2>&1 &
  pid=$!
  server_pids+=("$pid")
  local deadline=$((SECONDS + 60))
  until node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$url/healthz"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: tapwave serve ($name) exited before answering /healthz" >&2
      server_log "$log"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "run.sh: $url/healthz ($name) did not answer 200 within 60 s" >&2
      server_log "$log"
      return 1
    fi
    sleep 0.25
  done
}

server_log() {
  echo "---- last lines of the server log ($1) ----" >&2
  tail -n 40 "$1" >&2 || true
}

start_server shared "$tmp/game.toml" || exit 1
shared_url="$url"
shared_log="$log"

rc=0
for test_file in "$here"/*.test.mjs; do
  game="${test_file%.test.mjs}.game.toml"
  url="$shared_url"
  log="$shared_log"
  if [[ -f "$game" ]]; then
    start_server "$(basename "${test_file%.test.mjs}")" "$game" || { rc=1; continue; }
  fi
  if ! TAPWAVE_URL="$url" timeout -k 10 300 node "$test_file"; then
    rc=1
    server_log "$log"
  fi
done
exit "$rc"
