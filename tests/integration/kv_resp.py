"""tests/integration/kv_resp.py — the RESP2 client the kv integration drivers share.

A blocking socket client with no dependencies beyond the standard library, so the same driver
runs unchanged against redis-server and kv_server:

    c = Client(port)
    c.call("SET", "k", "v")        # '+OK'
    c.call("GET", "k")             # 'v'
    c.call("NOSUCH")               # '-ERR unknown command ...'  (raise_errors=False)
    c.pipeline([("INCR", "n"), ("INCR", "n")])   # [1, 2]

Replies decode as: simple string -> str with its leading '+' (so a status never looks like a
bulk string of the same text), error -> str with its leading '-' or, with raise_errors=True, a
ReplyError, integer -> int, bulk string -> str (None when null), array -> list (None when null).
Every socket operation has a deadline (`timeout`): a server that stops answering fails the
driver instead of hanging it.
"""
import socket

DEADLINE = 60.0


def encode(*args):
    """One command as a RESP array of bulk strings; arguments may be bytes, str or numbers."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class ReplyError(RuntimeError):
    """An error reply, raised by a client made with raise_errors=True."""


class Client:
    def __init__(self, port, timeout=DEADLINE, raise_errors=False):
        self.timeout = timeout
        self.raise_errors = raise_errors
        self.sock = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)
        self._buf = bytearray()
        self._pos = 0  # first unread byte of _buf

    def send(self, *args):
        self.sock.sendall(encode(*args))

    def send_raw(self, data):
        """Bytes as they are (inline commands, several commands in one write)."""
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed")
        if self._pos:
            del self._buf[:self._pos]
            self._pos = 0
        self._buf += chunk

    def _line(self):
        while True:
            end = self._buf.find(b"\r\n", self._pos)
            if end >= 0:
                line = bytes(self._buf[self._pos:end])
                self._pos = end + 2
                return line
            self._fill()

    def read(self):
        """The next reply, decoded as the module comment says."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return line.decode()
        if kind == b"-":
            if self.raise_errors:
                raise ReplyError(line.decode())
            return line.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self._buf) - self._pos < n + 2:
                self._fill()
            data = bytes(self._buf[self._pos:self._pos + n])
            self._pos += n + 2
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError(f"bad reply {line!r}")

    def call(self, *args):
        self.send(*args)
        return self.read()

    def pipeline(self, commands):
        """Sends every command in one write, then reads one reply per command."""
        self.sock.sendall(b"".join(encode(*c) for c in commands))
        return [self.read() for _ in commands]

    def pending(self, wait):
        """Whether a reply arrives within `wait` seconds (for asserting that none does)."""
        if len(self._buf) > self._pos:
            return True
        self.sock.settimeout(wait)
        try:
            self._fill()
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(self.timeout)
        return True

    def close(self):
        self.sock.close()
