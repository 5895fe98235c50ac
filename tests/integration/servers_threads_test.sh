#!/usr/bin/env bash
# tests/integration/servers_threads_test.sh — echo_server, http_hello and chat_server with
# --threads 2: each runs a thread per hub beside main, serves its clients on both hubs (seen from
# /proc: which hub's epoll holds each connection, hubs_check.py), a chat line from a client on
# one hub reaches a client on the other, and SIGTERM still stops the server cleanly (exit 0).
# With --threads 1 nothing is added: no thread beside main.
# usage: servers_threads_test.sh ECHO HTTP_HELLO CHAT HUBS_CHECK_PY
set -u
echo_server=$1 http_hello=$2 chat_server=$3 check=$4
tmp=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/servers_lib.sh"

threads_of() { ls "/proc/$1/task" | wc -l; }
# The thread count of process $1 once it has at least $2 threads (the hubs' threads may still be
# starting when the port answers), or what it has after 10 s.
threads_when_at_least() {
  local n
  for _ in $(seq 1 100); do
    n=$(threads_of "$1")
    [ "$n" -ge "$2" ] && break
    sleep 0.1
  done
  echo "$n"
}

# on_two_hubs NAME MODE BINARY
on_two_hubs() {
  local name=$1 mode=$2 binary=$3 port pid_var pid out threads
  port=$(free_port)
  start "$name" "$binary" "$port" --threads 2
  pid_var="${name}_pid"; pid=${!pid_var}
  threads=$(threads_when_at_least "$pid" 3)
  [ "$threads" -ge 3 ] \
    && pass "$name --threads 2 runs $threads threads (main and two hubs)" \
    || fail "$name --threads 2 runs $threads thread(s)"
  out=$(python3 "$check" "$mode" "$pid" "$port") && pass "$name: $out" || fail "$name: $out"
  kill -0 "$pid" 2>/dev/null || fail "$name died: $(cat "$tmp/$name.log")"
  stop "$name"
  grep -q 'failed with' "$tmp/$name.log" && fail "$name reported a failure: $(cat "$tmp/$name.log")"
}

on_two_hubs echo echo "$echo_server"
on_two_hubs http http "$http_hello"
on_two_hubs chat chat "$chat_server"

# One hub: the server stays on main's thread.
port=$(free_port)
start echo1 "$echo_server" "$port" --threads 1
[ "$(threads_of "$echo1_pid")" = 1 ] && pass "echo_server --threads 1 runs on main's thread alone" \
  || fail "echo_server --threads 1 runs $(threads_of "$echo1_pid") threads"
stop echo1

echo "$failures failure(s)"
[ "$failures" = 0 ]
