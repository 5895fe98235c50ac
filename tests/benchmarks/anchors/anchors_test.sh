#!/usr/bin/env bash
# The anchors measure what compare.sh says they do: epoll_echo echoes, echo_load counts only
# whole and correct echoes (a server that answers with other bytes scores nothing), and both
# refuse bad arguments with a message instead of measuring nonsense.
#   anchors_test.sh EPOLL_ECHO ECHO_LOAD
set -euo pipefail
epoll_echo=$1 echo_load=$2
scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# wait_port FILE: the port a server printed as the last word of its first line.
wait_port() {
  for _ in $(seq 600); do
    [ -s "$1" ] && { head -1 "$1" | awk '{ print $NF }'; return; }
    sleep 0.05
  done
  fail "no port in $1"
}

"$epoll_echo" 0 >"$scratch/echo.port" & pids+=($!)
port=$(wait_port "$scratch/echo.port")
read -r label rps label2 trips label3 errors < <("$echo_load" "$port" 5 64 2)
[ "$label $label2 $label3" = "echo_rps round_trips errors" ] || fail "output format: $label $label2 $label3"
[ "$errors" = 0 ] || fail "errors against epoll_echo: $errors"
[ "$trips" -gt 0 ] || fail "no round trip against epoll_echo"
[ "$rps" -gt 0 ] || fail "rate $rps"

# A server that answers every message with its upper-case copy: same length, wrong bytes.
/usr/bin/python3 -c '
import socket, threading
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print("listening on", listener.getsockname()[1], flush=True)
def serve(connection):
    try:
        while data := connection.recv(4096):
            connection.sendall(data.upper())
    except OSError:
        pass  # the load generator hangs up on the first wrong echo
while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
' >"$scratch/upper.port" & pids+=($!)
port=$(wait_port "$scratch/upper.port")
# echo_load stops as soon as every connection is dropped; the long limit only matters when the
# machine is slow to run the server.
read -r _ _ _ trips _ errors < <("$echo_load" "$port" 5 64 30)
[ "$trips" = 0 ] || fail "wrong echoes counted as round trips: $trips"
[ "$errors" = 5 ] || fail "want 5 errors (every connection dropped), got $errors"

# Bad arguments: exit status 2 and a message naming the argument.
expect_refusal() {  # pattern command...
  local pattern=$1 status=0; shift
  "$@" >/dev/null 2>"$scratch/err" || status=$?
  [ "$status" = 2 ] || fail "$* exited $status, want 2"
  grep -q "$pattern" "$scratch/err" || fail "$*: no '$pattern' in: $(cat "$scratch/err")"
}
expect_refusal "bad port" "$epoll_echo" 70000
expect_refusal "usage" "$epoll_echo"
expect_refusal "bad connection count" "$echo_load" 1 0 64 1
expect_refusal "bad message size" "$echo_load" 1 5 x 1
expect_refusal "usage" "$echo_load" 1 5 64
echo "anchors_test: ok"
