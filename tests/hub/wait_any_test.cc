// hub/wait_any.h: the wait-conformance suite over wait_any itself (on lists, and on a list and
// an I/O watcher), over IoWatcher::wait and Fiber::join; then wait_any's own rules.
#include "hub/wait_any.h"

#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "hub/io.h"
#include "hub/timeout.h"
#include "tests/hub/wait_conformance.h"
#include "tests/support/grove_test.h"
#include "tests/support/pipe.h"

namespace grove {
namespace {

// A flag with a wait list: the smallest WaitList-based primitive.
struct Flag {
  bool up = false;
  WaitList list;
  void raise() {
    up = true;
    list.wake_all();
  }
  WaitSource source() {
    return WaitSource(list, [](const void* f) noexcept { return static_cast<const Flag*>(f)->up; },
                      this);
  }
};

void write_byte(int fd) { ASSERT_EQ(::write(fd, "x", 1), 1); }
void drain(int fd) {
  char buf[64];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

// wait_any over two flags; the second is released.
struct WaitAnyOnLists {
  static constexpr testing::Wake kWake = testing::Wake::kAllAtOnce;
  bool wait(Deadline d) { return wait_any({a.source(), b->source()}, d).has_value(); }
  void release() { b->raise(); }
  void done() {}
  std::size_t waiting() const { return b->list.size(); }
  using Destroyed = ObjectDestroyed;
  void destroy() { b.reset(); }
  Flag a;
  std::optional<Flag> b{std::in_place};
};

// wait_any over a flag and a pipe's read end; the pipe is released.
struct WaitAnyOnListAndIo {
  static constexpr testing::Wake kWake = testing::Wake::kSingleWaiter;
  bool wait(Deadline d) { return wait_any({a.source(), WaitSource(*io)}, d).has_value(); }
  void release() { write_byte(pipe.w); }
  void done() {
    drain(pipe.r);
    (void)io->take_ready();
  }
  std::size_t waiting() const { return io->has_waiter() ? 1 : 0; }
  using Destroyed = ObjectDestroyed;
  void destroy() { io.reset(); }
  testing::Pipe pipe;
  Flag a;
  std::optional<IoWatcher> io{std::in_place, pipe.r, kIoRead};
};

struct IoWatcherWait {
  static constexpr testing::Wake kWake = testing::Wake::kSingleWaiter;
  bool wait(Deadline d) { return io->wait(d) != 0; }
  void release() { write_byte(pipe.w); }
  void done() {
    drain(pipe.r);
    (void)io->take_ready();
  }
  std::size_t waiting() const { return io->has_waiter() ? 1 : 0; }
  WaitSource source() { return WaitSource(*io); }
  using Destroyed = ObjectDestroyed;
  void destroy() { io.reset(); }
  testing::Pipe pipe;
  std::optional<IoWatcher> io{std::in_place, pipe.r, kIoRead};
};

// join on a fiber parked on a gate; release opens the gate and the fiber ends.
struct JoinWait {
  static constexpr testing::Wake kWake = testing::Wake::kAllAtOnce;
  JoinWait() : target(spawn_fiber([this] { (void)gate.wait(); })) {}
  ~JoinWait() {
    target->kill();
    (void)target->join();
  }
  bool wait(Deadline d) { return target->join(d); }
  void release() { gate.wake_all(); }
  void done() {}
  std::size_t waiting() const { return target->joiners_waiting(); }
  WaitSource source() { return target->wait_source(); }
  WaitList gate;
  FiberRef target;
};

}  // namespace

namespace testing {
using WaitAnyFixtures = ::testing::Types<WaitAnyOnLists, WaitAnyOnListAndIo>;
INSTANTIATE_TYPED_TEST_SUITE_P(WaitAny, WaitConformance, WaitAnyFixtures);
INSTANTIATE_TYPED_TEST_SUITE_P(IoWatcher, WaitConformance, ::testing::Types<IoWatcherWait>);
INSTANTIATE_TYPED_TEST_SUITE_P(Join, WaitConformance, ::testing::Types<JoinWait>);
}  // namespace testing

namespace {

GROVE_TEST(WaitAny, ReadySourcesAnswerAtOnceLowestIndexFirst) {
  Flag a, b, c;
  b.raise();
  c.raise();
  EXPECT_EQ(wait_any({a.source(), b.source(), c.source()}), std::optional<std::size_t>(1));
  EXPECT_TRUE(a.list.empty());
}

GROVE_TEST(WaitAny, TheFirstSourceToFireIsTheAnswer) {
  Flag a, b;
  std::optional<std::size_t> fired;
  FiberRef f = spawn_fiber([&] { fired = wait_any({a.source(), b.source()}, Deadline::after(30.0)); });
  yield();
  b.raise();  // first
  a.raise();  // before the waiter ran again
  ASSERT_TRUE(f->join(Deadline::after(20.0)));
  EXPECT_EQ(fired, std::optional<std::size_t>(1));
}

GROVE_TEST(WaitAny, ANeverSourceNeverFires) {
  Flag a;
  EXPECT_EQ(wait_any({WaitSource(), a.source()}, Deadline::after(0.01)), std::nullopt);
}

GROVE_TEST(WaitAny, ManySourcesBeyondTheInlineOnes) {
  std::vector<Flag> flags(3 * kInlineSources);
  std::vector<WaitSource> sources;
  for (Flag& f : flags) sources.push_back(f.source());
  std::optional<std::size_t> fired;
  FiberRef f = spawn_fiber([&] { fired = wait_any(sources, Deadline::after(30.0)); });
  yield();
  for (Flag& fl : flags) EXPECT_EQ(fl.list.size(), 1u);
  flags[2 * kInlineSources + 1].raise();
  ASSERT_TRUE(f->join(Deadline::after(20.0)));
  EXPECT_EQ(fired, std::optional<std::size_t>(2 * kInlineSources + 1));
  for (Flag& fl : flags) EXPECT_TRUE(fl.list.empty());
}

GROVE_TEST(WaitAny, TwoFibersOnOneWatcherIsConcurrentUseAndLeavesNothingBehind) {
  testing::Pipe pipe;
  IoWatcher io(pipe.r, kIoRead);
  Flag a;
  FiberRef first = spawn_fiber([&] { (void)io.wait(Deadline::after(30.0)); });
  yield();
  ASSERT_TRUE(io.has_waiter());
  EXPECT_THROW((void)wait_any({a.source(), WaitSource(io)}), ConcurrentObjectUseError);
  EXPECT_TRUE(a.list.empty()) << "what was registered before the refusal is undone";
  first->kill();
  ASSERT_TRUE(first->join(Deadline::after(20.0)));
}

GROVE_TEST(WaitAny, CancelOnAWatcherThrowsItsErrorOutOfTheWait) {
  testing::Pipe pipe;
  IoWatcher io(pipe.r, kIoRead);
  Flag a;
  bool caught = false;
  FiberRef f = spawn_fiber([&] {
    try {
      (void)wait_any({a.source(), WaitSource(io)}, Deadline::after(30.0));
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "closed";
    }
  });
  yield();
  ASSERT_TRUE(io.cancel(std::make_exception_ptr(std::runtime_error("closed"))));
  ASSERT_TRUE(f->join(Deadline::after(20.0)));
  EXPECT_TRUE(caught);
  EXPECT_FALSE(io.has_waiter());
  EXPECT_TRUE(a.list.empty());
}

GROVE_TEST(WaitAny, ATimeoutScopeIsThrownAndLeavesEverySource) {
  testing::Pipe pipe;
  IoWatcher io(pipe.r, kIoRead);
  Flag a;
  EXPECT_FALSE(within(0.01, [&] { (void)wait_any({a.source(), WaitSource(io)}); }));
  EXPECT_FALSE(io.has_waiter());
  EXPECT_TRUE(a.list.empty());
}

GROVE_TEST(WaitAny, IoWatcherWaitAnyReportsEveryReadyWatcher) {
  testing::Pipe p1, p2, p3;
  IoWatcher w1(p1.r, kIoRead), w2(p2.r, kIoRead), w3(p3.r, kIoRead);
  IoWatcher* all[] = {&w1, &w2, &w3};
  write_byte(p1.w);
  write_byte(p3.w);
  EXPECT_EQ(IoWatcher::wait_any(all, 3, Deadline::after(10.0)), 2);
  EXPECT_NE(w1.ready(), 0);
  EXPECT_EQ(w2.ready(), 0);
  EXPECT_NE(w3.ready(), 0);
}

}  // namespace
}  // namespace grove
