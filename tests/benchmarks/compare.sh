#!/usr/bin/env bash
# tests/benchmarks/compare.sh — grove next to its anchors, all measured on this machine in the
# same run, repeated in alternating order; prints medians and ratios (tests/benchmarks/README.md
# says what each figure is and shows the latest table).
#
#   tests/benchmarks/compare.sh [--runs N] [--seconds S] [--requests N] [--quick] [--no-pin]
#                               [SECTION...]
#
# SECTION (default: all):
#   echo   50 connections, 64-byte ping-pong (anchors/echo_load.c) against echo_server;
#          anchor: anchors/epoll_echo.c, a bare epoll loop. Also gevent and Go.
#   http   wrk -t1 -c50 --latency against http_hello (also p50 and p99 latency); anchor: nginx
#          with one worker. Also gevent and Go.
#   kv     redis-benchmark -c 50, every test of its default suite (PING_INLINE ... MSET), -P 1
#          and -P 16, against kv_server; anchor: redis-server. COMPARE_KV_TESTS="set get" picks
#          tests. (An LRANGE_* test's CPU per request includes the LPUSHes that fill its list.)
#          Ends with a per-test table of the kv ratios (requests per second, CPU per request).
#   micro  //tests/benchmarks:micro (Google Benchmark); anchor: anchors/gevent_micro.py, the
#          same operations in gevent. Also Go, and Erlang/OTP for the actor figures.
#   loop   BM_SocketPairPingPong/4096 (best of 5 repetitions, wall time per round trip) against
#          anchors/socketpair_layers (best of 5 runs): a bare epoll loop with read/write, the
#          anchor (anchors/socketpair_pingpong.c's loop), then with send/recv, libev callbacks,
#          and two stackful fibers over libev, the layers grove stands on. Not in the default
#          sections: name it.
#
# Servers run on cpu 0 and the load on cpu 1; micro benchmarks on cpu 0 (--no-pin: wherever the
# kernel puts them, which a machine busy with other work can favour). Every server figure
# comes twice: requests per second (wall clock) and the server's CPU time per request, which a
# loaded machine disturbs less. Everything it needs comes from the repository and from Debian
# (scripts/setup --bench installs it); nothing is part of `bazel test`. Scratch files and the
# raw results go to $COMPARE_TMP (default /tmp/grove_compare).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
here=tests/benchmarks
anchors=$here/anchors

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

runs=3 seconds=4 requests=100000 micro_scale=1 micro_min_time=0.2 sections=()
# redis-benchmark's tests in the kv section (COMPARE_KV_TESTS overrides: "set get", say).
kv_tests=${COMPARE_KV_TESTS:-ping_inline ping_mbulk set get incr lpush rpush lpop rpop sadd hset \
  spop zadd zpopmin lrange_100 lrange_300 lrange_500 lrange_600 mset}
server_cpu=(taskset -c 0) load_cpu=(taskset -c 1)
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:?}; shift 2 ;;
    --seconds) seconds=${2:?}; shift 2 ;;
    --requests) requests=${2:?}; shift 2 ;;
    --quick) seconds=2 requests=20000 micro_scale=0.2 micro_min_time=0.05; shift ;;
    --no-pin) server_cpu=() load_cpu=(); shift ;;
    echo | http | kv | micro | loop) sections+=("$1"); shift ;;
    *) usage ;;
  esac
done
[ ${#sections[@]} -gt 0 ] || sections=(echo http kv micro)
for n in "$runs" "$seconds" "$requests"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: '$n' is not a positive count" >&2; exit 2; }
done

out=${COMPARE_TMP:-/tmp/grove_compare}
mkdir -p "$out/logs"
results=$out/results.txt
: >"$results"

# --- build ------------------------------------------------------------------------------------
scripts/setup --bench
python=/usr/bin/python3 # Debian's, which has python3-gevent
bazel build //examples:echo_server //examples:http_hello //examples:kv_server \
  //tests/benchmarks:micro //tests/benchmarks/anchors:all >"$out/logs/build.log" 2>&1 ||
  { echo "compare.sh: bazel build failed, see $out/logs/build.log" >&2; exit 1; }
bin=$(bazel info bazel-bin 2>/dev/null)
go_anchor=""
if command -v go >/dev/null; then
  (cd "$anchors/go" && GOCACHE="$out/gocache" GOFLAGS=-mod=mod GOPROXY=off \
    go build -o "$out/go_anchors" .) >"$out/logs/go_build.log" 2>&1 &&
    go_anchor=$out/go_anchors || echo "compare.sh: Go anchor not built (see $out/logs/go_build.log)" >&2
fi
erlang_anchor=""
if command -v erlc >/dev/null; then
  mkdir -p "$out/erlang"
  erlc -o "$out/erlang" "$anchors/erlang_micro.erl" >"$out/logs/erlang_build.log" 2>&1 &&
    erlang_anchor=$out/erlang ||
    echo "compare.sh: Erlang anchor not built (see $out/logs/erlang_build.log)" >&2
fi
mkdir -p "$out/nginx"
sed -e "s|@DIR@|$out/nginx|g" -e "s|@PORT@|19112|g" "$anchors/nginx.conf.in" >"$out/nginx/nginx.conf"

# --- helpers ----------------------------------------------------------------------------------
run=0
record() { echo "$run $*" >>"$results"; }  # section figure contestant value unit

# CPU nanoseconds a server has run so far: every thread of the process and of its children
# (nginx's worker is a child), from the scheduler's own accounting (/proc/*/task/*/schedstat).
cpu_ns() {
  local pids="$1 $(cat /proc/"$1"/task/*/children 2>/dev/null || true)" p
  for p in $pids; do cat /proc/"$p"/task/*/schedstat 2>/dev/null || true; done |
    awk '{ total += $1 } END { printf "%.0f", total }'
}

server_pid=""
# start_server NAME PORT COMMAND...: runs COMMAND on cpu 0, waits until PORT accepts.
start_server() {
  local name=$1 port=$2; shift 2
  ${server_cpu[@]+"${server_cpu[@]}"} "$@" </dev/null >>"$out/logs/$section-$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do
    nc -z 127.0.0.1 "$port" 2>/dev/null && { sleep 0.3; return 0; }
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "compare.sh: $name did not start on port $port (see $out/logs/$section-$name.log)" >&2
  stop_server
  return 1
}
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT

# us_per NANOSECONDS COUNT: server CPU microseconds per request.
us_per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.4g", (n > 0 ? t / 1e3 / n : 0) }'; }

# Each section lists its contestants as "name port command..."; run N walks the list forwards
# when N is odd and backwards when it is even, so no contestant always goes first.
in_order() {
  if [ $((run % 2)) -eq 1 ]; then printf '%s\n' "$@"; else printf '%s\n' "$@" | tac; fi
}

echo_contestants() {
  echo "epoll 19101 $bin/tests/benchmarks/anchors/epoll_echo 19101"
  echo "grove 19102 $bin/examples/echo_server --port 19102"
  echo "gevent 19103 $python $anchors/gevent_servers.py echo 19103"
  [ -z "$go_anchor" ] || echo "go 19104 $go_anchor echo 19104"
}
http_contestants() {
  echo "nginx 19112 nginx -p $out/nginx -e $out/nginx/error.log -c $out/nginx/nginx.conf"
  echo "grove 19111 $bin/examples/http_hello --port 19111"
  echo "gevent 19113 $python $anchors/gevent_servers.py http 19113"
  [ -z "$go_anchor" ] || echo "go 19114 $go_anchor http 19114"
}
kv_contestants() {
  echo "redis 19121 redis-server --port 19121 --save '' --appendonly no"
  echo "grove 19122 $bin/examples/kv_server --port 19122"
}

measure_echo() {  # name port
  local before after line
  before=$(cpu_ns "$server_pid")
  line=$(${load_cpu[@]+"${load_cpu[@]}"} "$bin/tests/benchmarks/anchors/echo_load" "$2" 50 64 "$seconds")
  after=$(cpu_ns "$server_pid")
  read -r _ rps _ trips _ errors <<<"$line"
  [ "$errors" = 0 ] || echo "compare.sh: $1 echo: $errors errors" >&2
  record echo echo_rps "$1" "$rps" 1/s
  record echo echo_cpu_per_request "$1" "$(us_per $((after - before)) "$trips")" us
}

measure_http() {  # name port
  local before after report rps count
  before=$(cpu_ns "$server_pid")
  report=$(${load_cpu[@]+"${load_cpu[@]}"} wrk -t1 -c50 -d"${seconds}s" --latency "http://127.0.0.1:$2/")
  after=$(cpu_ns "$server_pid")
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$report")
  count=$(awk '/requests in/ { print $1 }' <<<"$report")
  grep -qE 'Non-2xx|Socket errors' <<<"$report" &&
    echo "compare.sh: $1 http: $(grep -E 'Non-2xx|Socket errors' <<<"$report")" >&2
  record http http_rps "$1" "${rps:-n/a}" 1/s
  record http http_cpu_per_request "$1" "$(us_per $((after - before)) "${count:-0}")" us
  # wrk's latency distribution, in microseconds (it prints 153.00us, 1.02ms or 2.10s).
  local pct
  for pct in 50 99; do
    record http "http_p${pct}_latency" "$1" "$(awk -v p="$pct%" '$1 == p {
        v = $2; m = 1
        if (v ~ /ms$/) m = 1e3; else if (v ~ /s$/ && v !~ /us$/) m = 1e6
        sub(/[a-z]+$/, "", v); printf "%.0f", v * m; exit }' <<<"$report")" us
  done
}

measure_kv() {  # name port
  local pipeline test before after rps suffix
  for pipeline in 1 16; do
    suffix=""; [ "$pipeline" = 1 ] || suffix="_P$pipeline"
    for test in $kv_tests; do
      before=$(cpu_ns "$server_pid")
      # The line of this test (LRANGE_100 is preceded by the LPUSH that fills its list).
      rps=$(${load_cpu[@]+"${load_cpu[@]}"} redis-benchmark -p "$2" -t "$test" -n "$requests" \
        -c 50 -P "$pipeline" -q 2>/dev/null | tr '\r' '\n' | awk -v t="${test^^}" '
          (index($0, t ":") == 1 || index($0, t " (") == 1) && /requests per second/ {
            sub(/^[^:]*: /, ""); print $1; exit }')
      after=$(cpu_ns "$server_pid")
      record kv "kv_${test}${suffix}_rps" "$1" "${rps:-n/a}" 1/s
      record kv "kv_${test}${suffix}_cpu_per_request" "$1" "$(us_per $((after - before)) "$requests")" us
    done
  done
}

run_servers() {  # section
  local section=$1 name port command
  while read -r -u 3 name port command; do
    eval "start_server $name $port $command" || { record "$section" started "$name" n/a -; continue; }
    "measure_$section" "$name" "$port"
    stop_server
  done 3< <(in_order "$("${section}_contestants")")
}

micro_one() {  # contestant
  case "$1" in
    grove)
      ${server_cpu[@]+"${server_cpu[@]}"} "$bin/tests/benchmarks/micro" --benchmark_format=json \
        --benchmark_min_time="$micro_min_time" \
        --benchmark_filter='^BM_(HubYield|SpawnJoin|FiberSpawnJoin|ChannelRoundTrip|QueueThroughput|ActorPingPong|SocketPairPingPong/4096|IdleGreenletMemory)' \
        >"$out/micro.json" 2>"$out/logs/micro.log"
      "$python" "$anchors/results.py" gbench "$out/micro.json" ;;
    gevent) ${server_cpu[@]+"${server_cpu[@]}"} "$python" "$anchors/gevent_micro.py" --scale "$micro_scale" | sed 's/^/gevent /' ;;
    go) ${server_cpu[@]+"${server_cpu[@]}"} "$go_anchor" micro | sed 's/^/go /' ;;
    erlang)
      ${server_cpu[@]+"${server_cpu[@]}"} erl +S 1 -noshell -pa "$erlang_anchor" -run erlang_micro main "$micro_scale" |
        sed 's/^/erlang /' ;;
  esac | while read -r contestant figure value unit; do
    record micro "$figure" "$contestant" "$value" "$unit"
  done
}

loop_one() {  # contestant
  case "$1" in
    layers)
      ${server_cpu[@]+"${server_cpu[@]}"} "$bin/tests/benchmarks/anchors/socketpair_layers" 200000 |
        while read -r name ns; do
          name=${name#socketpair_}
          record loop socketpair_roundtrip_ns "${name%_ns}" "$ns" ns
        done ;;
    grove)
      ${server_cpu[@]+"${server_cpu[@]}"} "$bin/tests/benchmarks/micro" --benchmark_format=json \
        --benchmark_filter='^BM_SocketPairPingPong/4096' --benchmark_min_time=0.5 \
        --benchmark_repetitions=5 >"$out/loop.json" 2>"$out/logs/loop.log"
      record loop socketpair_roundtrip_ns grove \
        "$("$python" "$anchors/results.py" gbench-best "$out/loop.json" \
          BM_SocketPairPingPong/4096/real_time)" ns ;;
  esac
}

run_loop() {
  local c
  for c in $(in_order layers grove); do loop_one "$c"; done
}

run_micro() {
  local contestants=(gevent grove) c
  [ -z "$go_anchor" ] || contestants+=(go)
  [ -z "$erlang_anchor" ] || contestants+=(erlang)
  for c in $(in_order "${contestants[@]}"); do micro_one "$c"; done
}

# --- the runs ---------------------------------------------------------------------------------
for run in $(seq "$runs"); do
  echo "# run $run of $runs: $(uptime | sed 's/.*load/load/')" | tee -a "$results" >&2
  for section in "${sections[@]}"; do
    case "$section" in
      micro) run_micro ;;
      loop) run_loop ;;
      *) run_servers "$section" ;;
    esac
  done
done

echo "# $(nproc) cores; servers on cpu 0, load on cpu 1; $runs runs; raw figures in $results"
"$python" "$anchors/results.py" table "$results"
if [[ " ${sections[*]} " == *" kv "* ]]; then
  echo
  "$python" "$anchors/results.py" kv "$results"
fi
