// Timeout scopes: throwing, silent, nested, zero, never, cancel.
#include <optional>

#include "hub/timeout.h"

#include "hub/hub.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

GROVE_TEST(Timeout, ThrowsAtTheWaitPoint) {
  const double start = Deadline::now();
  Timeout t(0.01);
  try {
    sleep(60.0);
    ADD_FAILURE() << "sleep returned";
  } catch (const Timeout& e) {
    EXPECT_TRUE(e == t);
    EXPECT_DOUBLE_EQ(e.seconds(), 0.01);
  }
  EXPECT_GE(Deadline::now() - start, 0.009);  // not before its time
  EXPECT_TRUE(t.expired());
  EXPECT_FALSE(t.pending());
}

GROVE_TEST(Timeout, IsNotAStdException) {
  bool caught_by_std = false;
  bool caught_by_name = false;
  try {
    Timeout t(0.0);
    try {
      sleep(1.0);
    } catch (const std::exception&) {
      caught_by_std = true;
    }
  } catch (const Timeout&) {
    caught_by_name = true;
  }
  EXPECT_FALSE(caught_by_std);
  EXPECT_TRUE(caught_by_name);
}

GROVE_TEST(Timeout, ScopeLeftInTimeNeverFires) {
  {
    Timeout t(0.5);
    sleep(0.001);
    EXPECT_TRUE(t.pending());
  }
  sleep(0.55);  // would throw if the timer outlived its scope
  SUCCEED();
}

GROVE_TEST(Timeout, CancelStopsIt) {
  Timeout t(0.01);
  t.cancel();
  EXPECT_FALSE(t.pending());
  sleep(0.03);
  EXPECT_FALSE(t.expired());
}

GROVE_TEST(Timeout, WithinReturnsFalseAndLeavesTheBodyWhenTimeRunsOut) {
  WaitList never_woken;
  bool after_wait = false;
  bool unwound = false;
  const bool completed = within(0.01, [&] {
    struct Unwound {
      bool& flag;
      ~Unwound() { flag = true; }
    } guard{unwound};
    (void)never_woken.wait();
    after_wait = true;  // never reached: the expiry leaves the body
  });
  EXPECT_FALSE(completed);
  EXPECT_FALSE(after_wait);
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(never_woken.empty());
}

GROVE_TEST(Timeout, WithinReturnsTrueWhenTheBodyCompletes) {
  EXPECT_TRUE(within(5.0, [] { sleep(0.001); }));
  const std::optional<int> value = within(5.0, [] { return 42; });
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, 42);
  const std::optional<int> none = within(0.01, [] {
    sleep(10);
    return 1;
  });
  EXPECT_FALSE(none.has_value());
}

GROVE_TEST(Timeout, AfterWithinExpiredLaterWaitsBlockNormally) {
  // The expiry belongs to its scope: once within() returned, no later wait is cut short, a
  // wait without a deadline included (a silent expiry that leaked would return at once).
  WaitList list;
  EXPECT_FALSE(within(0.005, [&] { (void)list.wait(); }));
  FiberRef waker = spawn_fiber([&] {
    sleep(0.02);
    list.wake_all();
  });
  EXPECT_EQ(list.wait(), WaitStatus::kWoken);
  EXPECT_EQ(list.wait(Deadline::after(0.01)), WaitStatus::kTimedOut);
}

GROVE_TEST(Timeout, BodyThatSwallowsTheExpiryStillReportsItRanOut) {
  WaitList never_woken;
  const bool completed = within(0.01, [&] {
    try {
      (void)never_woken.wait();
    } catch (...) {
      // swallowed: the body returns normally after the time ran out
    }
  });
  EXPECT_FALSE(completed);
}

GROVE_TEST(Timeout, NestedWithinInnerExpiryStaysInside) {
  WaitList never_woken;
  bool inner_completed = true;
  const bool outer_completed = within(5.0, [&] {
    inner_completed = within(0.01, [&] { (void)never_woken.wait(); });
  });
  EXPECT_FALSE(inner_completed);
  EXPECT_TRUE(outer_completed);
}

GROVE_TEST(Timeout, NestedWithinOuterExpiryPassesThroughTheInner) {
  WaitList never_woken;
  bool inner_returned = false;
  const bool outer_completed = within(0.01, [&] {
    (void)within(5.0, [&] { (void)never_woken.wait(); });
    inner_returned = true;
  });
  EXPECT_FALSE(outer_completed);
  EXPECT_FALSE(inner_returned);
}

GROVE_TEST(Timeout, WithinExpiryIsNotCaughtAsStdException) {
  WaitList never_woken;
  bool caught_as_std = false;
  EXPECT_FALSE(within(0.01, [&] {
    try {
      (void)never_woken.wait();
    } catch (const std::exception&) {
      caught_as_std = true;
    }
  }));
  EXPECT_FALSE(caught_as_std);
}

GROVE_TEST(Timeout, NestedInnerFiresFirstAndIsTheOneThrown) {
  Timeout outer(20.0);
  try {
    Timeout inner(0.01);
    sleep(60.0);
  } catch (const Timeout& e) {
    EXPECT_FALSE(e == outer);
    EXPECT_DOUBLE_EQ(e.seconds(), 0.01);
  }
  EXPECT_TRUE(outer.pending());
}

GROVE_TEST(Timeout, NestedOuterFiresFirstAndPassesTheInnerHandler) {
  Timeout outer(0.01);
  bool inner_handler_saw_outer = false;
  try {
    Timeout inner(20.0);
    try {
      sleep(60.0);
    } catch (const Timeout& e) {
      if (!(e == inner)) {
        inner_handler_saw_outer = true;
        throw;  // not ours
      }
    }
    ADD_FAILURE() << "the outer timeout was swallowed";
  } catch (const Timeout& e) {
    EXPECT_TRUE(e == outer);
  }
  EXPECT_TRUE(inner_handler_saw_outer);
}

GROVE_TEST(Timeout, ZeroFiresAtTheNextBlockingWait) {
  Timeout t(0.0);
  EXPECT_THROW(sleep(60.0), Timeout);
}

GROVE_TEST(Timeout, NegativeFiresAtTheNextBlockingWaitAsInGevent) {
  {
    Timeout t(-1.0);
    EXPECT_TRUE(t.pending());
    EXPECT_THROW(sleep(60.0), Timeout);
  }
  EXPECT_FALSE(within(-0.5, [] { sleep(60.0); })) << "within() agrees";
  Timeout started = Timeout::start_new(-2.0);
  EXPECT_THROW(sleep(60.0), Timeout);
}

GROVE_TEST(Timeout, NeverNeverFires) {
  Timeout t = Timeout::never();
  EXPECT_FALSE(t.pending());
  sleep(0.01);
  EXPECT_FALSE(t.expired());
}

GROVE_TEST(Timeout, ExpiredWhileReadyIsThrownAtTheNextWait) {
  // The wake comes first (the waker never waits, so the hub cannot poll the timer before it);
  // the timeout then expires while this fiber runs without waiting, and is thrown at its next
  // wait point.
  WaitList list;
  Timeout t(0.01);
  FiberRef waker = spawn_fiber([&] { list.wake_all(); });
  EXPECT_EQ(list.wait(), WaitStatus::kWoken);
  const double until = Deadline::now() + 0.02;
  while (Deadline::now() < until) {
  }
  EXPECT_THROW(sleep(60.0), Timeout);
  EXPECT_TRUE(waker->join());
}

GROVE_TEST(Timeout, RestartedScopeFiresAgain) {
  Timeout t(0.005);
  EXPECT_THROW(sleep(60.0), Timeout);
  t.start();
  EXPECT_TRUE(t.pending());
  EXPECT_THROW(sleep(60.0), Timeout);
}

GROVE_TEST(Timeout, AppliesToJoin) {
  FiberRef f = spawn_fiber([] { sleep(60.0); });
  {
    Timeout t(0.01);
    EXPECT_THROW((void)f->join(), Timeout);
  }
  f->kill();
  EXPECT_TRUE(f->join());
}

GROVE_TEST(Timeout, MessageSaysHowLong) {
  Timeout t(0.5);
  t.cancel();
  EXPECT_EQ(t.message(), "Timeout after 0.5 seconds");
}

}  // namespace
}  // namespace grove
