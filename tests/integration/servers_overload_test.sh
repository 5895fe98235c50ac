#!/usr/bin/env bash
# tests/integration/servers_overload_test.sh — echo_server, http_hello, chat_server and tls_echo
# under overload, each run with `ulimit -n 256`:
#   - descriptor exhaustion: more connections than descriptors (the server logs its EMFILE pause),
#     all closed, then the next client is served;
#   - a client that sends without reading: the server stops reading it (its sends stall; chat
#     drops it instead), another client is served meanwhile, memory stays bounded.
# The server's RSS is printed before and after each overload. Each server must still stop
# cleanly on SIGTERM.
# usage: servers_overload_test.sh ECHO HTTP_HELLO CHAT TLS_ECHO OVERLOAD_CLIENT_PY
set -u
echo_server=$1 http_hello=$2 chat_server=$3 tls_echo=$4 client=$5
tmp=${TEST_TMPDIR:-$(mktemp -d)}
SERVER_FILES=256  # every server here runs under `ulimit -n 256`
source "$(dirname "$0")/servers_lib.sh"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# overload NAME PROTO BINARY [args...]
overload() {
  local name=$1 proto=$2 binary=$3; shift 3
  local port pid before after out
  port=$(free_port)
  start "$name" "$binary" "$port" "$@"
  local pid_var="${name}_pid"; pid=${!pid_var}
  [ "$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")" = 256 ] \
    || fail "$name does not run with ulimit -n 256"
  out=$(python3 "$client" check "$proto" "$port" 10) || fail "$name does not serve: $out"

  # Descriptor exhaustion.
  before=$(rss_kib "$pid")
  out=$(python3 "$client" exhaust "$proto" "$port" 420 "$tmp/$name.log"); echo "$name: $out"
  grep -q 'pausing accepts' "$tmp/$name.log" \
    && pass "$name paused accepting when out of descriptors" \
    || fail "$name never ran out of descriptors (the test did not exhaust them): $(cat "$tmp/$name.log")"
  out=$(python3 "$client" check "$proto" "$port" 20) \
    && pass "$name serves the next client after descriptor exhaustion ($out)" \
    || fail "$name after descriptor exhaustion: $out"
  after=$(rss_kib "$pid")
  echo "$name: RSS before/after descriptor exhaustion: $before KiB -> $after KiB"

  # A client that sends without reading.
  before=$after
  out=$(python3 "$client" nonreader "$proto" "$port" 256) \
    && pass "$name: $out" || fail "$name non-reading client: $out"
  after=$(rss_kib "$pid")
  echo "$name: RSS before/after a non-reading client: $before KiB -> $after KiB"
  [ "$after" -lt $((before + 65536)) ] \
    && pass "$name memory stayed bounded (+$(( (after - before) / 1024 )) MiB)" \
    || fail "$name grew by $(( (after - before) / 1024 )) MiB for one non-reading client"
  out=$(python3 "$client" check "$proto" "$port" 10) \
    && pass "$name serves after the non-reading client left" || fail "$name afterwards: $out"
  kill -0 "$pid" 2>/dev/null || fail "$name died: $(cat "$tmp/$name.log")"
  stop "$name"
}

overload echo echo "$echo_server"
overload http http "$http_hello"
overload chat chat "$chat_server"
overload tls tls "$tls_echo"

echo "$failures failure(s)"
[ "$failures" = 0 ]
