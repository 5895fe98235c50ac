"""Blocking list and sorted-set commands under many concurrent clients, against one server.

Usage: kv_blocking.py PORT. Prints one line per scenario with what the clients got; the test
runs it against redis-server and kv_server and requires the same lines, and it asserts the
properties itself (first blocked first served, nothing lost, no waiter left behind).
Every wait has a generous deadline: a busy machine only makes it slower.
"""
import sys
import threading
import time

from kv_resp import DEADLINE, Client

PORT = int(sys.argv[1])


def connect():
    return Client(PORT)


admin = connect()


def blocked_clients():
    info = admin.call("INFO", "clients")
    for line in info.split("\r\n"):
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    raise AssertionError("INFO has no blocked_clients")


def await_blocked(n):
    end = time.time() + DEADLINE
    while blocked_clients() != n:
        assert time.time() < end, f"never saw {n} blocked clients (now {blocked_clients()})"
        time.sleep(0.005)


def block(*commands, in_order=True):
    """One new client per command, each sent its (blocking) command; returns the clients once
    the server counts every one of them blocked. in_order waits for each before sending the
    next, so the server blocked them in the order given (the order redis serves them in)."""
    base = blocked_clients()
    clients = []
    for cmd in commands:
        cl = connect()
        cl.send(*cmd)
        clients.append(cl)
        if in_order:
            await_blocked(base + len(clients))
    await_blocked(base + len(clients))
    return clients


def finish(*clients):
    """Closes a scenario's clients once they were all served: no waiter may be left."""
    await_blocked(0)
    for cl in clients:
        cl.close()


def from_many(*commands):
    """Runs each command on its own new connection, all at once (one thread each); returns when
    every one was answered, and fails if any was not."""
    errors = []

    def run(cmd):
        try:
            cl = connect()
            cl.call(*cmd)
            cl.close()
        except Exception as e:  # a thread's failure must fail the scenario: reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(cmd,)) for cmd in commands]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors


def report(name, value):
    print(f"{name}: {value}", flush=True)


admin.call("FLUSHALL")

# 1. First blocked, first served: 50 clients block on q one after another; one RPUSH of 50
#    elements gives client i element i.
clients = block(*[("BLPOP", "q", "0")] * 50)
assert admin.call("RPUSH", "q", *range(50)) == 50
got = [c.read() for c in clients]
assert got == [["q", str(i)] for i in range(50)], got
assert admin.call("LLEN", "q") == 0
finish(*clients)
report("fifo", "50 clients served in blocking order")

# 2. More waiters than elements: RPUSH of 2 with 3 waiters serves the first two; the third
#    keeps waiting and a later push from another connection wakes it.
a, b, c = block(*[("BRPOP", "r", "0")] * 3)
admin.call("RPUSH", "r", "x", "y")
report("partial", [a.read(), b.read()])
await_blocked(1)
other = connect()
other.call("LPUSH", "r", "z")
report("later", c.read())
finish(a, b, c, other)

# 3. Several keys: the first key that gets a list serves; the reply names it.
m, = block(("BLPOP", "k1", "k2", "k3", "0"))
admin.call("RPUSH", "k2", "v2")
report("multikey", m.read())
finish(m)

# 4. Timeout: a null array, and no waiter left.
t = connect()
report("timeout", t.call("BLPOP", "never", "0.1"))
report("timeout-blmove", t.call("BLMOVE", "never", "d", "LEFT", "LEFT", "0.1"))
report("timeout-blmpop", t.call("BLMPOP", "0.1", "1", "never", "LEFT"))
assert blocked_clients() == 0
t.close()

# 5. Replies before the blocking command are sent while it blocks; requests after it wait.
p = connect()
p.send_raw(b"PING\r\nBLPOP pk 0\r\nPING\r\n")
report("pipelined-before", p.read())
await_blocked(1)
admin.call("RPUSH", "pk", "v")
report("pipelined-served", [p.read(), p.read()])
p.close()

# 6. A closed connection leaves no waiter: the element pushed after it is not spent on it.
gone, = block(("BLPOP", "ck", "0"))
gone.close()
await_blocked(0)
admin.call("RPUSH", "ck", "kept")
report("closed", admin.call("LRANGE", "ck", "0", "-1"))

# 7. BLMOVE feeds a client blocked on its destination; BLMPOP pops up to COUNT.
mover, reader, multi = block(("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"), ("BLPOP", "dst", "0"),
                             ("BLMPOP", "0", "2", "nothing", "mp", "LEFT", "COUNT", "2"))
admin.call("RPUSH", "src", "s1", "s2")
admin.call("RPUSH", "mp", "a", "b", "c")
report("blmove", [mover.read(), reader.read(), multi.read()])
report("blmove-left", [admin.call("LRANGE", "src", "0", "-1"), admin.call("LRANGE", "dst", "0", "-1"),
                       admin.call("LRANGE", "mp", "0", "-1")])
finish(mover, reader, multi)

# 8. Many concurrent clients: 200 consumers block, 200 producers push one element each from
#    their own connections at once; every element reaches exactly one consumer.
consumers = block(*[("BLPOP", "work", "0")] * 200, in_order=False)
from_many(*[("RPUSH", "work", f"job{i}") for i in range(200)])
jobs = sorted(cl.read()[1] for cl in consumers)
assert jobs == sorted(f"job{i}" for i in range(200)), jobs[:5]
assert admin.call("LLEN", "work") == 0
finish(*consumers)
report("concurrent", "200 consumers, 200 producers: each job delivered once")

# 9. Consumers that give up: half of 100 blocked clients close, the pushes go to the others.
waiting = block(*[("BLPOP", "half", "0")] * 100, in_order=False)
stay, leave = waiting[0::2], waiting[1::2]
for l_ in leave:
    l_.close()
await_blocked(50)
admin.call("RPUSH", "half", *range(60))
report("half", sorted(int(s_.read()[1]) for s_ in stay) == list(range(50)))
report("half-left", admin.call("LLEN", "half"))
finish(*stay)

# 10. BZPOPMIN/BZPOPMAX: first blocked first served, each client the next lowest (highest) of
#     one ZADD; the reply names the key; timeouts give a null array.
zmin = block(*[("BZPOPMIN", "nothing", "zq", "0")] * 20)
assert admin.call("ZADD", "zq", *[x for i in range(25) for x in (i, f"m{i:02}")]) == 25
got = [cl.read() for cl in zmin]
assert got == [["zq", f"m{i:02}", str(i)] for i in range(20)], got
assert admin.call("ZCARD", "zq") == 5
zmax, = block(("BZPOPMAX", "zq2", "0"))
admin.call("ZADD", "zq2", "1.5", "low", "inf", "high")
report("bzpop", [got[0], got[-1], zmax.read(), admin.call("ZRANGE", "zq", "0", "-1")])
report("bzpop-timeout", [zmax.call("BZPOPMIN", "never", "0.1"), zmax.call("BZPOPMAX", "never", "0.1")])
finish(*zmin, zmax)

# 11. Clients of both kinds on one key: a sorted set there serves the BZPOPMIN client even though
#     a BLPOP client blocked first (and the BLPOP client keeps waiting for a list).
lister, popper = block(("BLPOP", "both", "0"), ("BZPOPMIN", "both", "0"))
admin.call("ZADD", "both", "7", "seven")
report("mixed-kinds", popper.read())
await_blocked(1)
admin.call("DEL", "both")
admin.call("RPUSH", "both", "item")
report("mixed-kinds-list", lister.read())
finish(lister, popper)

# 12. A closed BZPOPMIN client leaves no waiter: the member added after it stays.
gone, = block(("BZPOPMAX", "zk", "0"))
gone.close()
await_blocked(0)
admin.call("ZADD", "zk", "1", "kept")
report("bzpop-closed", admin.call("ZRANGE", "zk", "0", "-1", "WITHSCORES"))

# 13. 100 BZPOPMIN consumers, 100 producers adding one member each at once: each member reaches
#     exactly one consumer.
consumers = block(*[("BZPOPMIN", "zwork", "0")] * 100, in_order=False)
from_many(*[("ZADD", "zwork", i, f"job{i}") for i in range(100)])
jobs = sorted(cl.read()[1] for cl in consumers)
assert jobs == sorted(f"job{i}" for i in range(100)), jobs[:5]
assert admin.call("EXISTS", "zwork") == 0
finish(*consumers)
report("bzpop-concurrent", "100 consumers, 100 producers: each member delivered once")

# 14. BZMPOP: first blocked first served, each client up to its COUNT from the end it names, in
#     ZMPOP's nested reply; a client of BZPOPMIN on the same key takes its turn in between; a
#     timeout gives a null array; a closed BZMPOP client leaves no waiter.
first, between, second = block(("BZMPOP", "0", "2", "nothing", "zm", "MIN", "COUNT", "2"),
                               ("BZPOPMIN", "zm", "0"),
                               ("BZMPOP", "0", "1", "zm", "MAX", "COUNT", "10"))
assert admin.call("ZADD", "zm", *[x for i in range(6) for x in (i, f"e{i}")]) == 6
report("bzmpop", [first.read(), between.read(), second.read()])
assert admin.call("EXISTS", "zm") == 0
report("bzmpop-timeout", first.call("BZMPOP", "0.1", "2", "never", "zm", "MAX"))
gone, = block(("BZMPOP", "0", "1", "zk2", "MIN"))
gone.close()
await_blocked(0)
admin.call("ZADD", "zk2", "1", "kept")
report("bzmpop-closed", admin.call("ZRANGE", "zk2", "0", "-1"))
finish(first, between, second)

# 15. 50 BZMPOP consumers (COUNT 2) on two keys, 100 producers adding one member each at once:
#     every member reaches exactly one consumer.
consumers = block(*[("BZMPOP", "0", "2", "zw1", "zw2", "MIN", "COUNT", "2")] * 50, in_order=False)
from_many(*[("ZADD", f"zw{i % 2 + 1}", i, f"job{i}") for i in range(100)])
got = []
for cl in consumers:
    key, pairs = cl.read()
    got += [member for member, _ in pairs]
remaining = admin.call("ZRANGE", "zw1", "0", "-1") + admin.call("ZRANGE", "zw2", "0", "-1")
assert sorted(got + remaining) == sorted(f"job{i}" for i in range(100)), (len(got), remaining)
assert len(got) == len(set(got)), "a member was popped twice"
finish(*consumers)
report("bzmpop-concurrent", "50 consumers, 100 producers: each member delivered at most once, none lost")
