// gevent.server through the facade: the behaviours gevent's test__server.py checks — a server
// answers on the port it reports, stop() refuses new clients and ends the handlers, a pool of N
// bounds the connections handled at once, stop_accepting/start_accepting pause accepting with
// the listener open, a failing handler leaves the server serving — and DatagramServer's echo.
// Real sockets on 127.0.0.1 throughout.
#include "facade/server.h"

#include <cerrno>
#include <string>
#include <vector>

#include "facade/event.h"
#include "facade/greenlet.h"
#include "facade/socket.h"
#include "hub/testing.h"
#include "tests/support/grove_test.h"

namespace {

namespace socket = gevent::socket;
using gevent::server::DatagramServer;
using gevent::server::StreamServer;

// gevent's examples/echoserver.py handler, as the docs write it.
void echo(socket::socket& sock, const socket::Address&) {
  sock.sendall("Welcome to the echo server! Type quit to exit.\r\n");
  auto rfileobj = sock.makefile("rb");
  for (;;) {
    std::string line = rfileobj.readline();
    if (line.empty() || line.rfind("quit", 0) == 0) break;
    sock.sendall(line);
  }
}

socket::socket connect(const StreamServer& server) {
  return socket::create_connection({"127.0.0.1", server.server_port()}, /*timeout=*/10.0);
}

GROVE_TEST(GeventServer, ServesOnThePortItReports) {
  StreamServer server({"127.0.0.1", 0}, echo);
  server.start();
  EXPECT_TRUE(server.started());
  EXPECT_NE(server.server_port(), 0) << "port 0 asks for a free one; the real one is reported";
  EXPECT_EQ(server.server_host(), "127.0.0.1");
  auto client = connect(server);
  auto f = client.makefile("rwb");
  EXPECT_EQ(f.readline(), "Welcome to the echo server! Type quit to exit.\r\n");
  f.write("hello\n");
  f.flush();
  EXPECT_EQ(f.readline(), "hello\n");
  f.write("quit\n");
  f.flush();
  EXPECT_EQ(f.read(), "") << "the connection closes when the handler returns";
  server.stop();
}

GROVE_TEST(GeventServer, HandlerWithoutAddressAndStringListener) {
  StreamServer server("127.0.0.1:0", [](socket::socket& s) { s.sendall("hi"); });
  server.start();
  auto client = connect(server);
  EXPECT_EQ(client.makefile().read(), "hi");
  server.stop();
}

GROVE_TEST(GeventServer, StopRefusesNewClientsAndKillsHandlersAfterTimeout) {
  gevent::event::Event entered;
  bool unwound = false;
  StreamServer server({"127.0.0.1", 0}, [&](socket::socket& s, const socket::Address&) {
    struct Mark {
      bool* flag;
      ~Mark() { *flag = true; }
    } mark{&unwound};
    entered.set();
    (void)s.recv(1);  // waits for ever: the client never writes
  });
  server.start();
  const auto port = server.server_port();
  auto client = connect(server);
  ASSERT_TRUE(entered.wait(10.0));
  server.stop(/*timeout=*/0.05);
  EXPECT_TRUE(unwound) << "stop(timeout) kills what is still running once the timeout passed";
  EXPECT_EQ(client.makefile().read(), "") << "the killed handler's socket closed";
  socket::socket late(AF_INET, SOCK_STREAM);
  EXPECT_EQ(late.connect_ex({"127.0.0.1", port}), ECONNREFUSED);
  EXPECT_TRUE(server.closed());
}

GROVE_TEST(GeventServer, PoolOfOneHandlesOneConnectionAtATime) {
  int inside = 0;
  int most = 0;
  StreamServer server({"127.0.0.1", 0},
                      [&](socket::socket& s, const socket::Address&) {
                        most = std::max(most, ++inside);
                        (void)s.makefile().readline();  // until the client speaks
                        --inside;
                        s.sendall("done\n");
                      },
                      /*spawn=*/1);
  server.start();
  auto a = connect(server);
  auto b = connect(server);
  gevent::sleep(0.05);
  EXPECT_EQ(inside, 1) << "the second client waits in the backlog while the pool is full";
  b.sendall("go\n");
  a.sendall("go\n");
  EXPECT_EQ(a.makefile().readline(), "done\n");
  EXPECT_EQ(b.makefile().readline(), "done\n");
  EXPECT_EQ(most, 1);
  server.stop();
}

GROVE_TEST(GeventServer, SpawnIntoAPoolYouOwn) {
  gevent::pool::Pool pool(2);
  StreamServer server({"127.0.0.1", 0}, [](socket::socket& s) { s.sendall("x"); }, pool);
  server.start();
  auto c = connect(server);
  EXPECT_EQ(c.makefile().read(), "x");
  server.stop();
  EXPECT_TRUE(pool.join(5.0));
}

GROVE_TEST(GeventServer, StopAcceptingKeepsTheListenerOpenUntilStartAccepting) {
  StreamServer server({"127.0.0.1", 0}, [](socket::socket& s) { s.sendall("hello\n"); });
  server.start();
  server.stop_accepting();
  auto c = connect(server);  // the kernel completes the handshake: the listener is open
  c.settimeout(0.1);
  EXPECT_THROW((void)c.recv(10), socket::timeout) << "nobody accepts while stopped";
  c.settimeout(10.0);
  server.start_accepting();
  EXPECT_EQ(c.makefile().readline(), "hello\n");
  server.stop();
}

GROVE_TEST(GeventServer, ServesOnASocketYouBound) {
  socket::socket listener(AF_INET, SOCK_STREAM);
  listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  listener.bind({"127.0.0.1", 0});
  listener.listen(16);
  const auto port = listener.getsockname().port();
  StreamServer server(std::move(listener), [](socket::socket& s) { s.sendall("mine"); });
  server.start();
  EXPECT_EQ(server.server_port(), port);
  auto c = connect(server);
  EXPECT_EQ(c.makefile().read(), "mine");
  server.stop();
}

GROVE_TEST(GeventServer, AFailingHandlerIsReportedAndTheServerGoesOn) {
  grove::testing::ExpectFailures crashes;
  int calls = 0;
  StreamServer server({"127.0.0.1", 0}, [&](socket::socket& s) {
    if (++calls == 1) throw std::runtime_error("handler failed");
    s.sendall("ok");
  });
  server.start();
  auto first = connect(server);
  EXPECT_EQ(first.makefile().read(), "");
  auto second = connect(server);
  EXPECT_EQ(second.makefile().read(), "ok");
  EXPECT_EQ(crashes.count(), 1u);
  server.stop();
}

GROVE_TEST(GeventServer, SetSpawnBeforeStart) {
  int inside = 0;
  int most = 0;
  StreamServer server({"127.0.0.1", 0}, [&](socket::socket& s) {
    most = std::max(most, ++inside);
    gevent::sleep(0.02);
    --inside;
    s.sendall("k");
  });
  server.set_spawn(1);
  server.start();
  std::vector<socket::socket> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect(server));
  for (auto& c : clients) EXPECT_EQ(c.makefile().read(), "k");
  EXPECT_EQ(most, 1);
  server.stop();
}

GROVE_TEST(GeventDatagramServer, EchoesEachDatagramToItsSender) {
  DatagramServer* self = nullptr;
  DatagramServer server({"127.0.0.1", 0}, [&](std::string_view data, const socket::Address& from) {
    self->sendto(std::string("echo:") + std::string(data), from);
  });
  self = &server;
  server.start();
  socket::socket client(AF_INET, SOCK_DGRAM);
  client.settimeout(10.0);
  client.sendto("ping", server.address());
  EXPECT_EQ(client.recvfrom(100).data, "echo:ping");
  client.sendto("pong", server.address());
  EXPECT_EQ(client.recvfrom(100).data, "echo:pong");
  server.stop();
}

GROVE_TEST(GeventDatagramServer, ServesOnASocketYouBound) {
  socket::socket bound(AF_INET, SOCK_DGRAM);
  bound.bind({"127.0.0.1", 0});
  const auto port = bound.getsockname().port();
  DatagramServer* self = nullptr;
  DatagramServer server(std::move(bound), [&](std::string_view data, const socket::Address& from) {
    self->sendto(std::string("mine:") + std::string(data), from);
  });
  self = &server;
  server.start();
  EXPECT_EQ(server.server_port(), port);
  socket::socket client(AF_INET, SOCK_DGRAM);
  client.settimeout(10.0);
  client.sendto("x", server.address());
  EXPECT_EQ(client.recvfrom(100).data, "mine:x");
  server.stop();
}

}  // namespace
