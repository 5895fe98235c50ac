# tests/integration/servers_lib.sh — what the server-example tests share: pass/fail counting, free
# ports, starting a server and waiting until it accepts, stopping it with SIGTERM.
#   source "$(dirname "$0")/servers_lib.sh"
# Every wait has a generous hang guard (30 s) and returns as soon as what it waits for is there,
# so a busy machine makes a test slower, never red. Expects $tmp to be set.

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME BINARY PORT [args...]: runs the server in the background with its output in
# $tmp/NAME.log and its pid in ${NAME}_pid, and waits until the port accepts. With
# SERVER_FILES set, the server runs under `ulimit -n $SERVER_FILES`.
start() {
  local name=$1 binary=$2 port=$3; shift 3
  (
    [ -n "${SERVER_FILES:-}" ] && ulimit -n "$SERVER_FILES"
    exec "$binary" --host 127.0.0.1 --port "$port" "$@"
  ) >"$tmp/$name.log" 2>&1 &
  eval "${name}_pid=$!"
  for _ in $(seq 600); do
    nc -z 127.0.0.1 "$port" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$name did not start:"; cat "$tmp/$name.log"; exit 1
}

# stop NAME: SIGTERM, then it must exit 0 (within 30 s: a hang guard).
stop() {
  local name=$1 pid_var="${1}_pid" pid
  pid=${!pid_var}
  kill -TERM "$pid"
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    fail "$name ignored SIGTERM"; kill -9 "$pid"
  fi
  wait "$pid"; local rc=$?
  [ "$rc" = 0 ] && pass "$name stopped cleanly" || fail "$name exited $rc on SIGTERM"
}
