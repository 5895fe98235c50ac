#!/usr/bin/env bash
# tests/integration/kv_blocking_test.sh — BLPOP, BRPOP, BLMOVE, BLMPOP, BZPOPMIN and BZPOPMAX
# with many concurrent clients behave as on redis-server: first blocked first served, woken by
# pushes from any connection or by their timeout, replies before a blocking command sent while
# it blocks, and a closed connection leaves no waiter behind (kv_blocking.py asserts each, and
# both servers must give the same account of every scenario).
# Usage: kv_blocking_test.sh <kv_server binary> <kv_blocking.py>
source "$(dirname "$0")/kv_lib.sh"
kv_start "$1"
redis_start
python3 "$2" "$REDIS_PORT" >"$TMP/redis.out" || fail "the scenarios fail on redis-server"
python3 "$2" "$KV_PORT" >"$TMP/kv.out" || fail "the scenarios fail on kv_server"
diff -u "$TMP/redis.out" "$TMP/kv.out" || fail "kv_server differs from redis-server (- redis, + kv)"
cat "$TMP/kv.out"
