#!/usr/bin/env bash
# tests/integration/kv_threads_aof_test.sh — kv_server --threads 2 --aof: one file, one order of
# acknowledged writes, and kill -9 loses none of them (examples/kv/shards.h, "Persistence").
#
# For each appendfsync policy (everysec, always): four writers (kv_threads.py writer), each
# repeating RPUSH log NAME:i, INCR counter, SET NAME:i i on keys of the shard their connection
# is not on (every write a message to the other hub's keyspace actor; under `always`, two of
# them on keys of both shards instead) — while the server is killed with SIGKILL in the middle. Restarted on the same
# file (with --threads 2, then with --threads 1: the file replays on any number of hubs), every
# round a writer saw acknowledged is there: its SETs, its log entries in its order, and the
# counter at least the number of acknowledged INCRs. Then the aof-writer is crashed five times
# under the same load: nothing acknowledged is lost and nothing is logged twice. Finally SIGTERM
# writes and fsyncs the file and a restart finds the same data.
# Usage (bazel passes it): kv_threads_aof_test.sh <kv_server> <kv_threads.py>
source "$(dirname "$0")/kv_lib.sh"
BIN="$1"
DRIVER="$2"

# Four writers w1..w4 on port $1 for $2 seconds; $3 (optional) names the writers that spread
# their keys over both shards instead of writing to the other hub's. Their pids go in `pids`.
start_writers() {
  pids=()
  for w in w1 w2 w3 w4; do
    local mode=remote
    [[ " ${3-} " == *" $w "* ]] && mode=spread
    python3 "$DRIVER" writer "$1" "$w" "$2" 2 "$mode" >"$TMP/$w.acked" &
    pids+=("$!")
  done
}

# Waits for the writers; their NAME=ACKED=TAG lines go in `pairs` (each must have had something
# acknowledged). $1: what to call this round.
collect_writers() {
  for pid in "${pids[@]}"; do wait "$pid"; done
  pairs=()
  for w in w1 w2 w3 w4; do pairs+=("$(cat "$TMP/$w.acked")"); done
  echo "acknowledged rounds ($1): ${pairs[*]}"
  for w in w1 w2 w3 w4; do
    grep -q "^$w=[1-9]" "$TMP/$w.acked" || fail "writer $w got nothing acknowledged ($1)"
  done
}

for policy in everysec always; do
  AOF="$TMP/threads-$policy.aof"
  rm -f "$AOF"
  kv_start "$BIN" --threads 2 --aof "$AOF" --appendfsync "$policy"
  PORT="$KV_PORT"
  spread=""
  [ "$policy" = always ] && spread="w1 w2"
  start_writers "$PORT" 1.5 "$spread"
  sleep 1
  kill -9 "$KV_PID"
  collect_writers "$policy"

  KV_PORT_WANTED="$PORT" kv_start "$BIN" --threads 2 --aof "$AOF" --appendfsync "$policy"
  python3 "$DRIVER" check "$KV_PORT" "${pairs[@]}"
  kill -9 "$KV_PID"
  KV_PORT_WANTED="$PORT" kv_start "$BIN" --aof "$AOF"
  python3 "$DRIVER" check "$KV_PORT" "${pairs[@]}"
  echo "ok ($policy): replayed on one hub too"
  kill -9 "$KV_PID"
done

# The aof-writer crashes (DEBUG CRASH-CHILD aof-writer, an untrappable kill) five times while
# the writers run: its supervisor restarts it, each shard sends the chunk the dead writer had
# again, and the new writer drops the chunks the file already has. After SIGTERM and a restart,
# every acknowledged write is there once: logs exactly as long as their rounds, counters exact.
for policy in always everysec; do
  AOF="$TMP/threads-crash-$policy.aof"
  rm -f "$AOF"
  kv_start "$BIN" --threads 2 --aof "$AOF" --appendfsync "$policy"
  start_writers "$KV_PORT" 2
  for i in 1 2 3 4 5; do
    sleep 0.3
    got="$(redis-cli -p "$KV_PORT" debug crash-child aof-writer)"
    [ "$got" = OK ] || fail "DEBUG CRASH-CHILD aof-writer #$i ($policy): $got"
  done
  collect_writers "$policy, 5 writer crashes"
  kill -TERM "$KV_PID"
  wait "$KV_PID" && code=0 || code=$?
  [ "$code" = 0 ] || fail "SIGTERM after the writer crashes ($policy): exit $code"
  PORT="$KV_PORT"
  KV_PORT_WANTED="$PORT" kv_start "$BIN" --threads 2 --aof "$AOF" --appendfsync "$policy"
  python3 "$DRIVER" check "$KV_PORT" --exact "${pairs[@]}"
  kill -9 "$KV_PID"
done

# SIGTERM: every hub forwards its last records, the file is written and fsynced.
AOF="$TMP/threads-term.aof"
kv_start "$BIN" --threads 2 --aof "$AOF"
for i in $(seq 1 40); do redis-cli -p "$KV_PORT" set "t:$i" "$i" >/dev/null; done
redis-cli -p "$KV_PORT" rpush tlist a b c >/dev/null
kill -TERM "$KV_PID"
wait "$KV_PID" && code=0 || code=$?
[ "$code" = 0 ] || fail "SIGTERM: exit $code"
kv_start "$BIN" --threads 2 --aof "$AOF"
[ "$(redis-cli -p "$KV_PORT" dbsize)" = 41 ] || fail "after SIGTERM and restart: dbsize $(redis-cli -p "$KV_PORT" dbsize)"
[ "$(redis-cli -p "$KV_PORT" get t:17)" = 17 ] || fail "t:17 lost"
echo "ok: SIGTERM then restart keeps every key"
echo PASS
