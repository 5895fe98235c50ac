"""What a read costs in the statistics and the notifications, next to a reference redis-server.

Usage: kv_reads.py REDIS_PORT KV_PORT. Runs the same commands on both servers and compares:
  1. INFO stats' keyspace_hits / keyspace_misses: for every read command of every type, on a
     key that holds its type, another type and nothing (and on an expired key), the hits and
     misses that command added; writes, which redis does not count, are in the list too. Then
     the totals of the whole sequence.
  2. The "keymiss" notification (class m of notify-keyspace-events): with "Km", "Em", "KEA"
     (A does not include m: no keymiss) and "AKEm", what a pattern subscriber receives after
     each command, grouped by command.
Prints one line per check; exits non-zero on the first difference.
"""
import sys
import time

from kv_resp import Client

REDIS_PORT, KV_PORT = int(sys.argv[1]), int(sys.argv[2])

# The keys every command finds: one of each type; "nx" and "nx2" never exist.
FIXTURE = [
    ("SET", "s", "hello"),
    ("RPUSH", "l", "a", "b", "c"),
    ("HSET", "h", "f", "v", "g", "w"),
    ("SADD", "st", "a", "b"),
    ("ZADD", "z", "1", "a", "2", "b"),
]

# Reads (counted once per key they look up) and writes (not counted), on present, absent and
# wrong-type keys, including error replies that come before or after the lookup.
COMMANDS = """
GET s | GET nx | GET l | MGET s nx l nx2 | STRLEN s | STRLEN nx | STRLEN l
GETRANGE s 0 1 | GETRANGE nx 0 1 | GETRANGE s x 1 | SUBSTR nx 0 1
GETBIT s 1 | GETBIT nx 1 | GETBIT s -1 | BITCOUNT s | BITCOUNT nx | BITCOUNT s 0 | BITCOUNT s x y
BITPOS s 1 | BITPOS nx 1 | BITPOS s 2 | LCS s nx | LCS s s | LCS l s
SET s v GET | SET nx v GET | SET l v GET | SET s v GET NX | GETSET s v | GETSET nx v
GETEX s | GETEX nx | GETEX s PX 0 | GETEX nx BADOPT | GETDEL s | GETDEL nx | GETDEL l
SET s v | SET s v NX | SETNX s v | SETEX s 10 v | INCRBYFLOAT nx 1 | APPEND nx x | INCR nx
SETRANGE nx 0 x | SETBIT nx 1 1 | MSET s 1 nx 2 | MSETNX s 1 nx 2
LLEN l | LLEN nx | LLEN s | LRANGE l 0 -1 | LRANGE nx 0 -1 | LRANGE l x 1 | LINDEX l 0
LINDEX nx 0 | LPOS l a | LPOS nx a | LPOS l a RANK 0
LPUSH l x | LPUSHX nx x | LPOP l | LPOP nx | LSET nx 0 x | LREM nx 0 x | LTRIM nx 0 1
LINSERT nx BEFORE a b | LMOVE l nx LEFT LEFT | LMOVE nx l LEFT LEFT | RPOPLPUSH nx l
LMPOP 2 nx l LEFT | BLPOP nx l 1 | BLMOVE l nx LEFT LEFT 1 | BLMPOP 1 2 nx l LEFT
HGET h f | HGET h nof | HGET nx f | HGET s f | HMGET h f x | HMGET nx f x | HLEN h | HLEN nx
HEXISTS h f | HEXISTS nx f | HSTRLEN h f | HSTRLEN nx f | HGETALL h | HGETALL nx | HKEYS h
HKEYS nx | HVALS h | HVALS nx | HRANDFIELD h | HRANDFIELD nx | HRANDFIELD nx 0 | HRANDFIELD h x
HSCAN h 0 | HSCAN nx 0 | HSCAN h x | HSCAN nx 0 COUNT 0
HSET h f v | HSETNX nx f v | HDEL nx f | HINCRBY nx f 1 | HINCRBYFLOAT nx f 1
SMEMBERS st | SMEMBERS nx | SISMEMBER st a | SISMEMBER nx a | SMISMEMBER st a x
SMISMEMBER nx a b | SCARD st | SCARD nx | SRANDMEMBER st | SRANDMEMBER nx | SRANDMEMBER nx 3
SRANDMEMBER st x | SSCAN st 0 | SSCAN nx 0 | SSCAN st 0 MATCH
SINTER st nx nx2 | SINTER nx st | SINTER st s nx | SINTERSTORE d st nx | SUNION st nx nx2
SUNION nx s st | SUNIONSTORE d st nx | SDIFF st nx nx2 | SDIFF nx st nx2 | SDIFFSTORE d st nx
SDIFFSTORE d nx st | SINTERCARD 3 st nx nx2 | SINTERCARD 2 nx st | SINTERCARD 3 st s nx
SADD nx a | SREM nx a | SPOP nx | SPOP st | SMOVE st nx a | SMOVE nx st a
ZSCORE z a | ZSCORE nx a | ZMSCORE z a x | ZMSCORE nx a b | ZCARD z | ZCARD nx | ZCOUNT z 0 1
ZCOUNT nx 0 1 | ZCOUNT nx x y | ZLEXCOUNT z - + | ZLEXCOUNT nx - + | ZRANK z a | ZRANK nx a
ZREVRANK z a | ZREVRANK nx a | ZRANGE z 0 -1 | ZRANGE nx 0 -1 | ZRANGE z 0 -1 BADARG
ZRANGE nx (1 2 BYSCORE | ZRANGESTORE d z 0 -1 | ZRANGESTORE d nx 0 -1
ZRANGEBYSCORE z 0 1 | ZRANGEBYSCORE nx 0 1 | ZREVRANGEBYSCORE nx 1 0 | ZREVRANGE z 0 1
ZREVRANGE nx 0 1 | ZRANGEBYLEX nx - + | ZREVRANGEBYLEX nx + - | ZRANDMEMBER z | ZRANDMEMBER nx
ZRANDMEMBER z x | ZSCAN z 0 | ZSCAN nx 0
ZUNION 3 z nx nx2 | ZUNION 3 z s nx | ZUNION 2 z nx WEIGHTS x | ZINTER 3 z nx nx2
ZINTER 2 nx z | ZDIFF 3 z nx nx2 | ZDIFF 2 nx z | ZUNIONSTORE d 2 z nx | ZINTERSTORE d 2 z nx
ZDIFFSTORE d 2 z nx | ZINTERCARD 3 z nx nx2 | ZINTERCARD 2 nx z | ZUNION 2 st nx
ZADD nx 1 a | ZINCRBY nx 1 a | ZREM nx a | ZREMRANGEBYRANK nx 0 1 | ZREMRANGEBYSCORE nx 0 1
ZREMRANGEBYLEX nx - + | ZPOPMIN nx | ZPOPMAX z | BZPOPMIN nx z 1 | ZMPOP 2 nx z MIN
BZMPOP 1 2 nx z MIN
EXISTS s nx | EXISTS nx nx s s | TOUCH s nx | TYPE s | TYPE l | TYPE nx | TTL s | TTL nx
PTTL z | PTTL nx | EXPIRETIME s | EXPIRETIME nx | PEXPIRETIME nx
OBJECT ENCODING s | OBJECT ENCODING nx | OBJECT FREQ nx | OBJECT REFCOUNT nx | OBJECT HELP
COPY s d | COPY nx d | COPY s l
DEL s nx | UNLINK s nx | RENAME s d | RENAME nx d | RENAMENX s l | RANDOMKEY | EXPIRE s 10
EXPIRE nx 10 | PEXPIREAT nx 10 | PERSIST nx | KEYS * | SCAN 0 | DBSIZE | WATCH s nx
"""
COMMANDS = [c.split() for c in COMMANDS.replace("\n", "|").split("|") if c.strip()]


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def stats(c):
    fields = dict(line.split(":", 1) for line in c.call("INFO", "stats").split("\r\n")
                  if ":" in line)
    return int(fields["keyspace_hits"]), int(fields["keyspace_misses"])


def load_fixture(c):
    assert c.call("FLUSHALL") == "+OK"
    for command in FIXTURE:
        c.call(*command)


def let_expire(c):
    """Gives "e" an expiry of 1 ms and lets it pass without looking the key up: the next read
    deletes it (or active expiry did already); either way, that read is a miss."""
    assert c.call("SET", "e", "v", "PX", "1") == "+OK"
    time.sleep(0.05)


def counts(port):
    """Per command, the (hits, misses) it added; then the totals of the whole sequence."""
    c = Client(port)
    assert c.call("CONFIG", "RESETSTAT") == "+OK"
    assert stats(c) == (0, 0), "CONFIG RESETSTAT left keyspace counters"
    per_command = []
    for command in COMMANDS:
        load_fixture(c)
        before = stats(c)
        c.call(*command)
        after = stats(c)
        per_command.append((after[0] - before[0], after[1] - before[1]))
    let_expire(c)
    before = stats(c)
    assert c.call("GET", "e") is None
    after = stats(c)
    per_command.append((after[0] - before[0], after[1] - before[1]))
    return per_command, stats(c)


def check_counts():
    want, want_total = counts(REDIS_PORT)
    got, got_total = counts(KV_PORT)
    names = [" ".join(c) for c in COMMANDS] + ["GET of an expired key"]
    for name, w, g in zip(names, want, got):
        if w != g:
            fail(f"{name}: redis counts (hits, misses) {w}, kv {g}")
    # The sequence does exercise both counters (a broken comparison cannot pass unnoticed).
    if want_total[0] < 50 or want_total[1] < 50:
        fail(f"the reference counted too little: {want_total}")
    if want_total != got_total:
        fail(f"INFO stats totals: redis {want_total}, kv {got_total}")
    print(f"ok: keyspace_hits/keyspace_misses of {len(names)} commands "
          f"(totals {got_total[0]} hits, {got_total[1]} misses)", flush=True)


# The commands of the notification sequence: reads that find, miss or find another type, writes
# (no keymiss from their own lookups) and OBJECT (counted, never notified).
NOTIFIED = [c.split() for c in """
GET s | GET nx | MGET s nx l nx2 | STRLEN nx | GETRANGE nx 0 1 | BITCOUNT nx | LCS nx nx2
SET nx2 v GET | SET s v GET | GETEX nx | GETDEL nx | LLEN nx | LRANGE nx 0 -1 | LINDEX l 0
LPOS nx a | HGET nx f | HGET h nof | HMGET nx f | HGETALL nx | HSCAN nx 0 | HRANDFIELD nx
SMEMBERS nx | SISMEMBER st x | SINTER st nx | SUNIONSTORE d nx nx2 | SINTERCARD 2 nx st
ZSCORE nx a | ZRANGE nx 0 -1 | ZRANGESTORE d nx 0 -1 | ZUNION 2 z nx | ZRANDMEMBER nx
EXISTS nx s | TOUCH nx | TYPE nx | TTL nx | PEXPIRETIME nx | COPY nx d | OBJECT ENCODING nx
INCR nx | LPUSH nx x | LPOP nx | HDEL nx f | SREM nx a | ZREM nx a | DEL nx | EXPIRE nx 10
""".replace("\n", "|").split("|") if c.strip()]


def notifications(port, flags, expired):
    """What a subscriber to every keyspace and keyevent channel gets, per command of NOTIFIED
    (and, with `expired`, of a GET of an expired key), with notify-keyspace-events `flags`."""
    c = Client(port)
    assert c.call("CONFIG", "SET", "notify-keyspace-events", "") == "+OK"
    load_fixture(c)
    if expired:
        let_expire(c)
    assert c.call("CONFIG", "SET", "notify-keyspace-events", flags) == "+OK"
    sub = Client(port)
    sub.send("PSUBSCRIBE", "__key*__:*")
    assert sub.read()[0] == "psubscribe"
    sub.send("SUBSCRIBE", "mark")
    assert sub.read()[0] == "subscribe"
    commands = NOTIFIED + ([["GET", "e"]] if expired else [])
    seen = []
    for i, command in enumerate(commands):
        c.call(*command)
        c.call("PUBLISH", "mark", str(i))  # every notification of the command comes before it
        events = []
        while True:
            message = sub.read()
            if message[0] == "message":
                assert message[1:] == ["mark", str(i)], message
                break
            assert message[0] == "pmessage", message
            events.append(f"{message[2]} {message[3]}")
        seen.append(events)
    sub.close()
    assert c.call("CONFIG", "SET", "notify-keyspace-events", "") == "+OK"
    c.close()
    return [(" ".join(command), events) for command, events in zip(commands, seen)]


def check_notifications():
    # "Km"/"Em": the keymiss events alone (no class x, so an expired key is safe to read).
    for flags, expired in (("Km", True), ("Em", True), ("KEA", False), ("AKEm", False)):
        want = notifications(REDIS_PORT, flags, expired)
        got = notifications(KV_PORT, flags, expired)
        for (name, w), (_, g) in zip(want, got):
            if w != g:
                fail(f"notify-keyspace-events {flags}, {name}: redis sent {w}, kv {g}")
        keymiss = sum(1 for _, events in want for e in events if "keymiss" in e)
        if "m" in flags and keymiss < 20:
            fail(f"{flags}: the reference sent only {keymiss} keymiss events")
        if "m" not in flags and keymiss:
            fail(f"{flags}: redis sent keymiss events, which A does not include")
        print(f"ok: notify-keyspace-events {flags}: the same events for {len(want)} commands "
              f"({keymiss} keymiss)", flush=True)


check_counts()
check_notifications()
