// gevent.Greenlet and the top-level functions, ported from the behaviours gevent's own
// test__greenlet.py, test__joinall/killall and test__timeout.py check (docs/SEMANTICS.md,
// "Greenlets" and "Kill, timeouts and cancellation").
#include "facade/greenlet.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "facade/hub.h"
#include "tests/support/grove_test.h"

namespace {

using gevent::Greenlet;
using grove::testing::ExpectFailures;

GROVE_TEST(GeventGreenlet, SpawnSchedulesAndJoinReturnsTrue) {
  bool ran = false;
  auto g = gevent::spawn([&] { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(g.join());
  EXPECT_TRUE(ran);
  EXPECT_TRUE(g.ready());
  EXPECT_TRUE(g.successful());
  EXPECT_TRUE(g.dead());
}

GROVE_TEST(GeventGreenlet, CreateThenStart) {
  bool ran = false;
  auto g = Greenlet<void>::create([&] { ran = true; });
  EXPECT_FALSE(g.started());
  gevent::sleep(0.001);
  EXPECT_FALSE(ran);
  g.start();
  EXPECT_TRUE(g.started());
  EXPECT_TRUE(static_cast<bool>(g)) << "bool(g): started and not dead";
  g.join();
  EXPECT_TRUE(ran);
  EXPECT_FALSE(static_cast<bool>(g));
}

GROVE_TEST(GeventGreenlet, SpawnLaterAndStartLater) {
  const double start = grove::Deadline::now();
  auto g = gevent::spawn_later(0.02, [] { return grove::Deadline::now(); });
  EXPECT_GE(g.get() - start, 0.019);
  auto h = Greenlet<int>::create([] { return 7; });
  h.start_later(0.01);
  EXPECT_EQ(h.get(), 7);
}

GROVE_TEST(GeventGreenlet, JoinNeverThrowsTheGreenletsError) {
  ExpectFailures crashes;
  auto g = gevent::spawn([] { throw std::runtime_error("oops"); });
  EXPECT_NO_THROW(EXPECT_TRUE(g.join()));
  EXPECT_FALSE(g.successful());
  EXPECT_TRUE(g.exception());
}

GROVE_TEST(GeventGreenlet, JoinWithTimeoutReturnsFalseWhileRunning) {
  auto g = gevent::spawn([] { gevent::sleep(1); });
  EXPECT_FALSE(g.join(0.01));
  g.kill();
}

GROVE_TEST(GeventGreenlet, GetReturnsTheValueOrRethrows) {
  ExpectFailures crashes;
  auto ok = gevent::spawn([] { return std::string("value"); });
  EXPECT_EQ(ok.get(), "value");
  auto bad = gevent::spawn([]() -> int { throw std::domain_error("bad"); });
  EXPECT_THROW(bad.get(), std::domain_error);
}

GROVE_TEST(GeventGreenlet, GetNonBlockingOnUnfinishedThrowsTimeout) {
  auto g = gevent::spawn([] {
    gevent::sleep(1);
    return 1;
  });
  EXPECT_THROW(g.get(/*block=*/false), gevent::Timeout);
  EXPECT_THROW(g.get(/*block=*/true, /*timeout=*/0.01), gevent::Timeout);
  g.kill();
}

GROVE_TEST(GeventGreenlet, KillingAnUnstartedGreenletPreventsItFromRunning) {
  bool ran = false;
  auto g = gevent::spawn([&] { ran = true; });
  g.kill();
  gevent::sleep(0.001);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(g.dead());
  EXPECT_TRUE(g.successful()) << "GreenletExit counts as success";
}

GROVE_TEST(GeventGreenlet, KillRaisesGreenletExitAtTheWaitPoint) {
  bool got_exit = false;
  auto g = gevent::spawn([&] {
    try {
      gevent::sleep(10);
    } catch (const gevent::GreenletExit&) {
      got_exit = true;
      throw;
    }
  });
  gevent::sleep(0);
  g.kill();  // block=true: returns after it died
  EXPECT_TRUE(g.dead());
  EXPECT_TRUE(got_exit);
  EXPECT_TRUE(g.successful());
  EXPECT_FALSE(g.exception());
}

GROVE_TEST(GeventGreenlet, KillWithACustomExceptionMarksItFailed) {
  ExpectFailures crashes;
  auto g = gevent::spawn([] { gevent::sleep(10); });
  gevent::sleep(0);
  g.kill(std::runtime_error("custom"));
  EXPECT_FALSE(g.successful());
  EXPECT_THROW(std::rethrow_exception(g.exception()), std::runtime_error);
}

GROVE_TEST(GeventGreenlet, KillWithTimeoutSwallowsItsOwnTimeout) {
  // A greenlet that takes a while to die: its cleanup (a destructor) waits while it unwinds.
  auto slow_to_die = gevent::spawn([] {
    struct SlowCleanup {
      ~SlowCleanup() { gevent::sleep(0.2); }
    } cleanup;
    gevent::sleep(10);
  });
  gevent::sleep(0);
  EXPECT_NO_THROW(slow_to_die.kill(nullptr, /*block=*/true, /*timeout=*/0.01));
  EXPECT_FALSE(slow_to_die.dead());
  EXPECT_TRUE(slow_to_die.join(5.0));
}

GROVE_TEST(GeventGreenlet, KillOfADeadGreenletIsANoOp) {
  auto g = gevent::spawn([] { return 1; });
  g.join();
  g.kill();
  EXPECT_EQ(*g.value(), 1);
}

GROVE_TEST(GeventGreenlet, NameDefaultsToGreenletN) {
  auto g = gevent::spawn([] {});
  EXPECT_EQ(g.name().rfind("Greenlet-", 0), 0u) << g.name();
  EXPECT_GT(g.minimal_ident(), 0u);
  g.join();
}

GROVE_TEST(GeventGreenlet, LinkCallbacksRunInOrderEvenWhenLinkedAfterDeath) {
  std::vector<int> calls;
  auto g = gevent::spawn([] { return 5; });
  g.link([&](const Greenlet<int>& x) { calls.push_back(*x.value()); });
  g.link_value([&](const Greenlet<int>&) { calls.push_back(2); });
  g.link_exception([&](const Greenlet<int>&) { calls.push_back(-1); });
  g.join();
  gevent::sleep(0.01);
  g.link([&](const Greenlet<int>&) { calls.push_back(3); });  // after death: still fires
  gevent::sleep(0.01);
  EXPECT_EQ(calls, (std::vector<int>{5, 2, 3}));
}

GROVE_TEST(GeventGreenlet, FailureIsReportedOnceInGeventsForm) {
  ExpectFailures crashes;
  auto g = gevent::spawn([] { throw std::out_of_range("index 7"); });
  g.join();
  gevent::sleep(0.01);
  ASSERT_EQ(crashes.count(), 1u);
  const std::string& line = crashes.reports()[0];
  EXPECT_EQ(line.rfind("<Greenlet \"Greenlet-", 0), 0u) << line;
  EXPECT_NE(line.find(" at 0x"), std::string::npos) << line;
  EXPECT_NE(line.find("> failed with std::out_of_range: index 7"), std::string::npos) << line;
}

GROVE_TEST(GeventGreenlet, GreenletExitIsNotReported) {
  ExpectFailures crashes;
  auto g = gevent::spawn([] { throw gevent::GreenletExit(); });
  g.join();
  EXPECT_EQ(crashes.count(), 0u);
  EXPECT_TRUE(g.successful());
}

GROVE_TEST(GeventJoinall, ReturnsTheFinishedOnesInOrderOfFinishing) {
  bool fast_finished = false;  // slow finishes after fast by construction, not by a timing gap
  auto slow = gevent::spawn([&] {
    while (!fast_finished) gevent::sleep(0.001);
  });
  auto fast = gevent::spawn([&] {
    gevent::sleep(0.005);
    fast_finished = true;
  });
  auto done = gevent::joinall(std::vector{slow, fast});
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0], fast);
  EXPECT_EQ(done[1], slow);
}

GROVE_TEST(GeventJoinall, TimeoutReturnsOnlyTheFinished) {
  auto slow = gevent::spawn([] { gevent::sleep(60); });
  auto fast = gevent::spawn([] {});
  auto done = gevent::joinall(std::vector{slow, fast}, /*timeout=*/0.02);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], fast);
  slow.kill();
}

GROVE_TEST(GeventJoinall, CountStopsEarly) {
  std::vector<Greenlet<void>> gs;
  for (int i = 0; i < 4; ++i) gs.push_back(gevent::spawn([i] { gevent::sleep(0.002 * i); }));
  auto done = gevent::joinall(gs, std::nullopt, false, 2);
  EXPECT_EQ(done.size(), 2u);
  gevent::killall(gs);
}

GROVE_TEST(GeventJoinall, RaiseErrorThrowsTheFirstFailure) {
  ExpectFailures crashes;
  auto bad = gevent::spawn([] { throw std::runtime_error("first"); });
  auto good = gevent::spawn([] { gevent::sleep(0.01); });
  EXPECT_THROW(gevent::joinall(std::vector{bad, good}, std::nullopt, /*raise_error=*/true),
               std::runtime_error);
  good.kill();
}

GROVE_TEST(GeventKillall, KillsAllAndWaits) {
  std::vector<Greenlet<void>> gs;
  for (int i = 0; i < 5; ++i) gs.push_back(gevent::spawn([] { gevent::sleep(10); }));
  gevent::sleep(0);
  gevent::killall(gs);
  for (auto& g : gs) EXPECT_TRUE(g.dead());
}

GROVE_TEST(GeventKillall, ThrowsTimeoutWhenTheyOutliveIt) {
  auto slow_to_die = gevent::spawn([] {
    struct SlowCleanup {
      ~SlowCleanup() { gevent::sleep(0.2); }  // waits while the kill unwinds
    } cleanup;
    gevent::sleep(10);
  });
  gevent::sleep(0);
  EXPECT_THROW(gevent::killall(std::vector{slow_to_die}, nullptr, true, 0.01), gevent::Timeout);
  EXPECT_TRUE(slow_to_die.join(5.0));
}

GROVE_TEST(GeventSleep, SleepZeroLetsOthersRunOnce) {
  int runs = 0;
  auto g = gevent::spawn([&] { ++runs; });
  gevent::sleep(0);
  EXPECT_EQ(runs, 1);
  g.join();
}

GROVE_TEST(GeventIdle, ReturnsWhenNothingElseIsReady) {
  int steps = 0;
  auto g = gevent::spawn([&] {
    for (int i = 0; i < 5; ++i) {
      ++steps;
      gevent::sleep(0);
    }
  });
  gevent::idle();
  EXPECT_EQ(steps, 5);
  g.join();
}

GROVE_TEST(GeventIwait, YieldsObjectsAsTheyBecomeReady) {
  bool b_finished = false;
  auto a = gevent::spawn([&] {
    while (!b_finished) gevent::sleep(0.001);
  });
  auto b = gevent::spawn([&] {
    gevent::sleep(0.01);
    b_finished = true;
  });
  auto it = gevent::iwait(std::vector{a, b});
  EXPECT_EQ(it.next(), b);
  EXPECT_EQ(it.next(), a);
  EXPECT_EQ(it.next(), std::nullopt);
}

GROVE_TEST(GeventWait, TimeoutGivesThePartialList) {
  auto a = gevent::spawn([] { gevent::sleep(60); });
  auto b = gevent::spawn([] {});
  auto ready = gevent::wait(std::vector{a, b}, 0.02);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0], b);
  a.kill();
}

GROVE_TEST(GeventTimeout, ScopeRaisesTimeoutAtTheWaitPoint) {
  gevent::Timeout t(0.01);
  try {
    gevent::sleep(1);
    FAIL();
  } catch (const gevent::Timeout& e) {
    EXPECT_TRUE(e == t);
  }
}

GROVE_TEST(GeventTimeout, FalseExceptionMeansSilent) {
  // with Timeout(0.01, False): sleep(1); reached = True
  bool reached = false;
  const bool completed = gevent::within(0.01, [&] {
    gevent::sleep(1);
    reached = true;
  });
  EXPECT_FALSE(completed);
  EXPECT_FALSE(reached);
  // and the next wait is not affected
  EXPECT_TRUE(gevent::within(1.0, [] { gevent::sleep(0.001); }));
}

GROVE_TEST(GeventTimeout, CustomExceptionIsRaisedInstead) {
  gevent::Timeout t(0.01, std::make_exception_ptr(std::runtime_error("too slow")));
  EXPECT_THROW(gevent::sleep(1), std::runtime_error);
}

GROVE_TEST(GeventTimeout, WithTimeoutRaisesOrReturnsTheTimeoutValue) {
  EXPECT_THROW(gevent::with_timeout(0.01, [] { gevent::sleep(1); }), gevent::Timeout);
  EXPECT_EQ(gevent::with_timeout(1.0, [](int x) { return x + 1; }, 1), 2);
  EXPECT_EQ(gevent::with_timeout_value(0.01, std::string("late"), [] {
              gevent::sleep(1);
              return std::string("on time");
            }),
            "late");
}

GROVE_TEST(GeventHub, PrintRunInfoListsGreenlets) {
  auto g = gevent::spawn([] { gevent::sleep(1); });
  gevent::sleep(0);
  const std::string info = gevent::util::format_run_info();
  EXPECT_NE(info.find(g.name()), std::string::npos) << info;
  EXPECT_NE(info.find("sleep"), std::string::npos) << info;
  EXPECT_NE(info.find("switches="), std::string::npos) << info;
  g.kill();
}

GROVE_TEST(GeventHub, SpawnRawRunsWithoutAGreenletObject) {
  bool ran = false;
  grove::FiberRef f = gevent::spawn_raw([&](int n) { ran = n == 3; }, 3);
  EXPECT_TRUE(f->join());
  EXPECT_TRUE(ran);
}

}  // namespace
