#!/usr/bin/env bash
# tests/benchmarks/compare.sh — grove's echo_server and http_hello next to the anchors of
# ../shared/anchors/anchors.sh, run the same way in the same run, printing `name value ratio`.
#
#   tests/benchmarks/compare.sh            # from the workspace root; builds what it needs
#
# Echo: 50 connections, 64-byte ping-pong for 4 s (the anchors' echoload, compiled here from
# shared/anchors/net/echoload.c); ratio against the bare epoll server (goal >= 0.95).
# HTTP: wrk -t1 -c50 -d5s against http_hello; ratio against nginx with one worker (goal >= 1.0).
# Servers run on cpu0 and the load on cpu1, as in anchors.sh. Not part of `bazel test`.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
anchors=${ANCHORS:-$root/../shared/anchors}
[ -d "$anchors" ] || anchors=/work/shared/anchors
out=${COMPARE_TMP:-/tmp/grove_compare}; mkdir -p "$out"
runs=${RUNS:-1}

gcc -O2 -D_GNU_SOURCE "$anchors/limit/epoll_echo.c" -o "$out/epoll_echo"
gcc -O2 "$anchors/net/echoload.c" -o "$out/echoload"
(cd "$anchors/net/goserv" && go build -o "$out/goserv" .) 2>/dev/null || echo "(go anchor not built)"
(cd "$root" && bazel build //examples:echo_server //examples:http_hello >/dev/null 2>&1) || {
  echo "bazel build failed"; exit 1; }
bin=$root/bazel-bin/examples

wait_port() { for _ in $(seq 60); do nc -z 127.0.0.1 "$1" 2>/dev/null && return; sleep 0.05; done; }

# echo_run NAME PORT CMD...: prints the echo_rps figure.
echo_run() {
  local name=$1 port=$2; shift 2
  taskset -c 0 "$@" >/dev/null 2>&1 & local pid=$!
  wait_port "$port"; sleep 0.5
  taskset -c 1 "$out/echoload" "$port" 50 64 4 | awk '{print $2}'
  kill "$pid"; wait "$pid" 2>/dev/null
}
http_run() {
  local name=$1 port=$2; shift 2
  taskset -c 0 "$@" >/dev/null 2>&1 & local pid=$!
  wait_port "$port"; sleep 0.5
  taskset -c 1 wrk -t1 -c50 -d5s "http://127.0.0.1:$port/" | awk '/Requests\/sec/{print $2}'
  kill "$pid"; wait "$pid" 2>/dev/null
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

mkdir -p "$out/nginx"
sed "s|@OUT@|$out/nginx|g" "$anchors/net/nginx.conf" >"$out/nginx/nginx.conf"

for run in $(seq "$runs"); do
  echo "== echo: 50 connections, 64 B ping-pong, 4 s (ratio to limit_epoll)"
  base=$(echo_run limit_epoll 19101 "$out/epoll_echo" 19101)
  echo "limit_epoll echo_rps $base 1.00"
  v=$(echo_run grove 19105 "$bin/echo_server" --port 19105); echo "grove_echo_server echo_rps $v $(ratio "$v" "$base")"
  [ -x "$out/goserv" ] && { v=$(echo_run go 19102 "$out/goserv" echo 19102); echo "go echo_rps $v $(ratio "$v" "$base")"; }
  v=$(echo_run gevent 19103 /usr/bin/python3 "$anchors/net/gevent_echo.py" 19103); echo "gevent echo_rps $v $(ratio "$v" "$base")"

  echo "== http hello: wrk -t1 -c50 -d5s (ratio to nginx, one worker)"
  base=$(http_run nginx 19113 nginx -c "$out/nginx/nginx.conf")
  echo "nginx http_rps $base 1.00"
  v=$(http_run grove 19115 "$bin/http_hello" --port 19115); echo "grove_http_hello http_rps $v $(ratio "$v" "$base")"
  [ -x "$out/goserv" ] && { v=$(http_run go 19112 "$out/goserv" http 19112); echo "go http_rps $v $(ratio "$v" "$base")"; }
  v=$(http_run gevent 19111 /usr/bin/python3 "$anchors/net/gevent_http.py" 19111 nodelay); echo "gevent_nodelay http_rps $v $(ratio "$v" "$base")"
done
