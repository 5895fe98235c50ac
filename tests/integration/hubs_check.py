"""Drives a server example started with --threads N and checks, from the outside, that its
connections are served on several hubs.

usage: hubs_check.py echo|http|chat PID PORT

Which hub holds a connection is read from /proc: every hub has its own epoll instance, and a
connection's socket is registered in the epoll of the hub serving it (/proc/PID/fdinfo/EPFD
lists the registered descriptors as "tfd:" lines; /proc/PID/fd and /proc/net/tcp{,6} map a
descriptor to the client's port).

  echo: 32 clients at once, each gets its own bytes back; they sit on at least 2 hubs.
  http: 32 keep-alive clients, each gets 'Hello, World!' twice on one connection; at least 2 hubs.
  chat: up to 16 clients join until two sit on different hubs; one says a line and the other
        (on the other hub) hears it, and the sender hears it too.
Prints one line of what it saw; exits 0 on success, 1 with the reason otherwise. Every wait has
a 30 s guard.
"""
import os
import re
import socket
import sys
import time

GUARD = 30.0


def epolls_of(pid):
    """{epoll fd: set of fds registered in it} for process pid."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target != "anon_inode:[eventpoll]":
            continue
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            out[int(fd)] = {int(m.group(1)) for m in re.finditer(r"^tfd:\s*(\d+)", f.read(), re.M)}
    return out


def socket_inodes(pid):
    """{inode: fd} of the sockets of process pid."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", target)
        if m:
            out[int(m.group(1))] = int(fd)
    return out


def server_fd_by_client_port(pid, server_port):
    """{client port: server-side fd} for the established connections to server_port."""
    inodes = socket_inodes(pid)
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            remote_port = int(parts[2].rsplit(":", 1)[1], 16)
            inode = int(parts[9])
            if local_port == server_port and inode in inodes:
                out[remote_port] = inodes[inode]
    return out


def hub_of(pid, server_port, client_ports):
    """{client port: epoll fd of the hub serving it}; waits until each is registered."""
    deadline = time.time() + GUARD
    while True:
        fds = server_fd_by_client_port(pid, server_port)
        epolls = epolls_of(pid)
        found = {}
        for port in client_ports:
            fd = fds.get(port)
            for ep, registered in epolls.items():
                if fd is not None and fd in registered:
                    found[port] = ep
        if len(found) == len(client_ports) or time.time() > deadline:
            return found
        time.sleep(0.05)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=GUARD)
    return s


def read_until(s, marker, have=b""):
    data = have
    while marker not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def close_spread(pid, port, clients, done):
    """Closes `clients`; an error if they were served on fewer than two hubs, else prints `done`
    with the number of hubs and returns None."""
    hubs = hub_of(pid, port, [c.getsockname()[1] for c in clients])
    for c in clients:
        c.close()
    if len(set(hubs.values())) < 2:
        return f"all {len(clients)} connections on one hub: {hubs}"
    print(f"{done}, served on {len(set(hubs.values()))} hubs")
    return None


def check_echo(pid, port):
    clients = [connect(port) for _ in range(32)]
    for i, c in enumerate(clients):
        c.sendall(b"<%04d>" % i)
    for i, c in enumerate(clients):
        got = read_until(c, b">")
        if got != b"<%04d>" % i:
            return f"client {i} got {got!r}"
    return close_spread(pid, port, clients, "echo: 32 clients echoed")


def check_http(pid, port):
    clients = [connect(port) for _ in range(32)]
    for rounds in range(2):
        for c in clients:
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        for i, c in enumerate(clients):
            got = read_until(c, b"Hello, World!")
            if not got.startswith(b"HTTP/1.1 200 OK") or b"Hello, World!" not in got:
                return f"client {i} round {rounds} got {got!r}"
    return close_spread(pid, port, clients, "http: 32 keep-alive clients answered twice")


def check_chat(pid, port):
    members = []  # (nick, socket, received bytes)
    pair = None
    for i in range(16):
        s = connect(port)
        nick = f"member{i}"
        read_until(s, b"nickname: ")
        s.sendall(nick.encode() + b"\n")
        got = read_until(s, f"* {nick} joined".encode())
        members.append([nick, s, got])
        hubs = hub_of(pid, port, [m[1].getsockname()[1] for m in members])
        first_hub = hubs.get(members[0][1].getsockname()[1])
        other = [m for m in members if hubs.get(m[1].getsockname()[1]) not in (None, first_hub)]
        if other:
            pair = (members[0], other[0], first_hub, hubs[other[0][1].getsockname()[1]])
            break
    if pair is None:
        return "16 chat clients, all on one hub"
    speaker, listener, hub_a, hub_b = pair
    line = f"<{speaker[0]}> hello across hubs".encode()
    speaker[1].sendall(b"hello across hubs\n")
    heard = read_until(listener[1], line, listener[2])
    if line not in heard:
        return f"{listener[0]} (hub epoll {hub_b}) did not hear {speaker[0]} (hub epoll {hub_a}): {heard!r}"
    echoed = read_until(speaker[1], line, speaker[2])
    if line not in echoed:
        return f"{speaker[0]} did not hear itself: {echoed!r}"
    for m in members:
        m[1].close()
    print(f"chat: {speaker[0]} (epoll fd {hub_a}) reached {listener[0]} (epoll fd {hub_b}) "
          f"with {len(members)} clients in the room")
    return None


def main():
    mode, pid, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    try:
        error = {"echo": check_echo, "http": check_http, "chat": check_chat}[mode](pid, port)
    except (OSError, socket.timeout) as e:
        error = f"{type(e).__name__}: {e}"
    if error:
        print(f"{mode}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
