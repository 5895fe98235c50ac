#!/usr/bin/env bash
# tests/integration/servers_test.sh — the servers/ examples against real clients: curl
# (keep-alive reuse, chunked upload, Expect: 100-continue, HEAD, framing it must refuse), ab -k,
# nc, openssl s_client,
# concurrent_download against http_hello, chat_server with two nc clients, dns_resolve,
# supervision_demo. Each server starts on a free port and must stop cleanly on SIGTERM.
# Nothing here waits a fixed time and hopes: each step waits for what it needs to see, with a
# generous hang guard, so a busy machine makes the test slower, never red.
# usage: servers_test.sh ECHO HTTP_HELLO CHAT TLS_ECHO DOWNLOAD DNS SUPERVISION
set -u
echo_server=$1 http_hello=$2 chat_server=$3 tls_echo=$4 download=$5 dns_resolve=$6 supervision=$7
tmp=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/servers_lib.sh"

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (grep -E), up to 30 s.
wait_for() {
  for _ in $(seq 600); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# tls_line PORT LINE: sends LINE through openssl s_client and prints what came back; s_client's
# input stays open until the answer is there (or 30 s passed).
tls_line() {
  local out="$tmp/s_client.$1.$RANDOM"
  : >"$out"
  { echo "$2"; wait_for "$out" "$2"; } \
    | timeout 60 openssl s_client -connect "127.0.0.1:$1" -quiet -no_ign_eof >"$out" 2>/dev/null
  cat "$out"
}

# --- http_hello with curl, ab ----------------------------------------------------------------
hp=$(free_port)
start http "$http_hello" "$hp"
out=$(curl -sv "http://127.0.0.1:$hp/a" "http://127.0.0.1:$hp/b" 2>&1)
[ "$(grep -c 'Hello, World!' <<<"$out")" = 2 ] && grep -q 'Re-using existing connection' <<<"$out" \
  && pass "curl keep-alive reuse" || fail "curl keep-alive: $out"

head -c 300000 /dev/urandom >"$tmp/upload.bin"
out=$(curl -sv -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/upload.bin" "http://127.0.0.1:$hp/up" 2>&1)
grep -q '> Transfer-Encoding: chunked' <<<"$out" && grep -q '< HTTP/1.1 200 OK' <<<"$out" \
  && grep -q 'Hello, World!' <<<"$out" && pass "curl chunked upload" || fail "curl chunked upload: $out"

out=$(curl -sv -H 'Expect: 100-continue' --data-binary @"$tmp/upload.bin" "http://127.0.0.1:$hp/up" 2>&1)
grep -q '< HTTP/1.1 100 Continue' <<<"$out" && grep -q '< HTTP/1.1 200 OK' <<<"$out" \
  && pass "curl Expect: 100-continue" || fail "curl 100-continue: $out"

out=$(curl -sI "http://127.0.0.1:$hp/" 2>&1)
grep -qi '^Content-Length: 13' <<<"$out" && grep -qi '^Date: ' <<<"$out" && grep -qi '^Server: grove' <<<"$out" \
  && pass "curl HEAD" || fail "curl HEAD: $out"
out=$(curl -s --max-time 5 -X HEAD "http://127.0.0.1:$hp/" -o "$tmp/head_body" -w '%{size_download}' 2>&1)
[ "$out" = 0 ] && pass "HEAD has no body" || fail "HEAD body size $out"

out=$(curl -s --http1.0 -v "http://127.0.0.1:$hp/" 2>&1)
grep -q 'Hello, World!' <<<"$out" && grep -qi '< Connection: close' <<<"$out" \
  && pass "curl HTTP/1.0" || fail "curl HTTP/1.0: $out"

# RFC 9112 §6 framing refused by curl's own requests: a coding under chunked (501), chunked in
# HTTP/1.0, Transfer-Encoding with Content-Length, a Content-Length list (400).
echo framed >"$tmp/small.txt"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" --data-binary @"$tmp/small.txt" "http://127.0.0.1:$hp/"; }
[ "$(code -H 'Transfer-Encoding: gzip, chunked')" = 501 ] && pass "curl gzip, chunked upload: 501" \
  || fail "curl gzip, chunked: $(code -H 'Transfer-Encoding: gzip, chunked')"
[ "$(code --http1.0 -H 'Transfer-Encoding: chunked')" = 400 ] && pass "curl HTTP/1.0 chunked upload: 400" \
  || fail "curl HTTP/1.0 chunked: $(code --http1.0 -H 'Transfer-Encoding: chunked')"
[ "$(code -H 'Transfer-Encoding: chunked' -H 'Content-Length: 7')" = 400 ] \
  && pass "curl Transfer-Encoding with Content-Length: 400" || fail "curl TE + CL"
[ "$(code -H 'Content-Length: 7, 7')" = 400 ] && pass "curl Content-Length list: 400" || fail "curl CL list"

out=$(ab -k -n 5000 -c 20 "http://127.0.0.1:$hp/" 2>&1)
grep -q '^Complete requests: *5000' <<<"$out" && grep -q '^Failed requests: *0' <<<"$out" \
  && grep -q '^Keep-Alive requests: *5000' <<<"$out" && pass "ab -k 5000 requests" || fail "ab -k: $out"

# --- concurrent_download against http_hello -------------------------------------------------
out=$("$download" --host 127.0.0.1 --port "$hp" --count 30 --pool 7 2>&1)
[ "$(grep -c ': 200 13 bytes' <<<"$out")" = 30 ] && grep -q '30 of 30 downloads succeeded' <<<"$out" \
  && pass "concurrent_download 30 URLs" || fail "concurrent_download: $out"
out=$("$download" "http://localhost:$hp/x" "http://127.0.0.1:$hp/y" 2>&1)
grep -q "localhost:$hp/x: 200 13 bytes" <<<"$out" && pass "concurrent_download resolves localhost" \
  || fail "concurrent_download localhost: $out"
stop http

# --- echo_server with nc --------------------------------------------------------------------
ep=$(free_port)
start echo "$echo_server" "$ep"
# nc -N: half-close after the input; the server echoes the rest and closes, which ends nc.
out=$(printf 'hello\nworld\n' | timeout 60 nc -N 127.0.0.1 "$ep")
[ "$out" = $'hello\nworld' ] && pass "nc echo" || fail "nc echo got '$out'"
head -c 1000000 /dev/urandom >"$tmp/big.bin"
timeout 60 nc -N 127.0.0.1 "$ep" <"$tmp/big.bin" >"$tmp/big.out"
cmp -s "$tmp/big.bin" "$tmp/big.out" && pass "nc echo 1 MB byte-exact" || fail "nc echo 1 MB differs"
stop echo

# --- tls_echo with openssl s_client ---------------------------------------------------------
tp=$(free_port)
start tls "$tls_echo" "$tp"
out=$(tls_line "$tp" "hello over tls")
grep -q 'hello over tls' <<<"$out" && pass "openssl s_client echo" || fail "s_client got '$out'"
out=$(printf 'plain\n' | timeout 30 nc -N 127.0.0.1 "$tp"; echo "rc=$?")
out=$(tls_line "$tp" "still serving")
grep -q 'still serving' <<<"$out" && pass "tls_echo survives a plain-text client" || fail "tls after plain: '$out'"
stop tls

# --- chat_server with two nc clients --------------------------------------------------------
cp=$(free_port)
start chat "$chat_server" "$cp"
# Each client's input is a FIFO held open by this script: a line goes out when the previous
# step was seen, and closing the FIFO (nc -N half-closes) is how the client leaves.
mkfifo "$tmp/bob.in" "$tmp/alice.in"
timeout 120 nc -N 127.0.0.1 "$cp" <"$tmp/bob.in" >"$tmp/bob.out" &
bob=$!
exec 7>"$tmp/bob.in"
echo bob >&7
wait_for "$tmp/bob.out" '\* bob joined' || fail "chat: bob did not join"
timeout 120 nc -N 127.0.0.1 "$cp" <"$tmp/alice.in" >"$tmp/alice.out" &
alice=$!
exec 8>"$tmp/alice.in"
echo alice >&8
wait_for "$tmp/bob.out" '\* alice joined' || fail "chat: bob did not see alice join"
echo "hi from alice" >&8
wait_for "$tmp/alice.out" '<alice> hi from alice'
exec 8>&-  # alice leaves
wait $alice
wait_for "$tmp/bob.out" '\* alice left'
exec 7>&-
wait $bob
grep -q '<alice> hi from alice' "$tmp/bob.out" && grep -q '\* alice joined' "$tmp/bob.out" \
  && grep -q '\* alice left' "$tmp/bob.out" && pass "chat: bob hears alice" || fail "chat bob: $(cat "$tmp/bob.out")"
grep -q '<alice> hi from alice' "$tmp/alice.out" && pass "chat: alice hears herself" || fail "chat alice: $(cat "$tmp/alice.out")"
stop chat

# --- dns_resolve and supervision_demo -------------------------------------------------------
out=$(printf 'localhost\n' | timeout 60 "$dns_resolve" 2>&1)
grep -q '^localhost: .*127.0.0.1' <<<"$out" && pass "dns_resolve localhost" || fail "dns_resolve: $out"
out=$(timeout 60 "$dns_resolve" nosuch.invalid 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'nosuch.invalid: error' <<<"$out" && pass "dns_resolve reports failures" || fail "dns_resolve nosuch: rc=$rc $out"
out=$(timeout 60 "$supervision" --seconds 1.5 2>&1); rc=$?
[ $rc = 0 ] && grep -q 'restarted child flaky' <<<"$out" && grep -q 'restarted child right' <<<"$out" \
  && grep -q 'done: [1-9][0-9]* restarts' <<<"$out" && pass "supervision_demo restarts and exits" \
  || fail "supervision_demo rc=$rc: $out"

echo "$failures failure(s)"
[ "$failures" = 0 ]
