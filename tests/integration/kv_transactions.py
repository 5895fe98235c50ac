"""Transactions, pattern pub/sub and keyspace notifications with concurrent clients, against
one server.

Usage: kv_transactions.py PORT. Prints one line per observation; the test runs it against
redis-server and kv_server and requires the same lines. It also asserts the properties itself
(the optimistic counter ends exact, a blocked client is served only after EXEC, ...), so a run
against either server fails on its own when one is broken. Every wait has a generous deadline: a
busy machine only makes it slower.
"""
import sys
import threading
import time

from kv_resp import DEADLINE, Client

PORT = int(sys.argv[1])


def connect():
    return Client(PORT)


def show(name, value):
    print(f"{name}: {value!r}", flush=True)


def wait_until(what, predicate):
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def blocked_clients(c):
    info = c.call("INFO", "clients")
    for line in info.split("\r\n"):
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    raise AssertionError("INFO clients lacks blocked_clients")


def optimistic_counter(clients=20, increments=50):
    """N clients increment one counter with WATCH/GET/MULTI/SET/EXEC, retrying on a null EXEC:
    the final value is exactly N x increments, and some EXECs were refused (they did race)."""
    c = connect()
    c.call("DEL", "counter")
    retries = [0] * clients
    errors = []

    def worker(i):
        try:
            me = connect()
            done = 0
            while done < increments:
                assert me.call("WATCH", "counter") == "+OK"
                value = int(me.call("GET", "counter") or 0)
                # Let the others run between the read and the write, so EXECs do collide.
                time.sleep(0.0005 * (i % 3))
                assert me.call("MULTI") == "+OK"
                assert me.call("SET", "counter", value + 1) == "+QUEUED"
                result = me.call("EXEC")
                if result is None:
                    retries[i] += 1
                else:
                    assert result == ["+OK"], result
                    done += 1
            me.close()
        except Exception as e:  # reported below: a thread's failure must fail the test
            errors.append(f"client {i}: {e!r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE * 4)
    assert not errors, errors
    final = int(c.call("GET", "counter"))
    assert final == clients * increments, f"counter {final}, expected {clients * increments}"
    assert sum(retries) > 0, "no EXEC was ever refused: the clients did not race"
    show("optimistic counter", final)
    c.close()


def exec_wakes_blocked_clients(waiters=10):
    """BLPOP clients blocked on a list are served after the EXEC that pushed to it, in the
    order they blocked, and see the transaction's final state (a pop inside it included)."""
    c = connect()
    c.call("DEL", "jobs")
    blocked = []
    for i in range(waiters):
        b = connect()
        b.send("BLPOP", "jobs", 0)
        blocked.append(b)
        wait_until("client %d to block" % i, lambda: blocked_clients(c) == i + 1)
    assert c.call("MULTI") == "+OK"
    for cmd in (("RPUSH", "jobs", "a", "b", "c"), ("LPOP", "jobs"), ("RPUSH", "jobs", "d"),
                ("LLEN", "jobs")):
        assert c.call(*cmd) == "+QUEUED"
    # Nothing was served while the commands were queued.
    assert not blocked[0].pending(0.2), "a blocked client was served before EXEC"
    show("exec", c.call("EXEC"))
    served = [b.read() for b in blocked[:3]]
    show("served in order", served)
    assert blocked_clients(c) == waiters - 3
    # A blocking command inside MULTI does not block: it answers at once.
    assert c.call("MULTI") == "+OK"
    c.call("BLPOP", "nothing", 0)
    c.call("BRPOP", "jobs", 0)
    c.call("BZMPOP", 0, 1, "nothing", "MIN")
    show("blocking inside exec", c.call("EXEC"))
    c.call("RPUSH", "jobs", *range(waiters))
    rest = [b.read() for b in blocked[3:]]
    show("rest served", rest)
    for b in blocked:
        b.close()
    c.close()


def watch_from_other_connections():
    """WATCH is invalidated by a write from any connection, by an expiry, by FLUSHALL/FLUSHDB,
    but not by a read or by a write to another key."""
    a, b = connect(), connect()
    a.call("FLUSHALL")

    def attempt(name, setup, interfere):
        for cmd in setup:
            a.call(*cmd)
        assert a.call("WATCH", "w") == "+OK"
        interfere()
        a.call("MULTI")
        a.call("INCR", "n")
        show(name, a.call("EXEC"))

    attempt("untouched", [("SET", "w", 1)], lambda: None)
    attempt("read by another", [], lambda: b.call("GET", "w"))
    attempt("other key written", [], lambda: b.call("SET", "other", 1))
    attempt("written by another", [], lambda: b.call("SET", "w", 2))
    attempt("deleted by another", [], lambda: b.call("DEL", "w"))
    attempt("missing, then created", [], lambda: b.call("LPUSH", "w", 1))
    attempt("hash field", [("DEL", "w"), ("HSET", "w", "f", 1)],
            lambda: b.call("HINCRBY", "w", "f", 1))
    attempt("set member added", [("DEL", "w"), ("SADD", "w", "a")],
            lambda: b.call("SADD", "w", "b"))
    attempt("set member moved in", [("SADD", "src", "m")],
            lambda: b.call("SMOVE", "src", "w", "m"))
    attempt("sorted set member removed", [("DEL", "w"), ("ZADD", "w", 1, "a", 2, "b")],
            lambda: b.call("ZREM", "w", "a"))
    attempt("sorted set stored over", [("ZADD", "zsrc", 5, "x")],
            lambda: b.call("ZUNIONSTORE", "w", 1, "zsrc"))
    attempt("flushdb", [("SET", "w", 1)], lambda: b.call("FLUSHDB"))
    attempt("flushall, key missing", [], lambda: b.call("FLUSHALL"))
    attempt("expired", [("SET", "w", 1, "PX", 100)],
            lambda: wait_until("w to expire", lambda: b.call("PTTL", "w") == -2))
    attempt("expire set by another", [("SET", "w", 1)], lambda: b.call("EXPIRE", "w", 100))
    attempt("unwatched", [], lambda: (a.call("UNWATCH"), b.call("SET", "w", 3)))
    a.close()
    b.close()


def subscribe_inside_multi():
    c = connect()
    c.send("MULTI")
    c.send("SUBSCRIBE", "tx-channel")
    c.send("PSUBSCRIBE", "tx-*")
    c.send("EXEC")
    show("subscribe inside multi", [c.read() for _ in range(4)])
    p = connect()
    show("publish count", p.call("PUBLISH", "tx-channel", "hi"))
    show("received", [c.read(), c.read()])
    show("multi while subscribed", c.call("MULTI"))
    c.close()
    p.close()


def pattern_subscriptions():
    s, p = connect(), connect()
    s.send("PSUBSCRIBE", "news.*", "h?llo", "news.*")
    show("psubscribe", [s.read() for _ in range(3)])
    s.send("SUBSCRIBE", "news.sport")
    show("subscribe", s.read())
    show("numpat", p.call("PUBSUB", "NUMPAT"))
    show("channels", p.call("PUBSUB", "CHANNELS"))
    show("channels news*", p.call("PUBSUB", "CHANNELS", "news*"))
    show("channels x*", p.call("PUBSUB", "CHANNELS", "x*"))
    show("numsub", p.call("PUBSUB", "NUMSUB", "news.sport", "h?llo", "nobody"))
    show("numsub none", p.call("PUBSUB", "NUMSUB"))
    show("publish both", p.call("PUBLISH", "news.sport", "goal"))
    show("got message then pmessage", [s.read(), s.read()])
    show("publish pattern", p.call("PUBLISH", "hello", "world"))
    show("got pmessage", s.read())
    show("publish nobody", p.call("PUBLISH", "nothing", "x"))
    s.send("PUNSUBSCRIBE", "h?llo", "never")
    show("punsubscribe", [s.read(), s.read()])
    show("publish after punsubscribe", p.call("PUBLISH", "hello", "again"))
    show("ping subscribed", s.call("PING"))
    show("get subscribed", s.call("GET", "x"))
    s.send("PUNSUBSCRIBE")
    show("punsubscribe all", s.read())
    s.send("PUNSUBSCRIBE")
    show("punsubscribe none", s.read())
    s.send("UNSUBSCRIBE")
    show("unsubscribe all", s.read())
    show("numpat after", p.call("PUBSUB", "NUMPAT"))
    show("get after", s.call("GET", "x"))
    s.close()
    p.close()


def keyspace_notifications():
    """Every write of every type notifies as redis-server does: the same channels, messages,
    and order, for a subscriber of both __keyspace and __keyevent."""
    s, c = connect(), connect()
    c.call("FLUSHALL")
    show("config set", c.call("CONFIG", "SET", "notify-keyspace-events", "KEAn"))
    show("config get", c.call("CONFIG", "GET", "notify-keyspace-events"))
    s.send("PSUBSCRIBE", "__key*__:*")
    s.read()
    writes = [
        ("SET", "s", "1"), ("SET", "s", "2", "EX", "100"), ("SET", "s", "3", "NX"),
        ("SETNX", "s2", "x"), ("SETEX", "s3", "100", "v"), ("PSETEX", "s4", "100000", "v"),
        ("GETSET", "s", "4"), ("INCR", "n"), ("INCRBY", "n", "5"), ("DECR", "n"),
        ("DECRBY", "n", "2"), ("INCRBYFLOAT", "f", "1.5"), ("APPEND", "s", "x"),
        ("SETRANGE", "s", "0", "ab"), ("SETBIT", "b", "3", "1"), ("MSET", "m1", "1", "m2", "2"),
        ("MSETNX", "m3", "1", "m4", "2"), ("GETEX", "m1", "PX", "100000"),
        ("GETEX", "m1", "PERSIST"), ("GETDEL", "m2"), ("EXPIRE", "m3", "100"),
        ("PERSIST", "m3"), ("EXPIRE", "m4", "-1"), ("RENAME", "m3", "m5"), ("COPY", "m5", "m6"),
        ("DEL", "m5", "m6", "nothing"), ("UNLINK", "s2"),
        ("RPUSH", "l", "a", "b", "c"), ("LPUSH", "l", "z"), ("LPUSHX", "l", "y"),
        ("RPUSHX", "nolist", "y"), ("LSET", "l", "0", "Y"), ("LINSERT", "l", "BEFORE", "a", "q"),
        ("LREM", "l", "1", "q"), ("LTRIM", "l", "0", "3"), ("LPOP", "l"), ("RPOP", "l", "1"),
        ("LMOVE", "l", "l2", "LEFT", "RIGHT"), ("RPOPLPUSH", "l", "l2"),
        ("LMPOP", "1", "l2", "LEFT", "COUNT", "5"), ("BLPOP", "l", "1"),
        ("HSET", "h", "a", "1", "b", "2"), ("HSETNX", "h", "c", "3"), ("HINCRBY", "h", "a", "2"),
        ("HINCRBYFLOAT", "h", "b", "0.5"), ("HMSET", "h", "d", "4"), ("HDEL", "h", "a", "zz"),
        ("HDEL", "h", "b", "c", "d"),
        ("SADD", "st", "a", "b", "c"), ("SADD", "st", "a"), ("SREM", "st", "a", "zz"),
        ("SMOVE", "st", "st2", "b"), ("SADD", "st2", "c"), ("SMOVE", "st", "st2", "c"),
        ("SADD", "st", "x", "y"), ("SUNIONSTORE", "su", "st", "st2"),
        ("SINTERSTORE", "su", "st", "nothing"), ("SINTERSTORE", "si", "st", "su"),
        ("SDIFFSTORE", "sd", "st", "st2"), ("SPOP", "sd", "10"), ("SPOP", "st"),
        ("SREM", "st2", "b", "c"),
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), ("ZADD", "z", "1", "a"),
        ("ZINCRBY", "z", "1", "a"), ("ZADD", "z", "INCR", "1", "b"), ("ZREM", "z", "a", "zz"),
        ("ZREMRANGEBYRANK", "z", "0", "0"), ("ZREMRANGEBYSCORE", "z", "4", "4"),
        ("ZADD", "zl", "0", "a", "0", "b", "0", "c"), ("ZREMRANGEBYLEX", "zl", "[a", "[a"),
        ("ZRANGESTORE", "zr", "z", "0", "-1"), ("ZRANGESTORE", "zr", "nothing", "0", "-1"),
        ("ZUNIONSTORE", "zu", "2", "z", "zl"), ("ZINTERSTORE", "zu", "2", "z", "nothing"),
        ("ZDIFFSTORE", "zd", "1", "z"), ("ZMPOP", "2", "nothing", "z", "MIN", "COUNT", "1"),
        ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "5"),
        ("BZPOPMAX", "zl", "1"), ("ZREM", "zl", "b"), ("BZMPOP", "1", "1", "zd", "MAX"),
        ("ZREMRANGEBYRANK", "zd", "0", "-1"),
        ("SET", "gone", "x", "PX", "1"),
    ]
    for w in writes:
        c.call(*w)
    # The expiry comes from the clock (active expiry or this lookup): wait for it.
    wait_until("gone to expire", lambda: c.call("EXISTS", "gone") == 0)
    c.call("PUBLISH", "__keyspace@0__:end", "end")
    events = []
    while True:
        m = s.read()
        if m[2] == "__keyspace@0__:end":
            break
        events.append((m[2], m[3]))
    for channel, message in events:
        print(f"  {channel} {message}")
    assert ("__keyevent@0__:expired", "gone") in events, "no expired event"
    show("events", len(events))
    show("only keyevent", c.call("CONFIG", "SET", "notify-keyspace-events", "Elg"))
    c.call("LPUSH", "only", "1")
    c.call("SET", "str", "no class: not notified")
    c.call("DEL", "only")
    c.call("PUBLISH", "__keyevent@0__:end", "end")
    got = []
    while True:
        m = s.read()
        if m[2] == "__keyevent@0__:end":
            break
        got.append((m[2], m[3]))
    show("keyevent only", got)
    c.call("CONFIG", "SET", "notify-keyspace-events", "")
    s.close()
    c.close()


def client_kill_and_list():
    """CLIENT KILL closes other connections (a blocked one leaves no waiter behind); CLIENT
    LIST shows a transaction (flags=x, multi=<queued>) and pattern subscriptions (psub)."""
    c = connect()

    def closed(victim):
        try:
            victim.read()
            return "still open"
        except (ConnectionError, ConnectionResetError):
            return "closed"

    v = connect()
    vid = v.call("CLIENT", "ID")
    show("kill id", c.call("CLIENT", "KILL", "ID", vid))
    show("victim", closed(v))
    show("kill again", c.call("CLIENT", "KILL", "ID", vid))
    b = connect()
    bid = b.call("CLIENT", "ID")
    b.send("BLPOP", "never-pushed", 0)
    wait_until("the client to block", lambda: blocked_clients(c) == 1)
    show("kill blocked", c.call("CLIENT", "KILL", "ID", bid))
    show("blocked victim", closed(b))
    wait_until("no blocked client", lambda: blocked_clients(c) == 0)
    p = connect()
    p.send("PSUBSCRIBE", "a*", "b*")
    p.read(), p.read()
    m = connect()
    m.call("MULTI")
    m.call("SET", "k", "v")
    m.call("INCR", "n")
    lines = c.call("CLIENT", "LIST").strip().split("\n")
    fields = lambda line: dict(f.split("=", 1) for f in line.split(" "))
    by_cmd = {fields(l)["cmd"]: fields(l) for l in lines}
    sub = by_cmd["psubscribe"]
    show("subscriber flags", (sub["flags"], sub["sub"], sub["psub"], sub["multi"]))
    multi = by_cmd["incr"] if "incr" in by_cmd else by_cmd["multi"]
    show("multi flags", (multi["flags"], multi["multi"]))
    show("kill pubsub type", c.call("CLIENT", "KILL", "TYPE", "pubsub"))
    show("subscriber", closed(p))
    m.call("DISCARD")
    me = c.call("CLIENT", "ID")
    show("kill me, skipme no", c.call("CLIENT", "KILL", "ID", me, "SKIPME", "no"))
    show("me", closed(c))
    m.close()


optimistic_counter()
exec_wakes_blocked_clients()
watch_from_other_connections()
subscribe_inside_multi()
pattern_subscriptions()
keyspace_notifications()
client_kill_and_list()
print("done")
