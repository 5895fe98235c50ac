// Semaphore and BoundedSemaphore: counting, FIFO hand-over without barging, wait(), guards.
#include "actors/semaphore.h"

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "tests/hub/wait_conformance.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

using namespace std::chrono_literals;

template <class S>
struct AcquireWhenLocked {
  static constexpr testing::Wake kWake = testing::Wake::kOnePerRelease;
  AcquireWhenLocked() { EXPECT_TRUE(s.try_acquire()); }
  bool wait(Deadline d) { return s.acquire(d); }
  void release() { s.release(); }
  void done() {}
  std::size_t waiting() const { return s.waiting(); }
  S s{1};
};

struct WaitWhenLocked {
  static constexpr testing::Wake kWake = testing::Wake::kAllAtOnce;
  bool wait(Deadline d) { return s->wait(d); }
  void release() { s->release(); }
  void done() {}
  std::size_t waiting() const { return s->waiting(); }
  WaitSource source() { return s->wait_source(); }
  using Destroyed = ObjectDestroyed;
  void destroy() { s.reset(); }
  std::optional<Semaphore> s{std::in_place, 0};
};

GROVE_TEST(Semaphore, CountsUnits) {
  Semaphore s(2);
  EXPECT_EQ(s.counter(), 2u);
  EXPECT_FALSE(s.locked());
  EXPECT_TRUE(s.acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.locked());
  EXPECT_FALSE(s.try_acquire());
  EXPECT_FALSE(s.acquire_for(2ms));
  s.release();
  EXPECT_EQ(s.counter(), 1u);
}

GROVE_TEST(Semaphore, AcquireReturnsFalseOnTimeout) {
  Semaphore s(0);
  const double start = Deadline::now();
  EXPECT_FALSE(s.acquire(Deadline::after(0.01)));
  EXPECT_GE(Deadline::now() - start, 0.009);
  EXPECT_EQ(s.counter(), 0u);
}

GROVE_TEST(Semaphore, ReleaseHandsTheUnitToTheLongestWaiterWithoutBarging) {
  Semaphore s(0);
  std::vector<int> order;
  std::vector<FiberRef> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(spawn_fiber([&, i] {
      EXPECT_TRUE(s.acquire());
      order.push_back(i);
    }));
    sleep(0.0);
  }
  s.release();
  EXPECT_EQ(s.counter(), 0u) << "the unit went to the parked fiber, not the counter";
  EXPECT_FALSE(s.try_acquire()) << "a newcomer cannot take the unit handed to a waiter";
  s.release();
  s.release();
  for (auto& w : waiters) ASSERT_TRUE(w->join());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

GROVE_TEST(Semaphore, WaitDoesNotTakeTheUnit) {
  Semaphore s(0);
  bool ready = false;
  FiberRef watcher = spawn_fiber([&] { ready = s.wait(Deadline::after(5.0)); });
  sleep(0.0);
  s.release();
  ASSERT_TRUE(watcher->join());
  EXPECT_TRUE(ready);
  EXPECT_EQ(s.counter(), 1u);
  EXPECT_TRUE(s.wait(Deadline::after(0.0)));
}

GROVE_TEST(Semaphore, APlainSemaphoreMayBeReleasedAboveItsInitialValue) {
  Semaphore s(1);
  s.release();
  EXPECT_EQ(s.counter(), 2u);
}

GROVE_TEST(Semaphore, BoundedSemaphoreOverReleaseThrows) {
  BoundedSemaphore s(1);
  EXPECT_TRUE(s.bounded());
  EXPECT_THROW(s.release(), SemaphoreOverReleased);
  EXPECT_TRUE(s.acquire());
  s.release();
  try {
    s.release();
    ADD_FAILURE() << "expected SemaphoreOverReleased";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "BoundedSemaphore released too many times");
  }
  EXPECT_EQ(s.counter(), 1u);
}

GROVE_TEST(Semaphore, GuardReleasesAtScopeExitEvenWhenKilled) {
  Semaphore s(1);
  FiberRef holder = spawn_fiber([&] {
    Semaphore::Guard held(s);
    sleep(10.0);
  });
  sleep(0.0);
  EXPECT_TRUE(s.locked());
  holder->kill();
  ASSERT_TRUE(holder->join());
  EXPECT_FALSE(s.locked());
}

GROVE_TEST(Semaphore, WorksWithStdUniqueLock) {
  BoundedSemaphore s(1);
  {
    std::unique_lock lock(s);
    EXPECT_TRUE(s.locked());
  }
  EXPECT_FALSE(s.locked());
}

GROVE_TEST(Semaphore, LimitsConcurrency) {
  Semaphore s(2);
  int inside = 0;
  int most = 0;
  std::vector<FiberRef> workers;
  for (int i = 0; i < 6; ++i) {
    workers.push_back(spawn_fiber([&] {
      Semaphore::Guard held(s);
      most = std::max(most, ++inside);
      sleep(0.001);
      --inside;
    }));
  }
  for (auto& w : workers) ASSERT_TRUE(w->join());
  EXPECT_EQ(most, 2);
  EXPECT_EQ(s.counter(), 2u);
}

}  // namespace

namespace testing {
using SemaphoreFixtures =
    ::testing::Types<AcquireWhenLocked<Semaphore>, AcquireWhenLocked<BoundedSemaphore>,
                     WaitWhenLocked>;
INSTANTIATE_TYPED_TEST_SUITE_P(Semaphore, WaitConformance, SemaphoreFixtures);
}  // namespace testing

}  // namespace grove
