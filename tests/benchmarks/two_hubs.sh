#!/usr/bin/env bash
# tests/benchmarks/two_hubs.sh — the servers on one hub and on two, next to their anchors on one
# and two threads, in the same run, in alternating order:
#   echo:  echo_server --threads 1|2   against anchors/epoll_echo PORT 1|2 (bare epoll loops, one
#          SO_REUSEPORT listener per thread); load anchors/echo_load, 50 connections, 64 bytes;
#   http:  http_hello --threads 1|2    against nginx with 1|2 worker processes; load wrk -t1 -c64.
# Prints each measurement (requests per second, server CPU time per request from /proc, all
# threads and worker processes counted), then the medians and the ratios grove / anchor at the
# same thread count, and 2 / 1 for each server.
#
#   tests/benchmarks/two_hubs.sh [RUNS] [SECONDS]   (defaults: 3 4)
#
# Placement: nothing is pinned. The load generator is one thread and shares the machine's cores
# with the servers, so on a 2-core machine a 2-thread server competes with its load for the
# second core: the figures say what a second hub buys here, and how that compares with what a
# second thread buys a bare epoll server and nginx on the same machine. Needs
# `scripts/setup --bench` (nginx, wrk). Not part of `bazel test`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
runs=${1:-3} seconds=${2:-4}
bazel build -c opt //examples:echo_server //examples:http_hello \
  //tests/benchmarks/anchors:epoll_echo //tests/benchmarks/anchors:echo_load >/dev/null 2>&1
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
tmp=$(mktemp -d)
server_pids=()
cleanup() {
  for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# CPU ticks of a process and its children that are still running (nginx's workers).
ticks_of_tree() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)
wait_port() { for _ in $(seq 200); do nc -z 127.0.0.1 "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

nginx_conf() {  # PORT WORKERS DIR
  mkdir -p "$3"
  sed -e "s|@DIR@|$3|g" -e "s|@PORT@|$1|g" -e "s|^worker_processes 1;|worker_processes $2;|" \
    tests/benchmarks/anchors/nginx.conf.in >"$3/nginx.conf"
}

# measure SECTION NAME THREADS: starts the server, loads it, prints "SECTION NAME THREADS rps us"
measure() {
  local section=$1 name=$2 threads=$3 port pid before after rps count
  port=$(free_port)
  case "$name" in
    grove)
      if [ "$section" = echo ]; then
        "$bin/examples/echo_server" --port "$port" --threads "$threads" >"$tmp/server.log" 2>&1 &
      else
        "$bin/examples/http_hello" --port "$port" --threads "$threads" >"$tmp/server.log" 2>&1 &
      fi ;;
    epoll) "$bin/tests/benchmarks/anchors/epoll_echo" "$port" "$threads" >"$tmp/server.log" 2>&1 & ;;
    nginx)
      nginx_conf "$port" "$threads" "$tmp/nginx$threads"
      nginx -p "$tmp/nginx$threads" -e "$tmp/nginx$threads/error.log" -c "$tmp/nginx$threads/nginx.conf" \
        >"$tmp/server.log" 2>&1 & ;;
  esac
  pid=$!
  server_pids+=("$pid")
  wait_port "$port" || { echo "$name did not start: $(cat "$tmp/server.log")" >&2; exit 1; }
  if [ "$section" = echo ]; then
    "$bin/tests/benchmarks/anchors/echo_load" "$port" 50 64 1 >/dev/null  # warm up
    before=$(ticks_of_tree "$pid")
    read -r _ rps _ count _ < <("$bin/tests/benchmarks/anchors/echo_load" "$port" 50 64 "$seconds")
    after=$(ticks_of_tree "$pid")
  else
    wrk -t1 -c64 -d1s "http://127.0.0.1:$port/" >/dev/null  # warm up
    before=$(ticks_of_tree "$pid")
    wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$port/" >"$tmp/wrk.out"
    after=$(ticks_of_tree "$pid")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.out")
    count=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$section $name $threads $rps $(awk -v t=$((after - before)) -v hz="$hz" -v n="$count" \
    'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
}

for ((run = 1; run <= runs; run++)); do
  echo "# run $run of $runs: load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for threads in 1 2; do
    if ((run % 2)); then order="grove epoll"; else order="epoll grove"; fi
    for name in $order; do measure echo "$name" "$threads"; done
    if ((run % 2)); then order="grove nginx"; else order="nginx grove"; fi
    for name in $order; do measure http "$name" "$threads"; done
  done
done | tee "$tmp/all"

python3 - "$tmp/all" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    section, name, threads, rps, us = line.split()
    rows.setdefault((section, name, int(threads)), []).append((float(rps), float(us)))
med = {k: (statistics.median(r for r, _ in v), statistics.median(u for _, u in v)) for k, v in rows.items()}
print("\n| section | server | threads | requests/s | CPU µs/request |")
print("|---|---|---:|---:|---:|")
for (section, name, threads), (rps, us) in sorted(med.items()):
    print(f"| {section} | {name} | {threads} | {rps:,.0f} | {us:.2f} |")
print("\n| section | threads | grove / anchor, requests/s | anchor / grove, CPU per request |")
print("|---|---:|---:|---:|")
for section, anchor in (("echo", "epoll"), ("http", "nginx")):
    for threads in (1, 2):
        g, a = med.get((section, "grove", threads)), med.get((section, anchor, threads))
        if g and a:
            print(f"| {section} vs {anchor} | {threads} | {g[0] / a[0]:.2f} | {a[1] / g[1]:.2f} |")
print("\n| server | 2 threads / 1 thread, requests/s |")
print("|---|---:|")
for section, name in (("echo", "grove"), ("echo", "epoll"), ("http", "grove"), ("http", "nginx")):
    one, two = med.get((section, name, 1)), med.get((section, name, 2))
    if one and two:
        print(f"| {section} {name} | {two[0] / one[0]:.2f} |")
PY
