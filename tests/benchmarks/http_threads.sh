#!/usr/bin/env bash
# tests/benchmarks/http_threads.sh — http_hello on one hub against two hubs (--threads 1 vs 2),
# measured in the same run, in alternating order, with wrk; prints each run and the ratios of
# the medians (requests per second, and the server's CPU time per request).
#
#   tests/benchmarks/http_threads.sh [RUNS] [SECONDS] [CONNECTIONS]   (defaults: 3 4 64)
#
# Placement: nothing is pinned. wrk runs one thread (-t1) and shares the machine's cores with
# the server's hubs, so on a 2-core machine two hubs compete with the load generator for the
# second core: the figure says what two hubs buy on this machine, not on an idle 4-core one.
# Builds //examples:http_hello with the repository's default options (-O2). Not part of
# `bazel test`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
runs=${1:-3} seconds=${2:-4} conns=${3:-64}
bazel build //examples:http_hello >/dev/null 2>&1
bin=$(bazel info bazel-bin 2>/dev/null)/examples/http_hello
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# one THREADS: prints "requests_per_s cpu_us_per_request"
one() {
  local threads=$1 port pid before after rps reqs
  port=$(free_port)
  "$bin" --port "$port" --threads "$threads" >"$tmp/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do nc -z 127.0.0.1 "$port" 2>/dev/null && break; sleep 0.05; done
  wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$port/" >/dev/null  # warm up
  before=$(cpu_ticks "$pid")
  wrk -t1 -c"$conns" -d"${seconds}s" "http://127.0.0.1:$port/" >"$tmp/wrk.out"
  after=$(cpu_ticks "$pid")
  kill -TERM "$pid"; wait "$pid" || true
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.out")
  reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
  awk -v r="$rps" -v n="$reqs" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f %.2f\n", r, t / hz * 1e6 / n }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: >"$tmp/1" ; : >"$tmp/2"
for r in $(seq "$runs"); do
  for t in 1 2; do
    out=$(one "$t")
    echo "run $r --threads $t: $out (req/s, server CPU us/req)"
    echo "$out" >>"$tmp/$t"
  done
done
rps1=$(cut -d' ' -f1 "$tmp/1" | median) rps2=$(cut -d' ' -f1 "$tmp/2" | median)
cpu1=$(cut -d' ' -f2 "$tmp/1" | median) cpu2=$(cut -d' ' -f2 "$tmp/2" | median)
echo "median --threads 1: $rps1 req/s, $cpu1 us CPU/req"
echo "median --threads 2: $rps2 req/s, $cpu2 us CPU/req"
awk -v a="$rps1" -v b="$rps2" -v c="$cpu1" -v d="$cpu2" \
  'BEGIN { printf "ratio 2 hubs / 1 hub: %.2fx req/s, %.2fx CPU per request\n", b / a, d / c }'
