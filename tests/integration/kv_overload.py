#!/usr/bin/env python3
"""tests/integration/kv_overload.py — the misbehaving clients of kv_overload_test.sh.

Each scenario drives a running kv_server over real sockets on 127.0.0.1, prints what it saw —
always with the server's resident memory (VmRSS) before and after — and exits 1 with the reason
when the server did not hold up. Waits are on events with generous deadlines, never on timing.

  kv_overload.py SCENARIO PORT PID [ARGS...]

  maxclients N MAX     N clients at once: MAX served, the rest told "max number of clients"
  emfile N             N clients while the server is out of descriptors: served once others leave
  announce N           N clients each announce a 512 MiB bulk and send nothing more
  trickle KIB          one MSET of KIB KiB sent in 1000-byte pieces; the server's CPU time shown
  slow-subscriber MB   a subscriber that stops reading; published until it is dropped (MB: give up)
  soft-limit           the same under a soft limit only: dropped after its seconds
  non-reader           a client that pipelines GETs of a 100 KB value and never reads
"""
import os
import select
import socket
import sys
import time

MAX_CLIENTS_ERROR = b"-ERR max number of clients reached\r\n"


def fail(why):
    print(f"FAIL: {why}", flush=True)
    sys.exit(1)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail(f"no VmRSS for pid {pid} (did the server die?)")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(label, pid, before_kb, extra=""):
    after_kb = rss_kb(pid)
    print(f"  RSS {label}: before {before_kb / 1024:.1f} MiB, after {after_kb / 1024:.1f} MiB"
          f"{extra}", flush=True)
    return after_kb


def connect(port, timeout=30.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_reply_line(s, deadline=30.0):
    """One RESP line (simple reply), or b"" when the server closed first."""
    s.settimeout(deadline)
    data = b""
    while not data.endswith(b"\r\n"):
        try:
            chunk = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            return data
        if not chunk:
            return data
        data += chunk
    return data


def command(port, *args):
    """Sends one command on a new connection; returns its reply: a bulk's bytes, else the line."""
    s = connect(port)
    payload = f"*{len(args)}\r\n".encode()
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        payload += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(payload)
    data = b""
    while True:
        line_end = data.find(b"\r\n")
        if line_end >= 0 and not data.startswith(b"$"):
            break
        if line_end >= 0:
            size = int(data[1:line_end])
            if size < 0 or len(data) >= line_end + 2 + size + 2:
                break
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    s.close()
    if data.startswith(b"$") and not data.startswith(b"$-1"):
        line_end = data.find(b"\r\n")
        return data[line_end + 2:-2]
    return data


def served(port):
    reply = command(port, "PING")
    if reply != b"+PONG\r\n":
        fail(f"a new client got {reply!r} instead of +PONG")


def wait_until(predicate, what, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            fail(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- scenarios ------------------------------------------------------------------------------


def maxclients(port, pid, n, max_clients):
    """N clients at once: the first MAX are served, the others get redis's error and close."""
    # Earlier clients (the test's redis-cli) must have left, or they would take a place.
    wait_until(lambda: b"connected_clients:1\r\n" in command(port, "INFO", "clients"),
               "the server to have no other client")
    before = rss_kb(pid)
    clients = [connect(port) for _ in range(n)]
    expected_rejections = n - max_clients
    # The rejected ones are told without asking; the served ones stay silent.
    rejected, pending = [], list(clients)
    deadline = time.monotonic() + 30
    while len(rejected) < expected_rejections and time.monotonic() < deadline:
        readable, _, _ = select.select(pending, [], [], 0.5)
        for s in readable:
            data = read_reply_line(s, 5)
            if data != MAX_CLIENTS_ERROR:
                fail(f"a client got {data!r}, want {MAX_CLIENTS_ERROR!r}")
            rejected.append(s)
            pending.remove(s)
    if len(rejected) != expected_rejections:
        fail(f"{len(rejected)} clients rejected, want {expected_rejections}")
    for s in pending:
        s.sendall(b"PING\r\n")
    for s in pending:
        reply = read_reply_line(s)
        if reply != b"+PONG\r\n":
            fail(f"a client within maxclients got {reply!r}")
    during = rss_kb(pid)
    for s in clients:
        s.close()
    served(port)
    report(f"{n} clients", pid, before,
           f" ({len(pending)} served, {len(rejected)} rejected; {during / 1024:.1f} MiB while held)")


def emfile(port, pid, n):
    """N clients while the descriptor limit is lower than N: some wait in the listen backlog,
    and are served as soon as the others leave."""
    before = rss_kb(pid)
    clients = [connect(port) for _ in range(n)]
    for s in clients:
        s.sendall(b"PING\r\n")
    answered, waiting = [], list(clients)
    deadline = time.monotonic() + 10
    while waiting and time.monotonic() < deadline:
        readable, _, _ = select.select(waiting, [], [], 1.0)
        for s in readable:
            reply = read_reply_line(s, 5)
            if reply != b"+PONG\r\n":
                fail(f"a client got {reply!r}")
            answered.append(s)
            waiting.remove(s)
        if not readable and answered:
            break  # nothing more for a second: the rest wait for descriptors
    if not answered:
        fail("nobody was served")
    if not waiting:
        fail(f"all {n} clients were served: the descriptor limit was not reached")
    print(f"  {len(answered)} served, {len(waiting)} waiting for a descriptor", flush=True)
    for s in answered:
        s.close()
    for s in waiting:
        reply = read_reply_line(s)
        if reply != b"+PONG\r\n":
            fail(f"a client that waited for a descriptor got {reply!r}")
    for s in waiting:
        s.close()
    served(port)
    report(f"{n} clients out of descriptors", pid, before)


def announce(port, pid, n):
    """Each client sends 17 bytes announcing a 512 MiB bulk, then nothing. Announced sizes must
    not be allocated: resident memory stays within a few MiB."""
    before = rss_kb(pid)
    limit_kb = 64 * 1024
    clients = []
    for i in range(n):
        s = connect(port)
        s.sendall(b"*1\r\n$536870912\r\n")
        clients.append(s)
        served(port)  # a round trip: the server has had its turn at the new bytes
        grown = rss_kb(pid) - before
        if grown > limit_kb:
            fail(f"{i + 1} announcements grew the server by {grown / 1024:.0f} MiB")
    during = rss_kb(pid)
    # The bytes arriving afterwards still make the request.
    s = clients[0]
    s.sendall(b"x" * 100000)
    served(port)
    for s in clients:
        s.close()
    served(port)
    report(f"{n} clients announcing 512 MiB each", pid, before,
           f" ({during / 1024:.1f} MiB while held)")


def trickle(port, pid, kib):
    """One MSET request of about KIB KiB, sent 1000 bytes at a time. Only reported: speed is
    for benchmarks; kv_protocol_test shows the parser's work is linear."""
    pairs = []
    size = 0
    i = 0
    while size < kib * 1024:
        k, v = f"trickle:{i}".encode(), b"v" * 10
        pairs.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
        size += len(pairs[-1])
        i += 1
    payload = b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * len(pairs)) + b"".join(pairs)
    before, cpu_before = rss_kb(pid), cpu_seconds(pid)
    s = connect(port)
    for at in range(0, len(payload), 1000):
        s.sendall(payload[at:at + 1000])
        time.sleep(0.0005)
    reply = read_reply_line(s)
    if reply != b"+OK\r\n":
        fail(f"the trickled MSET got {reply!r}")
    cpu = cpu_seconds(pid) - cpu_before
    if command(port, "GET", f"trickle:{i - 1}") != b"v" * 10:
        fail("the trickled MSET did not store its last key")
    s.close()
    report(f"one {len(payload) // 1024} KiB request in 1000-byte pieces", pid, before,
           f" (server CPU {cpu * 1000:.0f} ms for {len(payload) // 1000} pieces)")


def subscriber(port):
    s = connect(port)
    s.sendall(b"SUBSCRIBE slow\r\n")
    got = b""
    while got.count(b"\r\n") < 6:
        got += s.recv(4096)
    return s


def expect_dropped(s):
    """The subscriber's connection ends (after what the kernel already holds for it)."""
    s.settimeout(30)
    try:
        while s.recv(1 << 20):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        fail("the dropped subscriber's connection is still open")


def publish_until_dropped(port, pid, payload_size, batch, pause, give_up_bytes):
    """Publishes to `slow` until PUBLISH says nobody received it. Returns the bytes published
    and the server's peak RSS meanwhile (KiB)."""
    publisher = connect(port)
    message = b"m" * payload_size
    request = b"*3\r\n$7\r\nPUBLISH\r\n$4\r\nslow\r\n$%d\r\n%s\r\n" % (len(message), message)
    published, peak = 0, 0
    while published < give_up_bytes:
        publisher.sendall(request * batch)
        replies = b""
        while replies.count(b"\r\n") < batch:
            replies += publisher.recv(65536)
        published += batch * payload_size
        peak = max(peak, rss_kb(pid))
        if b":0\r\n" in replies:
            publisher.close()
            return published, peak
        if pause:
            time.sleep(pause)
    fail(f"{published // (1 << 20)} MiB published and the subscriber is still subscribed")


def slow_subscriber(port, pid, give_up_mb):
    before = rss_kb(pid)
    s = subscriber(port)
    published, peak = publish_until_dropped(port, pid, 4096, 256, 0, give_up_mb << 20)
    expect_dropped(s)
    wait_until(lambda: command(port, "PUBLISH", "slow", "x") == b":0\r\n", "PUBLISH to count 0")
    served(port)
    after = report("slow subscriber (hard limit)", pid, before,
                   f" (peak {peak / 1024:.1f} MiB; dropped after {published / (1 << 20):.1f} MiB"
                   " published)")
    if after - before > 16 * 1024:
        if os.environ.get("KV_SANITIZED"):
            # The sanitizer's allocator quarantines freed memory instead of returning it.
            print("  (sanitizer build: freed memory stays in its quarantine; not checked)")
        else:
            fail(f"the dropped subscriber's memory was not given back: {after - before} KiB kept")


def soft_limit(port, pid):
    before = rss_kb(pid)
    s = subscriber(port)
    start = time.monotonic()
    # 64 KiB every 20 ms: stays below the 64 MiB hard limit well past the soft seconds.
    published, peak = publish_until_dropped(port, pid, 65536, 1, 0.02, 60 << 20)
    expect_dropped(s)
    served(port)
    report("slow subscriber (soft limit)", pid, before,
           f" (peak {peak / 1024:.1f} MiB; dropped after {published / (1 << 20):.1f} MiB and "
           f"{time.monotonic() - start:.1f} s)")


def non_reader(port, pid):
    """Pipelines GETs of a 100 KB value without reading: the server must stop reading it rather
    than buffer replies without bound, and keep serving everyone else."""
    if command(port, "SET", "big", b"b" * 100000) != b"+OK\r\n":
        fail("SET big")
    before = rss_kb(pid)
    s = connect(port)
    s.setblocking(False)
    request = b"GET big\r\n" * 1000
    sent = 0
    last_progress = time.monotonic()
    while time.monotonic() - last_progress < 2.0:  # until the server stopped taking requests
        try:
            sent += s.send(request)
            last_progress = time.monotonic()
        except BlockingIOError:
            time.sleep(0.05)
        if sent > (200 << 20):
            fail("200 MiB of requests accepted: nothing pushes back")
    during = rss_kb(pid)
    served(port)
    # What it may cost: a 64 KiB batch of replies plus one reply, and its 16 KiB query buffer.
    if during - before > 16 * 1024:
        fail(f"the non-reading client grew the server by {(during - before) / 1024:.0f} MiB")
    s.close()
    served(port)
    report("client that never reads", pid, before,
           f" ({sent // 9} GETs sent before it was no longer read; {during / 1024:.1f} MiB then)")


def main():
    scenario, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    args = [int(a) for a in sys.argv[4:]]
    {
        "maxclients": maxclients,
        "emfile": emfile,
        "announce": announce,
        "trickle": trickle,
        "slow-subscriber": slow_subscriber,
        "soft-limit": soft_limit,
        "non-reader": non_reader,
    }[scenario](port, pid, *args)


if __name__ == "__main__":
    main()
