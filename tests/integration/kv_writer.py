"""tests/integration/kv_writer.py — a client that counts acknowledged writes.

  kv_writer.py write PORT PREFIX SECONDS   SET PREFIX:i i for i = 0, 1, ... one at a time until
                                           SECONDS pass or the server goes away; prints the
                                           number of writes the server acknowledged (+OK seen).
  kv_writer.py check PORT PREFIX COUNT     exits 1 unless every PREFIX:i (i < COUNT) reads back i.
"""
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def write(port, prefix, seconds, at_least=100):
    """Writes for `seconds`, and on until `at_least` writes were acknowledged (a slow machine or a
    sanitizer build takes longer for them; 120 s is the hang guard)."""
    acked = 0
    start = time.time()
    deadline = start + float(seconds)
    try:
        s = connect(port)
        while (time.time() < deadline or acked < int(at_least)) and time.time() < start + 120:
            s.sendall(command("SET", "%s:%d" % (prefix, acked), acked))
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = s.recv(64)
                if not chunk:
                    raise ConnectionError("closed")
                reply += chunk
            if reply != b"+OK\r\n":
                raise RuntimeError("unexpected reply %r" % reply)
            acked += 1
    except (OSError, ConnectionError):
        pass
    print(acked)


def check(port, prefix, count):
    count = int(count)
    s = connect(port)
    f = s.makefile("rb")
    missing = []
    batch = 500
    for start in range(0, count, batch):
        keys = ["%s:%d" % (prefix, i) for i in range(start, min(count, start + batch))]
        s.sendall(command("MGET", *keys))
        header = f.readline()
        n = int(header[1:])
        for i in range(n):
            line = f.readline()
            if line.startswith(b"$-1"):
                missing.append(keys[i])
                continue
            value = f.read(int(line[1:]) + 2)[:-2]
            if value != str(start + i).encode():
                missing.append(keys[i] + "=" + value.decode())
    if missing:
        print("missing or wrong: %d of %d, first %s" % (len(missing), count, missing[:5]))
        sys.exit(1)
    print("all %d acknowledged writes present" % count)


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](*sys.argv[2:])
