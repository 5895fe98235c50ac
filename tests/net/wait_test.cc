// net/wait.h: gevent's wait_read/wait_write/wait_readwrite/wait/cancel_wait on pipes, eventfds
// and sockets, as gevent.socket documents them.
#include "net/wait.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>

#include "hub/errors.h"
#include "hub/hub.h"
#include "hub/timeout.h"
#include "net/socket.h"
#include "tests/support/grove_test.h"
#include "tests/support/pipe.h"

namespace grove::net {
namespace {

using testing::Pipe;

GROVE_TEST(Wait, WaitReadReturnsWhenAPipeBecomesReadable) {
  Pipe p;
  FiberRef writer = spawn_fiber([&] {
    sleep(0.01);
    ASSERT_EQ(::write(p.w, "x", 1), 1);
  });
  EXPECT_EQ(wait_read(p.r, 5.0), kRead);
  EXPECT_TRUE(writer->join(Deadline::after(20.0)));
}

GROVE_TEST(Wait, WaitWriteOnAnEmptyPipeIsImmediate) {
  Pipe p;
  EXPECT_EQ(wait_write(p.w, 60.0), kWrite);  // not the timeout's 0
}

GROVE_TEST(Wait, WaitReadwriteReportsWhichDirectionIsReady) {
  auto [a, b] = socketpair();
  EXPECT_EQ(wait_readwrite(a.fileno(), 1.0), kWrite);  // nothing to read yet
  b.sendall("x");
  sleep(0.005);
  EXPECT_EQ(wait_readwrite(a.fileno(), 1.0), kRead | kWrite);
}

GROVE_TEST(Wait, WorksOnAnEventfd) {
  const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  FiberRef signaller = spawn_fiber([&] {
    sleep(0.005);
    const std::uint64_t one = 1;
    ASSERT_EQ(::write(efd, &one, sizeof one), 8);
  });
  EXPECT_EQ(wait_read(efd, 5.0), kRead);
  EXPECT_TRUE(signaller->join(Deadline::after(20.0)));
  ::close(efd);
}

GROVE_TEST(Wait, TimeoutRaisesSocketTimeoutTimedOutByDefault) {
  Pipe p;
  const double start = Deadline::now();
  try {
    (void)wait_read(p.r, 0.03);
    FAIL() << "wait_read returned without data";
  } catch (const SocketTimeout& e) {
    EXPECT_STREQ(e.what(), "timed out");  // socket.timeout('timed out')
  }
  EXPECT_GE(Deadline::now() - start, 0.028);
}

GROVE_TEST(Wait, TimeoutExcIsRaisedWhenGiven) {
  Pipe p;
  EXPECT_THROW((void)wait_read(p.r, 0.01, OnTimeout::raise(std::runtime_error("mine"))),
               std::runtime_error);
  try {
    (void)wait_read(p.r, 0.01, OnTimeout::raise(std::runtime_error("mine")));
  } catch (const SocketTimeout&) {
    FAIL() << "the default exception was raised instead of the given one";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "mine");
  }
}

GROVE_TEST(Wait, SilentTimeoutReturnsZero) {
  Pipe p;
  EXPECT_EQ(wait_read(p.r, 0.01, OnTimeout::silent()), 0);
}

GROVE_TEST(Wait, NegativeTimeoutFiresAtOnceAsInGevent) {
  Pipe p;
  EXPECT_THROW((void)wait_read(p.r, -1.0), SocketTimeout);
  EXPECT_EQ(wait_read(p.r, -0.5, OnTimeout::silent()), 0);
}

GROVE_TEST(Wait, CancelWaitThrowsEbadfIntoTheWaiterByDefault) {
  Pipe p;
  Watcher watcher(p.r, kRead);
  FiberRef canceller = spawn_fiber([&] { EXPECT_TRUE(cancel_wait(watcher)); });
  try {
    (void)wait(watcher);
    FAIL() << "wait returned after cancel_wait";
  } catch (const SocketError& e) {
    EXPECT_EQ(e.code(), std::errc::bad_file_descriptor);
    EXPECT_STREQ(e.what(), "File descriptor was closed in another greenlet");
  }
  EXPECT_TRUE(canceller->join(Deadline::after(20.0)));
  EXPECT_FALSE(cancel_wait(watcher));  // nobody waits: nothing happens
}

GROVE_TEST(Wait, CancelWaitThrowsTheGivenError) {
  Pipe p;
  Watcher watcher(p.r, kRead);
  FiberRef canceller = spawn_fiber(
      [&] { cancel_wait(watcher, std::make_exception_ptr(std::logic_error("go away"))); });
  EXPECT_THROW((void)wait(watcher, 5.0), std::logic_error);
  EXPECT_TRUE(canceller->join(Deadline::after(20.0)));
}

GROVE_TEST(Wait, SecondWaiterOnOneWatcherGetsConcurrentObjectUseError) {
  Pipe p;
  Watcher watcher(p.r, kRead);
  FiberRef first = spawn_fiber([&] { EXPECT_EQ(wait(watcher, 5.0), kRead); });
  sleep(0.0);
  EXPECT_THROW((void)wait(watcher, 5.0), ConcurrentObjectUseError);
  ASSERT_EQ(::write(p.w, "x", 1), 1);
  EXPECT_TRUE(first->join(Deadline::after(20.0)));
}

GROVE_TEST(Wait, TwoFibersMayWaitReadOnOneFdThroughTheirOwnWatchers) {
  Pipe p;
  int woke = 0;
  FiberRef a = spawn_fiber([&] { woke += wait_read(p.r, 5.0) == kRead; });
  FiberRef b = spawn_fiber([&] { woke += wait_read(p.r, 5.0) == kRead; });
  sleep(0.005);
  ASSERT_EQ(::write(p.w, "x", 1), 1);
  EXPECT_TRUE(a->join(Deadline::after(20.0)));
  EXPECT_TRUE(b->join(Deadline::after(20.0)));
  EXPECT_EQ(woke, 2);
}

GROVE_TEST(Wait, AGroveTimeoutScopeStillInterruptsTheWait) {
  Pipe p;
  Timeout scope(0.01);
  EXPECT_THROW((void)wait_read(p.r), Timeout);
}

GROVE_TEST(Wait, WaitingOnANegativeFdIsEbadf) {
  EXPECT_THROW((void)wait_read(-1, 0.01), SocketError);
}

}  // namespace
}  // namespace grove::net
