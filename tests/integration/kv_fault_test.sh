#!/usr/bin/env bash
# tests/integration/kv_fault_test.sh — faults injected into kv_server's supervision tree.
#
#   1. DEBUG CRASH-KEYSPACE five times while redis-benchmark and a counting writer load the
#      server: the keyspace actor is restarted each time (INFO counts 5 restarts), the server
#      keeps serving, and every write the writer saw acknowledged reads back.
#   2. DEBUG CRASH-CONNECTION: that client's connection ends; the others, and the data, stay.
#   3. DEBUG CRASH-CHILD kills other children of the root (expiry, pubsub): each is restarted,
#      INFO supervision counts each child's restarts, the port still serves.
# Usage: kv_fault_test.sh <kv_server binary> <kv_writer.py>
source "$(dirname "$0")/kv_lib.sh"
WRITER="$2"
kv_start "$1"

redis-benchmark -p "$KV_PORT" -t set,get,incr -n 1000000 -c 20 -q >"$TMP/bench.out" 2>&1 &
bench_pid=$!
python3 "$WRITER" write "$KV_PORT" fault 3 >"$TMP/acked" &
writer_pid=$!
sleep 0.3
for i in 1 2 3 4 5; do
  [ "$(redis-cli -p "$KV_PORT" debug crash-keyspace)" = "OK" ] || fail "DEBUG CRASH-KEYSPACE #$i"
  sleep 0.3
done
wait "$writer_pid"
kill "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
acked="$(cat "$TMP/acked")"
[ "$acked" -gt 100 ] || fail "the writer got only $acked writes through"
python3 "$WRITER" check "$KV_PORT" fault "$acked" || fail "acknowledged writes lost"
supervision="$(redis-cli -p "$KV_PORT" info supervision | tr -d '\r')"
grep -qx 'child_keyspace:starts=6,restarts=5' <<<"$supervision" \
  || fail "INFO supervision does not count 5 keyspace restarts: $supervision"
grep -qx 'child_expiry:starts=1,restarts=0' <<<"$supervision" \
  || fail "INFO supervision lists no expiry child: $supervision"
grep -q "keyspace actor restarted" "$TMP/kv_server.log" || fail "no restart line in the log"
kill -0 "$KV_PID" || fail "kv_server died"
echo "ok: 5 keyspace crashes under load, restarted 5 times, $acked acknowledged writes intact"

# A connection crash takes only that connection.
redis-cli -p "$KV_PORT" set survivor yes >/dev/null
exec 3<>"/dev/tcp/127.0.0.1/$KV_PORT"   # a bystander connection, open across the crash
printf 'DEBUG CRASH-CONNECTION\r\n' | timeout 5 nc -q2 127.0.0.1 "$KV_PORT" >"$TMP/crashed" || true
[ ! -s "$TMP/crashed" ] || fail "the crashed connection answered: $(cat "$TMP/crashed")"
printf 'GET survivor\r\n' >&3
read -r -t 30 line <&3 && read -r -t 30 value <&3 || fail "the bystander connection is gone"
[ "${value%$'\r'}" = "yes" ] || fail "bystander read '$value'"
exec 3>&-
[ "$(redis-cli -p "$KV_PORT" get survivor)" = "yes" ] || fail "data lost after a connection crash"
echo "ok: a connection crash ends that connection only"

# Every child's restarts are counted, not only the keyspace's. The listener too: killed while it
# waits, it closes its StreamServer on the way out and is started again on the same port.
for child in expiry pubsub listener; do
  [ "$(redis-cli -p "$KV_PORT" debug crash-child "$child")" = "OK" ] || fail "DEBUG CRASH-CHILD $child"
done
for _ in $(seq 1 200); do
  supervision="$(timeout 10 redis-cli -p "$KV_PORT" info supervision 2>/dev/null | tr -d '\r')" || true
  if grep -qx 'child_pubsub:starts=2,restarts=1' <<<"$supervision" \
    && grep -qx 'child_expiry:starts=2,restarts=1' <<<"$supervision" \
    && grep -qx 'child_listener:starts=2,restarts=1' <<<"$supervision"; then
    break
  fi
  sleep 0.05
done
for line in child_keyspace:starts=6,restarts=5 child_expiry:starts=2,restarts=1 \
  child_pubsub:starts=2,restarts=1 child_connections:starts=1,restarts=0 \
  child_listener:starts=2,restarts=1 total_child_restarts:8; do
  grep -qx "$line" <<<"$supervision" || fail "INFO supervision lacks $line: $supervision"
done
[ "$(redis-cli -p "$KV_PORT" get survivor)" = "yes" ] || fail "the data is gone after the restarts"
got="$(redis-cli -p "$KV_PORT" debug crash-child nosuch)"
[ "$got" = "ERR no running child 'nosuch' (INFO supervision lists them)" ] || fail "crash-child nosuch: $got"
echo "ok: DEBUG CRASH-CHILD restarts expiry and pubsub; INFO counts every child's restarts"
