// The greenlet-actor: lifecycle, typed results, handles, kill.
#include "actors/actor.h"

#include <stdexcept>
#include <string>
#include <unordered_set>

#include <fmt/format.h>

#include "tests/support/grove_test.h"

namespace grove {
namespace {

using testing::ExpectFailures;

GROVE_TEST(Actor, SpawnRunsWithArgumentsAndKeepsTheTypedValue) {
  Greenlet<int> g = spawn([](int a, std::string b) { return a + static_cast<int>(b.size()); },
                          40, std::string("hi"));
  EXPECT_FALSE(g.dead());
  EXPECT_EQ(g.get(), 42);
  EXPECT_TRUE(g.dead());
  EXPECT_TRUE(g.successful());
  ASSERT_TRUE(g.value().has_value());
  EXPECT_EQ(*g.value(), 42);
  EXPECT_TRUE(g.exit_reason().is_normal());
}

GROVE_TEST(Actor, VoidActorsAreAllowed) {
  bool ran = false;
  Greenlet<void> g = spawn([&] { ran = true; });
  g.get();
  EXPECT_TRUE(ran);
  EXPECT_TRUE(g.value());
}

GROVE_TEST(Actor, GetRethrowsTheActorsExceptionAndJoinDoesNot) {
  ExpectFailures crashes;
  Greenlet<int> g = spawn([]() -> int { throw std::invalid_argument("bad input"); });
  EXPECT_TRUE(g.join());  // never throws the actor's error
  EXPECT_FALSE(g.successful());
  EXPECT_TRUE(g.exit_reason().is_exception());
  EXPECT_THROW(g.get(), std::invalid_argument);
  EXPECT_FALSE(g.value().has_value());
  ASSERT_EQ(crashes.count(), 1u) << "a failure is reported once";
  EXPECT_NE(crashes.reports()[0].find("failed with std::invalid_argument: bad input"),
            std::string::npos)
      << crashes.reports()[0];
  EXPECT_NE(crashes.reports()[0].find("<Greenlet \"Greenlet-"), std::string::npos)
      << crashes.reports()[0];
}

GROVE_TEST(Actor, DefaultNameAndCustomName) {
  Greenlet<void> a = spawn([] {});
  EXPECT_EQ(a.name(), fmt::format("Greenlet-{}", a.id()));
  ActorOptions options;
  options.name = "worker";
  Greenlet<void> b = spawn_opt(options, [] {});
  EXPECT_EQ(b.name(), "worker");
  EXPECT_NE(a.id(), b.id());
  EXPECT_EQ(a->minimal_ident(), a.id());
  a.get();
  b.get();
}

GROVE_TEST(Actor, CreateNowStartLater) {
  bool ran = false;
  ActorOptions options;
  options.start = false;
  Greenlet<void> g = spawn_opt(options, [&] { ran = true; });
  sleep(0.001);
  EXPECT_FALSE(ran);
  EXPECT_FALSE(g.started());
  g.start();
  EXPECT_TRUE(g.started());
  g.get();
  EXPECT_TRUE(ran);
}

GROVE_TEST(Actor, StartLaterWaitsBeforeRunning) {
  ActorOptions options;
  options.start = false;
  double ran_at = 0;
  Greenlet<void> g = spawn_opt(options, [&] { ran_at = Deadline::now(); });
  const double start = Deadline::now();
  g.start_later(0.02);
  g.get();
  EXPECT_GE(ran_at - start, 0.019);
}

GROVE_TEST(Actor, KillEndsWithKilledAndCountsAsSuccess) {
  Greenlet<int> g = spawn([] {
    sleep(10.0);
    return 1;
  });
  sleep(0.0);
  EXPECT_TRUE(g.kill_and_wait(Deadline::after(20.0)));
  EXPECT_EQ(g.exit_reason(), ExitReason::killed());
  EXPECT_TRUE(g.successful()) << "gevent: GreenletExit counts as success";
  EXPECT_FALSE(g.exception());
  EXPECT_THROW(g.get(), GreenletExit);
}

GROVE_TEST(Actor, KillBeforeStartPreventsRunning) {
  bool ran = false;
  Greenlet<void> g = spawn([&] { ran = true; });
  g.kill();
  EXPECT_TRUE(g.dead());
  sleep(0.001);
  EXPECT_FALSE(ran);
  EXPECT_EQ(g.exit_reason(), ExitReason::killed());
}

GROVE_TEST(Actor, KillOfADeadActorIsANoOp) {
  Greenlet<int> g = spawn([] { return 5; });
  EXPECT_EQ(g.get(), 5);
  g.kill();
  EXPECT_EQ(g.exit_reason(), ExitReason::normal());
  EXPECT_EQ(*g.value(), 5);
}

GROVE_TEST(Actor, KillWithAChosenExceptionFailsTheActor) {
  ExpectFailures crashes;
  Greenlet<void> g = spawn([] { sleep(10.0); });
  sleep(0.0);
  g.kill(std::make_exception_ptr(std::runtime_error("stop now")));
  EXPECT_TRUE(g.join());
  EXPECT_FALSE(g.successful());
  EXPECT_THROW(g.get(), std::runtime_error);
}

GROVE_TEST(Actor, GreenletExitRaisedByTheBodyIsANormalEnd) {
  Greenlet<void> g = spawn([] { throw GreenletExit(); });
  EXPECT_TRUE(g.join());
  EXPECT_TRUE(g.successful());
  EXPECT_TRUE(g.exit_reason().is_normal());
}

GROVE_TEST(Actor, HandlesCompareHashAndOutliveTheActor) {
  Greenlet<int> g = spawn([] { return 1; });
  ActorRef a = g;
  ActorRef b = g;
  EXPECT_EQ(a, b);
  std::unordered_set<ActorRef> set{a, b};
  EXPECT_EQ(set.size(), 1u);
  Greenlet<int> other = spawn([] { return 2; });
  EXPECT_NE(a, ActorRef(other));
  (void)g.get();
  (void)other.get();
  EXPECT_TRUE(a.dead());
  EXPECT_TRUE(a.exit_reason().is_normal());
}

GROVE_TEST(Actor, SelfIsTheCurrentActor) {
  ActorRef seen;
  Greenlet<void> g = spawn([&] { seen = self(); });
  g.get();
  EXPECT_EQ(seen, ActorRef(g));
  EXPECT_FALSE(in_actor()) << "the test body is a plain fiber";
  EXPECT_THROW(self(), std::logic_error);
}

GROVE_TEST(Actor, DescribeLooksLikeGevent) {
  ActorOptions options;
  options.name = "fetcher";
  Greenlet<void> g = spawn_opt(options, [] {});
  const std::string repr = g->describe();
  EXPECT_EQ(repr.rfind("<Greenlet \"fetcher\" at 0x", 0), 0u) << repr;
  g.get();
}

GROVE_TEST(Actor, ExitReasonToString) {
  EXPECT_EQ(ExitReason::normal().to_string(), "normal");
  EXPECT_EQ(ExitReason::shutdown().to_string(), "shutdown");
  EXPECT_EQ(ExitReason::killed().to_string(), "killed");
  EXPECT_EQ(ExitReason::noproc().to_string(), "noproc");
  EXPECT_EQ(ExitReason::user("overload").to_string(), "overload");
  EXPECT_EQ(ExitReason::exception(std::make_exception_ptr(std::runtime_error("boom"))).to_string(),
            "exception std::runtime_error: boom");
  EXPECT_FALSE(ExitReason::shutdown().is_abnormal_for_restart());
  EXPECT_TRUE(ExitReason::killed().is_abnormal_for_restart());
}

}  // namespace
}  // namespace grove
