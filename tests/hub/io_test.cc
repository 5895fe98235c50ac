// IoWatcher: readiness, timeouts, cancel, one waiter per watcher.
#include "hub/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>
#include <thread>

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

// A read watcher stays registered between waits (every change of interest is an epoll_ctl),
// whether the wait returned readiness or timed out.
GROVE_TEST(IoWatcher, AReadWatcherStaysRegisteredBetweenWaits) {
  Pipe p;
  IoWatcher w(p.r, kIoRead);
  EXPECT_FALSE(w.watching());  // nothing until the first wait
  EXPECT_EQ(w.wait(Deadline::after(0.001)), 0);
  EXPECT_TRUE(w.watching());
  FiberRef writer = spawn_fiber([&] { ASSERT_EQ(::write(p.w, "x", 1), 1); });
  EXPECT_EQ(w.wait(Deadline::after(20.0)), kIoRead);
  EXPECT_TRUE(w.watching());
  char c;
  ASSERT_EQ(::read(p.r, &c, 1), 1);
  EXPECT_TRUE(writer->join());
  w.stop();
  EXPECT_FALSE(w.watching());
}

// A write interest is registered only while a fiber waits: a writable fd would be reported at
// every poll.
GROVE_TEST(IoWatcher, AWriteWatcherIsRegisteredOnlyWhileAFiberWaits) {
  Pipe p;
  IoWatcher w(p.w, kIoWrite);
  bool seen_while_waiting = false;
  FiberRef observer = spawn_fiber([&] { seen_while_waiting = w.watching(); });
  // The pipe is writable: the wait parks once (the observer runs), then reports it.
  EXPECT_EQ(w.wait(Deadline::after(20.0)), kIoWrite);
  EXPECT_TRUE(observer->join());
  EXPECT_TRUE(seen_while_waiting);
  EXPECT_FALSE(w.watching());
}

// Once a fiber is woken for readiness, the fd is not reported again at every poll while the
// fiber waits for its turn: a level-triggered poller would report it at each one, and with
// thousands of woken fibers queued every poll would cost as much as all of them (10,000 echo
// connections crawled at a few hundred fibers a second). A second report of readiness that is
// still latched stops the watcher until the next wait.
GROVE_TEST(IoWatcher, AWokenWaiterIsNotPolledAgainBeforeItRuns) {
  Pipe p;
  IoWatcher w(p.r, kIoRead);
  bool woken = false;
  bool watching_when_it_ran = true;
  FiberRef reader = spawn_fiber([&] {
    EXPECT_EQ(w.wait(Deadline::after(20.0)), kIoRead);
    woken = true;
    watching_when_it_ran = w.watching();
  });
  sleep(0.0);  // the reader parks on the fd
  EXPECT_TRUE(w.watching());
  ASSERT_EQ(::write(p.w, "x", 1), 1);
  // A queued callback makes the next switch poll. This fiber queues itself before each poll,
  // so after the poll that wakes the reader it runs first and forces one more poll, which
  // reports the fd again before the reader's turn.
  const Deadline deadline = Deadline::after(20.0);
  while (!woken && !deadline.passed()) {
    Hub::current().run_callback([] {});
    yield();
  }
  EXPECT_TRUE(reader->join());
  EXPECT_FALSE(watching_when_it_ran);
  // Nothing is lost: the byte nobody read is reported to the next wait, which watches again.
  EXPECT_EQ(w.wait(Deadline::after(20.0)), kIoRead);
  EXPECT_EQ(w.wait(Deadline::after(0.001)), kIoRead);  // level-triggered: still unread
  EXPECT_TRUE(w.watching());
}


// A wait that finds readiness is still a wait point: a kill that arrived in between is thrown,
// not left for the next wait. Two ways to get there: the readiness was latched before the wait
// began, or it woke the waiter and the kill came before the waiter's turn.
GROVE_TEST(IoWatcher, AKillPendingWhenReadinessIsLatchedIsThrown) {
  Pipe p;
  IoWatcher w(p.r, kIoRead);
  bool returned = false;
  bool killed = false;
  FiberRef reader = spawn_fiber([&] {
    EXPECT_EQ(w.wait(Deadline::after(0.001)), 0);  // registers the watcher
    ASSERT_EQ(::write(p.w, "x", 1), 1);
    sleep(0.005);                          // the loop latches the readiness
    Hub::current().current_fiber().kill();  // pending: thrown at the next wait point
    try {
      (void)w.wait(Deadline::after(20.0));
      returned = true;
    } catch (const GreenletExit&) {
      killed = true;
    }
  });
  EXPECT_TRUE(reader->join());
  EXPECT_TRUE(killed);
  EXPECT_FALSE(returned);
}

GROVE_TEST(IoWatcher, AKillThatComesAfterReadinessWokeTheWaiterIsThrown) {
  Pipe p;
  IoWatcher w(p.r, kIoRead);
  bool returned = false;
  bool killed = false;
  FiberRef reader = spawn_fiber([&] {
    try {
      (void)w.wait(Deadline::after(20.0));
      returned = true;
    } catch (const GreenletExit&) {
      killed = true;
    }
  });
  sleep(0.0);  // the reader parks on the fd
  ASSERT_EQ(::write(p.w, "x", 1), 1);
  // As above: queued before each poll, this fiber runs right after the poll that wakes the
  // reader, before the reader's turn.
  const Deadline deadline = Deadline::after(20.0);
  while (reader->state() == FiberState::kParked && !deadline.passed()) {
    Hub::current().run_callback([] {});
    yield();
  }
  ASSERT_EQ(reader->state(), FiberState::kReady);
  reader->kill();
  EXPECT_TRUE(reader->join());
  EXPECT_TRUE(killed);
  EXPECT_FALSE(returned);
}

// Puts a fresh pipe's read end at the number `fd` (which must be free), as a new socket or a dup2
// would take a closed fd's number; returns the pipe's write end.
int new_file_at(int fd) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  if (fds[0] != fd) {
    if (::dup3(fds[0], fd, O_CLOEXEC) != fd) throw std::runtime_error("dup3 failed");
    ::close(fds[0]);
  }
  return fds[1];
}

// A read interest stays registered between waits; when its hub ends first (a socket destroyed
// after Hub::destroy_current(), as a server thread does), the hub takes it off the loop, and the
// watcher's own stop and destruction later never touch the freed loop. It registers with the
// thread's next hub if it waits again.
TEST(IoWatcherHubEnd, AWatcherStillRegisteredWhenItsHubEndsIsLeftSafe) {
  std::thread([] {
    Pipe p;
    std::optional<IoWatcher> w;
    w.emplace(p.r, kIoRead);
    ASSERT_EQ(::write(p.w, "x", 1), 1);
    EXPECT_EQ(w->wait(Deadline::after(20.0)), kIoRead);
    EXPECT_TRUE(w->watching());
    Hub::destroy_current();
    EXPECT_FALSE(w->watching());
    w->stop();
    EXPECT_EQ(w->wait(Deadline::after(20.0)), kIoRead);  // on a new hub: the byte is unread
    EXPECT_TRUE(w->watching());
    Hub::destroy_current();
    w.reset();  // destroyed after its second hub, too
    Hub::destroy_current();
  }).join();
}

// The fd of a kept read interest is closed through IoWatcher::closing and its number taken by
// another file: the old watcher is off the poller (the new file's readiness is not reported to
// it), and stopping or destroying it afterwards leaves the new file's watcher alone.
GROVE_TEST(IoWatcher, ClosingAnFdTakesItsKeptWatchersOffThePoller) {
  Pipe old_pipe;
  const int fd = old_pipe.r;
  std::optional<IoWatcher> old;
  old.emplace(fd, kIoRead);
  ASSERT_EQ(::write(old_pipe.w, "x", 1), 1);
  EXPECT_EQ(old->wait(Deadline::after(20.0)), kIoRead);
  ASSERT_TRUE(old->watching());

  IoWatcher::closing(fd);
  ::close(fd);
  EXPECT_FALSE(old->watching());
  const int writer = new_file_at(fd);
  old_pipe.r = -1;  // the Pipe no longer owns the number
  IoWatcher fresh(fd, kIoRead);
  ASSERT_EQ(::write(writer, "y", 1), 1);
  EXPECT_EQ(fresh.wait(Deadline::after(20.0)), kIoRead);
  sleep(0.0);
  EXPECT_EQ(old->ready(), 0);  // the new file was never reported to the old watcher
  old->stop();
  old.reset();
  EXPECT_TRUE(fresh.watching());
  char c;
  ASSERT_EQ(::read(fd, &c, 1), 1);
  ASSERT_EQ(::write(writer, "z", 1), 1);
  EXPECT_EQ(fresh.wait(Deadline::after(20.0)), kIoRead);
  ::close(writer);
  IoWatcher::closing(fd);
  ::close(fd);
}

// The same watcher waits again, before the next poll, on the file that took its fd's number:
// it watches that file (libev is told the fd was set anew; it would otherwise see no change and
// keep the registration the kernel dropped at close).
GROVE_TEST(IoWatcher, AWatcherWaitingAgainAfterItsFdWasReplacedWatchesTheNewFile) {
  Pipe old_pipe;
  const int fd = old_pipe.r;
  IoWatcher w(fd, kIoRead);
  EXPECT_EQ(w.wait(Deadline::after(0.001)), 0);  // registers it
  ASSERT_TRUE(w.watching());
  IoWatcher::closing(fd);
  ::close(fd);
  const int writer = new_file_at(fd);
  old_pipe.r = -1;
  ASSERT_EQ(::write(writer, "y", 1), 1);
  EXPECT_EQ(w.wait(Deadline::after(5.0)), kIoRead);
  ::close(writer);
  IoWatcher::closing(fd);
  ::close(fd);
}

// A fiber waiting on an fd that another fiber closes is woken (as if the fd were ready), so its
// next call fails with EBADF instead of waiting forever.
GROVE_TEST(IoWatcher, ClosingAnFdWakesItsWaiter) {
  Pipe p;
  const int fd = p.r;
  IoWatcher w(fd, kIoRead);
  int woke_with = -1;
  int read_errno = 0;
  FiberRef reader = spawn_fiber([&] {
    woke_with = w.wait(Deadline::after(20.0));
    char c;
    if (::read(fd, &c, 1) < 0) read_errno = errno;
  });
  sleep(0.0);  // the reader parks
  ASSERT_TRUE(w.has_waiter());
  IoWatcher::closing(fd);
  ::close(fd);
  p.r = -1;
  EXPECT_TRUE(reader->join(Deadline::after(20.0)));
  EXPECT_EQ(woke_with, kIoRead);
  EXPECT_EQ(read_errno, EBADF);
  EXPECT_FALSE(w.watching());
}

}  // namespace
}  // namespace grove
