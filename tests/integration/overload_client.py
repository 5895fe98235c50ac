#!/usr/bin/env python3
"""tests/integration/overload_client.py — the clients of servers_overload_test.sh.

  overload_client.py check     PROTO PORT [SECONDS]   one client served (retried until SECONDS)
  overload_client.py exhaust   PROTO PORT COUNT LOG   COUNT connections held until the server's
                                                      LOG says it paused accepting, then closed
  overload_client.py nonreader PROTO PORT MEGABYTES   sends without reading; another client must
                                                      be served while it is stuck

PROTO is echo, http, chat or tls. Every command prints one line of figures and exits 0 when
what it checks held, 1 (with the reason) when not.
"""
import resource
import selectors
import socket
import ssl
import sys
import threading
import time


def connect(proto, port, timeout):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if proto == "tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        sock = context.wrap_socket(sock)
    return sock


def read_until(sock, needle, deadline):
    got = b""
    while needle not in got:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def serve_once(proto, port, timeout):
    """One ordinary exchange with the server; raises when it is not answered in time."""
    deadline = time.monotonic() + timeout
    with connect(proto, port, timeout) as sock:
        if proto in ("echo", "tls"):
            sock.sendall(b"ping\n")
            got = read_until(sock, b"ping\n", deadline)
            ok = got == b"ping\n"
        elif proto == "http":
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            got = read_until(sock, b"Hello, World!", deadline)
            ok = got.startswith(b"HTTP/1.1 200 ") and got.endswith(b"Hello, World!")
        else:  # chat
            got = read_until(sock, b"nickname: ", deadline)
            ok = got.startswith(b"Welcome!")
        if not ok:
            raise RuntimeError("unexpected answer %r" % got[:200])


def check(proto, port, seconds):
    """Served within `seconds` (the server may first have a backlog of dead clients to drop)."""
    deadline = time.monotonic() + seconds
    attempts = 0
    while True:
        attempts += 1
        try:
            serve_once(proto, port, min(5.0, max(0.5, deadline - time.monotonic())))
            return attempts
        except (OSError, RuntimeError) as e:
            if time.monotonic() >= deadline:
                raise RuntimeError("not served after %d attempts: %s" % (attempts, e))
            time.sleep(0.1)


def cmd_check(proto, port, seconds="10"):
    attempts = check(proto, port, float(seconds))
    print("served after %d attempt(s)" % attempts)


def cmd_exhaust(proto, port, count, log):
    """Opens `count` plain TCP connections at once (past the server's descriptor limit: the
    kernel's accept queue completes handshakes the server cannot accept), holds them until the
    server's log says it ran out of descriptors (30 s at most), closes them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < int(count) + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, int(count) + 64), hard))
    pending = selectors.DefaultSelector()
    for _ in range(int(count)):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        pending.register(s, selectors.EVENT_WRITE)
    held = []
    deadline = time.monotonic() + 10.0
    while pending.get_map() and time.monotonic() < deadline:
        for key, _ in pending.select(timeout=max(0.0, deadline - time.monotonic())):
            pending.unregister(key.fileobj)
            if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                held.append(key.fileobj)
            else:
                key.fileobj.close()
    waiting = [key.fileobj for key in pending.get_map().values()]
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        with open(log, errors="replace") as f:
            if "pausing accepts" in f.read():
                break
        time.sleep(0.1)
    time.sleep(0.5)  # a few more rounds of the pause
    for s in held + waiting:
        s.close()
    print("held %d connections (%d more still connecting), closed them"
          % (len(held), len(waiting)))


class ChatWatcher:
    """A chat member that reads everything, in a thread, to see what the room says."""

    def __init__(self, port):
        self.sock = connect("chat", port, 5.0)
        read_until(self.sock, b"nickname: ", time.monotonic() + 5.0)
        self.sock.sendall(b"watcher\n")
        self.heard = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        self.sock.settimeout(None)
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return
                with self.lock:
                    self.heard = (self.heard + chunk)[-(1 << 16):]
        except OSError:
            return

    def wait_for(self, needle, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if needle in self.heard:
                    return True
            time.sleep(0.05)
        return False


def cmd_nonreader(proto, port, megabytes):
    """Sends without ever reading. The server must stop reading it (its sends stall long
    before `megabytes` went through) and go on serving others meanwhile. A chat room drops
    such a client instead (a member that reads hears it)."""
    limit = int(megabytes) << 20
    watcher = ChatWatcher(port) if proto == "chat" else None
    sock = connect(proto, port, 5.0)
    if proto == "chat":
        sock.sendall(b"flooder\n")
    if proto == "http":
        unit = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * 2048
    else:
        unit = b"x" * 1023 + b"\n"
        unit *= 64
    sent = 0
    stalled = False
    sock.settimeout(2.0)
    try:
        while sent < limit:
            sock.sendall(unit)
            sent += len(unit)
    except socket.timeout:
        stalled = True  # no progress for 2 s: the server stopped reading us
    except OSError as e:
        if proto != "chat":
            raise RuntimeError("the server closed a client that only sends (%s)" % e)
        if not watcher.wait_for(b"* flooder was dropped (not reading)", 10.0):
            raise RuntimeError("the room did not say it dropped the flooder")
        attempts = check(proto, port, 10.0)
        print("nonreader: %.1f MB sent, then the room dropped it (%s); another client served"
              " (%d attempt(s))" % (sent / 1e6, e.__class__.__name__, attempts))
        return
    if not stalled:
        raise RuntimeError("%s MB went through without a read: the server buffers it" % megabytes)
    attempts = check(proto, port, 10.0)
    print("nonreader: %.1f MB sent, then stalled; another client served (%d attempt(s))"
          % (sent / 1e6, attempts))
    sock.close()


def main(argv):
    commands = {"check": cmd_check, "exhaust": cmd_exhaust, "nonreader": cmd_nonreader}
    if len(argv) < 4 or argv[1] not in commands:
        sys.exit(__doc__)
    args = [argv[2], int(argv[3])] + argv[4:]
    try:
        commands[argv[1]](*args)
    except (OSError, RuntimeError) as e:
        print("FAILED: %s" % e)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
