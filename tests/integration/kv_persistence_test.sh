#!/usr/bin/env bash
# tests/integration/kv_persistence_test.sh — the append-only file keeps acknowledged writes.
#
#   1. appendfsync always: kill -9 under redis-benchmark load while a writer counts its acks;
#      after a restart every acknowledged write is there.
#   2. appendfsync everysec: the same, the kill coming once an fsync covered everything written
#      when the writer stopped (INFO's aof_synced_bytes reached that aof_written_bytes).
#   3. a torn last record (the server died mid-write) is dropped with a log line, the file is
#      truncated to its last whole record, and the rest is served.
#   4. SIGTERM: exit 0, the AOF fully written (a restart sees the last write).
#   5. expiries survive as absolute times; every write command replays to the same state, and a
#      record applies to the state it was written against even when a key it names has expired
#      since (RENAME of a key that then expired leaves no old destination behind).
#   6. the set and sorted-set writes replay (random pops and a served BZPOPMIN included), and a
#      key written again after it expired replays as the new value.
# Usage: kv_persistence_test.sh <kv_server binary> <kv_writer.py>
source "$(dirname "$0")/kv_lib.sh"
BIN="$1"
WRITER="$2"

info_field() {  # info_field SECTION FIELD: one value of INFO
  redis-cli -p "$KV_PORT" info "$1" | tr -d '\r' | sed -n "s/^$2://p"
}

restart_after_kill() {  # kill -9 the server, start it again on the same port and file
  kill -9 "$KV_PID"
  wait "$KV_PID" 2>/dev/null || true
  KV_PORT_WANTED="$KV_PORT" kv_start "$BIN" "$@"
}

# --- 1. always ---------------------------------------------------------------------------------
AOF="$TMP/always.aof"
kv_start "$BIN" --aof "$AOF" --appendfsync always
redis-benchmark -p "$KV_PORT" -t set,incr -n 10000000 -c 20 -r 100000 -q >/dev/null 2>&1 &
bench_pid=$!
python3 "$WRITER" write "$KV_PORT" always 60 >"$TMP/acked" &
writer_pid=$!
# The writer sets always:0, always:1, ... one at a time: when always:50 exists, 50 are acked.
for _ in $(seq 1200); do
  [ "$(redis-cli -p "$KV_PORT" exists always:50)" = "1" ] && break
  sleep 0.05
done
restart_after_kill --aof "$AOF" --appendfsync always
wait "$writer_pid"
kill "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
acked="$(cat "$TMP/acked")"
[ "$acked" -gt 10 ] || fail "always: only $acked writes acknowledged"
python3 "$WRITER" check "$KV_PORT" always "$acked" || fail "always: acknowledged writes lost"
echo "ok: appendfsync always, kill -9 under load: $acked acknowledged writes survive"

# --- 2. everysec -------------------------------------------------------------------------------
AOF="$TMP/everysec.aof"
restart_after_kill --aof "$AOF" --appendfsync everysec
redis-benchmark -p "$KV_PORT" -t set,incr -n 10000000 -c 20 -r 100000 -q >/dev/null 2>&1 &
bench_pid=$!
python3 "$WRITER" write "$KV_PORT" everysec 1.5 >"$TMP/acked"
written="$(info_field persistence aof_written_bytes)"
for _ in $(seq 1200); do  # everysec: within about a second, unless the machine is busy
  [ "$(info_field persistence aof_synced_bytes)" -ge "$written" ] && break
  sleep 0.05
done
[ "$(info_field persistence aof_synced_bytes)" -ge "$written" ] \
  || fail "everysec: no fsync covered $written written bytes within 60 s"
restart_after_kill --aof "$AOF" --appendfsync everysec
kill "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
acked="$(cat "$TMP/acked")"
[ "$acked" -gt 50 ] || fail "everysec: only $acked writes acknowledged"
python3 "$WRITER" check "$KV_PORT" everysec "$acked" || fail "everysec: acknowledged writes lost"
fsyncs_line="$(redis-cli -p "$KV_PORT" info persistence | tr -d '\r' | grep aof_appendfsync)"
[ "$fsyncs_line" = "aof_appendfsync:everysec" ] || fail "INFO persistence: $fsyncs_line"
echo "ok: appendfsync everysec, kill -9 after the next fsync: $acked writes survive"

# --- 3. a torn last record --------------------------------------------------------------------
AOF="$TMP/torn.aof"
restart_after_kill --aof "$AOF"
redis-cli -p "$KV_PORT" set whole 1 >/dev/null
kill -9 "$KV_PID"; wait "$KV_PID" 2>/dev/null || true
good_size="$(stat -c %s "$AOF")"
printf '*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$5\r\nval' >>"$AOF"
KV_PORT_WANTED="$KV_PORT" kv_start "$BIN" --aof "$AOF"
[ "$(redis-cli -p "$KV_PORT" get whole)" = "1" ] || fail "torn: the whole record is gone"
[ "$(redis-cli -p "$KV_PORT" exists torn)" = "0" ] || fail "torn: the torn record was applied"
grep -q "torn last record" "$TMP/kv_server.log" || fail "torn: no log line"
[ "$(stat -c %s "$AOF")" = "$good_size" ] || fail "torn: the file was not truncated"
redis-cli -p "$KV_PORT" set after torn >/dev/null
restart_after_kill --aof "$AOF"
[ "$(redis-cli -p "$KV_PORT" get after)" = "torn" ] || fail "torn: writes after repair lost"
echo "ok: a torn last record is dropped and the file repaired"

# --- 4 and 5. SIGTERM and replay of every write command ----------------------------------------
AOF="$TMP/replay.aof"
restart_after_kill --aof "$AOF" --appendfsync no
redis-cli -p "$KV_PORT" <<'CMDS' >/dev/null
SET junk 1
FLUSHALL
SET counter 10
INCR counter
INCRBY counter 5
DECR counter
APPEND text hello
APPEND text " world"
SET gone 1
DEL gone
SET volatile v EX 1000
SET short v PX 300
MSET m1 a m2 b
GETSET m1 c
SET p v EX 100
PERSIST p
SET x 1
EXPIRE x 500
SET y 1
EXPIRE y -1
SET z 1 NX
SET z 2 NX
SETNX nx1 a
SETNX nx1 b
SETEX se 1000 v
PSETEX pse 1000000 v
SET gx v
GETEX gx EX 2000
SET gp v EX 100
GETEX gp PERSIST
SET gd v
GETDEL gd
MSETNX mn1 a mn2 b
MSETNX mn1 c mn3 d
SET f 10.5
INCRBYFLOAT f 0.1
SETRANGE sr 3 abc
SETBIT bits 9 1
COPY text textcopy
SET old v EX 1000
RENAME old renamed
RENAMENX renamed m1
SET ul v
UNLINK ul
RPUSH list a b c d e f
LPUSH list z
LPUSHX list y
RPUSHX nolist x
LPOP list 2
RPOP list
LSET list 0 A
LINSERT list AFTER c c2
RPUSH list c
LREM list -1 c
LTRIM list 0 3
LMOVE list list2 LEFT RIGHT
RPOPLPUSH list list2
RPUSH list3 p q r
LMPOP 2 nolist list3 RIGHT COUNT 2
RPUSH emptied x
LPOP emptied
HSET hash a 1 b 2 c 3
HMSET hash d 4
HDEL hash b
HINCRBY hash a 10
HINCRBYFLOAT hash f 1.5
HSETNX hash c 9
HSETNX hash e 5
HSET hgone x 1
HDEL hgone x
CMDS
snapshot() {
  for k in counter text gone volatile short m1 m2 p x y z nx1 se pse gx gp gd mn1 mn2 mn3 f sr \
           bits textcopy old renamed dst src ul; do
    ttl="$(redis-cli -p "$KV_PORT" ttl "$k")"
    [ "$ttl" -gt 0 ] && ttl="${k}_expires"  # seconds pass between snapshots; checked below
    echo "$k=$(redis-cli --no-raw -p "$KV_PORT" get "$k") ttl=$ttl"
  done
  echo "hash=[$(redis-cli -p "$KV_PORT" hgetall hash | tr '\n' ' ')] hgone=$(redis-cli -p "$KV_PORT" type hgone)"
  for k in list list2 list3 nolist emptied bsrc bdst; do
    echo "$k=[$(redis-cli -p "$KV_PORT" lrange "$k" 0 -1 | tr '\n' ' ')] $(redis-cli -p "$KV_PORT" type "$k")"
  done
}
# A blocked BLMOVE served by a push from another connection: the AOF has the push and the move.
redis-cli -p "$KV_PORT" blmove bsrc bdst LEFT RIGHT 0 >"$TMP/blmove.out" &
blocked_pid=$!
for _ in $(seq 1200); do
  [ "$(info_field clients blocked_clients)" = "1" ] && break
  sleep 0.05
done
[ "$(info_field clients blocked_clients)" = "1" ] || fail "BLMOVE did not block"
redis-cli -p "$KV_PORT" rpush bsrc one two >/dev/null
wait "$blocked_pid"
[ "$(cat "$TMP/blmove.out")" = "one" ] || fail "BLMOVE got $(cat "$TMP/blmove.out")"
# A RENAME of a key that expires right after: sent in one write, so the three run in one batch
# (one clock reading) and the RENAME finds its source.
printf 'SET dst old\r\nSET src new PX 300\r\nRENAME src dst\r\n' \
  | redis-cli -p "$KV_PORT" --pipe | grep -q "errors: 0, replies: 3" || fail "RENAME setup failed"
for _ in $(seq 1200); do  # `short` and `dst` expire
  [ "$(redis-cli -p "$KV_PORT" exists short dst)" = "0" ] && break
  sleep 0.05
done
before="$(snapshot)"
kill -TERM "$KV_PID"
wait "$KV_PID" || fail "SIGTERM: kv_server exited $?"
KV_PORT_WANTED="$KV_PORT" kv_start "$BIN" --aof "$AOF"
after="$(snapshot)"
[ "$before" = "$after" ] || fail "replay differs:
before: $before
after:  $after"
grep -q "counter=\"15\"" <<<"$after" || fail "counter: $after"
grep -q "dst=(nil) ttl=-2" <<<"$after" || fail "dst: $after"
grep -q "f=\"10.6\" " <<<"$after" || fail "f: $after"
grep -q "list=\[b c \] list" <<<"$after" || fail "list: $after"
grep -q "list2=\[c2 A \] list" <<<"$after" || fail "list2: $after"
grep -q "emptied=\[ \] none" <<<"$after" || fail "emptied: $after"
grep -q "bsrc=\[two \] list" <<<"$after" || fail "bsrc: $after"
grep -q "bdst=\[one \] list" <<<"$after" || fail "bdst: $after"
grep -q "hash=\[a 11 c 3 d 4 f 1.5 e 5 \] hgone=none" <<<"$after" || fail "hash: $after"
[ "$(redis-cli -p "$KV_PORT" exists junk)" = "0" ] || fail "FLUSHALL was not replayed"
ttl="$(redis-cli -p "$KV_PORT" ttl volatile)"
{ [ "$ttl" -gt 900 ] && [ "$ttl" -le 1000 ]; } || fail "volatile's TTL after replay: $ttl"
echo "ok: SIGTERM exits 0; replay restores every write, expiries as absolute times"

# --- 6. sets, sorted sets, and keys written again after they expired ---------------------------
# Every write command of the set and sorted-set types replays to the same state (random pops
# included: the AOF records what they removed), a BZPOPMIN served by another connection's ZADD
# replays, and a key that expired and was then written afresh comes back as the fresh value
# (the expiry is recorded as a DEL; without it the replay would apply the new write to the old
# value and let the old expiry remove both).
AOF="$TMP/types.aof"
kill -TERM "$KV_PID"
wait "$KV_PID" || true
KV_PORT_WANTED="$KV_PORT" kv_start "$BIN" --aof "$AOF" --appendfsync no
redis-cli -p "$KV_PORT" <<'CMDS' >/dev/null
SADD s a b c d e f g
SREM s g
SPOP s
SPOP s 2
SADD s2 c d x y
SMOVE s2 s x
SINTERSTORE si s s2
SUNIONSTORE su s s2
SDIFFSTORE sd s s2
SADD sgone a
SPOP sgone 5
ZADD z 1 a 2 b 3 c 4 d 5 e 6 f 7 g 8 h
ZADD z XX CH INCR 10 a
ZADD z GT 1 b 9 c
ZADD z NX 0.5 n
ZINCRBY z 2.5 d
ZREM z e
ZPOPMIN z
ZPOPMAX z 2
ZREMRANGEBYRANK z 0 0
ZREMRANGEBYSCORE z (6 7
ZADD lex 0 a 0 b 0 c 0 d
ZREMRANGEBYLEX lex [b (d
ZRANGESTORE zr z 0 1 REV
ZUNIONSTORE zu 2 z lex WEIGHTS 2 1 AGGREGATE MAX
ZINTERSTORE zi 2 z zu
ZDIFFSTORE zd 2 z lex
ZADD zgone 1 a
ZPOPMIN zgone
SET str v
SADD recreated-s old1 old2
PEXPIRE recreated-s 300
ZADD recreated-z 1 old
PEXPIRE recreated-z 300
RPUSH recreated-l old
PEXPIRE recreated-l 300
HSET recreated-h old 1
PEXPIRE recreated-h 300
CMDS
redis-cli -p "$KV_PORT" bzpopmin bz 0 >"$TMP/bzpop.out" &
blocked_pid=$!
for _ in $(seq 1200); do
  [ "$(info_field clients blocked_clients)" = "1" ] && break
  sleep 0.05
done
[ "$(info_field clients blocked_clients)" = "1" ] || fail "BZPOPMIN did not block"
redis-cli -p "$KV_PORT" zadd bz 2 two 1 one >/dev/null
wait "$blocked_pid"
[ "$(tr '\n' ' ' <"$TMP/bzpop.out")" = "bz one 1 " ] || fail "BZPOPMIN got $(cat "$TMP/bzpop.out")"
# Written again once expired (the reads delete the expired keys, as any command would).
for _ in $(seq 1200); do
  [ "$(redis-cli -p "$KV_PORT" exists recreated-s recreated-z recreated-l recreated-h)" = "0" ] \
    && break
  sleep 0.05
done
redis-cli -p "$KV_PORT" <<'CMDS' >/dev/null
SADD recreated-s new
ZADD recreated-z 2 new
RPUSH recreated-l new
HSET recreated-h new 2
CMDS
types_snapshot() {
  for k in s s2 si su sd sgone recreated-s str; do
    echo "$k=[$(redis-cli -p "$KV_PORT" smembers "$k" 2>&1 | sort | tr '\n' ' ')]"
  done
  for k in z lex zr zu zi zd zgone bz recreated-z; do
    echo "$k=[$(redis-cli -p "$KV_PORT" zrange "$k" 0 -1 withscores | tr '\n' ' ')]"
  done
  echo "recreated-l=[$(redis-cli -p "$KV_PORT" lrange recreated-l 0 -1 | tr '\n' ' ')]"
  echo "recreated-h=[$(redis-cli -p "$KV_PORT" hgetall recreated-h | tr '\n' ' ')]"
  for k in recreated-s recreated-z recreated-l recreated-h; do
    echo "$k ttl=$(redis-cli -p "$KV_PORT" ttl "$k")"
  done
}
before="$(types_snapshot)"
kill -TERM "$KV_PID"
wait "$KV_PID" || fail "SIGTERM: kv_server exited $?"
KV_PORT_WANTED="$KV_PORT" kv_start "$BIN" --aof "$AOF"
after="$(types_snapshot)"
[ "$before" = "$after" ] || fail "replay of sets and sorted sets differs:
before: $before
after:  $after"
grep -q "^s=\[\(. \)\{4\}\]$" <<<"$after" || fail "s should hold 4 members: $after"
grep -q "^z=\[f 6 h 8 \]$" <<<"$after" || fail "z: $after"
grep -q "^bz=\[two 2 \]$" <<<"$after" || fail "bz: $after"
grep -q "^recreated-s=\[new \]$" <<<"$after" || fail "recreated-s: $after"
grep -q "^recreated-z=\[new 2 \]$" <<<"$after" || fail "recreated-z: $after"
grep -q "^recreated-l=\[new \]$" <<<"$after" || fail "recreated-l: $after"
grep -q "^recreated-h=\[new 2 \]$" <<<"$after" || fail "recreated-h: $after"
echo "ok: sets and sorted sets replay; a key written again after it expired replays as written"
