// RLock: re-entrant ownership by a fiber, FIFO hand-over, releasing an unowned lock throws.
#include "actors/rlock.h"

#include <mutex>
#include <vector>

#include "hub/hub.h"
#include "tests/hub/wait_conformance.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

using namespace std::chrono_literals;

// Another fiber owns the lock until release(); each waiter passes it on after acquiring.
struct AcquireOwnedElsewhere {
  static constexpr testing::Wake kWake = testing::Wake::kChained;
  AcquireOwnedElsewhere() {
    owner = spawn_fiber([this] {
      RLock::Guard held(l);
      (void)gate.wait();
    });
    while (!l.locked()) yield();
  }
  ~AcquireOwnedElsewhere() {
    owner->kill();
    (void)owner->join();
  }
  bool wait(Deadline d) { return l.acquire(d); }
  void release() { gate.wake_all(); }  // the owner releases when it runs
  void done() { l.release(); }
  std::size_t waiting() const { return l.waiting(); }
  WaitList gate;
  RLock l;
  FiberRef owner;
};

GROVE_TEST(RLock, TheOwnerMayAcquireAgain) {
  RLock l;
  EXPECT_FALSE(l.locked());
  EXPECT_TRUE(l.acquire());
  EXPECT_TRUE(l.acquire());
  EXPECT_TRUE(l.try_acquire());
  EXPECT_EQ(l.count(), 3u);
  EXPECT_TRUE(l.is_owned());
  EXPECT_EQ(l.owner(), &Hub::current().current_fiber());
  l.release();
  l.release();
  EXPECT_TRUE(l.locked());
  l.release();
  EXPECT_FALSE(l.locked());
  EXPECT_EQ(l.count(), 0u);
  EXPECT_EQ(l.owner(), nullptr);
}

GROVE_TEST(RLock, AnotherFiberWaitsUntilEveryLevelIsReleased) {
  RLock l;
  ASSERT_TRUE(l.acquire());
  ASSERT_TRUE(l.acquire());
  bool acquired = false;
  FiberRef other = spawn_fiber([&] {
    EXPECT_FALSE(l.try_acquire());
    acquired = l.acquire(Deadline::after(5.0));
    EXPECT_TRUE(l.is_owned());
    l.release();
  });
  sleep(0.0);
  l.release();
  sleep(0.0);
  EXPECT_FALSE(acquired);
  l.release();
  EXPECT_EQ(l.owner(), other.get()) << "ownership passes straight to the waiter";
  EXPECT_FALSE(l.is_owned());
  ASSERT_TRUE(other->join());
  EXPECT_TRUE(acquired);
  EXPECT_FALSE(l.locked());
}

GROVE_TEST(RLock, ReleasingAnUnownedRLockThrows) {
  RLock l;
  EXPECT_THROW(l.release(), RLockNotOwned);
  FiberRef owner = spawn_fiber([&] {
    ASSERT_TRUE(l.acquire());
    sleep(10.0);
  });
  sleep(0.0);
  try {
    l.release();
    ADD_FAILURE() << "expected RLockNotOwned";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "cannot release an RLock the current greenlet does not own");
  }
  EXPECT_EQ(l.count(), 1u);
  owner->kill();
  ASSERT_TRUE(owner->join());
  EXPECT_TRUE(l.locked()) << "a fiber that dies owning the lock leaves it locked (as gevent)";
}

GROVE_TEST(RLock, AcquireTimesOutWhileOwnedElsewhere) {
  RLock l;
  FiberRef owner = spawn_fiber([&] {
    RLock::Guard held(l);
    sleep(10.0);
  });
  sleep(0.0);
  EXPECT_FALSE(l.acquire_for(5ms));
  EXPECT_EQ(l.waiting(), 0u);
  owner->kill();
  ASSERT_TRUE(owner->join());
  EXPECT_FALSE(l.locked()) << "the guard released it while the kill unwound";
}

GROVE_TEST(RLock, WaitersAcquireInFifoOrderWithoutBarging) {
  RLock l;
  ASSERT_TRUE(l.acquire());
  std::vector<int> order;
  std::vector<FiberRef> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(spawn_fiber([&, i] {
      RLock::Guard held(l);
      order.push_back(i);
    }));
    sleep(0.0);
  }
  l.release();
  EXPECT_FALSE(l.try_acquire()) << "the lock was handed to the first waiter";
  for (auto& w : waiters) ASSERT_TRUE(w->join());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

GROVE_TEST(RLock, WorksWithStdUniqueLockRecursively) {
  RLock l;
  std::unique_lock outer(l);
  {
    std::unique_lock inner(l);
    EXPECT_EQ(l.count(), 2u);
  }
  EXPECT_EQ(l.count(), 1u);
}

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(RLock, WaitConformance, ::testing::Types<AcquireOwnedElsewhere>);
}  // namespace testing

}  // namespace grove
