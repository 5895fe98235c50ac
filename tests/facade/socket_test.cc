// gevent.socket through the facade, Python's spelling: socket(AF_INET, SOCK_STREAM),
// bind/connect to (host, port), accept() -> (socket, address), and makefile() — the behaviours
// gevent's test__socket.py checks for files: readline across pieces, read(n) short only at the
// end, read() to the end, iteration over lines, writes buffered until flush, the socket's
// timeout applying to reads through the file.
#include "facade/socket.h"

#include <string>
#include <vector>

#include "facade/greenlet.h"
#include "tests/support/grove_test.h"

namespace {

namespace socket = gevent::socket;

struct Pair {
  socket::socket server;
  socket::socket client;
};

// A listening socket made the Python way, and a connected pair through it.
Pair connected_pair() {
  socket::socket listener(AF_INET, SOCK_STREAM);
  listener.bind({"127.0.0.1", 0});
  listener.listen();
  const auto port = listener.getsockname().port();
  socket::socket client(AF_INET, SOCK_STREAM);
  client.settimeout(10.0);
  auto connecting = gevent::spawn([&] { client.connect({"localhost", port}); });
  auto [conn, address] = listener.accept();
  connecting.get();
  EXPECT_EQ(address.host(), "127.0.0.1");
  EXPECT_EQ(address.port(), client.getsockname().port());
  return {std::move(conn), std::move(client)};
}

GROVE_TEST(GeventSocketFile, ReadlineJoinsPiecesAndStopsAtNewline) {
  auto [server, client] = connected_pair();
  auto writer = gevent::spawn([&s = server] {
    s.sendall("hel");
    gevent::sleep(0.005);
    s.sendall("lo\nwor");
    gevent::sleep(0.005);
    s.sendall("ld\nlast without newline");
    s.shutdown(SHUT_WR);
  });
  auto f = client.makefile("rb");
  EXPECT_EQ(f.readline(), "hello\n");
  EXPECT_EQ(f.readline(), "world\n");
  EXPECT_EQ(f.readline(), "last without newline");
  EXPECT_EQ(f.readline(), "") << "the end of the stream";
  writer.join();
}

GROVE_TEST(GeventSocketFile, ReadNIsShortOnlyAtTheEnd) {
  auto [server, client] = connected_pair();
  auto writer = gevent::spawn([&s = server] {
    for (int i = 0; i < 5; ++i) {
      s.sendall("ab");
      gevent::sleep(0.002);
    }
    s.close();
  });
  auto f = client.makefile();
  EXPECT_EQ(f.read(3), "aba") << "waits for the bytes that are missing";
  EXPECT_EQ(f.read(4), "baba");
  EXPECT_EQ(f.read(100), "bab") << "short at the end of the stream";
  EXPECT_EQ(f.read(1), "");
  writer.join();
}

GROVE_TEST(GeventSocketFile, ReadAllAndIterateLines) {
  {
    auto [server, client] = connected_pair();
    server.sendall("one\ntwo\nthree");
    server.close();
    std::vector<std::string> lines;
    auto f = client.makefile("r");
    for (const std::string& line : f) lines.push_back(line);
    EXPECT_EQ(lines, (std::vector<std::string>{"one\n", "two\n", "three"}));
  }
  {
    auto [server, client] = connected_pair();
    server.sendall(std::string(100000, 'x'));
    server.close();
    EXPECT_EQ(client.makefile().read().size(), 100000u);
  }
}

GROVE_TEST(GeventSocketFile, WritesWaitForFlush) {
  auto [server, client] = connected_pair();
  auto out = client.makefile("wb");
  EXPECT_EQ(out.write("buffered "), 9u);
  out.write("line\n");
  server.settimeout(0.05);
  EXPECT_THROW((void)server.recv(100), socket::timeout) << "nothing left before flush()";
  out.flush();
  server.settimeout(10.0);
  EXPECT_EQ(server.makefile().readline(), "buffered line\n");
  EXPECT_THROW((void)out.readline(), std::logic_error) << "a write-only file does not read";
}

GROVE_TEST(GeventSocketFile, SocketTimeoutAppliesToFileReads) {
  auto [server, client] = connected_pair();
  client.settimeout(0.02);
  auto f = client.makefile();
  EXPECT_THROW((void)f.readline(), socket::timeout);
  server.sendall("late\n");
  client.settimeout(10.0);
  EXPECT_EQ(f.readline(), "late\n") << "the file is still usable after a timeout";
  f.close();
  EXPECT_TRUE(f.closed());
  EXPECT_THROW((void)f.readline(), std::logic_error);
}

GROVE_TEST(GeventSocket, ConnectExToAClosedPortReturnsTheErrno) {
  socket::socket probe(AF_INET, SOCK_STREAM);
  probe.bind({"127.0.0.1", 0});
  const auto port = probe.getsockname().port();
  probe.close();  // nobody listens there now
  socket::socket s(AF_INET, SOCK_STREAM);
  EXPECT_EQ(s.connect_ex({"127.0.0.1", port}), ECONNREFUSED);
}

GROVE_TEST(GeventSocket, SocketpairAndUdpWithHostPort) {
  auto [a, b] = socket::socketpair();
  a.sendall("x");
  EXPECT_EQ(b.recv(1), "x");
  socket::socket u(AF_INET, SOCK_DGRAM);
  u.bind({"127.0.0.1", 0});
  socket::socket v(AF_INET, SOCK_DGRAM);
  v.connect({"127.0.0.1", u.getsockname().port()});
  v.send("dgram");
  EXPECT_EQ(u.recvfrom(64).data, "dgram");
}

}  // namespace
