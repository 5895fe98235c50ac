// What accepting a connection costs in system calls: accept4 already makes the descriptor
// non-blocking, and the listener knows its family and type, so the server asks the kernel
// nothing more about the new socket (no fcntl, no getsockopt). This binary defines those two
// functions itself, in front of the C library's, and counts the calls.
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <vector>

#include "hub/hub.h"
#include "servers/stream_server.h"
#include "tests/support/grove_test.h"

namespace {
std::atomic<long> g_fcntl_calls{0};
std::atomic<long> g_getsockopt_calls{0};
using Fcntl = int (*)(int, int, ...);
using Getsockopt = int (*)(int, int, int, void*, socklen_t*);
}  // namespace

extern "C" int fcntl(int fd, int cmd, ...) {
  static const auto next = reinterpret_cast<Fcntl>(::dlsym(RTLD_NEXT, "fcntl"));
  va_list args;
  va_start(args, cmd);
  void* arg = va_arg(args, void*);  // every fcntl argument fits in a pointer-sized slot
  va_end(args);
  g_fcntl_calls.fetch_add(1, std::memory_order_relaxed);
  return next(fd, cmd, arg);
}

extern "C" int getsockopt(int fd, int level, int option, void* value, socklen_t* length) {
  static const auto next = reinterpret_cast<Getsockopt>(::dlsym(RTLD_NEXT, "getsockopt"));
  g_getsockopt_calls.fetch_add(1, std::memory_order_relaxed);
  return next(fd, level, option, value, length);
}

namespace {

GROVE_TEST(AcceptSyscalls, AcceptedConnectionsCostNoFcntlOrGetsockopt) {
  constexpr int kClients = 20;
  grove::servers::StreamServer server(
      "127.0.0.1:0", [](grove::net::Socket& socket, const grove::net::Address&) {
        EXPECT_TRUE(socket.getblocking());  // the default timeout: blocking from fibers
        EXPECT_EQ(socket.family(), AF_INET);
        EXPECT_EQ(socket.type(), SOCK_STREAM);
        socket.sendall("hi");
      });
  server.start();
  const sockaddr_in to = [&] {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(server.address().port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }();
  const long fcntl_before = g_fcntl_calls.load();
  const long getsockopt_before = g_getsockopt_calls.load();
  // Plain blocking clients: the kernel completes a loopback connect without the server.
  std::vector<int> clients;
  for (int i = 0; i < kClients; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    clients.push_back(fd);
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);
  }
  const grove::Deadline deadline = grove::Deadline::after(60.0);
  while (server.stats().accepted < kClients && !deadline.passed()) grove::sleep(0.001);
  ASSERT_EQ(server.stats().accepted, static_cast<std::uint64_t>(kClients));
  EXPECT_EQ(g_fcntl_calls.load() - fcntl_before, 0);
  EXPECT_EQ(g_getsockopt_calls.load() - getsockopt_before, 0);
  for (int fd : clients) {
    // Each client gets the handler's two bytes (read without blocking the hub's thread).
    char reply[2];
    std::size_t got = 0;
    while (got < sizeof reply && !deadline.passed()) {
      const ssize_t n = ::recv(fd, reply + got, sizeof reply - got, MSG_DONTWAIT);
      if (n > 0) {
        got += static_cast<std::size_t>(n);
      } else {
        grove::sleep(0.001);
      }
    }
    EXPECT_EQ(got, sizeof reply);
    ::close(fd);
  }
  server.close();
}

}  // namespace
