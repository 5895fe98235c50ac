#!/usr/bin/env bash
# tests/integration/kv_threads_test.sh — kv_server --threads 2: the keyspace in two shards, one
# per hub (examples/kv/shards.h), answering like redis-server.
#
#   1. a redis-cli session (kv_threads_session.txt) of MGET/MSET/DEL/UNLINK/EXISTS/TOUCH over keys
#      of both shards, DBSIZE, FLUSHDB, SCAN, RANDOMKEY, and RENAME/SMOVE/*STORE/LMOVE/MSETNX/
#      MULTI over hash-tagged keys: the whole output identical to redis-server's;
#   2. random series of commands on 8 connections spread over both hubs (kv_threads.py compare),
#      each reply equal to redis-server's, and the final state key by key;
#   3. SCAN/KEYS/DBSIZE over 501 keys; what cannot be split answers CROSSSLOT (and MULTI over two
#      shards aborts), WATCH and blocking pops of another shard's keys answer errors;
#   4. PUBLISH from either hub reaches the subscribers of both (and counts them), keyspace
#      notifications too; PUBSUB NUMSUB/CHANNELS/NUMPAT count the subscriptions of both hubs;
#   5. SHUTDOWN from a client stops every hub (exit 0);
#   6. 2-4 again with --threads 3.
# Usage (bazel passes it): kv_threads_test.sh <kv_server> <kv_threads.py> <kv_threads_session.txt>
source "$(dirname "$0")/kv_lib.sh"
DRIVER="$2"
SESSION="$3"
kv_start "$1" --threads 2
redis_start

redis-cli --no-raw -p "$REDIS_PORT" <"$SESSION" >"$TMP/redis.out" 2>&1
redis-cli --no-raw -p "$KV_PORT" <"$SESSION" >"$TMP/kv.out" 2>&1
[ "$(wc -l <"$TMP/redis.out")" -gt 80 ] || fail "the reference session is too short"
diff -u "$TMP/redis.out" "$TMP/kv.out" || fail "the redis-cli session differs (- redis, + kv)"
echo "ok: redis-cli session ($(wc -l <"$SESSION") commands) identical on 2 hubs"

# KEYS over both shards: the same set as redis-server's.
for port in "$REDIS_PORT" "$KV_PORT"; do
  redis-cli -p "$port" flushall >/dev/null
  redis-cli -p "$port" mset k1 1 k2 2 k3 3 k4 4 k5 5 k6 6 k7 7 k8 8 >/dev/null
  redis-cli -p "$port" keys 'k*' | sort >"$TMP/keys.$port"
done
diff -u "$TMP/keys.$REDIS_PORT" "$TMP/keys.$KV_PORT" || fail "KEYS differs"
[ "$(wc -l <"$TMP/keys.$KV_PORT")" = 8 ] || fail "KEYS k* is not 8 keys"
echo "ok: KEYS over both shards"

for seed in 1 2 3; do
  python3 "$DRIVER" compare "$KV_PORT" "$REDIS_PORT" 2 "$seed" 3000
done
python3 "$DRIVER" scan "$KV_PORT" 2
python3 "$DRIVER" crossslot "$KV_PORT" 2
python3 "$DRIVER" pubsub "$KV_PORT" 2

redis-cli -p "$KV_PORT" shutdown >/dev/null 2>&1 || true
for _ in $(seq 1 200); do kill -0 "$KV_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$KV_PID" 2>/dev/null; then fail "SHUTDOWN did not stop kv_server --threads 2"; fi
wait "$KV_PID" && code=0 || code=$?
[ "$code" = 0 ] || fail "kv_server --threads 2 exited $code after SHUTDOWN"
echo "ok: SHUTDOWN stops every hub (exit 0)"

# Three hubs: nothing assumes two.
kv_start "$1" --threads 3
python3 "$DRIVER" compare "$KV_PORT" "$REDIS_PORT" 3 4 2000
python3 "$DRIVER" scan "$KV_PORT" 3
python3 "$DRIVER" crossslot "$KV_PORT" 3
python3 "$DRIVER" pubsub "$KV_PORT" 3
echo PASS
