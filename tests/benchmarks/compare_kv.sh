#!/usr/bin/env bash
# tests/benchmarks/compare_kv.sh — kv_server against redis-server, in the same run, pinned the
# way shared/anchors/anchors.sh pins its figures: the server on cpu 0, redis-benchmark on cpu 1.
#
#   tests/benchmarks/compare_kv.sh [-n REQUESTS]     (default 200000)
#
# Prints "name value ratio" lines: requests per second of redis-server (the anchor, ratio 1.00)
# and of kv_server, for `redis-benchmark -t set,get -n N -c 50 -q`, and the same with -P 16.
# kv_server is built with Bazel first. (A `kv` section for tests/benchmarks/compare.sh, once that
# script exists, can call this one.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
requests=200000
[ "${1:-}" = "-n" ] && requests="$2"

bazel build //examples:kv_server >/dev/null 2>&1 || { echo "compare_kv.sh: build failed" >&2; exit 1; }
kv_bin="$(bazel info bazel-bin 2>/dev/null)/examples/kv_server"
[ -x "$kv_bin" ] || { echo "compare_kv.sh: no kv_server binary at $kv_bin" >&2; exit 1; }

port=19130
run_server() {  # name command...: prints "TEST rps" lines for both pipelining depths
  local name=$1; shift
  taskset -c 0 "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ] && break
    sleep 0.05
  done
  for pipeline in 1 16; do
    taskset -c 1 redis-benchmark -p "$port" -t set,get -n "$requests" -c 50 -P "$pipeline" -q \
      2>/dev/null | tr '\r' '\n' | grep "requests per second" \
      | awk -v n="$name" -v p="$pipeline" '{ sub(":", "", $1); t = tolower($1);
          if (p > 1) t = t "_P" p; print n, t, $2 }'
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

results="$( {
  run_server redis redis-server --port "$port" --save "" --appendonly no
  run_server kv "$kv_bin" --port "$port"
} )"

echo "== kv: redis-benchmark -t set,get -n $requests -c 50 (-P 1 and 16); server cpu0, load cpu1"
echo "$results" | awk '
  { rps[$1 " " $2] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
  END {
    for (i = 1; i <= n; i++) {
      t = order[i]; base = rps["redis " t]
      printf "redis_%s_rps %.0f 1.00\n", t, base
      ratio = base > 0 ? rps["kv " t] / base : 0
      printf "kv_%s_rps %.0f %.2f\n", t, rps["kv " t], ratio
    }
  }'
