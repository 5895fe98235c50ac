// The poller is not told about a connection once per request: in steady state a request/response
// connection costs zero epoll_ctl calls (hub/io.h says when a watcher is registered). This binary
// defines epoll_ctl itself, in front of the C library's (libev calls it through the dynamic
// linker, which finds the executable's definition first), and counts the calls.
#include <dlfcn.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "hub/hub.h"
#include "net/socket.h"
#include "tests/support/grove_test.h"

namespace {
std::atomic<long> g_epoll_ctl_calls{0};
using EpollCtl = int (*)(int, int, int, struct epoll_event*);
}  // namespace

extern "C" int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  static const auto next = reinterpret_cast<EpollCtl>(::dlsym(RTLD_NEXT, "epoll_ctl"));
  g_epoll_ctl_calls.fetch_add(1, std::memory_order_relaxed);
  return next(epfd, op, fd, event);
}

namespace grove::net {
namespace {

constexpr int kWarmUp = 10;
constexpr int kRounds = 200;

// Reads one line ("...\n") of at most 64 bytes, the way a server reads a small request.
std::string read_line(Socket& s) {
  std::string line;
  char buffer[4096];
  while (line.empty() || line.back() != '\n') {
    const std::size_t n = s.recv_into(buffer, sizeof buffer);
    if (n == 0) throw EndOfStream("peer closed");
    line.append(buffer, n);
  }
  return line;
}

// A client and a server fiber on one loopback connection, `kWarmUp + kRounds` requests; between
// reading a request and answering it the server calls `work` (its "backend"). Returns the
// epoll_ctl calls made during the last kRounds round trips.
template <class Work>
long epoll_ctl_calls_per_rounds(Work work) {
  Socket listener = create_server(Address::ipv4("127.0.0.1", 0));
  FiberRef server = spawn_fiber([&] {
    Accepted a = listener.accept();
    for (;;) {
      const std::string request = read_line(a.socket);
      if (request == "bye\n") return;
      work();
      a.socket.sendall("pong\n");
    }
  });
  Socket client = create_connection(listener.getsockname());
  long before = 0;
  for (int i = 0; i < kWarmUp + kRounds; ++i) {
    if (i == kWarmUp) before = g_epoll_ctl_calls.load();
    client.sendall("ping\n");
    EXPECT_EQ(read_line(client), "pong\n");
  }
  const long calls = g_epoll_ctl_calls.load() - before;
  client.sendall("bye\n");
  EXPECT_TRUE(server->join());
  return calls;
}

GROVE_TEST(PollerChurn, RequestResponseCostsNoEpollCtl) {
  EXPECT_EQ(epoll_ctl_calls_per_rounds([] {}), 0);
}

// The server's fiber waits on something else (here a timer; a database, another service)
// between reading a request and answering it, so the hub polls while that fiber is not waiting
// on its socket. The socket's read interest stays registered all the same.
GROVE_TEST(PollerChurn, AHandlerThatWaitsOnSomethingElseCostsNoEpollCtl) {
  EXPECT_EQ(epoll_ctl_calls_per_rounds([] { sleep(0.0002); }), 0);
}

// A write that would block registers the write interest while it waits (two changes), and
// nothing stays behind: the round trips after it cost none.
GROVE_TEST(PollerChurn, ABlockedWriteLeavesNothingBehind) {
  auto [a, b] = socketpair();
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  const std::string big(1 << 20, 'x');
  FiberRef reader = spawn_fiber([&, &b = b] {
    std::size_t got = 0;
    std::vector<char> buffer(65536);
    while (got < big.size()) {
      got += b.recv_into(buffer.data(), std::min(buffer.size(), big.size() - got));
    }
    for (int i = 0; i < kWarmUp + kRounds; ++i) {
      (void)b.recv_into(buffer.data(), 1);
      b.sendall("y");
    }
  });
  a.sendall(big);  // blocks: the reader drains it
  char c;
  long before = 0;
  for (int i = 0; i < kWarmUp + kRounds; ++i) {
    if (i == kWarmUp) before = g_epoll_ctl_calls.load();
    a.sendall("x");
    ASSERT_EQ(a.recv_into(&c, 1), 1u);
  }
  EXPECT_EQ(g_epoll_ctl_calls.load() - before, 0);
  EXPECT_TRUE(reader->join());
}

}  // namespace
}  // namespace grove::net
