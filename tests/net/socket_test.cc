// net/socket.h, net/address.h, net/reader.h: the cooperative socket on IPv4, IPv6 and Unix
// sockets; timeouts; cancellation and close races; readiness tracking; descriptor hygiene.
#include "net/socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hub/errors.h"
#include "hub/hub.h"
#include "hub/timeout.h"
#include "net/address.h"
#include "net/reader.h"
#include "tests/hub/wait_conformance.h"
#include "tests/net/net_test_support.h"
#include "tests/support/grove_test.h"

namespace grove::net {
namespace {

// A socket's read wait (wait_readable, what recv parks on) and its readable() source; the
// other end writes a byte. Destroying the socket under its waiter throws SocketError (EBADF).
struct SocketReadableWait {
  static constexpr grove::testing::Wake kWake = grove::testing::Wake::kSingleWaiter;
  SocketReadableWait() {
    auto [x, y] = socketpair();
    a.emplace(std::move(x));
    b = std::move(y);
  }
  bool wait(Deadline d) { return a->wait_readable(d); }
  void release() { b.sendall("x"); }
  void done() { (void)a->recv(64); }
  std::size_t waiting() const {
    return a && a->fileno() >= 0 && const_cast<Socket&>(*a).readable().watcher()->has_waiter() ? 1
                                                                                                 : 0;
  }
  WaitSource source() { return a->readable(); }
  using Destroyed = SocketError;
  void destroy() { a.reset(); }
  std::optional<Socket> a;
  Socket b;
};

}  // namespace
}  // namespace grove::net

namespace grove::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Socket, WaitConformance, ::testing::Types<net::SocketReadableWait>);
}  // namespace grove::testing

namespace grove::net {
namespace {

using testing::count_open_fds;
using testing::ipv6_loopback_available;
using testing::TempDir;

// A port nobody listens on: bind, read the port, close.
std::uint16_t closed_port() {
  Socket s = Socket::create(AF_INET, SOCK_STREAM);
  s.bind(Address::ipv4("127.0.0.1", 0));
  return s.getsockname().port();
}

// Accepts one connection and echoes until EOF.
FiberRef spawn_echo_server(Socket& listener) {
  return spawn_fiber([&listener] {
    Accepted conn = listener.accept();
    char buf[4096];
    while (std::size_t n = conn.socket.recv_into(buf, sizeof buf)) {
      conn.socket.sendall(std::string_view(buf, n));
    }
  });
}

void check_echo_roundtrip(const Address& bind_address) {
  Socket listener = create_server(bind_address);
  const Address where = listener.getsockname();
  FiberRef server = spawn_echo_server(listener);
  Socket client = create_connection(where, 5.0);
  EXPECT_EQ(client.getpeername(), where);
  client.sendall("hello, grove");
  std::string got;
  while (got.size() < 12) got += client.recv(64);
  EXPECT_EQ(got, "hello, grove");
  client.shutdown(SHUT_WR);
  EXPECT_EQ(client.recv(64), "");  // the server saw EOF and closed
  EXPECT_TRUE(server->join(Deadline::after(20.0)));
}

// --- addresses -------------------------------------------------------------------------------

TEST(Address, ParsesAndPrintsEveryFamily) {
  EXPECT_EQ(Address::parse("127.0.0.1:8080").to_string(), "127.0.0.1:8080");
  EXPECT_EQ(Address::parse("127.0.0.1:8080").family(), AF_INET);
  EXPECT_EQ(Address::parse("[::1]:80").to_string(), "[::1]:80");
  EXPECT_EQ(Address::parse("[::1]:80").port(), 80);
  EXPECT_EQ(Address::parse("[::1]:80").family(), AF_INET6);
  EXPECT_EQ(Address::parse("/tmp/x.sock").to_string(), "/tmp/x.sock");
  EXPECT_EQ(Address::parse("/tmp/x.sock").family(), AF_UNIX);
  EXPECT_EQ(Address::parse("@grove-abstract").to_string(), "@grove-abstract");
  EXPECT_EQ(Address::ip("::1", 443).to_string(), "[::1]:443");
  EXPECT_EQ(Address::ipv4("10.1.2.3", 7).with_port(9).to_string(), "10.1.2.3:9");
  EXPECT_EQ(Address().to_string(), "(none)");
}

TEST(Address, RejectsWhatIsNotAnAddress) {
  EXPECT_FALSE(Address::try_parse("localhost:80"));
  EXPECT_FALSE(Address::try_parse("1.2.3.4"));
  EXPECT_FALSE(Address::try_parse("1.2.3.4:70000"));
  EXPECT_FALSE(Address::try_parse("[::1]"));
  EXPECT_FALSE(Address::try_parse("::1:80"));
  EXPECT_THROW(Address::parse("nope"), std::invalid_argument);
  EXPECT_THROW(Address::ipv4("::1", 1), std::invalid_argument);
}

// --- round trips -------------------------------------------------------------------------------

GROVE_TEST(Socket, TcpEchoOverIpv4) { check_echo_roundtrip(Address::ipv4("127.0.0.1", 0)); }

GROVE_TEST(Socket, TcpEchoOverIpv6) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "::1 is not available here";
  check_echo_roundtrip(Address::ipv6("::1", 0));
}

GROVE_TEST(Socket, UnixStreamEcho) {
  TempDir dir;
  check_echo_roundtrip(Address::unix_path(dir.file("echo.sock")));
}

GROVE_TEST(Socket, UnixAbstractEcho) {
  check_echo_roundtrip(Address::unix_path("@grove-test-" + std::to_string(::getpid())));
}

GROVE_TEST(Socket, AcceptReturnsThePeerAddress) {
  Socket listener = create_server(Address::ipv4("127.0.0.1", 0));
  Socket client;
  FiberRef connector = spawn_fiber([&] { client = create_connection(listener.getsockname()); });
  Accepted conn = listener.accept();
  ASSERT_TRUE(connector->join(Deadline::after(20.0)));
  EXPECT_EQ(conn.peer, client.getsockname());
  EXPECT_EQ(conn.socket.getpeername(), client.getsockname());
  EXPECT_EQ(conn.socket.family(), AF_INET);
  EXPECT_EQ(conn.socket.type(), SOCK_STREAM);
}

GROVE_TEST(Socket, UdpSendtoRecvfromOnBothFamilies) {
  std::vector<std::string> hosts = {"127.0.0.1"};
  if (ipv6_loopback_available()) hosts.push_back("::1");
  for (const std::string& host : hosts) {
    const int family = host == "::1" ? AF_INET6 : AF_INET;
    Socket a = Socket::create(family, SOCK_DGRAM);
    Socket b = Socket::create(family, SOCK_DGRAM);
    a.bind(Address::ip(host, 0));
    b.bind(Address::ip(host, 0));
    FiberRef receiver = spawn_fiber([&] {
      Datagram d1 = b.recvfrom(100);
      EXPECT_EQ(d1.data, "one");
      EXPECT_EQ(d1.from, a.getsockname());
      char buf[100];
      auto [n, from] = b.recvfrom_into(buf, sizeof buf);
      EXPECT_EQ(std::string(buf, n), "two");
      EXPECT_EQ(from, a.getsockname());
      b.sendto("three", from);
    });
    EXPECT_EQ(a.sendto("one", b.getsockname()), 3u);
    EXPECT_EQ(a.sendto("two", b.getsockname()), 3u);
    EXPECT_EQ(a.recv(100), "three");
    EXPECT_TRUE(receiver->join(Deadline::after(20.0)));
  }
}

GROVE_TEST(Socket, SocketpairCarriesBytesBothWays) {
  auto [a, b] = socketpair();
  a.sendall("ping");
  EXPECT_EQ(b.recv(10), "ping");
  b.sendall("pong");
  char buf[10];
  EXPECT_EQ(a.recv_into(buf, sizeof buf), 4u);
  EXPECT_EQ(std::string(buf, 4), "pong");
}

GROVE_TEST(Socket, SendVectoredWritesEveryPartInOrder) {
  auto [a, b] = socketpair();
  const std::string_view parts[] = {"HTTP/1.1 200 OK\r\n", "", "Content-Length: 2\r\n\r\n", "hi"};
  a.sendall(std::span<const std::string_view>(parts));
  std::string got;
  while (got.size() < 40) got += b.recv(100);
  EXPECT_EQ(got, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(a.send_vectored(std::span<const std::string_view>(parts, 1)), 17u);
}

GROVE_TEST(Socket, SendallOfManyMegabytesArrivesIntact) {
  auto [a, b] = socketpair();
  std::string data(8 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 12));
  FiberRef writer = spawn_fiber([&, &a = a] {
    a.sendall(data);
    a.shutdown(SHUT_WR);
  });
  std::string got;
  std::vector<char> buf(65536);  // fiber stacks are 64 KiB: big buffers live on the heap
  while (std::size_t n = b.recv_into(buf.data(), buf.size())) got.append(buf.data(), n);
  EXPECT_TRUE(writer->join(Deadline::after(20.0)));
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

// --- errors name the operation and the address --------------------------------------------------

GROVE_TEST(Socket, ConnectRefusedNamesTheAddress) {
  const std::uint16_t port = closed_port();
  Socket s = Socket::create(AF_INET, SOCK_STREAM);
  try {
    s.connect(Address::ipv4("127.0.0.1", port));
    FAIL() << "connect to a closed port succeeded";
  } catch (const SocketError& e) {
    EXPECT_EQ(e.code(), std::errc::connection_refused);
    EXPECT_EQ(std::string(e.what()),
              "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  }
  Socket s2 = Socket::create(AF_INET, SOCK_STREAM);
  EXPECT_EQ(s2.connect_ex(Address::ipv4("127.0.0.1", port)), ECONNREFUSED);
}

GROVE_TEST(Socket, BindConflictIsAddressInUse) {
  Socket a = create_server(Address::ipv4("127.0.0.1", 0));
  Socket b = Socket::create(AF_INET, SOCK_STREAM);
  try {
    b.bind(a.getsockname());
    FAIL() << "second bind succeeded";
  } catch (const SocketError& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
    EXPECT_NE(std::string(e.what()).find("bind to " + a.getsockname().to_string()),
              std::string::npos);
  }
}

GROVE_TEST(Socket, SendToAClosedPeerIsEpipeNotSigpipe) {
  auto [a, b] = socketpair();
  b.close();
  try {
    for (int i = 0; i < 4; ++i) a.sendall(std::string(4096, 'x'));
    FAIL() << "send to a closed peer succeeded";
  } catch (const SocketError& e) {
    EXPECT_EQ(e.code(), std::errc::broken_pipe);
  }
}

GROVE_TEST(Socket, CallsOnAClosedSocketAreEbadf) {
  Socket s = Socket::create(AF_INET, SOCK_STREAM);
  s.close();
  s.close();  // idempotent
  EXPECT_EQ(s.fileno(), -1);
  try {
    (void)s.recv(1);
    FAIL();
  } catch (const SocketError& e) {
    EXPECT_EQ(e.code(), std::errc::bad_file_descriptor);
  }
  Socket never;
  EXPECT_THROW(never.sendall("x"), SocketError);
}

// --- timeouts ----------------------------------------------------------------------------------

GROVE_TEST(Socket, TimeoutSettingsFollowPython) {
  Socket s = Socket::create(AF_INET, SOCK_STREAM);
  EXPECT_EQ(s.gettimeout(), std::nullopt);
  EXPECT_TRUE(s.getblocking());
  s.settimeout(1.5);
  EXPECT_EQ(s.gettimeout(), 1.5);
  s.setblocking(false);
  EXPECT_EQ(s.gettimeout(), 0.0);
  EXPECT_FALSE(s.getblocking());
  s.setblocking(true);
  EXPECT_EQ(s.gettimeout(), std::nullopt);
  s.settimeout(std::chrono::milliseconds(250));
  EXPECT_EQ(s.gettimeout(), 0.25);
  EXPECT_THROW(s.settimeout(-1.0), std::invalid_argument);

  Socket::set_default_timeout(3.0);
  Socket t = Socket::create(AF_INET, SOCK_STREAM);
  EXPECT_EQ(t.gettimeout(), 3.0);
  Socket::set_default_timeout(std::nullopt);
}

GROVE_TEST(Socket, RecvTimeoutThrowsSocketTimeoutOnTime) {
  auto [a, b] = socketpair();
  a.settimeout(0.05);
  const double start = Deadline::now();
  try {
    (void)a.recv(10);
    FAIL() << "recv returned without data";
  } catch (const SocketTimeout& e) {
    EXPECT_EQ(e.code(), std::errc::timed_out);
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("recv from"), std::string::npos);
  }
  EXPECT_GE(Deadline::now() - start, 0.045);  // not before its time
  // The socket still works after a timeout.
  b.sendall("late");
  EXPECT_EQ(a.recv(10), "late");
}

GROVE_TEST(Socket, NonBlockingCallsFailWithEagainAtOnce) {
  auto [a, b] = socketpair();
  a.setblocking(false);
  try {
    (void)a.recv(10);
    FAIL();
  } catch (const SocketTimeout&) {
    FAIL() << "a non-blocking socket must not time out";
  } catch (const SocketError& e) {
    EXPECT_EQ(e.error_number(), EAGAIN);
  }
  b.sendall("x");
  EXPECT_EQ(a.recv(10), "x");
}

GROVE_TEST(Socket, SendallTimeoutCoversTheWholeCall) {
  auto [a, b] = socketpair();
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  b.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
  // The reader drains a little every 20 ms: each wait of the writer is short, the call is long.
  bool stop = false;
  FiberRef reader = spawn_fiber([&, &b = b] {
    char buf[2048];
    while (!stop) {
      sleep(0.02);
      try {
        b.setblocking(false);
        (void)b.recv_into(buf, sizeof buf);
      } catch (const SocketError&) {
      }
    }
  });
  a.settimeout(0.15);
  // At 100 KB/s no single wait lasts 0.15 s: with a timeout per wait, sendall would finish
  // after 40 s instead of throwing.
  const std::string data(4 << 20, 'x');
  const double start = Deadline::now();
  EXPECT_THROW(a.sendall(data), SocketTimeout);
  const double elapsed = Deadline::now() - start;
  stop = true;
  EXPECT_GE(elapsed, 0.14);
  EXPECT_TRUE(reader->join(Deadline::after(20.0)));
}

GROVE_TEST(Socket, ConnectTimeoutToABlackholeIsSocketTimeout) {
  // A listener with a full backlog and SYNs dropped: connect hangs until the timeout.
  Socket listener = Socket::create(AF_INET, SOCK_STREAM);
  listener.bind(Address::ipv4("127.0.0.1", 0));
  listener.listen(0);
  const Address where = listener.getsockname();
  std::vector<Socket> fillers;
  // Fill the accept queue (backlog 0 admits one or two); further connects stay in SYN_SENT.
  for (int i = 0; i < 4; ++i) {
    Socket s = Socket::create(AF_INET, SOCK_STREAM);
    s.settimeout(0.0);
    (void)s.connect_ex(where);
    fillers.push_back(std::move(s));
  }
  sleep(0.01);
  Socket s = Socket::create(AF_INET, SOCK_STREAM);
  s.settimeout(0.1);
  const double start = Deadline::now();
  try {
    s.connect(where);
    GTEST_SKIP() << "the kernel accepted beyond the backlog; cannot provoke a connect timeout";
  } catch (const SocketTimeout& e) {
    EXPECT_EQ(std::string(e.what()), "connect to " + where.to_string() + ": timed out");
  }
  EXPECT_GE(Deadline::now() - start, 0.09);
  Socket s2 = Socket::create(AF_INET, SOCK_STREAM);
  s2.settimeout(0.05);
  EXPECT_EQ(s2.connect_ex(where), EAGAIN);  // gevent's connect_ex answer to a timeout
}

GROVE_TEST(Socket, GroveTimeoutScopeInterruptsRecvWithTimeoutNotSocketTimeout) {
  auto [a, b] = socketpair();
  Timeout scope(0.03);
  try {
    (void)a.recv(10);
    FAIL();
  } catch (const Timeout& t) {
    EXPECT_TRUE(t == scope);
  }
  b.sendall("ok");
  EXPECT_EQ(a.recv(10), "ok");  // no waiter left behind on the socket
}

// --- sharing, cancellation, close races -------------------------------------------------------

GROVE_TEST(Socket, SecondReaderGetsConcurrentObjectUseError) {
  auto [a, b] = socketpair();
  FiberRef first = spawn_fiber([&, &a = a] { EXPECT_EQ(a.recv(10), "data"); });
  sleep(0.0);
  EXPECT_THROW((void)a.recv(10), ConcurrentObjectUseError);
  b.sendall("data");
  EXPECT_TRUE(first->join(Deadline::after(20.0)));
}

GROVE_TEST(Socket, ReaderAndWriterMayWaitAtTheSameTime) {
  auto [a, b] = socketpair();
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  FiberRef reader = spawn_fiber([&, &a = a] { EXPECT_EQ(a.recv(10), "r"); });
  FiberRef writer = spawn_fiber([&, &a = a] { a.sendall(std::string(1 << 20, 'w')); });
  sleep(0.01);
  b.sendall("r");
  std::size_t drained = 0;
  std::vector<char> buf(65536);
  while (drained < (1u << 20)) drained += b.recv_into(buf.data(), buf.size());
  EXPECT_TRUE(reader->join(Deadline::after(20.0)));
  EXPECT_TRUE(writer->join(Deadline::after(20.0)));
}

GROVE_TEST(Socket, CloseWakesABlockedReaderAtOnceWithEbadf) {
  auto [a, b] = socketpair();
  double woke_after = -1;
  std::string message;
  FiberRef reader = spawn_fiber([&, &a = a] {
    const double start = Deadline::now();
    try {
      (void)a.recv(10);
      ADD_FAILURE() << "recv returned on a closed socket";
    } catch (const SocketError& e) {
      woke_after = Deadline::now() - start;
      EXPECT_EQ(e.code(), std::errc::bad_file_descriptor);
      message = e.what();
    }
  });
  sleep(0.01);
  a.close();
  // recv has no timeout: only the close can end it.
  EXPECT_TRUE(reader->join(Deadline::after(20.0)));
  EXPECT_GE(woke_after, 0.0);
  EXPECT_NE(message.find("closed in another greenlet"), std::string::npos) << message;
}

GROVE_TEST(Socket, CloseWakesBlockedAcceptAndConnect) {
  Socket listener = create_server(Address::ipv4("127.0.0.1", 0));
  bool accept_failed = false;
  FiberRef acceptor = spawn_fiber([&] {
    try {
      (void)listener.accept();
    } catch (const SocketError& e) {
      accept_failed = e.code() == std::errc::bad_file_descriptor;
    }
  });
  sleep(0.01);
  listener.close();
  EXPECT_TRUE(acceptor->join(Deadline::after(20.0)));
  EXPECT_TRUE(accept_failed);
}

GROVE_TEST(Socket, DestroyingASocketWakesItsBlockedReader) {
  auto pair = socketpair();
  auto owned = std::make_unique<Socket>(std::move(pair.first));
  bool woke = false;
  FiberRef reader = spawn_fiber([&, s = owned.get()] {
    try {
      (void)s->recv(10);
    } catch (const SocketError& e) {
      woke = e.code() == std::errc::bad_file_descriptor;
    }
  });
  sleep(0.01);
  owned.reset();  // the reader still runs inside the socket's code
  EXPECT_TRUE(reader->join(Deadline::after(20.0)));
  EXPECT_TRUE(woke);
}

GROVE_TEST(Socket, CloseAfterReadinessButBeforeTheReaderRanIsStillEbadf) {
  auto [a, b] = socketpair();
  bool woke = false;
  FiberRef reader = spawn_fiber([&, &a = a] {
    try {
      (void)a.recv(10);
    } catch (const SocketError& e) {
      woke = e.code() == std::errc::bad_file_descriptor;
    }
  });
  sleep(0.01);
  b.sendall("x");
  // Let the loop see the readiness (the reader is made ready) without letting it run first:
  // the hub polls when the run queue is empty; a spinning fiber could not. So close from a
  // callback that runs right after the poll's wake-ups were queued.
  Hub::current().run_callback([&a = a] { a.close(); });
  EXPECT_TRUE(reader->join(Deadline::after(20.0)));
  // Either the reader read "x" before the close or it saw EBADF; it must never hang or crash.
  SUCCEED();
  (void)woke;
}

GROVE_TEST(Socket, KillingABlockedReaderUnwindsAndLeavesTheSocketUsable) {
  auto [a, b] = socketpair();
  bool unwound = false;
  FiberRef reader = spawn_fiber([&, &a = a] {
    struct Mark {
      bool* flag;
      ~Mark() { *flag = true; }
    } mark{&unwound};
    (void)a.recv(10);
  });
  sleep(0.01);
  reader->kill();
  EXPECT_TRUE(reader->join(Deadline::after(20.0)));
  EXPECT_TRUE(unwound);
  b.sendall("after");
  EXPECT_EQ(a.recv(10), "after");
}

// --- readiness tracking -----------------------------------------------------------------------

GROVE_TEST(Socket, ShortReadMarksNotReadyAndAFullReadKeepsReady) {
  auto [a, b] = socketpair();
  EXPECT_TRUE(a.read_ready());  // a fresh socket tries the syscall first
  b.sendall("12345678");
  char buf[4];
  EXPECT_EQ(a.recv_into(buf, 4), 4u);
  EXPECT_TRUE(a.read_ready());  // got all it asked for: more may be there
  char big[64];
  EXPECT_EQ(a.recv_into(big, sizeof big), 4u);
  EXPECT_FALSE(a.read_ready());  // short read: drained; the next read waits first
  FiberRef writer = spawn_fiber([&, &b = b] {
    sleep(0.01);
    b.sendall("z");
  });
  EXPECT_EQ(a.recv(64), "z");
  EXPECT_TRUE(writer->join(Deadline::after(20.0)));
  EXPECT_TRUE(a.write_ready());
}

// --- buffered reader --------------------------------------------------------------------------

GROVE_TEST(SocketReader, ReadlineReadExactAndReadSome) {
  auto [a, b] = socketpair();
  FiberRef writer = spawn_fiber([&, &b = b] {
    b.sendall("GET / HTTP/1.1\r\nHost: x");
    sleep(0.01);
    b.sendall("\r\n\r\n0123456789");
    sleep(0.01);
    b.sendall("abcdefghij-a-very-long-line-without-end");
    b.shutdown(SHUT_WR);
  });
  SocketReader reader(a, 8);  // a tiny buffer exercises refills
  EXPECT_EQ(reader.readline(), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(reader.readline(), "Host: x\r\n");
  EXPECT_EQ(reader.readline(), "\r\n");
  EXPECT_EQ(reader.read_exact(4), "0123");
  EXPECT_EQ(reader.read_exact(16), "456789abcdefghij");
  EXPECT_EQ(reader.readline(6), "-a-ver");  // the limit cuts the line
  std::string rest = reader.read_some(5);  // what is buffered (at most 5), else one recv
  EXPECT_FALSE(rest.empty());
  EXPECT_LE(rest.size(), 5u);
  rest += reader.readline();  // EOF ends the last line
  EXPECT_EQ(rest, "y-long-line-without-end");
  EXPECT_EQ(reader.readline(), "");
  EXPECT_EQ(reader.read_some(), "");
  EXPECT_TRUE(writer->join(Deadline::after(20.0)));
}

GROVE_TEST(SocketReader, ReadExactThrowsEndOfStreamWhenThePeerClosesEarly) {
  auto [a, b] = socketpair();
  b.sendall("abc");
  b.close();
  SocketReader reader(a);
  try {
    (void)reader.read_exact(10);
    FAIL();
  } catch (const EndOfStream& e) {
    EXPECT_NE(std::string(e.what()).find("after 3 of 10 bytes"), std::string::npos) << e.what();
  }
}

// --- descriptors ------------------------------------------------------------------------------

GROVE_TEST(Socket, FromfdDupsAndDetachGivesUpOwnership) {
  auto [a, b] = socketpair();
  Socket c = fromfd(a.fileno());
  EXPECT_NE(c.fileno(), a.fileno());
  c.sendall("via dup");
  EXPECT_EQ(b.recv(20), "via dup");
  const int raw = c.detach();
  EXPECT_EQ(c.fileno(), -1);
  EXPECT_GE(::fcntl(raw, F_GETFD), 0);  // still open
  Socket d = Socket::adopt(raw);
  EXPECT_EQ(d.family(), AF_UNIX);
  EXPECT_EQ(d.type(), SOCK_STREAM);
}

GROVE_TEST(Socket, OptionsRoundTrip) {
  Socket s = Socket::create(AF_INET, SOCK_STREAM);
  s.set_nodelay();
  EXPECT_NE(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
  s.set_nodelay(false);
  EXPECT_EQ(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  EXPECT_NE(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  EXPECT_THROW(s.setsockopt(SOL_SOCKET, 9999, 1), SocketError);
}

GROVE_TEST(Socket, NoDescriptorLeaksAcrossConnectionsErrorsAndCloses) {
  const int before = count_open_fds();
  {
    Socket listener = create_server(Address::ipv4("127.0.0.1", 0));
    std::vector<FiberRef> fibers;
    fibers.push_back(spawn_fiber([&] {
      for (int i = 0; i < 50; ++i) {
        Accepted c = listener.accept();
        c.socket.sendall("x");
      }
    }));
    for (int i = 0; i < 50; ++i) {
      fibers.push_back(spawn_fiber([&] {
        Socket s = create_connection(listener.getsockname(), 5.0);
        EXPECT_EQ(s.recv(1), "x");
      }));
    }
    for (auto& f : fibers) EXPECT_TRUE(f->join(Deadline::after(20.0)));
    for (int i = 0; i < 20; ++i) {
      Socket s = Socket::create(AF_INET, SOCK_STREAM);
      EXPECT_NE(s.connect_ex(Address::ipv4("127.0.0.1", closed_port())), 0);
      auto [a, b] = socketpair();
      Socket dup = fromfd(a.fileno());
    }
  }
  EXPECT_EQ(count_open_fds(), before);
}

}  // namespace
}  // namespace grove::net
