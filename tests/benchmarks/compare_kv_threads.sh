#!/usr/bin/env bash
# tests/benchmarks/compare_kv_threads.sh — kv_server --threads 2 next to kv_server --threads 1,
# redis-server and redis-server --io-threads 2, all in the same run: redis-benchmark -t set,get
# -c 50 -r 100000 (random keys, so both shards of --threads 2 are used), -P 1 and -P 16, each
# contestant in each of RUNS runs, the order rotating from run to run. Prints the median requests
# per second and server CPU time per request of each, and their ratios to redis-server's.
#
#   tests/benchmarks/compare_kv_threads.sh [--runs N] [--requests N] [--pin]
#
# COMPARE_KV_BASELINE=/path/to/kv_server adds that binary as "kv1_base" (one hub): a kv_server
# built from an earlier commit, to see whether the single-hub path got slower.
#
# Placement: by default nothing is pinned. A 2-core machine has no core to spare once the server
# runs on both, so redis-benchmark (one thread) shares the two cores with the server, for every
# contestant alike. --pin puts servers on cpu 0-1 and the load on cpu 1 (the same thing said
# explicitly). Scratch files go to $COMPARE_TMP (default /tmp/grove_compare_kv_threads).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
runs=3 requests=100000 server_cpu=() load_cpu=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:?}; shift 2 ;;
    --requests) requests=${2:?}; shift 2 ;;
    --pin) server_cpu=(taskset -c 0-1) load_cpu=(taskset -c 1); shift ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
out=${COMPARE_TMP:-/tmp/grove_compare_kv_threads}
mkdir -p "$out"
results=$out/results.txt
: >"$results"
bazel build //examples:kv_server >"$out/build.log" 2>&1 ||
  { echo "bazel build failed, see $out/build.log" >&2; exit 1; }
kv=$(bazel info bazel-bin 2>/dev/null)/examples/kv_server

contestants=(
  "redis 19131 redis-server --port 19131 --save '' --appendonly no"
  "redis_io2 19132 redis-server --port 19132 --save '' --appendonly no --io-threads 2 --io-threads-do-reads yes"
  "kv1 19133 $kv --port 19133"
  "kv2 19134 $kv --port 19134 --threads 2"
)
[ -z "${COMPARE_KV_BASELINE:-}" ] || contestants+=("kv1_base 19135 $COMPARE_KV_BASELINE --port 19135")

cpu_ns() {  # every thread of process $1
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.0f", t }'
}

pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true' EXIT
for run in $(seq "$runs"); do
  echo "# run $run of $runs: $(uptime | sed 's/.*load/load/')" | tee -a "$results" >&2
  n=${#contestants[@]}
  for i in $(seq 0 $((n - 1))); do
    entry=${contestants[$(((i + run) % n))]}
    read -r name port command <<<"$entry"
    # exec: $! is the server itself (its CPU time is read, and it is the one stopped).
    eval "exec ${server_cpu[@]+"${server_cpu[@]}"} $command" </dev/null >>"$out/$name.log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do nc -z 127.0.0.1 "$port" 2>/dev/null && break; sleep 0.05; done
    sleep 0.3
    for pipeline in 1 16; do
      for test in set get; do
        before=$(cpu_ns "$pid")
        rps=$(${load_cpu[@]+"${load_cpu[@]}"} redis-benchmark -p "$port" -t "$test" \
          -n "$requests" -c 50 -r 100000 -P "$pipeline" -q 2>/dev/null | tr '\r' '\n' |
          awk -v t="${test^^}" 'index($0, t ":") == 1 && /per second/ { print $2; exit }')
        after=$(cpu_ns "$pid")
        us=$(awk -v t=$((after - before)) -v n="$requests" 'BEGIN { printf "%.3f", t / 1e3 / n }')
        echo "$run $name ${test^^}_P$pipeline ${rps:-0} $us" | tee -a "$results" >&2
      done
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  done
done

echo "# $(nproc) cores; load placement: ${load_cpu[*]:-not pinned (shares the cores with the server)}; $runs runs"
python3 - "$results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith("#")]
fig = {}
for run, name, test, rps, us in rows:
    fig.setdefault((name, test), []).append((float(rps), float(us)))
names = ["redis", "redis_io2", "kv1", "kv2"] + (["kv1_base"] if any(n == "kv1_base" for n, _ in fig) else [])
tests = ["SET_P1", "GET_P1", "SET_P16", "GET_P16"]
base = "kv1_base" in names
print("%-9s" % "test" + "".join("%12s" % n for n in names) +
      "   kv2/redis  kv2/redis_io2  kv2/kv1" + ("  kv1/kv1_base" if base else "") +
      "  (rps, median of runs)")
for t in tests:
    med = {n: statistics.median(r for r, _ in fig.get((n, t), [(0, 0)])) for n in names}
    ratio = lambda a, b: "%.2f" % (med[a] / med[b]) if med[b] else "n/a"
    print("%-9s" % t + "".join("%12.0f" % med[n] for n in names) +
          "%12s%15s%9s" % (ratio("kv2", "redis"), ratio("kv2", "redis_io2"), ratio("kv2", "kv1")) +
          ("%14s" % ratio("kv1", "kv1_base") if base else ""))
print()
print("%-9s" % "test" + "".join("%12s" % n for n in names) + "   (server CPU us per request)")
for t in tests:
    med = {n: statistics.median(u for _, u in fig.get((n, t), [(0, 0)])) for n in names}
    print("%-9s" % t + "".join("%12.2f" % med[n] for n in names))
EOF
