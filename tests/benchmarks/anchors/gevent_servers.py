"""gevent's twins of grove's echo_server and http_hello, as a gevent user writes them.

    /usr/bin/python3 gevent_servers.py echo PORT
    /usr/bin/python3 gevent_servers.py http PORT [--nagle]

echo: a StreamServer whose handler greenlet reads up to 64 KiB and sends it back until the
client closes. http: a pywsgi WSGIServer answering every request with "Hello, World!". Each HTTP
connection sets TCP_NODELAY, as grove's server does; --nagle leaves gevent's default (pywsgi
writes headers and body separately, and Nagle's algorithm with delayed ACKs then stalls every
response, so the figure drops by an order of magnitude).
Runs with Debian's python3-gevent: use /usr/bin/python3, not another interpreter on PATH."""
import socket
import sys

from gevent.pywsgi import WSGIHandler, WSGIServer
from gevent.server import StreamServer

HELLO = b"Hello, World!"


def echo(connection, _peer):
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            return
        connection.sendall(chunk)


def hello(_environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(HELLO)))])
    return [HELLO]


class NoDelay(WSGIHandler):
    """pywsgi's handler with TCP_NODELAY on the connection before the first response."""

    def __init__(self, connection, *args, **kwargs):
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(connection, *args, **kwargs)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("echo", "http") or not argv[2].isdigit():
        sys.exit(__doc__)
    address = ("127.0.0.1", int(argv[2]))
    if argv[1] == "echo":
        StreamServer(address, echo, backlog=4096).serve_forever()
    else:
        handler = WSGIHandler if "--nagle" in argv[3:] else NoDelay
        WSGIServer(address, hello, log=None, handler_class=handler,
                   backlog=4096).serve_forever()


if __name__ == "__main__":
    main(sys.argv)
