"""tests/integration/kv_rewrite.py — drives BGREWRITEAOF for kv_rewrite_test.sh.

  kv_rewrite.py load PORT KEYS            KEYS keys of every type, then churn (overwrites,
                                          counters, pushes and pops, deletes) so the file
                                          holds far more records than the data needs.
  kv_rewrite.py load-big PORT LISTS       LISTS lists of 1,000 elements and as many hashes of
                                          200 fields (a rewrite that takes a while).
  kv_rewrite.py rewrite-under-writes PORT  writers run (INCR, LPUSH/LPOP, HSET, SET, DEL,
                                          RENAME, EXPIRE) while a rewrite runs; returns when the
                                          rewrite completed under them and they stopped.
  kv_rewrite.py digest PORT               prints every key with its type, value and whether it
                                          expires, sorted: equal digests = equal data.
  kv_rewrite.py kill-during-rewrite PORT PID KEYS_FILE
                                          starts a rewrite, counts acknowledged SETs of new keys
                                          while it runs, and kill -9s the server while INFO
                                          still says aof_rewrite_in_progress:1; writes the
                                          acknowledged keys to KEYS_FILE.
  kv_rewrite.py check PORT KEYS_FILE      every key in KEYS_FILE exists with its value.
"""
import json
import os
import signal
import sys
import threading
import time

from kv_resp import Client

DEADLINE = 120.0


def connect(port):
    """Error replies raise ReplyError (a RuntimeError): no driver step expects one."""
    return Client(port, timeout=DEADLINE, raise_errors=True)


def info(c, field):
    for line in c.call("INFO", "persistence").split("\r\n"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"INFO lacks {field}")


def load(port, keys):
    c = connect(port)
    batch = []
    for i in range(keys):
        kind = i % 5
        if kind == 0:
            batch.append(("SET", f"s:{i}", f"value-{i}"))
        elif kind == 1:
            batch.append(("SET", f"t:{i}", f"ttl-{i}", "EX", 100000))
        elif kind == 2:
            batch.append(("RPUSH", f"l:{i}", *[f"e{j}" for j in range(i % 7 + 1)]))
        elif kind == 3:
            batch.append(("HSET", f"h:{i}", *[x for j in range(i % 5 + 1) for x in (f"f{j}", j)]))
        else:
            batch.append(("INCRBY", f"n:{i}", i))
        if i % 10 == 0:  # sets and sorted sets (scores with fractions, negative, infinite)
            batch.append(("SADD", f"x:{i}", *[f"m{j}" for j in range(i % 9 + 1)], i))
            batch.append(("ZADD", f"z:{i}", *[x for j in range(i % 6 + 1)
                                              for x in (j * 1.5 - 2, f"m{j}")], "-inf", "low"))
        if len(batch) >= 1000:
            c.pipeline(batch)
            batch = []
    # Churn: many records, little data.
    for r in range(keys):
        batch.append(("SET", "overwritten", r))
        batch += [("INCR", "counter"), ("LPUSH", "churn", r), ("LPOP", "churn")]
        batch += [("SET", f"gone:{r}", r), ("DEL", f"gone:{r}")]
        batch.append(("SET", f"s:{r - r % 5}", f"again-{r}"))
        if len(batch) >= 1000:
            c.pipeline(batch)
            batch = []
    c.pipeline(batch)


def load_big(port, lists):
    """`lists` lists of 1,000 elements and as many hashes of 200 fields: few commands, a long
    rewrite."""
    c = connect(port)
    for i in range(0, lists, 50):
        c.pipeline([("RPUSH", f"big:l:{j}", *range(1000)) for j in range(i, i + 50)] +
                   [("HSET", f"big:h:{j}", *[x for f in range(200) for x in (f, f)])
                    for j in range(i, i + 50)])


def rewrite_under_writes(port):
    c = connect(port)
    before = int(info(c, "aof_rewrites"))
    stop = threading.Event()
    errors = []

    def writer(w):
        try:
            me = connect(port)
            i = 0
            while not stop.is_set():
                me.pipeline([
                    ("INCR", f"w{w}:counter"), ("LPUSH", f"w{w}:list", i), ("LTRIM", f"w{w}:list", 0, 99),
                    ("LPOP", "l:2"),
                    ("HSET", f"w{w}:hash", f"f{i % 50}", i), ("SET", f"w{w}:s{i % 100}", i),
                    ("DEL", f"s:{(i * 5) % 10000}"), ("RENAME", f"w{w}:s{i % 100}", f"w{w}:r{i % 30}"),
                    ("EXPIRE", f"h:{(i * 5 + 3) % 10000}", 100000), ("RPUSH", "l:7", i),
                    ("SADD", f"w{w}:set", i % 70), ("SREM", f"w{w}:set", (i * 3) % 70),
                    ("ZADD", f"w{w}:zset", i * 0.25, f"m{i % 40}"), ("ZINCRBY", "z:0", 1.5, "m0"),
                    ("SADD", f"x:{(i * 10) % 10000}", f"w{w}-{i}"),
                ])
                i += 1
        except Exception as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    assert c.call("BGREWRITEAOF") == "+Background append only file rewriting started"
    try:
        c.call("BGREWRITEAOF")
        raise AssertionError("a second BGREWRITEAOF was accepted while one runs")
    except RuntimeError as e:
        assert "already in progress" in str(e), e
    deadline = time.monotonic() + DEADLINE
    while int(info(c, "aof_rewrites")) == before:
        assert time.monotonic() < deadline, "the rewrite did not finish"
        assert info(c, "aof_last_bgrewrite_status") == "ok"
        time.sleep(0.05)
    # The writers kept being served while it ran, and run on after it.
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(DEADLINE)
    assert not errors, errors
    assert info(c, "aof_last_bgrewrite_status") == "ok"
    print("rewrite completed under 4 writers")


def digest(port):
    c = connect(port)
    cursor, keys = "0", set()
    while True:
        cursor, found = c.call("SCAN", cursor, "COUNT", 1000)
        keys.update(found)
        if cursor == "0":
            break
    keys = sorted(keys)
    out = []
    for i in range(0, len(keys), 1000):
        chunk = keys[i:i + 1000]
        types = [t.removeprefix("+") for t in c.pipeline([("TYPE", k) for k in chunk])]
        reads = {"string": lambda k: ("GET", k), "list": lambda k: ("LRANGE", k, 0, -1),
                 "hash": lambda k: ("HGETALL", k), "set": lambda k: ("SMEMBERS", k),
                 "zset": lambda k: ("ZRANGE", k, 0, -1, "WITHSCORES")}
        values = c.pipeline([reads.get(t, lambda k: ("TYPE", k))(k) for k, t in zip(chunk, types)])
        ttls = c.pipeline([("PTTL", k) for k in chunk])
        for k, t, v, ttl in zip(chunk, types, values, ttls):
            out.append([k, t, sorted(v) if t in ("hash", "set") else v, ttl > 0])
    print(json.dumps(out))


def kill_during_rewrite(port, pid, keys_file):
    c = connect(port)
    w = connect(port)
    acked = []
    assert c.call("BGREWRITEAOF") == "+Background append only file rewriting started"
    i = 0
    while True:
        key = f"during:{i}"
        assert w.call("SET", key, i) == "+OK"
        acked.append(key)
        i += 1
        running = info(c, "aof_rewrite_in_progress") == "1"
        if not running:
            # It finished before the writes (a fast machine): start another one and go on.
            restarts = getattr(kill_during_rewrite, "restarts", 0) + 1
            kill_during_rewrite.restarts = restarts
            assert restarts < 50, "every rewrite finished before 5 writes: load more keys"
            assert c.call("BGREWRITEAOF") == "+Background append only file rewriting started"
            continue
        if i >= 5:
            os.kill(int(pid), signal.SIGKILL)
            break
    with open(keys_file, "w") as f:
        f.write("\n".join(acked))
    print(f"killed during the rewrite after {len(acked)} acknowledged writes")


def check(port, keys_file):
    c = connect(port)
    keys = open(keys_file).read().split()
    values = c.pipeline([("GET", k) for k in keys])
    lost = [k for k, v in zip(keys, values) if v != k.split(":")[1]]
    assert not lost, f"{len(lost)} acknowledged writes lost, e.g. {lost[:5]}"
    print(f"all {len(keys)} acknowledged writes are back")


mode = sys.argv[1]
if mode == "load":
    load(sys.argv[2], int(sys.argv[3]))
elif mode == "load-big":
    load_big(sys.argv[2], int(sys.argv[3]))
elif mode == "rewrite-under-writes":
    rewrite_under_writes(sys.argv[2])
elif mode == "digest":
    digest(sys.argv[2])
elif mode == "kill-during-rewrite":
    kill_during_rewrite(sys.argv[2], sys.argv[3], sys.argv[4])
elif mode == "check":
    check(sys.argv[2], sys.argv[3])
else:
    raise SystemExit(f"unknown mode {mode}")
