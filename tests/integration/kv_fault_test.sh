#!/usr/bin/env bash
# tests/integration/kv_fault_test.sh — faults injected into kv_server's supervision tree.
#
#   1. DEBUG CRASH-KEYSPACE five times while redis-benchmark and a counting writer load the
#      server: the keyspace actor is restarted each time (INFO counts 5 restarts), the server
#      keeps serving, and every write the writer saw acknowledged reads back.
#   2. DEBUG CRASH-CONNECTION: that client's connection ends; the others, and the data, stay.
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
restarts="$(redis-cli -p "$KV_PORT" info supervision | tr -d '\r' | sed -n 's/^keyspace_actor_restarts://p')"
[ "$restarts" = "5" ] || fail "keyspace_actor_restarts is '$restarts', want 5"
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
