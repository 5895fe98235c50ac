# tests/integration/kv_lib.sh — what the kv_server integration tests share: find the binaries,
# pick free ports, start kv_server and a reference redis-server, wait until they answer, and stop
# everything when the test exits. Sourced by the kv_*_test.sh scripts.
#
#   source "$(dirname "$0")/kv_lib.sh"
#   kv_start "$@"                 # $1 is the kv_server binary (bazel passes $(rootpath ...))
#   KV_NOFILE=256 kv_start "$@"   # the same under `ulimit -n 256`
#   redis_start                   # a reference redis-server: --save "" --appendonly no --databases 1
#   redis-cli -p "$KV_PORT" ping
set -euo pipefail

KV_BIN="${KV_BIN:-}"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
KV_PIDS=()

fail() { echo "FAIL: $*" >&2; exit 1; }

kv_cleanup() {
  for pid in "${KV_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap kv_cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Resident memory of process $1, in MiB.
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# Waits until something answers PING on port $1 (up to 10 s).
wait_ready() {
  for _ in $(seq 1 200); do
    if [ "$(redis-cli -p "$1" ping 2>/dev/null)" = "PONG" ]; then return 0; fi
    sleep 0.05
  done
  fail "nothing answers on port $1"
}

# kv_start BIN [extra kv_server flags...]: sets KV_PORT and KV_PID. With KV_NOFILE set, the
# server runs under that descriptor limit (ulimit -n).
kv_start() {
  KV_BIN="$1"; shift
  KV_PORT="${KV_PORT_WANTED:-$(free_port)}"
  if [ -n "${KV_NOFILE:-}" ]; then
    (ulimit -n "$KV_NOFILE" && exec "$KV_BIN" --port "$KV_PORT" "$@") >>"$TMP/kv_server.log" 2>&1 &
  else
    "$KV_BIN" --port "$KV_PORT" "$@" >>"$TMP/kv_server.log" 2>&1 &
  fi
  KV_PID=$!
  KV_PIDS+=("$KV_PID")
  wait_ready "$KV_PORT"
}

# redis_start [extra redis-server flags...]: sets REDIS_PORT.
redis_start() {
  REDIS_PORT="$(free_port)"
  redis-server --port "$REDIS_PORT" --save "" --appendonly no --databases 1 \
    --dir "$TMP" "$@" >"$TMP/redis.log" 2>&1 &
  KV_PIDS+=("$!")
  wait_ready "$REDIS_PORT"
}

# The "requests per second" figures of a redis-benchmark run, one "TEST value" per line; fails
# when redis-benchmark reports an error.
bench() {
  local out
  out="$(redis-benchmark "$@" 2>&1 | tr '\r' '\n')" || fail "redis-benchmark $* failed: $out"
  if grep -qiE "error|closed|refused" <<<"$out"; then fail "redis-benchmark $*: $out"; fi
  grep "requests per second" <<<"$out" | sed -E 's/^ *([^:]+): ([0-9.]+) requests per second.*/\1 \2/'
}
