// net/selector.h: gevent's GeventSelector — register/unregister/modify/select/get_key/get_map/
// close, its errors, and selecting in one fiber while others do I/O.
#include "net/selector.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "hub/errors.h"
#include "hub/hub.h"
#include "net/socket.h"
#include "tests/hub/wait_conformance.h"
#include "tests/net/net_test_support.h"
#include "tests/support/grove_test.h"

namespace grove::net {
namespace {

// select() over one socket of a pair; the other end writes a byte. close() while a fiber
// selects is the "destroyed with a waiter" case (destroying a Selector under select() is a bug
// the header rules out).
struct SelectWait {
  static constexpr grove::testing::Wake kWake = grove::testing::Wake::kSingleWaiter;
  SelectWait() : pair(socketpair()) { selector.register_fd(pair.first, kEventRead); }
  bool wait(Deadline d) {
    std::optional<double> timeout;
    if (!d.is_never()) timeout = std::max(d.remaining(), 0.0);
    return !selector.select(timeout).empty();
  }
  void release() { pair.second.sendall("x"); }
  void done() { (void)pair.first.recv(64); }
  std::size_t waiting() const { return selector.selecting() ? 1 : 0; }
  using Destroyed = SelectorClosedError;
  void destroy() { selector.close(); }
  std::pair<Socket, Socket> pair;
  Selector selector;
};

}  // namespace
}  // namespace grove::net

namespace grove::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Selector, WaitConformance, ::testing::Types<net::SelectWait>);
}  // namespace grove::testing

namespace grove::net {
namespace {

GROVE_TEST(Selector, KeepsNoPollerOfItsOwn) {
  (void)Hub::current();
  const int epolls = testing::count_epoll_fds();
  Selector selector;
  auto [a, b] = socketpair();
  selector.register_fd(a, kEventRead);
  b.sendall("x");
  EXPECT_EQ(selector.select(5.0).size(), 1u);
  EXPECT_EQ(testing::count_epoll_fds(), epolls) << "the fds are watched on the hub's own loop";
}

GROVE_TEST(Selector, KeysChangedWhileAnotherFiberSelectsAreSeenBySelect) {
  Selector selector;
  auto [a, b] = socketpair();
  auto [c, d] = socketpair();
  selector.register_fd(a, kEventRead, std::string("a"));
  std::vector<std::string> got;
  FiberRef selecting = spawn_fiber([&] {
    for (const auto& [key, events] : selector.select(20.0)) {
      got.push_back(std::any_cast<std::string>(key.data));
    }
  });
  yield();
  ASSERT_TRUE(selector.selecting());
  selector.unregister(a);  // quietly: the selecting fiber gets no error
  selector.register_fd(c, kEventRead, std::string("c"));
  b.sendall("x");  // a is no longer registered
  d.sendall("y");
  ASSERT_TRUE(selecting->join(Deadline::after(20.0)));
  EXPECT_EQ(got, (std::vector<std::string>{"c"}));
}

GROVE_TEST(Selector, SelectReturnsTheReadyKeysWithTheirData) {
  Selector selector;
  auto [a, b] = socketpair();
  auto [c, d] = socketpair();
  const SelectorKey& ka = selector.register_fd(a, kEventRead, std::string("a"));
  selector.register_fd(c.fileno(), kEventRead, 42);
  EXPECT_EQ(ka.fd, a.fileno());
  EXPECT_EQ(ka.socket, &a);
  EXPECT_TRUE(selector.select(0).empty());  // select(0) polls
  b.sendall("x");
  auto ready = selector.select(1.0);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].key.fd, a.fileno());
  EXPECT_EQ(ready[0].events, kEventRead);
  EXPECT_EQ(std::any_cast<std::string>(ready[0].key.data), "a");
  d.sendall("y");
  std::set<int> fds;
  for (auto& [key, events] : selector.select(1.0)) {
    EXPECT_EQ(events, kEventRead);
    fds.insert(key.fd);
  }
  EXPECT_EQ(fds, (std::set<int>{a.fileno(), c.fileno()}));  // level-triggered: a is still ready
  EXPECT_EQ(std::any_cast<int>(selector.get_key(c.fileno()).data), 42);
}

GROVE_TEST(Selector, SelectParksUntilSomethingIsReadyWhileOthersRun) {
  Selector selector;
  auto [a, b] = socketpair();
  selector.register_fd(a, kEventRead);
  int ticks = 0;
  FiberRef ticker = spawn_fiber([&] {
    for (int i = 0; i < 5; ++i) {
      sleep(0.002);
      ++ticks;
    }
  });
  FiberRef writer = spawn_fiber([&, &b = b] {
    EXPECT_TRUE(ticker->join(Deadline::after(20.0)));  // writes only once the ticker is done
    b.sendall("late");
  });
  auto ready = selector.select();  // no timeout: waits for the writer
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ticks, 5);  // the ticker ran while select was parked
  EXPECT_EQ(a.recv(10), "late");
  EXPECT_TRUE(writer->join(Deadline::after(20.0)));
}

GROVE_TEST(Selector, SelectTimesOutWithAnEmptyList) {
  Selector selector;
  auto [a, b] = socketpair();
  selector.register_fd(a, kEventRead);
  const double start = Deadline::now();
  EXPECT_TRUE(selector.select(0.03).empty());
  EXPECT_GE(Deadline::now() - start, 0.028);
}

GROVE_TEST(Selector, ModifyChangesTheEventsAndData) {
  Selector selector;
  auto [a, b] = socketpair();
  selector.register_fd(a, kEventRead, 1);
  EXPECT_TRUE(selector.select(0).empty());
  const SelectorKey& key = selector.modify(a, kEventRead | kEventWrite, 2);
  EXPECT_EQ(key.events, kEventRead | kEventWrite);
  auto ready = selector.select(1.0);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].events, kEventWrite);
  EXPECT_EQ(std::any_cast<int>(ready[0].key.data), 2);
}

GROVE_TEST(Selector, HangUpReportsTheRegisteredEvents) {
  Selector selector;
  auto [a, b] = socketpair();
  selector.register_fd(a, kEventRead);
  b.close();
  auto ready = selector.select(1.0);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].events, kEventRead);
  EXPECT_EQ(a.recv(10), "");
}

GROVE_TEST(Selector, ErrorsForInvalidFdsDoubleRegistrationAndUnknownFds) {
  Selector selector;
  auto [a, b] = socketpair();
  EXPECT_THROW(selector.register_fd(-1, kEventRead), std::invalid_argument);
  EXPECT_THROW(selector.register_fd(1000000, kEventRead), std::invalid_argument);
  const int file = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  EXPECT_THROW(selector.register_fd(file, kEventRead), std::invalid_argument);
  ::close(file);
  EXPECT_THROW(selector.register_fd(a, 0), std::invalid_argument);
  EXPECT_THROW(selector.register_fd(a, 4), std::invalid_argument);
  selector.register_fd(a, kEventRead);
  try {
    selector.register_fd(a.fileno(), kEventWrite);
    FAIL() << "double registration accepted";
  } catch (const SelectorKeyError& e) {
    EXPECT_NE(std::string(e.what()).find("already registered"), std::string::npos);
  }
  EXPECT_THROW(selector.unregister(b.fileno()), SelectorKeyError);
  EXPECT_THROW(selector.modify(b.fileno(), kEventRead), SelectorKeyError);
  EXPECT_THROW(selector.get_key(b.fileno()), SelectorKeyError);
  EXPECT_EQ(selector.get_map().size(), 1u);
}

GROVE_TEST(Selector, UnregisterReturnsTheKeyEvenAfterTheFdWasClosed) {
  Selector selector;
  auto [a, b] = socketpair();
  const int fd = a.fileno();
  selector.register_fd(a, kEventRead, std::string("gone"));
  a.close();
  SelectorKey key = selector.unregister(fd);
  EXPECT_EQ(key.fd, fd);
  EXPECT_EQ(std::any_cast<std::string>(key.data), "gone");
  EXPECT_TRUE(selector.get_map().empty());
}

GROVE_TEST(Selector, UseAfterCloseIsAnError) {
  Selector selector;
  auto [a, b] = socketpair();
  selector.register_fd(a, kEventRead);
  selector.close();
  selector.close();  // idempotent
  EXPECT_TRUE(selector.closed());
  EXPECT_THROW(selector.register_fd(b, kEventRead), SelectorClosedError);
  EXPECT_THROW(selector.select(0), SelectorClosedError);
  EXPECT_THROW(selector.get_map(), SelectorClosedError);
  EXPECT_THROW(selector.unregister(a), SelectorClosedError);
}

GROVE_TEST(Selector, CloseWakesAFiberInsideSelect) {
  Selector selector;
  auto [a, b] = socketpair();
  selector.register_fd(a, kEventRead);
  bool woke = false;
  FiberRef selecting = spawn_fiber([&] {
    try {
      (void)selector.select();
    } catch (const SelectorClosedError&) {
      woke = true;
    }
  });
  sleep(0.01);
  selector.close();
  EXPECT_TRUE(selecting->join(Deadline::after(20.0)));
  EXPECT_TRUE(woke);
}

GROVE_TEST(Selector, TwoFibersSelectingOnOneSelectorIsConcurrentUse) {
  Selector selector;
  auto [a, b] = socketpair();
  selector.register_fd(a, kEventRead);
  FiberRef first = spawn_fiber([&] { EXPECT_EQ(selector.select(5.0).size(), 1u); });
  sleep(0.0);
  EXPECT_THROW((void)selector.select(5.0), ConcurrentObjectUseError);
  b.sendall("x");
  EXPECT_TRUE(first->join(Deadline::after(20.0)));
}

GROVE_TEST(Selector, AnEchoServerDrivenBySelectAlone) {
  // Python's selectors example: one fiber multiplexes a listener and its connections.
  Selector selector;
  Socket listener = create_server(Address::ipv4("127.0.0.1", 0));
  listener.setblocking(false);
  selector.register_fd(listener, kEventRead);
  std::vector<std::unique_ptr<Socket>> conns;
  int served = 0;
  FiberRef server = spawn_fiber([&] {
    while (served < 3) {
      for (auto& [key, events] : selector.select(5.0)) {
        if (key.socket == &listener) {
          conns.push_back(std::make_unique<Socket>(listener.accept().socket));
          conns.back()->setblocking(false);
          selector.register_fd(*conns.back(), kEventRead);
        } else {
          Socket& c = *key.socket;
          std::string data = c.recv(100);
          if (data.empty()) {
            selector.unregister(c);
            ++served;
          } else {
            c.sendall(data);
          }
        }
      }
    }
  });
  std::vector<FiberRef> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(spawn_fiber([&, i] {
      Socket s = create_connection(listener.getsockname(), 5.0);
      const std::string msg = "client " + std::to_string(i);
      s.sendall(msg);
      std::string got;
      while (got.size() < msg.size()) got += s.recv(100);
      EXPECT_EQ(got, msg);
    }));
  }
  for (auto& c : clients) EXPECT_TRUE(c->join(Deadline::after(20.0)));
  EXPECT_TRUE(server->join(Deadline::after(20.0)));
  EXPECT_EQ(served, 3);
}

}  // namespace
}  // namespace grove::net
