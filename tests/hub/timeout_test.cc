// Timeout scopes: throwing, silent, nested, zero, never, cancel.
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

GROVE_TEST(Timeout, SilentFormMakesWaitsReturnTimedOut) {
  WaitList never_woken;
  Timeout t(0.01, Timeout::kSilent);
  EXPECT_EQ(never_woken.wait(), WaitStatus::kTimedOut);
  // Every later wait inside the expired scope returns at once, without parking.
  const std::uint64_t switches = Hub::current().stats().switches;
  EXPECT_EQ(never_woken.wait(), WaitStatus::kTimedOut);
  EXPECT_EQ(Hub::current().stats().switches, switches);
}

GROVE_TEST(Timeout, SilentScopeEndsAndLaterWaitsBlockAgain) {
  WaitList list;
  {
    Timeout t(0.005, Timeout::kSilent);
    EXPECT_EQ(list.wait(), WaitStatus::kTimedOut);
  }
  FiberRef waker = spawn_fiber([&] {
    sleep(0.01);
    list.wake_all();
  });
  EXPECT_EQ(list.wait(), WaitStatus::kWoken);
  EXPECT_TRUE(waker->join());
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
  EXPECT_THROW(sleep(1.0), Timeout);
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
  EXPECT_THROW(sleep(1.0), Timeout);
  EXPECT_TRUE(waker->join());
}

GROVE_TEST(Timeout, RestartedScopeFiresAgain) {
  Timeout t(0.005);
  EXPECT_THROW(sleep(1.0), Timeout);
  t.start();
  EXPECT_TRUE(t.pending());
  EXPECT_THROW(sleep(1.0), Timeout);
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
