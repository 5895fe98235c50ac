// AsyncResult: value or exception, get/wait with deadlines, setting twice replaces, rawlink.
#include "actors/async_result.h"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "tests/hub/wait_conformance.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

using namespace std::chrono_literals;

struct AsyncResultWait {
  static constexpr testing::Wake kWake = testing::Wake::kAllAtOnce;
  bool wait(Deadline d) { return r->wait(d); }
  void release() { r->set(7); }
  void done() {}
  std::size_t waiting() const { return r->waiting(); }
  WaitSource source() { return r->wait_source(); }
  using Destroyed = ObjectDestroyed;
  void destroy() { r.reset(); }
  std::optional<AsyncResult<int>> r{std::in_place};
};

struct AsyncResultGet {
  static constexpr testing::Wake kWake = testing::Wake::kAllAtOnce;
  bool wait(Deadline d) { return r.get_until(d).has_value(); }
  void release() { r.set("x"); }
  void done() {}
  std::size_t waiting() const { return r.waiting(); }
  AsyncResult<std::string> r;
};

struct VoidResultGet {
  static constexpr testing::Wake kWake = testing::Wake::kAllAtOnce;
  bool wait(Deadline d) { return r.get_until(d); }
  void release() { r.set(); }
  void done() {}
  std::size_t waiting() const { return r.waiting(); }
  AsyncResult<void> r;
};

GROVE_TEST(AsyncResult, StartsNotReady) {
  AsyncResult<int> r;
  EXPECT_FALSE(r.ready());
  EXPECT_FALSE(r.successful());
  EXPECT_EQ(r.value(), nullptr);
  EXPECT_EQ(r.exception(), nullptr);
  EXPECT_FALSE(r.try_get().has_value());
}

GROVE_TEST(AsyncResult, GetReturnsTheValueSetByAnotherFiber) {
  AsyncResult<int> r;
  FiberRef setter = spawn_fiber([&] { r.set(42); });
  EXPECT_EQ(r.get(), 42);
  EXPECT_TRUE(r.ready());
  EXPECT_TRUE(r.successful());
  ASSERT_NE(r.value(), nullptr);
  EXPECT_EQ(*r.value(), 42);
  ASSERT_TRUE(setter->join());
}

GROVE_TEST(AsyncResult, GetRethrowsTheStoredException) {
  AsyncResult<int> r;
  r.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
  EXPECT_TRUE(r.ready());
  EXPECT_FALSE(r.successful());
  EXPECT_EQ(r.value(), nullptr);
  EXPECT_NE(r.exception(), nullptr);
  EXPECT_THROW((void)r.get(), std::runtime_error);
  EXPECT_THROW((void)r.try_get(), std::runtime_error);
  EXPECT_THROW((void)r.get_for(1ms), std::runtime_error);
}

GROVE_TEST(AsyncResult, WaitNeverThrowsTheStoredException) {
  AsyncResult<int> r;
  FiberRef setter = spawn_fiber([&] {
    r.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
  });
  EXPECT_TRUE(r.wait(Deadline::after(20.0)));
  EXPECT_TRUE(r.wait());
  ASSERT_TRUE(setter->join());
}

GROVE_TEST(AsyncResult, GetWithAPassedDeadlineThrowsTimedOut) {
  AsyncResult<int> r;
  EXPECT_THROW((void)r.get(Deadline::after(0.005)), TimedOut);
}

GROVE_TEST(AsyncResult, GetForAndTryGetReturnNothingWhenNotReady) {
  AsyncResult<int> r;
  EXPECT_FALSE(r.get_for(2ms).has_value());
  EXPECT_FALSE(r.try_get().has_value());
  r.set(5);
  EXPECT_EQ(r.get_for(2ms), 5);
  EXPECT_EQ(r.try_get(), 5);
}

GROVE_TEST(AsyncResult, SettingTwiceReplacesTheValue) {
  AsyncResult<int> r;
  r.set(1);
  r.set(2);
  EXPECT_EQ(r.get(), 2);
  r.set_exception(std::make_exception_ptr(std::logic_error("now failed")));
  EXPECT_FALSE(r.successful());
  EXPECT_EQ(r.value(), nullptr);
  EXPECT_THROW((void)r.get(), std::logic_error);
  r.set(3);
  EXPECT_TRUE(r.successful());
  EXPECT_EQ(r.exception(), nullptr);
  EXPECT_EQ(r.get(), 3);
}

GROVE_TEST(AsyncResult, EveryGetterReceivesTheValue) {
  AsyncResult<std::string> r;
  std::vector<std::string> got;
  std::vector<FiberRef> getters;
  for (int i = 0; i < 3; ++i) getters.push_back(spawn_fiber([&] { got.push_back(r.get()); }));
  sleep(0.0);
  EXPECT_EQ(r.waiting(), 3u);
  r.set("hello");
  for (auto& g : getters) ASSERT_TRUE(g->join());
  EXPECT_EQ(got, (std::vector<std::string>{"hello", "hello", "hello"}));
}

GROVE_TEST(AsyncResult, VoidResultSignalsCompletionOrFailure) {
  AsyncResult<void> r;
  EXPECT_FALSE(r.try_get());
  r.set();
  EXPECT_TRUE(r.try_get());
  r.get();
  r.set_exception(std::make_exception_ptr(std::runtime_error("void failed")));
  EXPECT_THROW(r.get(), std::runtime_error);
}

GROVE_TEST(AsyncResult, MoveOnlyValuesCanBeStoredAndInspected) {
  AsyncResult<std::unique_ptr<int>> r;
  r.set(std::make_unique<int>(9));
  ASSERT_NE(r.value(), nullptr);
  EXPECT_EQ(**r.value(), 9);
}

GROVE_TEST(AsyncResult, RawlinkRunsFromTheHubAfterSet) {
  AsyncResult<int> r;
  std::vector<int> seen;
  (void)r.rawlink([&] { seen.push_back(*r.value()); });
  (void)r.rawlink([&] { seen.push_back(*r.value() * 10); });
  r.set(4);
  EXPECT_TRUE(seen.empty());
  testing::run_hub_callbacks();
  EXPECT_EQ(seen, (std::vector<int>{4, 40}));
}

GROVE_TEST(AsyncResult, RawlinkOnAReadyResultRunsAtTheNextPass) {
  AsyncResult<int> r;
  r.set_exception(std::make_exception_ptr(std::runtime_error("x")));
  bool called = false;
  const LinkId id = r.rawlink([&] { called = true; });
  (void)id;
  testing::run_hub_callbacks();
  EXPECT_TRUE(called);
  EXPECT_EQ(r.link_count(), 0u);
}

GROVE_TEST(AsyncResult, UnlinkedCallbackNeverRuns) {
  AsyncResult<int> r;
  bool called = false;
  const LinkId id = r.rawlink([&] { called = true; });
  EXPECT_TRUE(r.unlink(id));
  r.set(1);
  testing::run_hub_callbacks();
  EXPECT_FALSE(called);
}

}  // namespace

namespace testing {
using AsyncResultFixtures = ::testing::Types<AsyncResultWait, AsyncResultGet, VoidResultGet>;
INSTANTIATE_TYPED_TEST_SUITE_P(AsyncResult, WaitConformance, AsyncResultFixtures);
}  // namespace testing

}  // namespace grove
