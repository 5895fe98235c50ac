"""Sorted sets on redis-server and kv_server side by side: the same seeded random commands
(ranges by rank, score and lex with REV and LIMIT, counts, ranks, ZADD flags, ZINCRBY, removals
by range, pops (ZPOPMIN/ZPOPMAX/ZMPOP), ZRANDMEMBER of the whole set, ZUNIONSTORE/ZINTER/ZDIFF with weights and aggregates) on a small set (redis's
listpack) and a large one (its skiplist) must get the same replies, byte for byte.

Usage: kv_zset_fuzz.py REDIS_PORT KV_PORT [SEED]
"""
import random, socket, sys

def enc(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
        self.buf = b""
    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk: raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line
    def reply(self):
        line = self._line()
        if line[:1] == b"$" and int(line[1:]) >= 0:
            n = int(line[1:])
            while len(self.buf) < n + 2: self.buf += self.s.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if line[:1] == b"*" and int(line[1:]) >= 0:
            return [self.reply() for _ in range(int(line[1:]))]
        return line
    def call(self, *args):
        self.s.sendall(enc(args))
        return self.reply()

rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 18)
a, b = Conn(sys.argv[1]), Conn(sys.argv[2])
def both(*args):
    ra, rb = a.call(*args), b.call(*args)
    assert ra == rb, f"{args}: redis {ra!r} kv {rb!r}"
    return ra

def score():
    return rng.choice([rng.randint(-5, 5), round(rng.uniform(-10, 10), rng.randint(0, 3)),
                       "inf", "-inf", 0])
def bound():
    v = rng.choice([rng.randint(-6, 6), round(rng.uniform(-10, 10), 1), "inf", "-inf", "+inf"])
    return ("(" if rng.random() < 0.3 else "") + str(v)
def lexbound():
    c = rng.choice(["-", "+", "[", "("])
    return c if c in "-+" else c + rng.choice("abcdefghij") + rng.choice(["", "x", "m"])

commands = 0
for size, key in ((40, "small"), (400, "large")):
    both("DEL", key, "lexk")
    for _ in range(size):
        both("ZADD", key, score(), "m%d" % rng.randint(0, size))
        both("ZADD", "lexk", 0, "".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 3))))
        commands += 2
    for _ in range(1500):
        op = rng.randrange(12)
        if op == 0:
            both("ZRANGE", key, rng.randint(-50, 50), rng.randint(-50, 50),
                 *(["REV"] if rng.random() < 0.5 else []), "WITHSCORES")
        elif op == 1:
            lim = ["LIMIT", rng.randint(-1, 10), rng.randint(-1, 10)] if rng.random() < 0.5 else []
            rev = rng.random() < 0.5
            both("ZRANGE", key, bound(), bound(), "BYSCORE", *(["REV"] if rev else []), *lim,
                 "WITHSCORES")
        elif op == 2:
            lim = ["LIMIT", rng.randint(0, 5), rng.randint(-1, 10)] if rng.random() < 0.5 else []
            both("ZRANGE", "lexk", lexbound(), lexbound(), "BYLEX",
                 *(["REV"] if rng.random() < 0.5 else []), *lim)
        elif op == 3:
            both("ZCOUNT", key, bound(), bound())
            both("ZLEXCOUNT", "lexk", lexbound(), lexbound())
        elif op == 4:
            m = "m%d" % rng.randint(0, size)
            both("ZRANK", key, m); both("ZREVRANK", key, m); both("ZSCORE", key, m)
            # A count of at least the size is not random: the whole set, highest first.
            both("ZRANDMEMBER", key, size * 2, *(["WITHSCORES"] if rng.random() < 0.5 else []))
        elif op == 5:
            both("ZADD", key, *rng.sample(["NX", "XX", "GT", "LT", "CH"], rng.randint(0, 2)),
                 score(), "m%d" % rng.randint(0, size))
        elif op == 6:
            both("ZINCRBY", key, rng.randint(-3, 3), "m%d" % rng.randint(0, size))
        elif op == 7:
            both("ZREMRANGEBYSCORE", key, bound(), bound())
        elif op == 8:
            both("ZREMRANGEBYRANK", key, rng.randint(-5, 5), rng.randint(-5, 5))
        elif op == 9:
            both("ZREMRANGEBYLEX", "lexk", lexbound(), lexbound())
        elif op == 10:
            if rng.random() < 0.5:
                both(rng.choice(["ZPOPMIN", "ZPOPMAX"]), key, rng.randint(0, 3))
            else:
                both("ZMPOP", 2, "nothing", key, rng.choice(["MIN", "MAX"]), "COUNT",
                     rng.randint(1, 4))
        else:
            both("ZUNIONSTORE", "u", 2, key, "lexk", "WEIGHTS", rng.randint(-2, 2), 1,
                 "AGGREGATE", rng.choice(["SUM", "MIN", "MAX"]))
            both("ZRANGE", "u", 0, -1, "WITHSCORES")
            both("ZINTER", 2, key, "u", "WITHSCORES")
            both("ZDIFF", 2, key, "u", "WITHSCORES")
        commands += 1
        if rng.random() < 0.02:
            for _ in range(size // 4):
                both("ZADD", key, score(), "m%d" % rng.randint(0, size))
    both("ZRANGE", key, 0, -1, "WITHSCORES")
print(f"ok: {commands} random sorted-set commands, the same replies")
