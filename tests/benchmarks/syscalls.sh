#!/usr/bin/env bash
# tests/benchmarks/syscalls.sh — system calls per 10,000 requests of grove's servers, counted by
# `strace -c -f` around a keep-alive load (tests/benchmarks/README.md shows the latest counts).
#
#   tests/benchmarks/syscalls.sh [SECONDS] [SECTION...]
#
# SECTION (default: all): echo (anchors/echo_load.c, 50 connections), http (wrk -t1 -c50),
# kv (redis-benchmark -c 50 -n 10000, SET then GET). strace slows the server a lot: the counts
# are what this measures, not speed. Prints one table per section, scaled to 10,000 requests
# (connection setup and teardown included). Scratch files go to $SYSCALLS_TMP
# (default /tmp/grove_syscalls). SYSCALLS_BIN=DIR takes echo_server, http_hello, kv_server and
# echo_load from DIR instead of building them (to compare two builds).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
seconds=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(echo http kv)
out=${SYSCALLS_TMP:-/tmp/grove_syscalls}
base=${SYSCALLS_PORT_BASE:-24700}  # ports base+2 (echo), base+11 (http), base+22 (kv)
mkdir -p "$out"
if [ -n "${SYSCALLS_BIN:-}" ]; then
  servers=$SYSCALLS_BIN load=$SYSCALLS_BIN/echo_load
else
  bazel build //examples:echo_server //examples:http_hello //examples:kv_server \
    //tests/benchmarks/anchors:echo_load >"$out/build.log" 2>&1 ||
    { echo "syscalls.sh: bazel build failed, see $out/build.log" >&2; exit 1; }
  bin=$(bazel info bazel-bin 2>/dev/null)
  servers=$bin/examples load=$bin/tests/benchmarks/anchors/echo_load
fi

pid=""
stop() {  # ends the traced server; strace then writes its summary and exits
  [ -n "$pid" ] || return 0
  pkill -TERM -P "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
trap stop EXIT

# start PORT COMMAND...: runs COMMAND under strace, waits until PORT accepts.
start() {
  local port=$1; shift
  strace -c -f -o "$out/strace.txt" "$@" </dev/null >"$out/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    nc -z 127.0.0.1 "$port" 2>/dev/null && { sleep 0.3; return 0; }
    sleep 0.05
  done
  echo "syscalls.sh: the server did not start on port $port (see $out/server.log)" >&2
  exit 1
}

# table NAME REQUESTS: the strace summary scaled to 10,000 requests.
table() {
  echo "## $1: $2 requests, calls per 10,000"
  awk -v n="$2" '$1 ~ /^[0-9.]+$/ && NF >= 5 {
      calls = $4; name = $NF; errors = (NF == 6 ? $5 : 0)
      printf "%-16s %10.0f %10.0f\n", name, calls * 10000 / n, errors * 10000 / n }' \
    "$out/strace.txt" | sort -k2 -n -r
  echo
}

for section in "${sections[@]}"; do
  case "$section" in
    echo)
      start $((base + 2)) "$servers/echo_server" --port $((base + 2))
      line=$("$load" $((base + 2)) 50 64 "$seconds")
      stop
      read -r _ _ _ trips _ _ <<<"$line"
      table "echo_server" "$trips" ;;
    http)
      start $((base + 11)) "$servers/http_hello" --port $((base + 11))
      count=$(wrk -t1 -c50 -d"${seconds}s" http://127.0.0.1:$((base + 11))/ | awk '/requests in/ { print $1 }')
      stop
      table "http_hello" "$count" ;;
    kv)
      start $((base + 22)) "$servers/kv_server" --port $((base + 22))
      redis-benchmark -p $((base + 22)) -c 50 -n 10000 -t set,get -q >/dev/null 2>&1
      stop
      table "kv_server (SET and GET)" 20000 ;;
    *) echo "syscalls.sh: unknown section $section" >&2; exit 2 ;;
  esac
done
