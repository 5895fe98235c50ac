"""tests/integration/kv_threads.py — kv_server --threads N against redis-server (kv_threads_test.sh).

  kv_threads.py compare KV_PORT REDIS_PORT THREADS SEED COUNT
      COUNT random commands (strings, lists, sets, hashes, sorted sets, expiry, MGET/MSET/DEL/
      UNLINK/EXISTS/TOUCH over keys of every shard, DBSIZE, KEYS, FLUSHDB, and RENAME/SMOVE/LMOVE/
      SINTERSTORE/MULTI-EXEC over hash-tagged keys of one shard), spread over 8 connections that
      sit on every hub of kv_server; each reply must equal redis-server's (KEYS and SMEMBERS as
      sets, a positive TTL as "positive").
  kv_threads.py scan KV_PORT THREADS
      500 keys: SCAN (COUNT 20, MATCH, TYPE) walks every shard and returns each key, KEYS and
      DBSIZE agree.
  kv_threads.py crossslot KV_PORT THREADS
      what cannot be split answers CROSSSLOT (RENAME, SMOVE, SINTERSTORE, MSETNX over two shards;
      MULTI over two shards aborts EXEC); WATCH and blocking pops of another shard's key answer
      errors; the same commands over keys of one other shard work.
  kv_threads.py pubsub PORT THREADS
      6 subscribers on every hub (SUBSCRIBE ch, PSUBSCRIBE c*): PUBSUB NUMSUB/CHANNELS/NUMPAT
      from either hub count them all; each PUBLISH from another connection answers 12 and every subscriber gets every message, in order; keyspace
      notifications of keys of every shard reach a subscriber on each hub.

The connection's hub is told by CLIENT ID (kv_server --threads N gives hub i the ids i+1,
i+1+N, ...): the drivers open connections until every hub has some.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kv_resp import Client  # noqa: E402

CROSSSLOT = "-CROSSSLOT Keys in request don't hash to the same slot"


def key_shard(key, n):
    """kv/shards.cc's key_shard: the hash tag, FNV-1a, a multiplicative mix."""
    k = key.encode()
    open_at = k.find(b"{")
    if open_at >= 0:
        close_at = k.find(b"}", open_at + 1)
        if close_at > open_at + 1:
            k = k[open_at + 1:close_at]
    h = 1469598103934665603
    for c in k:
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    h = (h * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    return (h >> 32) % n


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def clients_on_every_hub(port, threads, wanted):
    """`wanted` connections spread over every hub, consecutive ones on different hubs (needs
    wanted >= threads)."""
    per_hub = -(-wanted // threads)
    by_hub = {h: [] for h in range(threads)}
    extra = []
    for _ in range(400):
        c = Client(port)
        hub = (c.call("CLIENT", "ID") - 1) % threads
        if len(by_hub[hub]) < per_hub:
            by_hub[hub].append(c)
        else:
            extra.append(c)
        if all(len(v) >= per_hub for v in by_hub.values()):
            break
    else:
        fail("the kernel never spread connections over every hub")
    out = []
    for i in range(per_hub):
        for h in range(threads):
            out.append(by_hub[h][i])
    for c in extra + out[wanted:]:
        c.sock.close()
    return out[:wanted]


def find_keys(threads, shard, count, prefix):
    """`count` key names of `shard`."""
    out, i = [], 0
    while len(out) < count:
        k = "%s%d" % (prefix, i)
        if key_shard(k, threads) == shard:
            out.append(k)
        i += 1
    return out


# --- compare ------------------------------------------------------------------------------------

def random_command(r, keys, tagged):
    k = r.choice(keys)
    some = lambda n: [r.choice(keys) for _ in range(r.randint(1, n))]  # noqa: E731
    v = str(r.randint(0, 30))
    choices = [
        lambda: ["SET", k, v],
        lambda: ["SET", k, v, "EX", "1000"],
        lambda: ["SET", k, v, "NX"],
        lambda: ["GET", k],
        lambda: ["INCR", k],
        lambda: ["INCRBY", k, v],
        lambda: ["APPEND", k, v],
        lambda: ["STRLEN", k],
        lambda: ["GETDEL", k],
        lambda: ["GETSET", k, v],
        lambda: ["DEL"] + some(4),
        lambda: ["UNLINK"] + some(3),
        lambda: ["EXISTS"] + some(5),
        lambda: ["TOUCH"] + some(3),
        lambda: ["MGET"] + some(6),
        lambda: ["MSET"] + sum(([x, str(r.randint(0, 9))] for x in some(4)), []),
        lambda: ["LPUSH", k, v, v],
        lambda: ["RPUSH", k, v],
        lambda: ["LPOP", k],
        lambda: ["LRANGE", k, "0", "-1"],
        lambda: ["SADD", k, v, str(r.randint(0, 5))],
        lambda: ["SREM", k, v],
        lambda: ["SMEMBERS", k],
        lambda: ["SCARD", k],
        lambda: ["HSET", k, "f" + v, v],
        lambda: ["HGETALL", k],
        lambda: ["HDEL", k, "f" + v],
        lambda: ["ZADD", k, v, "m" + str(r.randint(0, 5))],
        lambda: ["ZRANGE", k, "0", "-1", "WITHSCORES"],
        lambda: ["ZINCRBY", k, "1.5", "m1"],
        lambda: ["EXPIRE", k, "1000"],
        lambda: ["TTL", k],
        lambda: ["PERSIST", k],
        lambda: ["TYPE", k],
        lambda: ["DBSIZE"],
        lambda: ["KEYS", "*"],
        lambda: ["KEYS", "k1*"],
        lambda: ["RENAME", r.choice(tagged), r.choice(tagged)],
        lambda: ["SADD", r.choice(tagged), v],
        lambda: ["SMOVE", r.choice(tagged), r.choice(tagged), v],
        lambda: ["RPUSH", r.choice(tagged), v],
        lambda: ["LMOVE", r.choice(tagged), r.choice(tagged), "LEFT", "RIGHT"],
        lambda: ["SINTERSTORE", r.choice(tagged), r.choice(tagged), r.choice(tagged)],
        lambda: ["MSETNX", r.choice(tagged), v, r.choice(tagged), v],
        lambda: ["MULTI"],
    ]
    cmd = r.choice(choices)()
    if r.random() < 0.003:
        cmd = ["FLUSHDB"]
    return cmd


def normalize(cmd, reply):
    name = cmd[0].upper()
    if name in ("KEYS", "SMEMBERS") and isinstance(reply, list):
        return sorted(reply)
    if name == "TTL" and isinstance(reply, int) and reply > 0:
        return "positive"
    if name == "EXEC" and isinstance(reply, list):
        return [sorted(x) if isinstance(x, list) else x for x in reply]
    return reply


def compare(kv_port, redis_port, threads, seed, count):
    r = random.Random(seed)
    kv = clients_on_every_hub(kv_port, threads, 8)
    redis = [Client(redis_port) for _ in range(8)]
    kv[0].call("FLUSHALL")
    redis[0].call("FLUSHALL")
    keys = ["k%d" % i for i in range(16)]
    shards_hit = {key_shard(k, threads) for k in keys}
    if len(shards_hit) != threads:
        fail("the key pool misses a shard")
    tag = "{t%d}" % r.randint(0, 99)
    tagged = [tag + x for x in "abcde"]
    compared = 0
    for i in range(count):
        conn = i % 8
        cmd = random_command(r, keys, tagged)
        if cmd == ["MULTI"]:
            # A transaction over the hash-tagged keys (one shard, maybe another hub's).
            batch = [["MULTI"], ["INCR", tagged[0] + "n"], ["SET", tagged[1], "x"],
                     ["GET", tagged[1]], ["SADD", tagged[2], "m"], ["EXEC"]]
        else:
            batch = [cmd]
        if r.random() < 0.05:
            # A pipeline: 30 commands in one write (kv holds those for one other shard and
            # sends them together).
            batch = [random_command(r, keys, tagged) for _ in range(30)]
            batch = [c for c in batch if c != ["MULTI"]]
            wants = redis[conn].pipeline(batch)
            gots = kv[conn].pipeline(batch)
            for c, want, got in zip(batch, wants, gots):
                compared += 1
                if normalize(c, want) != normalize(c, got):
                    fail("pipelined command %d on connection %d: %r\n  redis: %r\n  kv:    %r"
                         % (i, conn, c, want, got))
            continue
        for c in batch:
            want = normalize(c, redis[conn].call(*c))
            got = normalize(c, kv[conn].call(*c))
            compared += 1
            if want != got:
                fail("command %d on connection %d: %r\n  redis: %r\n  kv:    %r"
                     % (i, conn, c, want, got))
    # The final state, key by key.
    for k in keys + tagged + [tagged[0] + "n"]:
        for c in (["TYPE", k], ["DUMPISH", k]):
            if c[0] == "DUMPISH":
                t = redis[0].call("TYPE", k)
                c = {"+string": ["GET", k], "+list": ["LRANGE", k, "0", "-1"],
                     "+set": ["SMEMBERS", k], "+hash": ["HGETALL", k],
                     "+zset": ["ZRANGE", k, "0", "-1", "WITHSCORES"]}.get(t, ["EXISTS", k])
            want = normalize(c, redis[0].call(*c))
            got = normalize(c, kv[1].call(*c))
            if want != got:
                fail("final state: %r\n  redis: %r\n  kv:    %r" % (c, want, got))
    print("ok: %d replies identical to redis-server's over %d hubs (seed %d)"
          % (compared, threads, seed))


# --- scan -----------------------------------------------------------------------------------------

def scan(port, threads):
    c = Client(port)
    c.call("FLUSHALL")
    names = ["s:%d" % i for i in range(500)]
    args = []
    for n in names:
        args += [n, "v"]
    c.call("MSET", *args)
    c.call("SADD", "set:1", "m")
    if c.call("DBSIZE") != 501:
        fail("DBSIZE %r after 501 keys" % c.call("DBSIZE"))
    seen, cursor, calls = [], "0", 0
    while True:
        cursor, batch = c.call("SCAN", cursor, "COUNT", "20")
        seen += batch
        calls += 1
        if cursor == "0":
            break
        if calls > 10000:
            fail("SCAN does not end")
    if sorted(set(seen)) != sorted(names + ["set:1"]):
        fail("SCAN saw %d distinct keys of 501" % len(set(seen)))
    if sorted(c.call("KEYS", "*")) != sorted(names + ["set:1"]):
        fail("KEYS * is not every key")
    got = set()
    cursor = "0"
    while True:
        cursor, batch = c.call("SCAN", cursor, "MATCH", "s:1*", "COUNT", "50")
        got |= set(batch)
        if cursor == "0":
            break
    if got != {n for n in names if n.startswith("s:1")}:
        fail("SCAN MATCH s:1* saw %d keys" % len(got))
    cursor, batch = c.call("SCAN", "0", "TYPE", "set", "COUNT", "1000")
    while cursor != "0":
        cursor, more = c.call("SCAN", cursor, "TYPE", "set", "COUNT", "1000")
        batch += more
    if batch != ["set:1"]:
        fail("SCAN TYPE set saw %r" % batch)
    small = Client(port)
    small.call("FLUSHALL")
    small.call("MSET", "a", "1", "b", "2", "c", "3")
    cursor, batch = small.call("SCAN", "0")
    if cursor != "0" or sorted(batch) != ["a", "b", "c"]:
        fail("SCAN 0 of 3 keys: %r %r (redis answers all with cursor 0)" % (cursor, batch))
    print("ok: SCAN, KEYS and DBSIZE over %d shards agree (501 keys)" % threads)


# --- crossslot ------------------------------------------------------------------------------------

def crossslot(port, threads):
    conns = clients_on_every_hub(port, threads, 2 * threads)
    c = conns[0]  # on hub 0
    c.call("FLUSHALL")
    a0, b0 = find_keys(threads, 0, 2, "x")
    a1, b1 = find_keys(threads, 1, 2, "y")
    expect = [
        (["RENAME", a0, a1], CROSSSLOT),
        (["SET", a0, "v"], "+OK"),
        (["RENAME", a0, a1], CROSSSLOT),
        (["SMOVE", a0, a1, "m"], CROSSSLOT),
        (["SINTERSTORE", a0, a1], CROSSSLOT),
        (["MSETNX", a0, "1", a1, "1"], CROSSSLOT),
        (["MSETNX", a0, "1", a1], "-ERR wrong number of arguments for 'msetnx' command"),
        (["LMOVE", a0, a1, "LEFT", "LEFT"], CROSSSLOT),
        # keys of one other shard: executed there
        (["SET", a1, "w"], "+OK"),
        (["RENAME", a1, b1], "+OK"),
        (["GET", b1], "w"),
        (["MSETNX", a1, "1", b1, "2"], 0),
        (["SADD", a1, "m"], 1),
        (["SMOVE", a1, "{%s}z" % a1, "m"], 1),
        (["WATCH", a1], "-ERR WATCH takes keys of this connection's own shard only "
                        "(kv_server --threads > 1); see README, Differences"),
        (["WATCH", a0], "+OK"),
        (["UNWATCH"], "+OK"),
        (["BLPOP", a1, "0.1"], "-ERR blocking commands take keys of this connection's own "
                               "shard only (kv_server --threads > 1); see README, Differences"),
        (["BLPOP", b0, "0.05"], None),
        # MULTI over one other shard runs there; over two it aborts
        (["MULTI"], "+OK"),
        (["INCR", a1], "+QUEUED"),
        (["SET", a1, "5"], "+QUEUED"),
        (["INCR", a1], "+QUEUED"),
        (["EXEC"], [1, "+OK", 6]),
        (["MULTI"], "+OK"),
        (["SET", a1, "1"], "+QUEUED"),
        (["SET", a0, "1"], CROSSSLOT),
        (["EXEC"], "-EXECABORT Transaction discarded because of previous errors."),
        (["MULTI"], "+OK"),
        (["DBSIZE"], "-ERR 'dbsize' inside MULTI is not supported by kv_server --threads > 1 "
                     "(it visits every shard)"),
        (["DISCARD"], "+OK"),
        (["GET", a1], "6"),
        (["DEL", a0, a1, b0, b1, "{%s}z" % a1], 4),
    ]
    for cmd, want in expect:
        got = c.call(*cmd)
        if got != want:
            fail("%r: expected %r, got %r" % (cmd, want, got))
    # Shard 1's keyspace actor crashes and is restarted: hub 0 reaches the new one, no data lost.
    other = conns[1]  # on hub 1
    c.call("SET", a1, "kept")
    if other.call("DEBUG", "CRASH-KEYSPACE") != "+OK":
        fail("DEBUG CRASH-KEYSPACE")
    import time
    for _ in range(100):
        if "restarts=1" in [l for l in other.call("INFO", "supervision").split("\r\n")
                            if l.startswith("child_keyspace")][0]:
            break
        time.sleep(0.05)
    if c.call("GET", a1) != "kept" or c.call("SET", a1, "new") != "+OK" or other.call("GET", a1) != "new":
        fail("after shard 1's keyspace actor restarted")
    print("ok: CROSSSLOT, WATCH, blocking and MULTI limits over %d shards; a shard's keyspace "
          "actor restarted loses nothing" % threads)


# --- pubsub ---------------------------------------------------------------------------------------

def read_push(client):
    return client._reply() if hasattr(client, "_reply") else client.read()


def pubsub(port, threads):
    subs = clients_on_every_hub(port, threads, 6)
    for s in subs:
        s.send("SUBSCRIBE", "ch")
        if s.read() != ["subscribe", "ch", 1]:
            fail("SUBSCRIBE")
        s.send("PSUBSCRIBE", "c*")
        if s.read() != ["psubscribe", "c*", 2]:
            fail("PSUBSCRIBE")
    pubs = clients_on_every_hub(port, threads, threads)
    for p in pubs:  # the subscriptions of every hub, asked from each hub
        for cmd, want in ((["PUBSUB", "NUMSUB", "ch", "other"], ["ch", 6, "other", 0]),
                          (["PUBSUB", "CHANNELS"], ["ch"]), (["PUBSUB", "CHANNELS", "x*"], []),
                          (["PUBSUB", "NUMPAT"], 1)):
            got = p.call(*cmd)
            if got != want:
                fail("%r: %r, not %r" % (cmd, got, want))
    for i in range(50):
        n = pubs[i % threads].call("PUBLISH", "ch", "m%d" % i)
        if n != 12:
            fail("PUBLISH %d from hub %d answered %r, not 12" % (i, i % threads, n))
    # Each kind in publishing order. (How "message" and "pmessage" pushes of different
    # PUBLISHes interleave is not redis-server's strict alternation: the channel and the pattern
    # are two actors; kv_server does the same on one hub with pipelined PUBLISHes.)
    for s in subs:
        pushes = [s.read() for _ in range(100)]
        if [p for p in pushes if p[0] == "message"] != [["message", "ch", "m%d" % i]
                                                         for i in range(50)]:
            fail("a subscriber missed a message, or got them out of order")
        if [p for p in pushes if p[0] == "pmessage"] != [["pmessage", "c*", "ch", "m%d" % i]
                                                          for i in range(50)]:
            fail("a subscriber missed a pmessage, or got them out of order")
    # keyspace notifications of every shard reach every hub
    pubs[0].call("CONFIG", "SET", "notify-keyspace-events", "E$")
    watchers = clients_on_every_hub(port, threads, threads)
    for w in watchers:
        w.send("SUBSCRIBE", "__keyevent@0__:set")
        if w.read() != ["subscribe", "__keyevent@0__:set", 1]:
            fail("SUBSCRIBE __keyevent@0__:set")
    keys = find_keys(threads, 0, 5, "n") + find_keys(threads, threads - 1, 5, "n")
    for k in keys:
        pubs[-1].call("SET", k, "v")
    for w in watchers:
        got = [w.read()[2] for _ in keys]
        if sorted(got) != sorted(keys):
            fail("keyspace notifications: %r" % got)
    pubs[0].call("CONFIG", "SET", "notify-keyspace-events", "")
    print("ok: PUBLISH and keyspace notifications reach subscribers on all %d hubs" % threads)


# --- writer / check (kill -9 with --aof) ---------------------------------------------------------

def writer(port, name, seconds, threads, remote):
    """RPUSH TAGlog NAME:i, INCR TAGcounter, SET TAGNAME:i i — one at a time, for `seconds` or
    until the server goes away; prints NAME=ACKED=TAG, ACKED the rounds acknowledged whole. With
    `remote`, TAG is a hash tag of a shard other than the connection's own (every write goes to
    another hub's keyspace actor); else it is empty (keys of every shard)."""
    import time
    acked = 0
    tag = ""
    deadline = time.time() + float(seconds)
    try:
        c = Client(port, timeout=10)
        if remote:
            hub = (c.call("CLIENT", "ID") - 1) % threads
            i = 0
            while key_shard("{r%d}" % i, threads) == hub:
                i += 1
            tag = "{r%d}" % i
        while time.time() < deadline or acked < 50:
            if not isinstance(c.call("RPUSH", tag + "log", "%s:%d" % (name, acked)), int):
                break
            if not isinstance(c.call("INCR", tag + "counter"), int):
                break
            if c.call("SET", "%s%s:%d" % (tag, name, acked), acked) != "+OK":
                break
            acked += 1
            if time.time() > deadline + 60:
                break
    except (OSError, ConnectionError):
        pass
    print("%s=%d=%s" % (name, acked, tag))


def check(port, triples, exact=False):
    """NAME=ACKED=TAG ...: every acknowledged round of every writer is there, in order. With
    `exact` (the writers ended on their own: every command they sent was answered), nothing
    else is there either: each log holds exactly its writer's rounds, each counter the number
    of INCRs."""
    c = Client(port)
    total = {}
    rounds = 0
    for triple in triples:
        name, acked, tag = triple.split("=")
        acked = int(acked)
        rounds += acked
        total[tag] = total.get(tag, 0) + acked
        log = c.call("LRANGE", tag + "log", "0", "-1")
        mine = [int(x.split(":")[1]) for x in log if x.split(":")[0] == name]
        if mine != list(range(len(mine))) or len(mine) < acked or (exact and len(mine) != acked):
            fail("%s: the log holds %d pushes for %d acknowledged, or out of order: %r"
                 % (name, len(mine), acked, mine[:20]))
        keys = ["%s%s:%d" % (tag, name, i) for i in range(acked)]
        values = c.call("MGET", *keys) if acked else []
        if values != [str(i) for i in range(acked)]:
            missing = sum(1 for i, v in enumerate(values) if v != str(i))
            fail("%s: %d of %d acknowledged SETs lost" % (name, missing, acked))
    for tag, n in total.items():
        counter = int(c.call("GET", tag + "counter") or 0)
        if counter < n or (exact and counter != n):
            fail("counter %r: %d for %d acknowledged INCRs" % (tag, counter, n))
    print("ok: every acknowledged write of %d writers is there (%d rounds)"
          % (len(triples), rounds))


def main():
    mode = sys.argv[1]
    if mode == "compare":
        compare(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                int(sys.argv[6]))
    elif mode == "scan":
        scan(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "crossslot":
        crossslot(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "pubsub":
        pubsub(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "writer":
        writer(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5]),
               sys.argv[6] == "remote")
    elif mode == "check":
        exact = sys.argv[3:4] == ["--exact"]
        check(int(sys.argv[2]), sys.argv[4:] if exact else sys.argv[3:], exact)
    else:
        fail("unknown mode " + mode)


if __name__ == "__main__":
    main()
