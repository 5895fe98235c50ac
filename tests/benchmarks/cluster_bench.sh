#!/usr/bin/env bash
# tests/benchmarks/cluster_bench.sh — grove remote send between two node processes next to raw
# libnats publish/subscribe between the same two processes, through one nats-server on
# 127.0.0.1 (started here on a free port, JetStream in a temporary directory, stopped at exit).
#
#   tests/benchmarks/cluster_bench.sh [--pings N] [--messages N]
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //tests/benchmarks:cluster_bench >/dev/null 2>&1
bin=bazel-bin/tests/benchmarks/cluster_bench
server=$(command -v nats-server || echo /usr/sbin/nats-server)
dir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
"$server" -a 127.0.0.1 -p -1 -js -sd "$dir/js" --ports_file_dir "$dir" -l "$dir/server.log" &
pids+=($!)
for _ in $(seq 100); do
  port=$(grep -o 'nats://127.0.0.1:[0-9]*' "$dir"/*.ports 2>/dev/null | head -1 | sed 's/.*://') && [ -n "$port" ] && break
  sleep 0.1
done
url="nats://127.0.0.1:$port"
"$bin" --role b --nats "$url" >"$dir/b.log" 2>&1 &
pids+=($!)
"$bin" --role a --nats "$url" "$@" 2>/dev/null
