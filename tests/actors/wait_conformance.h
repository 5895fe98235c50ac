// tests/actors/wait_conformance.h — the suite every blocking call of actors/ passes: timeouts
// return on time, Timeout scopes and kills are thrown at the wait and leave no waiter behind,
// and waiters are released in the order they started waiting.
//
// A fixture adapts one blocking call; it is constructed inside the hub, in a state where the
// call blocks:
//
//   struct EventWait {
//     static constexpr grove::testing::Wake kWake = grove::testing::Wake::kAllAtOnce;
//     bool wait(grove::Deadline d) { return e.wait(d); }  // true = completed
//     void release() { e.set(); }        // completes the longest waiter (kAllAtOnce: all)
//     void done() {}                     // run by a waiter after it completed
//     std::size_t waiting() const { return e.waiting(); }
//     grove::Event e;
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Event, WaitConformance, ::testing::Types<EventWait>);
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "hub/hub.h"
#include "hub/testing.h"
#include "hub/timeout.h"

namespace grove::testing {

enum class Wake {
  kOnePerRelease,  // release() completes exactly the longest waiter
  kAllAtOnce,      // release() completes every waiter (in the order they waited)
  kChained,        // release() completes the longest; its done() releases the next
};

template <class F>
void expect_in_hub(F body) {
  const Outcome outcome = run_in_hub(body);
  if (!outcome.ok()) ADD_FAILURE() << outcome.describe();
}

// Lets spawned fibers run until `fx.waiting()` reaches `n` (bounded).
template <class Fixture>
void settle(const Fixture& fx, std::size_t n) {
  for (int i = 0; i < 100 && fx.waiting() != n; ++i) yield();
}

// Waits until the hub has run every callback queued with run_callback so far (they run in
// order, from the hub's fiber): how a test lets rawlink notifications happen without sleeping.
inline void run_hub_callbacks() {
  WaitList marker;
  Hub::current().run_callback([&marker] { marker.wake_all(); });
  (void)marker.wait(Deadline::after(5.0), "hub callbacks");
}

// Kills and joins fibers at scope exit, so a failed ASSERT never destroys a primitive that
// fibers still wait on.
struct JoinAll {
  std::vector<FiberRef> fibers;
  ~JoinAll() {
    for (auto& f : fibers) f->kill();
    for (auto& f : fibers) (void)f->join();
  }
};

template <class Fixture>
class WaitConformance : public ::testing::Test {};
TYPED_TEST_SUITE_P(WaitConformance);

TYPED_TEST_P(WaitConformance, TimeoutReturnsFalseOnTime) {
  expect_in_hub([] {
    TypeParam fx;
    const double start = Deadline::now();
    EXPECT_FALSE(fx.wait(Deadline::after(0.02)));
    const double elapsed = Deadline::now() - start;
    EXPECT_GE(elapsed, 0.019);  // not before its time (how late depends on the machine)
    EXPECT_EQ(fx.waiting(), 0u);
  });
}

TYPED_TEST_P(WaitConformance, PassedDeadlineReturnsFalseWithoutParking) {
  expect_in_hub([] {
    TypeParam fx;
    EXPECT_FALSE(fx.wait(Deadline::after(0.0)));
    EXPECT_EQ(fx.waiting(), 0u);
  });
}

TYPED_TEST_P(WaitConformance, WithinLeavesTheWaitAndTheWaiterList) {
  expect_in_hub([] {
    TypeParam fx;
    bool returned = false;
    EXPECT_FALSE(within(0.01, [&] { returned = fx.wait(Deadline::never()) || true; }));
    EXPECT_FALSE(returned);
    EXPECT_EQ(fx.waiting(), 0u);
  });
}

TYPED_TEST_P(WaitConformance, TimeoutScopeIsThrownAtTheWait) {
  expect_in_hub([] {
    TypeParam fx;
    bool caught = false;
    {
      Timeout scope(0.01);
      try {
        (void)fx.wait(Deadline::never());
      } catch (const Timeout& e) {
        caught = e == scope;
      }
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(fx.waiting(), 0u);
  });
}

TYPED_TEST_P(WaitConformance, KillWhileWaitingUnwindsAndLeavesNoWaiter) {
  expect_in_hub([] {
    TypeParam fx;
    struct Tracker {
      int* destroyed;
      ~Tracker() { ++*destroyed; }
    };
    int destroyed = 0;
    bool returned = false;
    bool got_exit = false;
    JoinAll cleanup;
    FiberRef f = spawn_fiber([&] {
      Tracker t{&destroyed};
      try {
        (void)fx.wait(Deadline::never());
        returned = true;
      } catch (const GreenletExit&) {
        got_exit = true;
        throw;
      }
    });
    cleanup.fibers.push_back(f);
    settle(fx, 1);
    ASSERT_EQ(fx.waiting(), 1u);
    f->kill();
    ASSERT_TRUE(f->join(Deadline::after(20.0)));
    EXPECT_TRUE(got_exit);
    EXPECT_FALSE(returned);
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(fx.waiting(), 0u) << "a killed waiter must leave the primitive";
    // The dead waiter must not absorb the next release: a new waiter gets it.
    bool next_completed = false;
    FiberRef next = spawn_fiber([&] {
      next_completed = fx.wait(Deadline::after(5.0));
      if (next_completed) fx.done();
    });
    cleanup.fibers.push_back(next);
    settle(fx, 1);
    fx.release();
    ASSERT_TRUE(next->join(Deadline::after(20.0)));
    EXPECT_TRUE(next_completed);
  });
}

TYPED_TEST_P(WaitConformance, WakeOrderIsFifo) {
  expect_in_hub([] {
    TypeParam fx;
    constexpr int kWaiters = 5;
    std::vector<int> order;
    JoinAll cleanup;
    std::vector<FiberRef>& fibers = cleanup.fibers;
    for (int i = 0; i < kWaiters; ++i) {
      fibers.push_back(spawn_fiber([&, i] {
        if (fx.wait(Deadline::after(10.0))) {
          order.push_back(i);
          fx.done();
        }
      }));
      settle(fx, static_cast<std::size_t>(i) + 1);  // park them one after the other
    }
    ASSERT_EQ(fx.waiting(), static_cast<std::size_t>(kWaiters));
    if (TypeParam::kWake == Wake::kOnePerRelease) {
      for (int i = 0; i < kWaiters; ++i) fx.release();
    } else {
      fx.release();
    }
    for (auto& f : fibers) ASSERT_TRUE(f->join(Deadline::after(20.0)));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  });
}

REGISTER_TYPED_TEST_SUITE_P(WaitConformance, TimeoutReturnsFalseOnTime,
                            PassedDeadlineReturnsFalseWithoutParking,
                            WithinLeavesTheWaitAndTheWaiterList, TimeoutScopeIsThrownAtTheWait,
                            KillWhileWaitingUnwindsAndLeavesNoWaiter, WakeOrderIsFifo);

}  // namespace grove::testing
