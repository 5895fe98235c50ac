#!/usr/bin/env bash
# tests/integration/kv_compare_test.sh — kv_server answers like redis-server.
#
# Runs the same sessions against kv_server and a reference redis-server (--databases 1, no
# persistence) started here, and compares:
#   1. a redis-cli session covering every command and its error replies (kv_session.txt):
#      the whole output must be identical;
#   2. raw protocol exchanges (malformed frames, inline commands with quotes and escapes,
#      pipelining, pub/sub pushes, clients over maxclients or client-query-buffer-limit): the
#      reply BYTES must be identical;
#   3. replies that legitimately differ (INFO, CLIENT LIST, COMMAND, KEYS/SCAN order, PTTL) by
#      their shape: the same fields, the same sets, values in range.
#   Then the transaction, PUBSUB, CONFIG and CLIENT session (kv_session_server.txt), the same way.
#   4. what reads cost: INFO's keyspace_hits/keyspace_misses after every read command of every
#      type, and the "keymiss" notifications (class m), the same numbers and events (kv_reads.py).
# Usage (bazel passes it): kv_compare_test.sh <kv_server binary> <kv_session.txt>
#   <kv_zset_fuzz.py> <kv_session_server.txt> <kv_reads.py>
source "$(dirname "$0")/kv_lib.sh"
SESSION="$2"
ZSET_FUZZ="$3"
SERVER_SESSION="$4"
READS="$5"
kv_start "$1"
redis_start --enable-debug-command yes  # for DEBUG HELP and DEBUG's error replies

# --- 1. the redis-cli session ----------------------------------------------------------------
redis-cli --no-raw -p "$REDIS_PORT" <"$SESSION" >"$TMP/redis.out" 2>&1
redis-cli --no-raw -p "$KV_PORT" <"$SESSION" >"$TMP/kv.out" 2>&1
[ "$(wc -l <"$TMP/redis.out")" -gt 150 ] || fail "the reference session is too short"
diff -u "$TMP/redis.out" "$TMP/kv.out" || fail "the redis-cli session differs (- redis, + kv)"
echo "ok: redis-cli session ($(wc -l <"$SESSION") commands) identical"
# The transaction, pub/sub-introspection, CONFIG and CLIENT session (kv_session_server.txt).
redis-cli --no-raw -p "$REDIS_PORT" <"$SERVER_SESSION" >"$TMP/redis.server.out" 2>&1
redis-cli --no-raw -p "$KV_PORT" <"$SERVER_SESSION" >"$TMP/kv.server.out" 2>&1
[ "$(wc -l <"$TMP/redis.server.out")" -gt 200 ] || fail "the reference server session is too short"
diff -u "$TMP/redis.server.out" "$TMP/kv.server.out" ||
  fail "the redis-cli server session differs (- redis, + kv)"
echo "ok: redis-cli server session ($(wc -l <"$SERVER_SESSION") commands) identical"

# --- 2. raw bytes ----------------------------------------------------------------------------
# Sends $2 (printf %b escapes) to port $1; prints the reply bytes: until the server closes, or
# 0.3 s of quiet once bytes came (up to 20 s for the first). With $3, the length of the answer
# expected, up to 20 s of quiet until that many bytes came: a busy machine only slows it down.
raw() {
  printf '%b' "$2" | python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
expected = int(sys.argv[2])
out = b""
try:
    while True:
        s.settimeout(0.3 if out and len(out) >= expected else 20)
        chunk = s.recv(65536)
        if not chunk: break
        out += chunk
except socket.timeout:
    pass
sys.stdout.write(repr(out))' "$1" "${3:-0}"
}
cases=(
  '*abc\r\n'                      # bad multibulk count
  '*1\r\n$abc\r\n'                # bad bulk length
  '*1\r\nfoo\r\n'                 # expected $
  '*1\r\n$-5\r\n'                 # negative bulk length
  '*1\r\n$600000000\r\n'          # over proto-max-bulk-len
  '*3000000000\r\n'               # over the multibulk count limit
  'PING\r\nset "a b\r\nPING\r\n'  # unbalanced quotes: error, then closed (no PONG)
  "set 'a\\r\\n"
  'set "x"y z\r\n'                # a closing quote must end the word
  '*0\r\n*-1\r\n\r\n\r\nPING\r\n' # empty requests are ignored
  'set "\\x41\\n" "q\\"r"\r\nget "A\\n"\r\nset s '"'"'it\\'"'"'s'"'"'\r\nget s\r\n'
  '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nECHO x\r\n'
  'SUBSCRIBE a b\r\nGET x\r\nPING\r\nPING m\r\nUNSUBSCRIBE a\r\nUNSUBSCRIBE\r\nUNSUBSCRIBE\r\nPING\r\n'
  'get k\r\nQUIT\r\nPING\r\n'     # nothing after QUIT
)
for c in "${cases[@]}"; do
  want="$(raw "$REDIS_PORT" "$c")"
  want_len="$(python3 -c 'import sys; print(len(eval(sys.argv[1])))' "$want")"
  got="$(raw "$KV_PORT" "$c" "$want_len")"
  [ -n "$want" ] || fail "redis-server gave nothing for $c"
  [ "$want" = "$got" ] || fail "bytes differ for $c
redis: $want
kv:    $got"
done
echo "ok: ${#cases[@]} raw protocol exchanges byte-identical"

# A pipeline of 1,000 commands in one write: the same 1,000 replies.
python3 - "$REDIS_PORT" "$KV_PORT" <<'PY'
import socket, sys
def run(port):
    req = b"".join(b"*3\r\n$4\r\nINCR\r\n$1\r\np\r\n"[:0] + b"INCR p\r\n" for _ in range(1000))
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.sendall(b"DEL p\r\n" + req)
    want = b":0\r\n" if False else None
    data = b""
    while data.count(b"\r\n") < 1001:
        chunk = s.recv(65536)
        if not chunk: break
        data += chunk
    return data.split(b"\r\n", 1)[1]
a, b = run(sys.argv[1]), run(sys.argv[2])
assert a == b, "pipelined replies differ"
assert b.endswith(b":1000\r\n"), b[-20:]
PY
echo "ok: 1,000 pipelined INCRs"

# Limits on clients, the same on both: maxclients (redis's error bytes for the client over it),
# client-query-buffer-limit (closed without a reply), and an announced 512 MiB bulk that never
# comes (no reply, the connection stays open, the server serves others).
python3 - "$REDIS_PORT" "$KV_PORT" <<'PY'
import socket, sys, time

def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    return s

def call(port, *args):
    s = connect(port)
    s.sendall(b"".join([b"*%d\r\n" % len(args)] +
                       [b"$%d\r\n%s\r\n" % (len(a), a) for a in args]))
    reply = s.recv(65536)
    s.close()
    return reply

def read_all(s, quiet=0.5):
    """Bytes until the server closes, or `quiet` seconds without any: (bytes, how it ended)."""
    s.settimeout(quiet)
    out = b""
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return out, "closed"
            out += chunk
    except socket.timeout:
        return out, "open"
    except ConnectionResetError:
        return out, "closed"

def connect_served(port):
    """A client that got PONG (retried: the server may not have seen a closed client leave)."""
    for _ in range(200):
        s = connect(port)
        s.sendall(b"PING\r\n")
        try:
            if s.recv(100) == b"+PONG\r\n":
                return s
        except ConnectionResetError:
            pass
        s.close()
        time.sleep(0.05)
    raise AssertionError(f"no client served on {port}")

def over_maxclients(port):
    assert call(port, b"CONFIG", b"SET", b"maxclients", b"2") == b"+OK\r\n"
    held = [connect_served(port), connect_served(port)]
    third = connect(port)
    got = read_all(third, 5)
    for s in held:
        s.close()
    # Until the two have gone, CONFIG SET itself may be refused: retry.
    for _ in range(100):
        try:
            if call(port, b"CONFIG", b"SET", b"maxclients", b"10000") == b"+OK\r\n":
                break
        except (ConnectionResetError, BrokenPipeError):
            pass
    return got

def over_query_buffer_limit(port):
    assert call(port, b"CONFIG", b"SET", b"client-query-buffer-limit", b"1mb") == b"+OK\r\n"
    s = connect(port)
    try:
        s.sendall(b"*1\r\n$2000000\r\n" + b"x" * 1500000)
    except (ConnectionResetError, BrokenPipeError):
        pass
    got = read_all(s, 5)
    assert call(port, b"CONFIG", b"SET", b"client-query-buffer-limit", b"1gb") == b"+OK\r\n"
    return got

def announced_bulk(port):
    s = connect(port)
    s.sendall(b"*1\r\n$536870912\r\n")
    got = read_all(s, 0.5)
    assert call(port, b"PING") == b"+PONG\r\n"
    s.close()
    return got

for case in (over_maxclients, over_query_buffer_limit, announced_bulk):
    want, got = case(sys.argv[1]), case(sys.argv[2])
    assert want == got, f"{case.__name__}: redis {want!r}, kv {got!r}"
    print(f"ok: {case.__name__}: {got!r}")
PY

# Pub/sub through redis-cli: a subscriber sees every publish, PUBLISH counts receivers.
for port in "$REDIS_PORT" "$KV_PORT"; do
  timeout 120 redis-cli -p "$port" subscribe ch1 ch2 >"$TMP/sub.$port" 2>&1 &
  sub=$!
  for _ in $(seq 1 1000); do
    [ "$(redis-cli -p "$port" publish ch1 probe)" = "1" ] && break
    sleep 0.02
  done
  redis-cli -p "$port" publish ch1 hello >>"$TMP/pub.$port"
  redis-cli -p "$port" publish ch3 nobody >>"$TMP/pub.$port"
  redis-cli -p "$port" publish ch2 "x y" >>"$TMP/pub.$port"
  for _ in $(seq 1 600); do  # the last message is there: so is everything before it
    grep -q "x y" "$TMP/sub.$port" && break
    sleep 0.05
  done
  kill "$sub" 2>/dev/null || true
  wait "$sub" 2>/dev/null || true
  grep -v probe "$TMP/sub.$port" | grep -v '^ch1$' >"$TMP/sub.$port.clean" || true
done
diff "$TMP/pub.$REDIS_PORT" "$TMP/pub.$KV_PORT" || fail "PUBLISH counts differ"
diff "$TMP/sub.$REDIS_PORT.clean" "$TMP/sub.$KV_PORT.clean" || fail "subscriber output differs"
grep -q "x y" "$TMP/sub.$KV_PORT" || fail "the kv subscriber missed a message"
echo "ok: pub/sub"

# --- 4. what reads count and notify ----------------------------------------------------------
python3 "$READS" "$REDIS_PORT" "$KV_PORT" || fail "keyspace hits/misses or keymiss differ"

# --- 3. shapes -------------------------------------------------------------------------------
for port in "$REDIS_PORT" "$KV_PORT"; do
  redis-cli -p "$port" flushdb >/dev/null
  redis-cli -p "$port" mset user:1 a user:2 b user:10 c usr:x d "we[ird" e 'back\slash' f \
    hello h hallo h hxllo h hllo h heeeello h >/dev/null
done
for pattern in '*' 'user:*' 'user:?' 'user:1*' 'h?llo' 'h*llo' 'h[ae]llo' 'h[^e]llo' 'h[a-b]llo' \
               'h[b-a]llo' 'we\[ird' 'we[ird' 'back\\slash' 'u*:*' 'nomatch*' '*[' '\*'; do
  want="$(redis-cli -p "$REDIS_PORT" keys "$pattern" | sort)"
  got="$(redis-cli -p "$KV_PORT" keys "$pattern" | sort)"
  [ "$want" = "$got" ] || fail "KEYS $pattern: redis [$want] kv [$got]"
done
echo "ok: KEYS glob patterns"

# SCAN with MATCH and COUNT: a full iteration returns the same set.
scan_all() {
  local port=$1 cursor=0 out
  while :; do
    out="$(redis-cli -p "$port" scan "$cursor" match 'user:*' count 2)"
    cursor="$(head -1 <<<"$out")"
    tail -n +2 <<<"$out"
    [ "$cursor" = "0" ] && break
  done | sed '/^$/d' | sort -u
}
[ "$(scan_all "$REDIS_PORT")" = "$(scan_all "$KV_PORT")" ] || fail "SCAN sets differ"
[ "$(scan_all "$KV_PORT" | wc -l)" = "3" ] || fail "SCAN MATCH user:* should find 3 keys"
echo "ok: SCAN"

redis-cli -p "$KV_PORT" set t v px 100000 >/dev/null
pttl="$(redis-cli -p "$KV_PORT" pttl t)"
{ [ "$pttl" -gt 98000 ] && [ "$pttl" -le 100000 ]; } || fail "PTTL $pttl out of range"

info="$(redis-cli -p "$KV_PORT" info)"
for want in '# Server' 'redis_version:' 'tcp_port:'"$KV_PORT" '# Keyspace' 'db0:keys=12,expires=1'; do
  grep -q "$want" <<<"$info" || fail "INFO lacks $want"
done
[ "$(redis-cli -p "$KV_PORT" info keyspace | grep -c '^#')" = "1" ] || fail "INFO keyspace: one section"
# The fields monitoring tools read are in the same sections as redis-server's, and numeric.
for field in connected_clients blocked_clients maxclients used_memory used_memory_rss \
             used_memory_peak maxmemory total_commands_processed instantaneous_ops_per_sec \
             keyspace_hits keyspace_misses expired_keys evicted_keys pubsub_channels \
             pubsub_patterns used_cpu_sys used_cpu_user used_cpu_sys_children \
             used_cpu_user_children uptime_in_seconds aof_enabled loading connected_slaves; do
  section_of() { redis-cli -p "$1" info | tr -d '\r' | awk -v f="$field" '/^#/ {s=$2} $0 ~ "^"f":" {print s}'; }
  [ "$(section_of "$REDIS_PORT")" = "$(section_of "$KV_PORT")" ] ||
    fail "INFO $field: redis has it in '$(section_of "$REDIS_PORT")', kv in '$(section_of "$KV_PORT")'"
  tr -d '\r' <<<"$info" | grep -qE "^$field:[0-9.]+$" || fail "INFO $field is not a number"
done
for field in used_memory_human maxmemory_policy role; do
  grep -q "^$field:" <<<"$info" || fail "INFO lacks $field"
done
[ "$(redis-cli -p "$KV_PORT" info memory | grep -c '^#')" = "1" ] || fail "INFO memory: one section"
# instantaneous_ops_per_sec follows the load: it rises while a pipeline of INCRs runs.
rate=0
for _ in $(seq 1 100); do
  printf 'INCR rate\r\n%.0s' $(seq 1 2000) | redis-cli -p "$KV_PORT" >/dev/null
  rate="$(redis-cli -p "$KV_PORT" info stats | tr -d '\r' | sed -n 's/^instantaneous_ops_per_sec://p')"
  [ "$rate" -gt 0 ] && break
done
[ "$rate" -gt 0 ] || fail "instantaneous_ops_per_sec stays 0 under load"
fields() { redis-cli -p "$1" client list | head -1 | tr ' ' '\n' | cut -d= -f1; }
[ "$(fields "$REDIS_PORT")" = "$(fields "$KV_PORT")" ] || fail "CLIENT LIST fields differ"
redis-cli -p "$KV_PORT" client list | grep -q 'cmd=client|list' || fail "CLIENT LIST cmd"
[ "$(redis-cli -p "$KV_PORT" command count)" -ge 35 ] || fail "COMMAND COUNT"
[ "$(redis-cli -p "$KV_PORT" command | grep -c '^get$')" = "1" ] || fail "COMMAND lists get"
redis-cli -p "$KV_PORT" command docs | grep -qi err && fail "COMMAND DOCS errs"
for k in save appendonly; do
  [ "$(redis-cli -p "$REDIS_PORT" config get $k)" = "$(redis-cli -p "$KV_PORT" config get $k)" ] \
    || fail "CONFIG GET $k differs"
done
# A hash past 128 fields or with a value over 64 bytes is a hash table in both servers: the
# same fields and values, in an order neither promises.
for port in "$REDIS_PORT" "$KV_PORT"; do
  redis-cli -p "$port" hset big $(for i in $(seq 1 200); do echo "f$i v$i"; done) >/dev/null
  redis-cli -p "$port" hset wide a 1 b "$(printf 'x%.0s' $(seq 100))" c 3 >/dev/null
  redis-cli -p "$port" hdel big f7 f8 >/dev/null
done
[ "$(redis-cli -p "$KV_PORT" hlen big)" = 198 ] || fail "the large hash was not filled"
for cmd in "hlen big" "hget big f150" "hlen wide" "hget wide b"; do
  [ "$(redis-cli -p "$REDIS_PORT" $cmd)" = "$(redis-cli -p "$KV_PORT" $cmd)" ] || fail "$cmd differs"
done
for key in big wide; do
  [ "$(redis-cli -p "$REDIS_PORT" hgetall $key | paste - - | sort)" = \
    "$(redis-cli -p "$KV_PORT" hgetall $key | paste - - | sort)" ] || fail "HGETALL $key differs"
done
# HSCAN over the large hash with a small COUNT visits every field; HRANDFIELD picks fields of it.
hscan_all() {
  local port=$1 cursor=0 out
  while :; do
    out="$(redis-cli -p "$port" hscan big "$cursor" count 7)"
    cursor="$(head -1 <<<"$out")"
    tail -n +2 <<<"$out" | paste - -
    [ "$cursor" = "0" ] && break
  done | sed '/^\s*$/d' | sort -u
}
[ "$(hscan_all "$KV_PORT" | wc -l)" = 198 ] || fail "HSCAN missed fields"
[ "$(hscan_all "$REDIS_PORT")" = "$(hscan_all "$KV_PORT")" ] || fail "HSCAN differs"
[ "$(redis-cli -p "$KV_PORT" hrandfield big 20 | sort -u | grep -c '^f[0-9]*$')" = 20 ] \
  || fail "HRANDFIELD 20: not 20 distinct fields"
[ "$(redis-cli -p "$KV_PORT" hrandfield big -300 withvalues | paste - - \
     | awk '{ if ("f" substr($2, 2) != $1) bad++ } END { print NR, bad + 0 }')" = "300 0" ] \
  || fail "HRANDFIELD -300 WITHVALUES: wrong count or a value that is not its field's"
echo "ok: large hashes (HSCAN, HRANDFIELD)"

# Replies whose order redis leaves unspecified (sets in hash order; kv_server does not copy the
# order of redis's hash tables): the same members, sorted. A redis-cli line per command, as in
# the session.
unordered_session() {
  local -
  set -f  # the words are redis arguments, not file patterns
  redis-cli -p "$1" flushall >/dev/null
  while read -r line; do
    [ -z "$line" ] && continue
    echo "> $line"
    redis-cli -p "$1" $line | sort
  done <<'EOF'
SADD s a b c d e f
SMEMBERS s
SINTER s
SUNION s s
SDIFF s missing
SSCAN s 0 COUNT 100
SSCAN s 0 MATCH [a-c]* COUNT 100
SRANDMEMBER s 100
SADD t c d e f g h
SINTER s t
SUNION s t missing
SDIFF s t
SDIFF t s missing
SINTERSTORE d s t
SMEMBERS d
SUNIONSTORE d s t d
SMEMBERS d
SDIFFSTORE d s t
SMEMBERS d
SADD mixed 1 2 x
SMEMBERS mixed
SPOP s 100
EXISTS s
EOF
}
[ "$(unordered_session "$REDIS_PORT")" = "$(unordered_session "$KV_PORT")" ] \
  || fail "set replies differ: $(diff <(unordered_session "$REDIS_PORT") <(unordered_session "$KV_PORT"))"
# Random picks: the right count, members of the set, distinct unless the count is negative.
redis-cli -p "$KV_PORT" sadd r $(seq 1 20) x >/dev/null
[ "$(redis-cli -p "$KV_PORT" srandmember r 5 | sort -u | wc -l)" = 5 ] || fail "SRANDMEMBER 5"
[ "$(redis-cli -p "$KV_PORT" srandmember r -50 | wc -l)" = 50 ] || fail "SRANDMEMBER -50"
[ "$(redis-cli -p "$KV_PORT" srandmember r -50 | grep -cvE '^([0-9]+|x)$')" = 0 ] \
  || fail "SRANDMEMBER gave a non-member"
popped="$(redis-cli -p "$KV_PORT" spop r 7 | sort)"
[ "$(sort -u <<<"$popped" | wc -l)" = 7 ] || fail "SPOP 7: $popped"
[ "$(redis-cli -p "$KV_PORT" scard r)" = 14 ] || fail "SPOP 7 left $(redis-cli -p "$KV_PORT" scard r)"
for m in $popped; do
  [ "$(redis-cli -p "$KV_PORT" sismember r "$m")" = 0 ] || fail "SPOP left $m in the set"
done
# A set of 1,000 members (a hash table in both servers): SSCAN with a small COUNT visits every
# member.
for port in "$REDIS_PORT" "$KV_PORT"; do
  redis-cli -p "$port" sadd big $(seq -f 'm%g' 1 1000) >/dev/null
done
sscan_all() {
  local port=$1 cursor=0 out
  while :; do
    out="$(redis-cli -p "$port" sscan big "$cursor" count 7)"
    cursor="$(head -1 <<<"$out")"
    tail -n +2 <<<"$out"
    [ "$cursor" = "0" ] && break
  done | sed '/^$/d' | sort -u
}
[ "$(sscan_all "$KV_PORT" | wc -l)" = 1000 ] || fail "SSCAN missed members"
[ "$(sscan_all "$REDIS_PORT")" = "$(sscan_all "$KV_PORT")" ] || fail "SSCAN sets differ"
echo "ok: sets (unordered replies, random picks, SSCAN)"

# Sorted sets: seeded random commands on both servers, replies compared byte for byte.
python3 "$ZSET_FUZZ" "$REDIS_PORT" "$KV_PORT" 18 || fail "sorted-set replies differ"
python3 "$ZSET_FUZZ" "$REDIS_PORT" "$KV_PORT" 7 || fail "sorted-set replies differ"
# A large sorted set (a skiplist in redis): ZSCAN with a small COUNT visits every member, and
# scores print the same.
for port in "$REDIS_PORT" "$KV_PORT"; do
  redis-cli -p "$port" zadd bigz $(for i in $(seq 1 300); do echo "$i.25 m$i"; done) >/dev/null
done
zscan_all() {
  local port=$1 cursor=0 out
  while :; do
    out="$(redis-cli -p "$port" zscan bigz "$cursor" count 7)"
    cursor="$(head -1 <<<"$out")"
    tail -n +2 <<<"$out" | paste - -
    [ "$cursor" = "0" ] && break
  done | sed '/^\s*$/d' | sort -u
}
[ "$(zscan_all "$KV_PORT" | wc -l)" = 300 ] || fail "ZSCAN missed members"
[ "$(zscan_all "$REDIS_PORT")" = "$(zscan_all "$KV_PORT")" ] || fail "ZSCAN differs"
# ZRANDMEMBER's picks are random in both servers: check what redis promises, on both (so the
# checks are right about redis too). A positive count below the size gives distinct members, a
# negative one exactly that many picks (repeats allowed); WITHSCORES pairs each with its own
# score (m<i> has i.25); no count gives one member.
for port in "$REDIS_PORT" "$KV_PORT"; do
  zr() { redis-cli -p "$port" zrandmember bigz "$@"; }
  [ "$(zr 5 | sort -u | grep -c '^m[0-9]*$')" = 5 ] || fail "ZRANDMEMBER 5 on $port"
  [ "$(zr 250 | sort -u | grep -c '^m[0-9]*$')" = 250 ] || fail "ZRANDMEMBER 250 on $port"
  [ "$(zr -400 | grep -c '^m[0-9]*$')" = 400 ] || fail "ZRANDMEMBER -400 on $port"
  [ "$(zr -50 withscores | paste - - | grep -cE '^m([0-9]+)\s\1\.25$')" = 50 ] \
    || fail "ZRANDMEMBER -50 WITHSCORES on $port: a wrong count or score"
  [ "$(zr 3 withscores | paste - - | grep -cE '^m([0-9]+)\s\1\.25$')" = 3 ] \
    || fail "ZRANDMEMBER 3 WITHSCORES on $port"
  zr | grep -qE '^m([0-9]+)$' || fail "ZRANDMEMBER without a count on $port"
done
echo "ok: sorted sets (seeded random commands, ZSCAN, ZRANDMEMBER)"

# HELLO 2: the same reply but for the client id; AUTH as the default user and SETNAME apply.
hello() { redis-cli -p "$1" hello 2 auth default any setname hi | sed '8s/.*/ID/'; }
[ "$(hello "$REDIS_PORT")" = "$(hello "$KV_PORT")" ] || fail "HELLO 2 differs: $(hello "$KV_PORT")"
[ "$(printf 'HELLO 2 SETNAME hi\nCLIENT GETNAME\n' | redis-cli -p "$KV_PORT" | tail -1)" = "hi" ] \
  || fail "HELLO SETNAME"
echo "ok: INFO, CLIENT LIST, COMMAND, CONFIG GET, HELLO shapes"

# DEBUG: kv's subcommands are its own, but DEBUG HELP has redis-server's form (an array of
# status lines: the same first line, subcommands with indented descriptions, HELP last) and the
# errors are redis-server's to the byte.
debug_help_shape() {
  raw "$1" 'DEBUG HELP\r\n' | python3 -c '
import ast, sys
reply = ast.literal_eval(sys.stdin.read()).decode()
lines = reply.split("\r\n")
assert lines[-1] == "", "no final CRLF"
count, items = int(lines[0][1:]), lines[1:-1]
assert lines[0][0] == "*" and count == len(items) and count >= 4, reply
assert all(i.startswith("+") for i in items), reply
names = [i[1:] for i in items if not i.startswith("+    ")]
assert all(n.split()[0].isupper() for n in names), names
print(items[0]); print(items[-2]); print(items[-1])'
}
redis_help="$(debug_help_shape "$REDIS_PORT")" || fail "DEBUG HELP from redis-server: $redis_help"
kv_help="$(debug_help_shape "$KV_PORT")" || fail "DEBUG HELP from kv_server is not redis-shaped"
[ "$redis_help" = "$kv_help" ] || fail "DEBUG HELP differs: redis '$redis_help', kv '$kv_help'"
redis-cli -p "$KV_PORT" debug help | grep -qx 'CRASH-KEYSPACE' || fail "DEBUG HELP lacks CRASH-KEYSPACE"
for c in 'DEBUG nosuch\r\n' 'DEBUG HELP extra\r\n' 'DEBUG\r\n' 'debug Crash-Keyspace now\r\n'; do
  r="$(raw "$REDIS_PORT" "$c")" k="$(raw "$KV_PORT" "$c")"
  [ "$r" = "$k" ] || fail "DEBUG reply differs for $c: redis $r, kv $k"
done
echo "ok: DEBUG HELP in redis-server's form, DEBUG errors identical"

# SHUTDOWN ends the server gracefully (exit 0).
redis-cli -p "$KV_PORT" shutdown >/dev/null 2>&1 || true
for _ in $(seq 1 600); do kill -0 "$KV_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$KV_PID" 2>/dev/null; then fail "SHUTDOWN did not stop kv_server"; fi
wait "$KV_PID" && echo "ok: SHUTDOWN exits 0" || fail "kv_server exited $? after SHUTDOWN"

# Configured limits: --maxclients, a bulk over --proto-max-bulk-len, a request over
# --max-multibulk-count.
kv_start "$1" --proto-max-bulk-len 10 --max-multibulk-count 3 --maxclients 5
[ "$(redis-cli -p "$KV_PORT" config get maxclients | tail -1)" = "5" ] || fail "--maxclients"
got="$(raw "$KV_PORT" '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$11\r\n')"
[ "$got" = "$(printf '%s' "b'+OK\\r\\n-ERR Protocol error: invalid bulk length\\r\\n'")" ] \
  || fail "--proto-max-bulk-len: $got"
got="$(raw "$KV_PORT" '*4\r\n')"
[ "$got" = "b'-ERR Protocol error: invalid multibulk length\\r\\n'" ] \
  || fail "--max-multibulk-count: $got"
echo "ok: configured protocol limits"
