// gevent.event (Event, AsyncResult) through the facade: the behaviours gevent's own
// test__event.py checks, ported (docs/SEMANTICS.md, "Event, AsyncResult").
#include "facade/event.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/grove_test.h"

namespace {

using gevent::event::AsyncResult;
using gevent::event::Event;

// ---- Event ----------------------------------------------------------------------------------

GROVE_TEST(GeventEvent, StartsClearAndSetRaisesTheFlag) {
  Event e;
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.ready());
  EXPECT_FALSE(e.isSet());
  e.set();
  EXPECT_TRUE(e.is_set());
  EXPECT_TRUE(e.ready());
  EXPECT_TRUE(e.isSet());
}

GROVE_TEST(GeventEvent, ClearLowersTheFlag) {
  Event e;
  e.set();
  e.clear();
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.wait(0.001)) << "a cleared event waits again";
}

GROVE_TEST(GeventEvent, WaitWithTimeoutReturnsFalseWhenNeverSet) {
  Event e;
  const double start = grove::Deadline::now();
  EXPECT_FALSE(e.wait(0.01));
  EXPECT_GE(grove::Deadline::now() - start, 0.009);
}

GROVE_TEST(GeventEvent, WaitOnASetEventReturnsTrueAtOnceEvenTwice) {
  Event e;
  e.set();
  const auto switches = gevent::get_hub().stats().switches;
  EXPECT_TRUE(e.wait());
  EXPECT_TRUE(e.wait(0.0));
  EXPECT_EQ(gevent::get_hub().stats().switches, switches) << "no switch on a set event";
}

GROVE_TEST(GeventEvent, SetWakesEveryWaiterInTheOrderTheyWaited) {
  Event e;
  std::vector<int> woke;
  std::vector<gevent::Greenlet<void>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(gevent::spawn([&, i] {
      EXPECT_TRUE(e.wait());
      woke.push_back(i);
    }));
  }
  gevent::sleep(0);
  EXPECT_EQ(e.waiting(), 3u);
  e.set();
  for (auto& g : waiters) EXPECT_TRUE(g.join(1.0));
  EXPECT_EQ(woke, (std::vector<int>{0, 1, 2}));
}

GROVE_TEST(GeventEvent, SetDuringATimedWaitReturnsTrue) {
  Event e;
  auto setter = gevent::spawn_later(0.005, [&] { e.set(); });
  EXPECT_TRUE(e.wait(5.0));
  setter.join();
}

GROVE_TEST(GeventEvent, SetThenClearStillWakesWaiters) {
  Event e;
  std::vector<bool> results;
  std::vector<gevent::Greenlet<void>> waiters;
  for (int i = 0; i < 5; ++i) {
    waiters.push_back(gevent::spawn([&] { results.push_back(e.wait(1.0)); }));
  }
  gevent::sleep(0);
  e.set();
  e.clear();  // before any waiter ran
  for (auto& g : waiters) EXPECT_TRUE(g.join(2.0));
  EXPECT_EQ(results, std::vector<bool>(5, true));
  EXPECT_FALSE(e.is_set());
}

GROVE_TEST(GeventEvent, RawlinkRunsAfterSetAndUnlinkRemovesIt) {
  Event e;
  std::vector<std::string> calls;
  e.rawlink([&] { calls.push_back("a"); });
  const auto b = e.rawlink([&] { calls.push_back("b"); });
  e.rawlink([&] { calls.push_back("c"); });
  EXPECT_TRUE(e.unlink(b));
  gevent::sleep(0.001);
  EXPECT_TRUE(calls.empty()) << "nothing runs before set()";
  e.set();
  EXPECT_TRUE(calls.empty()) << "callbacks run from the hub, after the current pass";
  gevent::sleep(0.001);
  EXPECT_EQ(calls, (std::vector<std::string>{"a", "c"}));
}

GROVE_TEST(GeventEvent, RawlinkOnASetEventRunsAtTheNextPass) {
  Event e;
  e.set();
  bool ran = false;
  e.rawlink([&] { ran = true; });
  gevent::sleep(0.001);
  EXPECT_TRUE(ran);
}

GROVE_TEST(GeventEvent, GeventWaitReturnsTheEventsThatWereSet) {
  Event a, b;
  auto setter = gevent::spawn([&] { b.set(); });
  auto ready = gevent::wait(std::vector<Event*>{&a, &b}, /*timeout=*/0.05);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0], &b);
  setter.join();
}

GROVE_TEST(GeventEvent, KillWhileWaitingUnwindsAndLeavesNoWaiter) {
  Event e;
  bool unwound = false;
  auto g = gevent::spawn([&] {
    try {
      (void)e.wait();
    } catch (const gevent::GreenletExit&) {
      unwound = true;
      throw;
    }
  });
  gevent::sleep(0);
  EXPECT_EQ(e.waiting(), 1u);
  g.kill();
  EXPECT_TRUE(unwound);
  EXPECT_EQ(e.waiting(), 0u);
}

// ---- AsyncResult ----------------------------------------------------------------------------

struct MyError : std::runtime_error {
  MyError() : std::runtime_error("my error") {}
};

GROVE_TEST(GeventAsyncResult, StartsUnreadyWithNoValueOrException) {
  AsyncResult<int> r;
  EXPECT_FALSE(r.ready());
  EXPECT_FALSE(r.successful());
  EXPECT_EQ(r.value(), nullptr);
  EXPECT_FALSE(r.exception());
}

GROVE_TEST(GeventAsyncResult, SetWakesGettersWithTheValue) {
  AsyncResult<std::string> r;
  std::vector<std::string> got;
  auto a = gevent::spawn([&] { got.push_back(r.get()); });
  auto b = gevent::spawn([&] { got.push_back(r.get()); });
  gevent::sleep(0);
  r.set("done");
  EXPECT_TRUE(a.join(1.0));
  EXPECT_TRUE(b.join(1.0));
  EXPECT_EQ(got, (std::vector<std::string>{"done", "done"}));
  EXPECT_TRUE(r.ready());
  EXPECT_TRUE(r.successful());
  EXPECT_EQ(*r.value(), "done");
}

GROVE_TEST(GeventAsyncResult, GetNonBlockingOnUnsetThrowsTimeout) {
  AsyncResult<int> r;
  EXPECT_THROW(r.get(/*block=*/false), gevent::Timeout);
  EXPECT_THROW(r.get_nowait(), gevent::Timeout);
}

GROVE_TEST(GeventAsyncResult, GetWithTimeoutThrowsTimeoutWhenNotSetInTime) {
  AsyncResult<int> r;
  const double start = grove::Deadline::now();
  EXPECT_THROW(r.get(/*block=*/true, /*timeout=*/0.01), gevent::Timeout);
  EXPECT_GE(grove::Deadline::now() - start, 0.009);
  EXPECT_EQ(r.waiting(), 0u);
}

GROVE_TEST(GeventAsyncResult, GetWithTimeoutReturnsTheValueSetInTime) {
  AsyncResult<int> r;
  auto setter = gevent::spawn_later(0.005, [&] { r.set(7); });
  EXPECT_EQ(r.get(true, 5.0), 7);
  setter.join();
}

GROVE_TEST(GeventAsyncResult, GetNowaitReturnsASetValue) {
  AsyncResult<int> r;
  r.set(3);
  EXPECT_EQ(r.get_nowait(), 3);
  EXPECT_EQ(r.get(false), 3);
}

GROVE_TEST(GeventAsyncResult, GetRethrowsSetException) {
  AsyncResult<int> r;
  auto setter = gevent::spawn([&] { r.set_exception(std::make_exception_ptr(MyError())); });
  EXPECT_THROW(r.get(), MyError);
  EXPECT_THROW(r.get_nowait(), MyError);
  EXPECT_TRUE(r.ready());
  EXPECT_FALSE(r.successful());
  EXPECT_EQ(r.value(), nullptr);
  EXPECT_THROW(std::rethrow_exception(r.exception()), MyError);
  setter.join();
}

GROVE_TEST(GeventAsyncResult, WaitReturnsTheValueOrNulloptAndNeverThrows) {
  AsyncResult<int> r;
  EXPECT_EQ(r.wait(0.001), std::nullopt) << "unset: none after the timeout";
  r.set(5);
  EXPECT_EQ(r.wait(), std::optional<int>(5));
  AsyncResult<int> failed;
  failed.set_exception(std::make_exception_ptr(MyError()));
  std::optional<int> v;
  EXPECT_NO_THROW(v = failed.wait());
  EXPECT_EQ(v, std::nullopt) << "a failed result's value is none";
}

GROVE_TEST(GeventAsyncResult, WaitBlocksUntilSet) {
  AsyncResult<int> r;
  auto setter = gevent::spawn([&] { r.set(11); });
  EXPECT_EQ(r.wait(), std::optional<int>(11));
  setter.join();
}

GROVE_TEST(GeventAsyncResult, SetTwiceReplacesTheValue) {
  AsyncResult<int> r;
  r.set(1);
  r.set(2);
  EXPECT_EQ(r.get(), 2);
  r.set_exception(std::make_exception_ptr(MyError()));
  EXPECT_THROW(r.get(), MyError);
  EXPECT_FALSE(r.successful());
  r.set(3);
  EXPECT_EQ(r.get(), 3);
  EXPECT_TRUE(r.successful());
  EXPECT_FALSE(r.exception());
}

GROVE_TEST(GeventAsyncResult, VoidResultWaitReturnsWhetherSet) {
  AsyncResult<void> r;
  EXPECT_FALSE(r.wait(0.001));
  EXPECT_THROW(r.get(false), gevent::Timeout);
  r.set();
  EXPECT_TRUE(r.wait());
  EXPECT_NO_THROW(r.get());
}

GROVE_TEST(GeventAsyncResult, RawlinkRunsWhenReady) {
  AsyncResult<int> r;
  int seen = 0;
  r.rawlink([&] { seen = *r.value(); });
  r.set(9);
  gevent::sleep(0.001);
  EXPECT_EQ(seen, 9);
}

GROVE_TEST(GeventAsyncResult, AsLinkTargetReceivesTheGreenletsOutcome) {
  grove::testing::ExpectFailures crashes;
  AsyncResult<int> ok_result, bad_result;
  auto ok = gevent::spawn([] { return 4; });
  ok.link([&](const gevent::Greenlet<int>& g) { ok_result.set(*g.value()); });
  auto bad = gevent::spawn([]() -> int { throw MyError(); });
  bad.link([&](const gevent::Greenlet<int>& g) { bad_result.set_exception(g.exception()); });
  EXPECT_EQ(ok_result.get(true, 1.0), 4);
  EXPECT_THROW(bad_result.get(true, 1.0), MyError);
}

}  // namespace
