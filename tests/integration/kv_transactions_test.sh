#!/usr/bin/env bash
# tests/integration/kv_transactions_test.sh — MULTI/EXEC/WATCH, pattern pub/sub and keyspace
# notifications with concurrent clients behave as on redis-server: an optimistic WATCH/EXEC
# counter with 20 racing clients ends exact, EXEC wakes blocked BLPOP clients only after the
# whole transaction, WATCH is invalidated by writes from other connections, by expiry and by
# FLUSHALL/FLUSHDB, and every write of every type notifies the same events in the same order
# (kv_transactions.py asserts each; both servers must give the same account).
# Usage: kv_transactions_test.sh <kv_server binary> <kv_transactions.py>
source "$(dirname "$0")/kv_lib.sh"
kv_start "$1"
redis_start
python3 "$2" "$REDIS_PORT" >"$TMP/redis.out" || fail "the scenarios fail on redis-server"
python3 "$2" "$KV_PORT" >"$TMP/kv.out" || fail "the scenarios fail on kv_server"
diff -u "$TMP/redis.out" "$TMP/kv.out" || fail "kv_server differs from redis-server (- redis, + kv)"
cat "$TMP/kv.out"
