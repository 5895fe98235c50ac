"""Blocking list and sorted-set commands under many concurrent clients, against one server.

Usage: kv_blocking.py PORT. Prints one line per scenario with what the clients got; the test
runs it against redis-server and kv_server and requires the same lines, and it asserts the
properties itself (first blocked first served, nothing lost, no waiter left behind).
Every wait has a generous deadline: a busy machine only makes it slower.
"""
import socket
import sys
import threading
import time

PORT = int(sys.argv[1])
DEADLINE = 60.0


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Client:
    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=DEADLINE)
        self.buf = b""

    def send(self, *args):
        self.sock.sendall(encode(*args))

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return line.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError(line)

    def call(self, *args):
        self.send(*args)
        return self.read()

    def close(self):
        self.sock.close()


admin = Client()


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


def report(name, value):
    print(f"{name}: {value}", flush=True)


admin.call("FLUSHALL")

# 1. First blocked, first served: 50 clients block on q one after another; one RPUSH of 50
#    elements gives client i element i.
clients = []
for i in range(50):
    c = Client()
    c.send("BLPOP", "q", "0")
    await_blocked(i + 1)
    clients.append(c)
assert admin.call("RPUSH", "q", *range(50)) == 50
got = [c.read() for c in clients]
assert got == [["q", str(i)] for i in range(50)], got
assert admin.call("LLEN", "q") == 0
await_blocked(0)
for c in clients:
    c.close()
report("fifo", "50 clients served in blocking order")

# 2. More waiters than elements: RPUSH of 2 with 3 waiters serves the first two; the third
#    keeps waiting and a later push from another connection wakes it.
a, b, c = Client(), Client(), Client()
for i, cl in enumerate((a, b, c)):
    cl.send("BRPOP", "r", "0")
    await_blocked(i + 1)
admin.call("RPUSH", "r", "x", "y")
report("partial", [a.read(), b.read()])
await_blocked(1)
other = Client()
other.call("LPUSH", "r", "z")
report("later", c.read())
await_blocked(0)
for cl in (a, b, c, other):
    cl.close()

# 3. Several keys: the first key that gets a list serves; the reply names it.
m = Client()
m.send("BLPOP", "k1", "k2", "k3", "0")
await_blocked(1)
admin.call("RPUSH", "k2", "v2")
report("multikey", m.read())
m.close()

# 4. Timeout: a null array, and no waiter left.
t = Client()
report("timeout", t.call("BLPOP", "never", "0.1"))
report("timeout-blmove", t.call("BLMOVE", "never", "d", "LEFT", "LEFT", "0.1"))
report("timeout-blmpop", t.call("BLMPOP", "0.1", "1", "never", "LEFT"))
assert blocked_clients() == 0
t.close()

# 5. Replies before the blocking command are sent while it blocks; requests after it wait.
p = Client()
p.sock.sendall(b"PING\r\nBLPOP pk 0\r\nPING\r\n")
report("pipelined-before", p.read())
await_blocked(1)
admin.call("RPUSH", "pk", "v")
report("pipelined-served", [p.read(), p.read()])
p.close()

# 6. A closed connection leaves no waiter: the element pushed after it is not spent on it.
gone = Client()
gone.send("BLPOP", "ck", "0")
await_blocked(1)
gone.close()
await_blocked(0)
admin.call("RPUSH", "ck", "kept")
report("closed", admin.call("LRANGE", "ck", "0", "-1"))

# 7. BLMOVE feeds a client blocked on its destination; BLMPOP pops up to COUNT.
mover, reader, multi = Client(), Client(), Client()
mover.send("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
await_blocked(1)
reader.send("BLPOP", "dst", "0")
await_blocked(2)
multi.send("BLMPOP", "0", "2", "nothing", "mp", "LEFT", "COUNT", "2")
await_blocked(3)
admin.call("RPUSH", "src", "s1", "s2")
admin.call("RPUSH", "mp", "a", "b", "c")
report("blmove", [mover.read(), reader.read(), multi.read()])
report("blmove-left", [admin.call("LRANGE", "src", "0", "-1"), admin.call("LRANGE", "dst", "0", "-1"),
                       admin.call("LRANGE", "mp", "0", "-1")])
await_blocked(0)
for cl in (mover, reader, multi):
    cl.close()

# 8. Many concurrent clients: 200 consumers block, 200 producers push one element each from
#    their own connections at once; every element reaches exactly one consumer.
consumers = [Client() for _ in range(200)]
for cl in consumers:
    cl.send("BLPOP", "work", "0")
await_blocked(200)
errors = []


def produce(i):
    try:
        pr = Client()
        pr.call("RPUSH", "work", f"job{i}")
        pr.close()
    except Exception as e:  # reported below
        errors.append(e)


threads = [threading.Thread(target=produce, args=(i,)) for i in range(200)]
for th in threads:
    th.start()
for th in threads:
    th.join()
assert not errors, errors
jobs = sorted(cl.read()[1] for cl in consumers)
assert jobs == sorted(f"job{i}" for i in range(200)), jobs[:5]
assert admin.call("LLEN", "work") == 0
await_blocked(0)
for cl in consumers:
    cl.close()
report("concurrent", "200 consumers, 200 producers: each job delivered once")

# 9. Consumers that give up: half of 100 blocked clients close, the pushes go to the others.
stay = [Client() for _ in range(50)]
leave = [Client() for _ in range(50)]
for s_, l_ in zip(stay, leave):
    s_.send("BLPOP", "half", "0")
    l_.send("BLPOP", "half", "0")
await_blocked(100)
for l_ in leave:
    l_.close()
await_blocked(50)
admin.call("RPUSH", "half", *range(60))
report("half", sorted(int(s_.read()[1]) for s_ in stay) == list(range(50)))
report("half-left", admin.call("LLEN", "half"))
for s_ in stay:
    s_.close()
await_blocked(0)

# 10. BZPOPMIN/BZPOPMAX: first blocked first served, each client the next lowest (highest) of
#     one ZADD; the reply names the key; timeouts give a null array.
zmin = [Client() for _ in range(20)]
for i, cl in enumerate(zmin):
    cl.send("BZPOPMIN", "nothing", "zq", "0")
    await_blocked(i + 1)
assert admin.call("ZADD", "zq", *[x for i in range(25) for x in (i, f"m{i:02}")]) == 25
got = [cl.read() for cl in zmin]
assert got == [["zq", f"m{i:02}", str(i)] for i in range(20)], got
assert admin.call("ZCARD", "zq") == 5
zmax = Client()
zmax.send("BZPOPMAX", "zq2", "0")
await_blocked(1)
admin.call("ZADD", "zq2", "1.5", "low", "inf", "high")
report("bzpop", [got[0], got[-1], zmax.read(), admin.call("ZRANGE", "zq", "0", "-1")])
report("bzpop-timeout", [zmax.call("BZPOPMIN", "never", "0.1"), zmax.call("BZPOPMAX", "never", "0.1")])
await_blocked(0)
for cl in zmin + [zmax]:
    cl.close()

# 11. Clients of both kinds on one key: a sorted set there serves the BZPOPMIN client even though
#     a BLPOP client blocked first (and the BLPOP client keeps waiting for a list).
lister, popper = Client(), Client()
lister.send("BLPOP", "both", "0")
await_blocked(1)
popper.send("BZPOPMIN", "both", "0")
await_blocked(2)
admin.call("ZADD", "both", "7", "seven")
report("mixed-kinds", popper.read())
await_blocked(1)
admin.call("DEL", "both")
admin.call("RPUSH", "both", "item")
report("mixed-kinds-list", lister.read())
await_blocked(0)
lister.close()
popper.close()

# 12. A closed BZPOPMIN client leaves no waiter: the member added after it stays.
gone = Client()
gone.send("BZPOPMAX", "zk", "0")
await_blocked(1)
gone.close()
await_blocked(0)
admin.call("ZADD", "zk", "1", "kept")
report("bzpop-closed", admin.call("ZRANGE", "zk", "0", "-1", "WITHSCORES"))

# 13. 100 BZPOPMIN consumers, 100 producers adding one member each at once: each member reaches
#     exactly one consumer.
consumers = [Client() for _ in range(100)]
for cl in consumers:
    cl.send("BZPOPMIN", "zwork", "0")
await_blocked(100)
errors = []


def zproduce(i):
    try:
        pr = Client()
        pr.call("ZADD", "zwork", i, f"job{i}")
        pr.close()
    except Exception as e:  # reported below
        errors.append(e)


threads = [threading.Thread(target=zproduce, args=(i,)) for i in range(100)]
for th in threads:
    th.start()
for th in threads:
    th.join()
assert not errors, errors
jobs = sorted(cl.read()[1] for cl in consumers)
assert jobs == sorted(f"job{i}" for i in range(100)), jobs[:5]
assert admin.call("EXISTS", "zwork") == 0
await_blocked(0)
for cl in consumers:
    cl.close()
report("bzpop-concurrent", "100 consumers, 100 producers: each member delivered once")
