// IoWatcher: readiness, timeouts, cancel, one waiter per watcher.
#include "hub/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

#include "hub/hub.h"
#include "tests/support/grove_test.h"
#include "tests/support/pipe.h"

namespace grove {
namespace {

using testing::Pipe;

GROVE_TEST(IoWatcher, WaitReturnsWhenReadable) {
  Pipe p;
  FiberRef writer = spawn_fiber([&] {
    sleep(0.005);
    ASSERT_EQ(::write(p.w, "x", 1), 1);
  });
  IoWatcher w(p.r, kIoRead);
  EXPECT_EQ(w.wait(Deadline::after(5.0)), kIoRead);
  EXPECT_TRUE(writer->join());
}

GROVE_TEST(IoWatcher, WaitTimesOutWithZero) {
  Pipe p;
  IoWatcher w(p.r, kIoRead);
  const double start = Deadline::now();
  EXPECT_EQ(w.wait(Deadline::after(0.01)), 0);
  EXPECT_GE(Deadline::now() - start, 0.009);
}

GROVE_TEST(IoWatcher, WritableAtOnce) {
  Pipe p;
  IoWatcher w(p.w, kIoWrite);
  EXPECT_EQ(w.wait(Deadline::after(5.0)), kIoWrite);
}

GROVE_TEST(IoWatcher, CancelThrowsTheErrorIntoTheWaiter) {
  Pipe p;
  IoWatcher w(p.r, kIoRead);
  FiberRef canceller = spawn_fiber([&] {
    EXPECT_TRUE(w.cancel(std::make_exception_ptr(std::runtime_error("cancelled"))));
  });
  EXPECT_THROW(w.wait(), std::runtime_error);
  EXPECT_TRUE(canceller->join());
  EXPECT_FALSE(w.cancel(std::make_exception_ptr(std::runtime_error("nobody"))));
}

GROVE_TEST(IoWatcher, SecondWaiterGetsConcurrentObjectUseError) {
  Pipe p;
  IoWatcher w(p.r, kIoRead);
  FiberRef first = spawn_fiber([&] { (void)w.wait(Deadline::after(5.0)); });
  sleep(0.0);
  EXPECT_THROW(w.wait(), ConcurrentObjectUseError);
  ASSERT_EQ(::write(p.w, "x", 1), 1);
  EXPECT_TRUE(first->join());
}

GROVE_TEST(IoWatcher, ReadinessSeenWhileNobodyWaitsIsKept) {
  Pipe p;
  IoWatcher w(p.r, kIoRead);
  EXPECT_EQ(w.wait(Deadline::after(0.001)), 0);  // registers the watcher
  ASSERT_EQ(::write(p.w, "x", 1), 1);
  sleep(0.005);  // the loop sees the readiness while nobody waits
  EXPECT_EQ(w.wait(Deadline::after(0.0)), kIoRead);
}

// Once a fiber is woken for readiness, the fd is no longer polled while the fiber waits for its
// turn: a level-triggered poller would report it again at every poll, and with thousands of
// woken fibers queued every poll would cost as much as all of them (10,000 echo connections
// crawled at a few hundred fibers a second).
GROVE_TEST(IoWatcher, AWokenWaiterIsNotPolledAgainBeforeItRuns) {
  Pipe p;
  IoWatcher w(p.r, kIoRead);
  bool done = false;
  FiberRef reader = spawn_fiber([&] {
    EXPECT_EQ(w.wait(Deadline::after(20.0)), kIoRead);
    done = true;
  });
  sleep(0.0);  // the reader parks on the fd
  EXPECT_TRUE(w.watching());
  ASSERT_EQ(::write(p.w, "x", 1), 1);
  // Each yield of this fiber that reaches a poll puts it ahead of the reader the poll wakes, so
  // it sees the watcher between the wake-up and the reader's turn.
  bool woken_and_unwatched = false;
  const Deadline deadline = Deadline::after(20.0);
  while (!done && !deadline.passed()) {
    yield();
    if (!done && !w.watching()) woken_and_unwatched = true;
  }
  EXPECT_TRUE(reader->join());
  EXPECT_TRUE(woken_and_unwatched);
  // Nothing is lost: the byte nobody read is reported to the next wait.
  EXPECT_EQ(w.wait(Deadline::after(20.0)), kIoRead);
}

}  // namespace
}  // namespace grove
