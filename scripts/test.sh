#!/usr/bin/env bash
# The whole test suite, on a fresh machine: `bash scripts/test.sh`.
#
# 1. Makes sure what the tests need is there and running — PostgreSQL (127.0.0.1:5432, user
#    postgres, trust), Redis (127.0.0.1:6379), Chromium, Node.js — installing it from Debian's
#    packages when absent. The PostgreSQL + Redis backend is never skipped: if it cannot be
#    started, this script fails.
# 2. Runs every Rust test (unit, property and integration tests, on both backends).
# 3. Runs the Mini App's browser test in headless Chromium against a real `tapwave serve`.
#
# Override the services with TAPWAVE_TEST_DATABASE_URL / TAPWAVE_TEST_REDIS_URL.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf '\n== %s\n' "$*"; }

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    sudo_ apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if [ -n "${TAPWAVE_TEST_DATABASE_URL:-}" ]; then return; fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  say "starting PostgreSQL"
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  # The tests connect as postgres over TCP without a password, as on the development machines.
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    sudo_ sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  sudo_ pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 60); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  echo "PostgreSQL did not start on 127.0.0.1:5432" >&2
  exit 1
}

ensure_redis() {
  if [ -n "${TAPWAVE_TEST_REDIS_URL:-}" ]; then return; fi
  if command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then return; fi
  say "starting Redis"
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /tmp/tapwave-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/tapwave-redis --logfile /tmp/tapwave-redis/redis.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && return; sleep 1; done
  echo "Redis did not start on 127.0.0.1:6379" >&2
  exit 1
}

ensure_browser() {
  [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { say "installing Chromium"; apt_install chromium; }
  command -v node >/dev/null && command -v npm >/dev/null || { say "installing Node.js"; apt_install nodejs npm; }
}

ensure_postgres
ensure_redis
ensure_browser

say "Rust tests (SQLite + in-process, PostgreSQL + Redis)"
cargo test --workspace --locked

say "Mini App in headless Chromium"
cargo build --locked --bin tapwave
bash tests/browser/run.sh

say "all tests passed"
