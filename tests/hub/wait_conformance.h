// tests/hub/wait_conformance.h — the suite every wait point of grove passes: timeouts return on
// time, Timeout scopes and kills are thrown at the wait and leave no waiter behind, waiters are
// released in the order they started waiting, a waited-on object destroyed under its waiter
// wakes it with an error, and a fiber killed while waiting on many sources (wait_any) is
// unregistered from every one of them.
//
// A fixture adapts one blocking call; it is constructed inside the hub, in a state where the
// call blocks:
//
//   struct EventWait {
//     static constexpr grove::testing::Wake kWake = grove::testing::Wake::kAllAtOnce;
//     bool wait(grove::Deadline d) { return e->wait(d); }  // true = completed
//     void release() { e->set(); }       // completes the longest waiter (kAllAtOnce: all)
//     void done() {}                     // run by a waiter after it completed
//     std::size_t waiting() const { return e->waiting(); }
//     // Optional: the same wait as a source for wait_any (enables the "many sources" tests).
//     grove::WaitSource source() { return e->wait_source(); }
//     // Optional: destroys what is waited on; its waiter must get `Destroyed`.
//     using Destroyed = grove::ObjectDestroyed;
//     void destroy() { e.reset(); }
//     std::optional<grove::Event> e{std::in_place};
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Event, WaitConformance, ::testing::Types<EventWait>);
//
// waiting() counts the fibers parked on the primitive, registrations of a wait_any included.
//
// A wait that only some fibers may make (receive: an actor, on its own mailbox) gives the suite
// the way to start such a fiber; every wait of the suite then runs in one:
//
//   template <class F> static grove::FiberRef spawn(F body) {
//     return grove::FiberRef(grove::spawn(std::move(body)).get());
//   }
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <vector>

#include "hub/hub.h"
#include "hub/wait_any.h"
#include "hub/testing.h"
#include "hub/timeout.h"

namespace grove::testing {

enum class Wake {
  kOnePerRelease,  // release() completes exactly the longest waiter
  kAllAtOnce,      // release() completes every waiter (in the order they waited)
  kChained,        // release() completes the longest; its done() releases the next
  kSingleWaiter,   // one fiber at a time may wait (an IoWatcher, select): no order to check
};

template <class Fixture>
concept HasSource = requires(Fixture& fx) {
  { fx.source() } -> std::convertible_to<WaitSource>;
};
template <class Fixture>
concept Destroyable = requires(Fixture& fx) {
  fx.destroy();
  typename Fixture::Destroyed;
};

template <class Fixture>
concept HasSpawn = requires { Fixture::spawn(static_cast<void (*)()>(nullptr)); };

// Starts `body` as a fiber that may make the fixture's wait.
template <class Fixture, class F>
FiberRef spawn_waiter(F body) {
  if constexpr (HasSpawn<Fixture>) {
    return Fixture::spawn(std::move(body));
  } else {
    return spawn_fiber(std::move(body));
  }
}

// Runs `body` in a fiber that may make the fixture's wait: the calling one when any fiber may,
// else one started for it, which this joins.
template <class Fixture, class F>
void as_waiter(F body) {
  if constexpr (HasSpawn<Fixture>) {
    FiberRef f = Fixture::spawn(std::move(body));
    if (!f->join(Deadline::after(30.0))) {
      ADD_FAILURE() << "the waiter did not finish in 30 s";
      f->kill();
      (void)f->join();
    }
  } else {
    body();
  }
}

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
    as_waiter<TypeParam>([&] {
      const double start = Deadline::now();
      EXPECT_FALSE(fx.wait(Deadline::after(0.02)));
      const double elapsed = Deadline::now() - start;
      EXPECT_GE(elapsed, 0.019);  // not before its time (how late depends on the machine)
    });
    EXPECT_EQ(fx.waiting(), 0u);
  });
}

TYPED_TEST_P(WaitConformance, PassedDeadlineReturnsFalseWithoutParking) {
  expect_in_hub([] {
    TypeParam fx;
    as_waiter<TypeParam>([&] { EXPECT_FALSE(fx.wait(Deadline::after(0.0))); });
    EXPECT_EQ(fx.waiting(), 0u);
  });
}

TYPED_TEST_P(WaitConformance, WithinLeavesTheWaitAndTheWaiterList) {
  expect_in_hub([] {
    TypeParam fx;
    bool returned = false;
    as_waiter<TypeParam>([&] {
      EXPECT_FALSE(within(0.01, [&] { returned = fx.wait(Deadline::never()) || true; }));
    });
    EXPECT_FALSE(returned);
    EXPECT_EQ(fx.waiting(), 0u);
  });
}

TYPED_TEST_P(WaitConformance, TimeoutScopeIsThrownAtTheWait) {
  expect_in_hub([] {
    TypeParam fx;
    bool caught = false;
    as_waiter<TypeParam>([&] {
      Timeout scope(0.01);
      try {
        (void)fx.wait(Deadline::never());
      } catch (const Timeout& e) {
        caught = e == scope;
      }
    });
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
    FiberRef f = spawn_waiter<TypeParam>([&] {
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
    FiberRef next = spawn_waiter<TypeParam>([&] {
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
  if constexpr (TypeParam::kWake == Wake::kSingleWaiter) {
    GTEST_SKIP() << "one waiter at a time: no order to check";
  }
  expect_in_hub([] {
    TypeParam fx;
    constexpr int kWaiters = 5;
    std::vector<int> order;
    JoinAll cleanup;
    std::vector<FiberRef>& fibers = cleanup.fibers;
    for (int i = 0; i < kWaiters; ++i) {
      fibers.push_back(spawn_waiter<TypeParam>([&, i] {
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

TYPED_TEST_P(WaitConformance, DestroyedWithAWaiterWakesItWithAnError) {
  if constexpr (!Destroyable<TypeParam>) {
    GTEST_SKIP() << "the fixture cannot destroy what is waited on";
  } else {
    expect_in_hub([] {
      TypeParam fx;
      bool threw = false;
      bool returned = false;
      JoinAll cleanup;
      FiberRef f = spawn_waiter<TypeParam>([&] {
        try {
          (void)fx.wait(Deadline::after(30.0));
          returned = true;
        } catch (const typename TypeParam::Destroyed&) {
          threw = true;
        }
      });
      cleanup.fibers.push_back(f);
      settle(fx, 1);
      ASSERT_EQ(fx.waiting(), 1u);
      fx.destroy();
      ASSERT_TRUE(f->join(Deadline::after(20.0)));
      EXPECT_TRUE(threw) << "the waiter must get the documented error";
      EXPECT_FALSE(returned);
    });
  }
}

// The "many sources" tests: the fixture's wait as one source of a wait_any, next to an idle
// WaitList that never fires.
inline WaitSource idle_source(WaitList& list) { return WaitSource(list, nullptr, nullptr); }

TYPED_TEST_P(WaitConformance, WakesAWaitOnManyAndSaysWhich) {
  if constexpr (!HasSource<TypeParam>) {
    GTEST_SKIP() << "no wait_source for this wait";
  } else {
    expect_in_hub([] {
      TypeParam fx;
      WaitList idle;
      std::optional<std::size_t> fired;
      JoinAll cleanup;
      FiberRef f = spawn_waiter<TypeParam>([&] {
        fired = wait_any({idle_source(idle), fx.source()}, Deadline::after(30.0));
        if (fired == 1u) fx.done();
      });
      cleanup.fibers.push_back(f);
      settle(fx, 1);
      ASSERT_EQ(fx.waiting(), 1u);
      ASSERT_EQ(idle.size(), 1u);
      fx.release();
      ASSERT_TRUE(f->join(Deadline::after(20.0)));
      EXPECT_EQ(fired, std::optional<std::size_t>(1));
      EXPECT_TRUE(idle.empty()) << "the sources that did not fire are left too";
      EXPECT_EQ(fx.waiting(), 0u);
    });
  }
}

TYPED_TEST_P(WaitConformance, TimeoutOnManyLeavesEverySource) {
  if constexpr (!HasSource<TypeParam>) {
    GTEST_SKIP() << "no wait_source for this wait";
  } else {
    expect_in_hub([] {
      TypeParam fx;
      WaitList idle;
      as_waiter<TypeParam>([&] {
        const double start = Deadline::now();
        EXPECT_EQ(wait_any({idle_source(idle), fx.source()}, Deadline::after(0.02)),
                  std::nullopt);
        EXPECT_GE(Deadline::now() - start, 0.019);
      });
      EXPECT_TRUE(idle.empty());
      EXPECT_EQ(fx.waiting(), 0u);
    });
  }
}

TYPED_TEST_P(WaitConformance, KilledWhileWaitingOnManyLeavesNoRegistration) {
  if constexpr (!HasSource<TypeParam>) {
    GTEST_SKIP() << "no wait_source for this wait";
  } else {
    expect_in_hub([] {
      TypeParam fx;
      WaitList idle;
      bool got_exit = false;
      JoinAll cleanup;
      FiberRef f = spawn_waiter<TypeParam>([&] {
        try {
          (void)wait_any({idle_source(idle), fx.source()}, Deadline::never());
        } catch (const GreenletExit&) {
          got_exit = true;
          throw;
        }
      });
      cleanup.fibers.push_back(f);
      settle(fx, 1);
      ASSERT_EQ(fx.waiting(), 1u);
      ASSERT_EQ(idle.size(), 1u);
      f->kill();
      ASSERT_TRUE(f->join(Deadline::after(20.0)));
      EXPECT_TRUE(got_exit);
      EXPECT_TRUE(idle.empty()) << "a killed wait_any must leave every source";
      EXPECT_EQ(fx.waiting(), 0u) << "a killed wait_any must leave every source";
      // Nothing stale absorbs or writes through the next release: a new waiter gets it.
      bool next_completed = false;
      FiberRef next = spawn_waiter<TypeParam>([&] {
        next_completed = fx.wait(Deadline::after(10.0));
        if (next_completed) fx.done();
      });
      cleanup.fibers.push_back(next);
      settle(fx, 1);
      fx.release();
      ASSERT_TRUE(next->join(Deadline::after(20.0)));
      EXPECT_TRUE(next_completed);
    });
  }
}

TYPED_TEST_P(WaitConformance, DestroyedWhileWaitingOnManyWakesWithItsError) {
  if constexpr (!HasSource<TypeParam> || !Destroyable<TypeParam>) {
    GTEST_SKIP() << "needs both a wait_source and destroy()";
  } else {
    expect_in_hub([] {
      TypeParam fx;
      WaitList idle;
      bool threw = false;
      JoinAll cleanup;
      FiberRef f = spawn_waiter<TypeParam>([&] {
        try {
          (void)wait_any({idle_source(idle), fx.source()}, Deadline::after(30.0));
        } catch (const typename TypeParam::Destroyed&) {
          threw = true;
        }
      });
      cleanup.fibers.push_back(f);
      settle(fx, 1);
      ASSERT_EQ(idle.size(), 1u);
      fx.destroy();
      ASSERT_TRUE(f->join(Deadline::after(20.0)));
      EXPECT_TRUE(threw);
      EXPECT_TRUE(idle.empty());
    });
  }
}

REGISTER_TYPED_TEST_SUITE_P(WaitConformance, TimeoutReturnsFalseOnTime,
                            PassedDeadlineReturnsFalseWithoutParking,
                            WithinLeavesTheWaitAndTheWaiterList, TimeoutScopeIsThrownAtTheWait,
                            KillWhileWaitingUnwindsAndLeavesNoWaiter, WakeOrderIsFifo,
                            DestroyedWithAWaiterWakesItWithAnError, WakesAWaitOnManyAndSaysWhich,
                            TimeoutOnManyLeavesEverySource,
                            KilledWhileWaitingOnManyLeavesNoRegistration,
                            DestroyedWhileWaitingOnManyWakesWithItsError);

}  // namespace grove::testing
