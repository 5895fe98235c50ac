// gevent.lock (Semaphore, BoundedSemaphore, RLock) through the facade: the behaviours gevent's
// own test__semaphore.py checks, ported (docs/SEMANTICS.md, "Locks and pools").
#include "facade/lock.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/grove_test.h"

namespace {

using gevent::lock::BoundedSemaphore;
using gevent::lock::RLock;
using gevent::lock::Semaphore;

// ---- Semaphore --------------------------------------------------------------------------------

GROVE_TEST(GeventSemaphore, AcquireReturnsFalseAfterTimeout) {  // issue 39
  Semaphore s(0);
  const double start = grove::Deadline::now();
  EXPECT_FALSE(s.acquire(/*blocking=*/true, /*timeout=*/0.01));
  EXPECT_GE(grove::Deadline::now() - start, 0.009);
  EXPECT_EQ(s.waiting(), 0u);
}

GROVE_TEST(GeventSemaphore, NonBlockingAcquireReturnsFalseWhenLocked) {
  Semaphore s(1);
  EXPECT_TRUE(s.acquire(/*blocking=*/false));
  EXPECT_TRUE(s.locked());
  EXPECT_FALSE(s.acquire(/*blocking=*/false));
  s.release();
  EXPECT_FALSE(s.locked());
}

GROVE_TEST(GeventSemaphore, CountsUnitsDownAndUp) {
  Semaphore s(2);
  EXPECT_TRUE(s.acquire());
  EXPECT_EQ(s.counter(), 1u);
  EXPECT_TRUE(s.acquire());
  EXPECT_TRUE(s.locked());
  s.release();
  s.release();
  EXPECT_EQ(s.counter(), 2u);
}

GROVE_TEST(GeventSemaphore, ReleaseHandsTheUnitToTheLongestParkedAcquirer) {
  Semaphore s(0);
  std::vector<int> order;
  std::vector<gevent::Greenlet<void>> gs;
  for (int i = 0; i < 3; ++i) {
    gs.push_back(gevent::spawn([&, i] {
      EXPECT_TRUE(s.acquire());
      order.push_back(i);
    }));
  }
  gevent::sleep(0);
  EXPECT_EQ(s.waiting(), 3u);
  s.release();
  s.release();
  s.release();
  EXPECT_EQ(s.counter(), 0u) << "the units passed straight to the parked acquirers";
  for (auto& g : gs) EXPECT_TRUE(g.join(1.0));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

GROVE_TEST(GeventSemaphore, ALateAcquirerCannotOvertakeAParkedOne) {  // test_fair_or_hangs
  Semaphore s(0);
  std::vector<std::string> order;
  auto first = gevent::spawn([&] {
    EXPECT_TRUE(s.acquire());
    order.push_back("first");
  });
  gevent::sleep(0);
  s.release();
  // The unit belongs to `first` now, even though it has not run yet.
  EXPECT_FALSE(s.acquire(/*blocking=*/false));
  EXPECT_TRUE(first.join(1.0));
  EXPECT_EQ(order, (std::vector<std::string>{"first"}));
}

GROVE_TEST(GeventSemaphore, MayBeReleasedAboveItsInitialValue) {
  Semaphore s(1);
  s.release();
  EXPECT_EQ(s.counter(), 2u);
}

GROVE_TEST(GeventSemaphore, WaitReturnsWhenAUnitIsFreeWithoutTakingIt) {
  Semaphore s(0);
  auto waiter = gevent::spawn([&] { return s.wait(); });
  gevent::sleep(0);
  EXPECT_FALSE(waiter.ready());
  s.release();
  EXPECT_TRUE(waiter.get(true, 1.0));
  EXPECT_EQ(s.counter(), 1u) << "wait() did not take the unit";
  EXPECT_TRUE(s.wait(0.0)) << "a free unit: returns at once";
}

GROVE_TEST(GeventSemaphore, WaitWithTimeoutReturnsFalseWhileLocked) {
  Semaphore s(0);
  EXPECT_FALSE(s.wait(0.01));
}

GROVE_TEST(GeventSemaphore, ScopeGuardReleasesAtScopeExit) {
  Semaphore s(1);
  {
    std::lock_guard held(s);  // `with s:`
    EXPECT_TRUE(s.locked());
  }
  EXPECT_FALSE(s.locked());
  try {
    std::unique_lock held(s);
    throw std::runtime_error("inside");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(s.locked()) << "released while unwinding";
  {
    grove::Semaphore::Guard held(s);
    EXPECT_TRUE(s.locked());
  }
  EXPECT_FALSE(s.locked());
}

GROVE_TEST(GeventSemaphore, KillWhileParkedInAcquireLeavesNoWaiterAndNoUnit) {
  Semaphore s(0);
  auto g = gevent::spawn([&] { (void)s.acquire(); });
  gevent::sleep(0);
  g.kill();
  EXPECT_EQ(s.waiting(), 0u);
  s.release();
  EXPECT_EQ(s.counter(), 1u) << "the unit did not go to the dead acquirer";
}

// ---- BoundedSemaphore -------------------------------------------------------------------------

GROVE_TEST(GeventBoundedSemaphore, ReleaseAboveTheInitialValueThrows) {
  BoundedSemaphore s(1);
  EXPECT_THROW(s.release(), gevent::lock::SemaphoreOverReleased);
  EXPECT_TRUE(s.acquire());
  s.release();
  EXPECT_THROW(s.release(), std::logic_error);
  EXPECT_EQ(s.counter(), 1u);
}

GROVE_TEST(GeventBoundedSemaphore, AcquireWithTimeoutReturnsFalse) {
  BoundedSemaphore s(1);
  EXPECT_TRUE(s.acquire());
  EXPECT_FALSE(s.acquire(true, 0.01));
  EXPECT_FALSE(s.acquire(false));
  EXPECT_FALSE(s.wait(0.01));
  s.release();
  EXPECT_TRUE(s.wait(0.0));
}

GROVE_TEST(GeventBoundedSemaphore, ReleaseToAParkedAcquirerIsNotAnOverRelease) {
  BoundedSemaphore s(1);
  EXPECT_TRUE(s.acquire());
  auto g = gevent::spawn([&] {
    EXPECT_TRUE(s.acquire());
    s.release();
  });
  gevent::sleep(0);
  EXPECT_NO_THROW(s.release());
  EXPECT_TRUE(g.join(1.0));
  EXPECT_EQ(s.counter(), 1u);
}

// ---- RLock ------------------------------------------------------------------------------------

GROVE_TEST(GeventRLock, TheOwnerMayAcquireItAgain) {
  RLock lock;
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_EQ(lock.count(), 3u);
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  lock.release();
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
}

GROVE_TEST(GeventRLock, AnotherGreenletWaitsUntilFullyReleased) {
  RLock lock;
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire());
  bool got = false;
  auto other = gevent::spawn([&] {
    EXPECT_TRUE(lock.acquire());
    got = true;
    EXPECT_TRUE(lock.is_owned());
    lock.release();
  });
  gevent::sleep(0);
  lock.release();
  gevent::sleep(0.001);
  EXPECT_FALSE(got) << "still held once";
  lock.release();
  EXPECT_TRUE(other.join(1.0));
  EXPECT_TRUE(got);
  EXPECT_FALSE(lock.locked());
}

GROVE_TEST(GeventRLock, AcquireByAnotherGreenletTimesOutOrFailsNonBlocking) {
  RLock lock;
  EXPECT_TRUE(lock.acquire());
  auto other = gevent::spawn([&] {
    EXPECT_FALSE(lock.acquire(/*blocking=*/false));
    EXPECT_FALSE(lock.acquire(/*blocking=*/true, /*timeout=*/0.01));
    EXPECT_FALSE(lock.is_owned());
  });
  EXPECT_TRUE(other.join(1.0));
  lock.release();
}

GROVE_TEST(GeventRLock, ReleasingAnUnownedRLockThrows) {
  RLock lock;
  EXPECT_THROW(lock.release(), gevent::lock::RLockNotOwned);
}

GROVE_TEST(GeventRLock, ReleasingFromAGreenletThatDoesNotOwnItThrows) {
  RLock lock;
  EXPECT_TRUE(lock.acquire());
  auto other = gevent::spawn([&] { EXPECT_THROW(lock.release(), std::logic_error); });
  EXPECT_TRUE(other.join(1.0));
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(lock.count(), 1u);
  lock.release();
}

GROVE_TEST(GeventRLock, ScopeGuardsNestAndRelease) {
  RLock lock;
  {
    std::lock_guard outer(lock);
    {
      std::unique_lock inner(lock);
      EXPECT_EQ(lock.count(), 2u);
    }
    EXPECT_EQ(lock.count(), 1u);
  }
  EXPECT_FALSE(lock.locked());
}

GROVE_TEST(GeventRLock, ParkedGreenletsGetTheLockInFifoOrder) {
  RLock lock;
  EXPECT_TRUE(lock.acquire());
  std::vector<int> order;
  std::vector<gevent::Greenlet<void>> gs;
  for (int i = 0; i < 3; ++i) {
    gs.push_back(gevent::spawn([&, i] {
      std::lock_guard held(lock);
      order.push_back(i);
      gevent::sleep(0);
    }));
  }
  gevent::sleep(0);
  EXPECT_EQ(lock.waiting(), 3u);
  lock.release();
  for (auto& g : gs) EXPECT_TRUE(g.join(1.0));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

}  // namespace
