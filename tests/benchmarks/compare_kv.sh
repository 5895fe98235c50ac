#!/usr/bin/env bash
# tests/benchmarks/compare_kv.sh — kv_server against redis-server only: the `kv` section of
# compare.sh (redis-benchmark -c 50, SET GET LPUSH LPOP SADD HSET ZADD LRANGE_100, -P 1 and
# -P 16; server on cpu 0, load on cpu 1).
#
#   tests/benchmarks/compare_kv.sh [-n REQUESTS] [compare.sh options...]
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
args=()
if [ "${1:-}" = "-n" ]; then
  args+=(--requests "${2:?-n needs a request count}")
  shift 2
fi
exec "$here/compare.sh" "${args[@]}" "$@" kv
