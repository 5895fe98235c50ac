// Event: set/clear/wait, "was set while waiting", rawlink callbacks.
#include "actors/event.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hub/hub.h"
#include "tests/hub/wait_conformance.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

using namespace std::chrono_literals;

struct EventWait {
  static constexpr testing::Wake kWake = testing::Wake::kAllAtOnce;
  bool wait(Deadline d) { return e->wait(d); }
  void release() { e->set(); }
  void done() {}
  std::size_t waiting() const { return e->waiting(); }
  WaitSource source() { return e->wait_source(); }
  using Destroyed = ObjectDestroyed;
  void destroy() { e.reset(); }
  std::optional<Event> e{std::in_place};
};

GROVE_TEST(Event, StartsCleared) {
  Event e;
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.wait(Deadline::after(0.0)));
}

GROVE_TEST(Event, SetWakesEveryWaiter) {
  Event e;
  int woken = 0;
  std::vector<FiberRef> fibers;
  for (int i = 0; i < 3; ++i) fibers.push_back(spawn_fiber([&] { woken += e.wait() ? 1 : 0; }));
  sleep(0.0);
  EXPECT_EQ(e.waiting(), 3u);
  e.set();
  EXPECT_EQ(woken, 0) << "set() does not switch";
  for (auto& f : fibers) ASSERT_TRUE(f->join());
  EXPECT_EQ(woken, 3);
}

GROVE_TEST(Event, SetThenClearStillWakesWaiters) {
  Event e;
  std::vector<bool> results;
  std::vector<FiberRef> fibers;
  for (int i = 0; i < 2; ++i) {
    fibers.push_back(spawn_fiber([&] { results.push_back(e.wait(Deadline::after(5.0))); }));
  }
  sleep(0.0);
  e.set();
  e.clear();  // before the waiters run
  for (auto& f : fibers) ASSERT_TRUE(f->join());
  EXPECT_EQ(results, (std::vector<bool>{true, true}));
  EXPECT_FALSE(e.is_set());
}

GROVE_TEST(Event, WaitOnASetEventReturnsAtOnceWithoutSwitching) {
  Event e;
  e.set();
  const auto before = Hub::current().stats().switches;
  EXPECT_TRUE(e.wait());
  EXPECT_TRUE(e.wait(Deadline::after(0.0)));
  EXPECT_EQ(Hub::current().stats().switches, before);
}

GROVE_TEST(Event, ClearMakesLaterWaitsBlock) {
  Event e;
  e.set();
  e.clear();
  EXPECT_FALSE(e.wait_for(10ms));
}

GROVE_TEST(Event, WaitersAfterSetAndClearBlockAgain) {
  Event e;
  FiberRef first = spawn_fiber([&] { EXPECT_TRUE(e.wait()); });
  sleep(0.0);
  e.set();
  e.clear();
  ASSERT_TRUE(first->join());
  EXPECT_FALSE(e.wait_for(5ms)) << "the earlier set() must not leak into a later wait";
}

GROVE_TEST(Event, RawlinkRunsFromTheHubAfterSetInRegistrationOrder) {
  Event e;
  std::vector<int> calls;
  (void)e.rawlink([&] { calls.push_back(1); });
  (void)e.rawlink([&] { calls.push_back(2); });
  (void)e.rawlink([&] { calls.push_back(3); });
  e.set();
  EXPECT_TRUE(calls.empty()) << "callbacks run from the hub, not inside set()";
  testing::run_hub_callbacks();
  EXPECT_EQ(calls, (std::vector<int>{1, 2, 3}));
}

GROVE_TEST(Event, RawlinkCallbacksAreOneShot) {
  Event e;
  int calls = 0;
  (void)e.rawlink([&] { ++calls; });
  e.set();
  testing::run_hub_callbacks();
  e.clear();
  e.set();
  testing::run_hub_callbacks();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(e.link_count(), 0u);
}

GROVE_TEST(Event, RawlinkOnASetEventRunsAtTheNextPass) {
  Event e;
  e.set();
  bool called = false;
  (void)e.rawlink([&] { called = true; });
  EXPECT_FALSE(called);
  testing::run_hub_callbacks();
  EXPECT_TRUE(called);
}

GROVE_TEST(Event, SetThenClearStillRunsRawlinks) {
  Event e;
  bool called = false;
  (void)e.rawlink([&] { called = true; });
  e.set();
  e.clear();
  testing::run_hub_callbacks();
  EXPECT_TRUE(called);
}

GROVE_TEST(Event, UnlinkRemovesACallbackBeforeItRuns) {
  Event e;
  std::vector<int> calls;
  (void)e.rawlink([&] { calls.push_back(1); });
  const LinkId second = e.rawlink([&] { calls.push_back(2); });
  EXPECT_TRUE(e.unlink(second));
  EXPECT_FALSE(e.unlink(second));
  e.set();
  testing::run_hub_callbacks();
  EXPECT_EQ(calls, (std::vector<int>{1}));
}

GROVE_TEST(Event, ACallbackMayUnlinkALaterOne) {
  Event e;
  std::vector<int> calls;
  LinkId second{};
  (void)e.rawlink([&] {
    calls.push_back(1);
    (void)e.unlink(second);
  });
  second = e.rawlink([&] { calls.push_back(2); });
  e.set();
  testing::run_hub_callbacks();
  EXPECT_EQ(calls, (std::vector<int>{1}));
}

GROVE_TEST(Event, CallbackLinkedByACallbackRunsAtALaterPass) {
  Event e;
  std::vector<int> calls;
  (void)e.rawlink([&] {
    calls.push_back(1);
    (void)e.rawlink([&] { calls.push_back(2); });
  });
  e.set();
  testing::run_hub_callbacks();
  testing::run_hub_callbacks();
  EXPECT_EQ(calls, (std::vector<int>{1, 2}));
}

GROVE_TEST(Event, AThrowingCallbackIsReportedAndTheOthersStillRun) {
  testing::ExpectFailures failures;
  Event e;
  bool second_ran = false;
  (void)e.rawlink([] { throw std::runtime_error("callback failed"); });
  (void)e.rawlink([&] { second_ran = true; });
  e.set();
  testing::run_hub_callbacks();
  EXPECT_TRUE(second_ran);
  ASSERT_EQ(failures.count(), 1u);
  EXPECT_NE(failures.reports()[0].find("callback failed"), std::string::npos);
}

GROVE_TEST(Event, DestroyingAnEventWithAQueuedNotificationIsSafe) {
  bool called = false;
  {
    Event e;
    (void)e.rawlink([&] { called = true; });
    e.set();
  }
  testing::run_hub_callbacks();
  EXPECT_FALSE(called);
}

GROVE_TEST(Event, SetFromAnotherThreadThroughTheHub) {
  Event e;
  RemoteHub hub = Hub::current().remote();
  std::thread t([&] { hub.post([&] { e.set(); }); });
  EXPECT_TRUE(e.wait(Deadline::after(20.0)));
  t.join();
}

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Event, WaitConformance, ::testing::Types<EventWait>);
}  // namespace testing

}  // namespace grove
