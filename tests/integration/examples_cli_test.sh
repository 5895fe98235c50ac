#!/usr/bin/env bash
# tests/integration/examples_cli_test.sh — every example's command line and start-up, as a
# newcomer meets them (examples/cli.h):
#   - --help prints the usage and the exit codes, exits 0 and runs nothing; an unknown option or a
#     bad value (--port abc, --port 99999, --threads 0, ...) is one line on stderr and exit 2;
#   - start-up failures are one line naming what, where and why, each kind with its exit code: a
#     port in use 4, a host that does not resolve 3, an unreadable or bad file 5, the system 6;
#     never `terminate called after throwing` (134);
#   - --port 0 prints the port actually bound (and it serves there), --host takes names, IPv6
#     addresses print in brackets;
#   - tls_echo keeps its generated key pair off the disk, and --cert needs --key;
#   - GROVE_* variables with bad values are refused with a message.
# usage: examples_cli_test.sh ECHO HTTP_HELLO CHAT TLS_ECHO DOWNLOAD DNS SUPERVISION HTTP_GET
#                              HELLO_FIBERS GEVENT_TOUR KV_SERVER
set -u
declare -A bin=(
  [echo_server]=$1 [http_hello]=$2 [chat_server]=$3 [tls_echo]=$4 [concurrent_download]=$5
  [dns_resolve]=$6 [supervision_demo]=$7 [http_get]=$8 [hello_fibers]=$9 [gevent_tour]=${10}
  [kv_server]=${11}
)
servers=(echo_server http_hello chat_server tls_echo kv_server)
tmp=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# expect NAME CODE PATTERN -- ARGS...: runs example NAME with ARGS (stdin empty, 30 s at most);
# it must exit CODE with exactly one line on stderr, matching the extended regex PATTERN, and
# no hub report of the same failure ("... failed with ...") on stdout.
expect() {
  local name=$1 code=$2 pattern=$3; shift 4
  local rc
  timeout 30 "${bin[$name]}" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?
  local what="$name $*"
  if [ "$rc" != "$code" ]; then
    fail "$what: exit $rc, want $code; stderr: $(cat "$tmp/err")"
  elif [ "$(wc -l <"$tmp/err")" != 1 ]; then
    fail "$what: want one line on stderr, got: $(cat "$tmp/err")"
  elif grep -q 'failed with' "$tmp/out"; then
    fail "$what: the failure is reported twice, also as: $(cat "$tmp/out")"
  elif ! grep -qE "$pattern" "$tmp/err"; then
    fail "$what: stderr '$(cat "$tmp/err")' does not match '$pattern'"
  else
    pass "$what -> $code: $(cat "$tmp/err")"
  fi
}

# start NAME LOGFILE ARGS...: runs a server in the background and waits up to 30 s for its
# "listening on"/"ready to accept connections on" line. Sets $started (its pid) and $addr (the
# address printed there; on failure, what went wrong).
start() {
  local name=$1 log=$2; shift 2
  # Empty the log here: the background job's own redirection runs in the child, after this
  # function may already have read a previous run's "listening on" line from the same file.
  : >"$log"
  "${bin[$name]}" "$@" >>"$log" 2>&1 &
  started=$!
  pids+=("$started")
  for _ in $(seq 600); do
    addr=$(grep -oE '(listening on|ready to accept connections on) (http://)?[^ ]+' "$log" | head -1)
    if [ -n "$addr" ]; then
      addr=${addr##* }; addr=${addr#http://}; addr=${addr%/}
      return 0
    fi
    kill -0 "$started" 2>/dev/null || { addr="exited: $(cat "$log")"; return 1; }
    sleep 0.05
  done
  addr="no listening line: $(cat "$log")"
  return 1
}

# stop PID: SIGTERM; it must exit 0 within 10 s.
stop() {
  kill -TERM "$1"
  for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$1" 2>/dev/null && { kill -9 "$1"; return 1; }
  wait "$1"
}

# --- --help everywhere, and nothing runs --------------------------------------------------------
for name in "${!bin[@]}"; do
  out=$(timeout 10 "${bin[$name]}" --help 2>&1); rc=$?
  if [ "$rc" = 0 ] && grep -q "^Usage: $name" <<<"$out" && grep -q '^Exit codes:' <<<"$out" \
    && grep -q '^  0  ' <<<"$out" && grep -q '^  2  bad command line' <<<"$out"; then
    pass "$name --help"
  else
    fail "$name --help: exit $rc: $out"
  fi
done
out=$(timeout 10 "${bin[hello_fibers]}" --help); grep -q 'fast done' <<<"$out" && fail "hello_fibers --help ran the tour"
out=$(timeout 10 "${bin[gevent_tour]}" --help); grep -q 'value=' <<<"$out" && fail "gevent_tour --help ran the tour"
for name in "${servers[@]}"; do
  out=$("${bin[$name]}" --help)
  grep -qE '^  --host HOST' <<<"$out" && grep -qE '^  --port PORT' <<<"$out" \
    && grep -q '^  3  ' <<<"$out" && grep -q '^  4  ' <<<"$out" \
    && pass "$name --help lists --host, --port and exit codes 3, 4" || fail "$name --help: $out"
done
out=$("${bin[kv_server]}" --help)
grep -q 'DEBUG CRASH-KEYSPACE' <<<"$out" && grep -q 'DEBUG CRASH-CONNECTION' <<<"$out" \
  && grep -q 'DEBUG CRASH-CHILD' <<<"$out" && pass "kv_server --help lists the DEBUG commands" \
  || fail "kv_server --help lacks the DEBUG commands: $out"
out=$("${bin[supervision_demo]}" --help)
grep -q -- '--host\|--port' <<<"$out" && fail "supervision_demo --help lists options it does not use: $out"

# --- bad command lines: one line, exit 2 -------------------------------------------------------
for name in "${servers[@]}"; do
  expect "$name" 2 "^$name: --port: 'abc' is not a port number \(0 to 65535\)" -- --port abc
  expect "$name" 2 "^$name: --port: '99999' is not a port number" -- --port 99999
  expect "$name" 2 "^$name: .*--nope" -- --nope
done
expect http_hello 2 "'80000' is not a port number" -- --port 80000
for name in echo_server http_hello chat_server; do
  expect "$name" 2 "^$name: --threads: 0 is out of range \(1 to 1024\)" -- --threads 0
  expect "$name" 2 "^$name: --threads: 'abc' is not a whole number" -- --threads abc
done
expect http_hello 2 "^http_hello: --access-log: " -- --access-log maybe
expect tls_echo 2 "^tls_echo: --cert requires --key" -- --cert /nonexistent.pem
expect tls_echo 2 "^tls_echo: --key requires --cert" -- --key /nonexistent.pem
expect kv_server 2 "^kv_server: --appendfsync: " -- --appendfsync sometimes
expect kv_server 2 "^kv_server: --maxclients: 0 is out of range" -- --maxclients 0
expect supervision_demo 2 "^supervision_demo: --seconds: 'soon' is not a number of seconds" -- --seconds soon
expect supervision_demo 2 "^supervision_demo: .*--port" -- --port 6000
nats=nats://127.0.0.1:4222  # never reached: the command line is refused first
expect supervision_demo 2 "^supervision_demo: --node requires --cluster" -- --node workers
expect supervision_demo 2 "^supervision_demo: --cluster requires --node" -- --cluster "$nats"
expect supervision_demo 2 "^supervision_demo: --workers-on requires --node" -- --workers-on workers
expect supervision_demo 2 "^supervision_demo: --cluster: 1 required URL missing" -- --cluster
expect supervision_demo 2 "^supervision_demo: --node: 'a\.b' is not a node name" -- --cluster "$nats" --node a.b
expect supervision_demo 2 "^supervision_demo: --workers-on: 'boss' is this node \(--node\)" \
  -- --cluster "$nats" --node boss --workers-on workers,boss
expect supervision_demo 2 "^supervision_demo: --workers-on: '' is not a node name" \
  -- --cluster "$nats" --node boss --workers-on workers,
expect supervision_demo 2 "^supervision_demo: --workers-on: 'w!' is not a node name" \
  -- --cluster "$nats" --node boss --workers-on 'w!'
expect hello_fibers 2 "^hello_fibers: .*extra" -- extra
expect gevent_tour 2 "^gevent_tour: .*--fast" -- --fast
expect http_get 2 "^http_get: host is required" --
expect http_get 2 "^http_get: port: 'http' is not a port number \(1 to 65535\)" -- localhost http
expect concurrent_download 2 "^concurrent_download: url: only http:// URLs: ftp://x" -- ftp://x
expect concurrent_download 2 "^concurrent_download: url: bad port '99999'" -- http://localhost:99999/
expect concurrent_download 2 "^concurrent_download: --pool: 0 is out of range" -- --pool 0
expect dns_resolve 2 "^dns_resolve: --host: 'dns.example' is not an IP address" -- --host dns.example
expect dns_resolve 2 "^dns_resolve: --timeout: '0' is not a number of seconds" -- --timeout 0 localhost

# --- start-up failures: what, where, why; a code per kind ---------------------------------------
# A port somebody else listens on: 4.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(600)' >"$tmp/holder" &
holder=$!
pids+=("$holder")
for _ in $(seq 200); do [ -s "$tmp/holder" ] && break; sleep 0.05; done
taken=$(cat "$tmp/holder")
for name in "${servers[@]}"; do
  expect "$name" 4 "^$name: cannot listen on 127\.0\.0\.1:$taken: Address already in use$" -- --port "$taken"
done
expect echo_server 4 "^echo_server: cannot listen on 127\.0\.0\.1:$taken \(localhost\): Address already in use$" \
  -- --host localhost --port "$taken"
kill "$holder"
# A host name that does not resolve: 3. An address of no interface here: 4.
for name in "${servers[@]}"; do
  expect "$name" 3 "^$name: cannot listen on nosuchhost\.invalid: the host name does not resolve" \
    -- --host nosuchhost.invalid
done
expect echo_server 4 "^echo_server: cannot listen on 192\.0\.2\.1:6000: Cannot assign requested address$" \
  -- --host 192.0.2.1
# Files: 5.
expect tls_echo 5 "^tls_echo: cannot read --cert /nonexistent\.pem: No such file or directory$" \
  -- --cert /nonexistent.pem --key /nonexistent.pem --port 0
echo "not a certificate" >"$tmp/bad.pem"
expect tls_echo 5 "^tls_echo: cannot use --cert $tmp/bad\.pem with --key $tmp/bad\.pem: " \
  -- --cert "$tmp/bad.pem" --key "$tmp/bad.pem" --port 0
expect kv_server 5 "^kv_server: cannot open the append-only file /nonexistent/dir/kv\.aof: No such file" \
  -- --aof /nonexistent/dir/kv.aof --port 0
# The system: 6.
out=$( (ulimit -n 30 && exec "${bin[kv_server]}" --port 0) 2>&1); rc=$?
[ "$rc" = 6 ] && grep -q '^kv_server: a descriptor limit of 30 leaves no room for clients' <<<"$out" \
  && pass "kv_server under ulimit -n 30 -> 6: $out" || fail "kv_server under ulimit -n 30: exit $rc: $out"
GROVE_RESOLVER=bogus expect echo_server 6 '^echo_server: GROVE_RESOLVER=bogus is not a resolver' -- --port 0
# Clients: a name that does not resolve is 3, a refused connection 1.
expect http_get 3 "^http_get: getaddrinfo nosuchhost\.invalid: " -- nosuchhost.invalid 80
closed=$(free_port)
expect http_get 1 "^http_get: connect to 127\.0\.0\.1:$closed: Connection refused$" -- 127.0.0.1 "$closed"
# No NATS server at --cluster: 1, for a host node and for the boss alike.
expect supervision_demo 1 "^supervision_demo: cannot join --cluster nats://127\.0\.0\.1:$closed: " \
  -- --cluster "nats://127.0.0.1:$closed" --node workers
expect supervision_demo 1 "^supervision_demo: cannot join --cluster nats://127\.0\.0\.1:$closed: " \
  -- --cluster "nats://127.0.0.1:$closed" --node boss --workers-on workers
# Nothing ended in an uncaught exception along the way.
grep -l 'terminate called' "$tmp"/err 2>/dev/null && fail "an example died of an uncaught exception"

# --- what is bound is what is printed ----------------------------------------------------------
for name in "${servers[@]}"; do
  if start "$name" "$tmp/$name.log" --port 0; then
    port=${addr##*:}
    if [ "$addr" = "127.0.0.1:$port" ] && [ "$port" != 0 ] && nc -z 127.0.0.1 "$port"; then
      pass "$name --port 0 prints $addr and serves there"
    else
      fail "$name --port 0 printed '$addr'"
    fi
    stop "$started" || fail "$name did not exit 0 on SIGTERM"
  else
    fail "$name --port 0: $addr"
  fi
  if start "$name" "$tmp/$name.log" --host localhost --port 0; then
    port=${addr##*:}
    nc -z 127.0.0.1 "$port" && pass "$name --host localhost listens on $addr" \
      || fail "$name --host localhost printed '$addr' but nothing listens on 127.0.0.1:$port"
    stop "$started" || fail "$name did not exit 0 on SIGTERM"
  else
    fail "$name --host localhost: $addr"
  fi
done
start kv_server "$tmp/kv.log" --port 0; port=${addr##*:}
[ "$(redis-cli -p "$port" config get port | tail -1)" = "$port" ] \
  && [ "$(redis-cli -p "$port" info server | tr -d '\r' | sed -n 's/^tcp_port://p')" = "$port" ] \
  && pass "kv_server --port 0: CONFIG GET port and INFO tcp_port say $port" \
  || fail "kv_server --port 0: CONFIG GET port says $(redis-cli -p "$port" config get port | tail -1)"
stop "$started" || fail "kv_server did not exit 0 on SIGTERM"
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  for name in echo_server kv_server; do
    if start "$name" "$tmp/$name.log" --host ::1 --port 0; then
      [[ "$addr" =~ ^\[::1\]:[1-9][0-9]*$ ]] && nc -z ::1 "${addr##*:}" \
        && pass "$name --host ::1 prints $addr" || fail "$name --host ::1 printed '$addr'"
      stop "$started" || fail "$name did not exit 0 on SIGTERM"
    else
      fail "$name --host ::1: $addr"
    fi
  done
else
  echo "skip: no IPv6 loopback here"
fi

# --- tls_echo keeps its generated key pair off the disk ----------------------------------------
# The certificate it serves must not be in any file under TMPDIR or /tmp, while it runs or after.
mkdir -p "$tmp/tls_tmp"
served_cert() {
  timeout 10 openssl s_client -connect "$1" </dev/null 2>/dev/null | openssl x509 -outform PEM
}
on_disk() {  # the files under $tmp/tls_tmp or /tmp/tls_echo.* holding certificate $1
  grep -rlF -- "$(sed -n 2p <<<"$1")" "$tmp/tls_tmp" /tmp/tls_echo.* 2>/dev/null
}
if TMPDIR="$tmp/tls_tmp" GROVE_THREADPOOL_SIZE=lots start tls_echo "$tmp/tls.log" --port 0; then
  cert=$(served_cert "$addr")
  if ! grep -q 'BEGIN CERTIFICATE' <<<"$cert"; then
    fail "tls_echo served no certificate"
  elif files=$(on_disk "$cert"); then
    fail "tls_echo left its key pair on disk while serving: $files"
  else
    pass "tls_echo's generated pair is not on disk while it serves"
  fi
  grep -q 'GROVE_THREADPOOL_SIZE="lots" is refused: it takes a whole number from 1 to 4096; using 10' \
    "$tmp/tls.log" && pass "GROVE_THREADPOOL_SIZE=lots refused with a message" \
    || fail "GROVE_THREADPOOL_SIZE=lots: $(cat "$tmp/tls.log")"
  stop "$started" && pass "tls_echo exits 0 on SIGTERM" || fail "tls_echo did not exit 0 on SIGTERM"
  files=$(on_disk "$cert") && fail "tls_echo left its key pair behind: $files"
  [ -z "$(ls -A "$tmp/tls_tmp")" ] && pass "tls_echo left nothing in TMPDIR" \
    || fail "tls_echo left $(ls -A "$tmp/tls_tmp") in TMPDIR"
else
  fail "tls_echo: $addr"
fi

# --- GROVE_* variables with bad values are refused with a message -------------------------------
out=$(GROVE_GUARDED_STACKS=-3 timeout 30 "${bin[hello_fibers]}" 2>&1); rc=$?
[ "$rc" = 0 ] && grep -q 'GROVE_GUARDED_STACKS="-3" is refused' <<<"$out" \
  && pass "GROVE_GUARDED_STACKS=-3 refused with a message" || fail "GROVE_GUARDED_STACKS=-3: exit $rc: $out"
out=$(GROVE_MONITOR_THREAD=1 GROVE_MAX_BLOCKING_TIME=soon timeout 30 "${bin[hello_fibers]}" 2>&1); rc=$?
[ "$rc" = 0 ] && grep -q "GROVE_MAX_BLOCKING_TIME='soon' is not a number of seconds" <<<"$out" \
  && pass "GROVE_MAX_BLOCKING_TIME=soon refused with a message" || fail "GROVE_MAX_BLOCKING_TIME=soon: exit $rc: $out"
out=$(GROVE_MONITOR_THREAD=perhaps timeout 30 "${bin[hello_fibers]}" 2>&1); rc=$?
[ "$rc" = 0 ] && grep -q "GROVE_MONITOR_THREAD='perhaps' is not understood" <<<"$out" \
  && pass "GROVE_MONITOR_THREAD=perhaps refused with a message" || fail "GROVE_MONITOR_THREAD=perhaps: exit $rc: $out"

echo "$failures failure(s)"
[ "$failures" = 0 ]
