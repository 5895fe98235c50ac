#!/usr/bin/env bash
# tests/benchmarks/cross_hub.sh — actor ping-pong between two hubs (tests/benchmarks/cross_hub.cc)
# next to its anchors, measured in the same run, in alternating order:
#   - CAF 0.17 (Debian's libcaf-dev): two event-based actors on a scheduler of two threads
#     (anchors/caf_pingpong.cc);
#   - Go: two goroutines on an unbuffered channel each way, GOMAXPROCS=2 (anchors/go, `pingpong`).
#     Go's scheduler may run both goroutines on one P, handing off without a thread wake-up, so
#     this anchor is a floor rather than a like-for-like cross-thread figure.
# Also prints grove's inbox figures: posts per second from two producer threads into one hub,
# and the eventfd signals those posts needed per 1,000.
#
#   tests/benchmarks/cross_hub.sh [RUNS]   (default 5; prints every run, then the medians)
#
# Placement: nothing is pinned; both sides of each ping-pong share the machine's cores. Needs
# `scripts/setup --bench` (golang-go). Not part of `bazel test`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
runs=${1:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bazel build -c opt //tests/benchmarks:cross_hub //tests/benchmarks/anchors:caf_pingpong >/dev/null 2>&1
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
(cd tests/benchmarks/anchors/go && go build -o "$tmp/go_anchors" .)

for ((i = 1; i <= runs; i++)); do
  "$bin/tests/benchmarks/cross_hub" 2>/dev/null
  "$bin/tests/benchmarks/anchors/caf_pingpong"
  GOMAXPROCS=2 "$tmp/go_anchors" pingpong
done | tee "$tmp/all"

echo "--- medians of $runs runs"
python3 - "$tmp/all" <<'PY'
import statistics, sys
values, units = {}, {}
for line in open(sys.argv[1]):
    name, value, unit = line.split()
    values.setdefault(name, []).append(float(value))
    units[name] = unit
for name in values:
    print(f"{name:22} {statistics.median(values[name]):14,.3f} {units[name]}")
m = {n: statistics.median(v) for n, v in values.items()}
if "cross_hub_rtt" in m and "caf_rtt" in m:
    print(f"round trip: grove / CAF = {m['cross_hub_rtt'] / m['caf_rtt']:.2f}"
          f" (below 1: grove faster); grove / Go = {m['cross_hub_rtt'] / m['go_rtt']:.2f}")
PY
