// Exit signals that kill are final and come first: OTP's rules E9–E11, unlink of a link whose
// signal is pending, and actors released while linked before they ever ran.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/actor.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

struct Go {};
struct Work {
  int n;
};

GROVE_TEST(ExitSignals, E10_AKillIsNotReplacedByALaterSignal) {
  Greenlet<void> a = spawn([] { receive([](Go) {}); });
  sleep(0.0);  // a is parked in receive
  exit(a, ExitReason::kill());
  exit(a, ExitReason::user("x"));  // arrives while the kill is pending
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  EXPECT_EQ(a.exit_reason(), ExitReason::killed());
}

GROVE_TEST(ExitSignals, E10_AnEarlierSignalIsNotReplacedByAKill) {
  Greenlet<void> a = spawn([] { receive([](Go) {}); });
  sleep(0.0);
  exit(a, ExitReason::user("first"));
  exit(a, ExitReason::kill());
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  EXPECT_EQ(a.exit_reason(), ExitReason::user("first"));
}

GROVE_TEST(ExitSignals, E10_APendingSignalIsActedOnBeforeTheBacklog) {
  int handled = 0;
  Greenlet<void> a = spawn([&] {
    receive([](Go) {});
    for (;;) receive([&](Work) { ++handled; });
  });
  sleep(0.0);  // a waits for Go
  for (int i = 0; i < 100; ++i) send(a, Work{i});
  send(a, Go{});
  exit(a, ExitReason::user("overload"));  // a has not run since: Go and the backlog are queued
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  EXPECT_EQ(a.exit_reason(), ExitReason::user("overload"));
  EXPECT_EQ(handled, 0) << "the backlog was handled before the exit signal";
}

GROVE_TEST(ExitSignals, E11_AnExitSignalCaughtByCatchAllStillEndsTheActor) {
  int caught = 0;
  bool ran_on = false;
  Greenlet<void> a = spawn([&] {
    for (int i = 0; i < 3; ++i) {
      try {
        receive([](Go) {});
      } catch (...) {
        ++caught;  // a careless catch-all
      }
    }
    receive([](Go) {});  // the next wait point outside any catch ends it
    ran_on = true;
  });
  sleep(0.0);
  exit(a, ExitReason::user("stop"));
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  EXPECT_EQ(a.exit_reason(), ExitReason::user("stop"));
  EXPECT_FALSE(ran_on);
  EXPECT_EQ(caught, 3);  // caught at each receive, thrown again at the next
}

GROVE_TEST(ExitSignals, E11_AKilledActorThatReturnsNormallyStillReportsKilled) {
  Greenlet<int> a = spawn([] {
    try {
      receive([](Go) {});
    } catch (...) {
    }
    return 7;  // returns without waiting again
  });
  std::vector<ExitReason> seen;
  Greenlet<void> watcher = spawn([&] {
    trap_exit(true);
    link(a);
    receive([&](Exit e) { seen.push_back(e.reason); });
  });
  sleep(0.0);
  a.kill();
  ASSERT_TRUE(watcher.join(Deadline::after(10.0)));
  EXPECT_EQ(a.exit_reason(), ExitReason::killed());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], ExitReason::killed());
}

GROVE_TEST(ExitSignals, E9_ExitSelfNormalEndsANonTrappingActor) {
  bool after = false;
  Greenlet<void> a = spawn([&] {
    exit(self(), ExitReason::normal());
    after = true;
  });
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  EXPECT_FALSE(after);
  EXPECT_EQ(a.exit_reason(), ExitReason::normal());
}

GROVE_TEST(ExitSignals, E9_ExitSelfNormalIsAMessageForATrappingActor) {
  std::vector<Exit> got;
  Greenlet<void> a = spawn([&] {
    trap_exit(true);
    exit(self(), ExitReason::normal());
    receive([&](Exit e) { got.push_back(e); });
  });
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  EXPECT_EQ(a.exit_reason(), ExitReason::normal());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from, ActorRef(a));
  EXPECT_EQ(got[0].reason, ExitReason::normal());
}

// An actor that dies the moment it is sent an exit signal (it never ran), so its link's signal
// reaches the linked actor while that one is still running.
Greenlet<void> never_started() {
  ActorOptions options;
  options.start = false;
  return spawn_opt(options, [] {});
}

GROVE_TEST(ExitSignals, WithoutUnlinkTheLinkSignalEndsTheActorAtItsNextWait) {
  bool survived = false;
  Greenlet<void> a = spawn([&] {
    Greenlet<void> peer = never_started();
    link(peer);
    exit(peer, ExitReason::user("x"));  // the peer dies now; its signal is pending here
    sleep(0.001);
    survived = true;
  });
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  EXPECT_FALSE(survived);
  EXPECT_EQ(a.exit_reason(), ExitReason::user("x"));
}

GROVE_TEST(ExitSignals, UnlinkBeforeTheSignalIsActedOnDropsIt) {
  // OTP: once unlink(peer) returned, the link has no effect on the caller, even when the peer
  // died and its signal reached the caller just before.
  bool survived = false;
  Greenlet<void> a = spawn([&] {
    Greenlet<void> peer = never_started();
    link(peer);
    exit(peer, ExitReason::user("x"));
    unlink(peer);
    sleep(0.001);  // a wait point: a pending signal would be thrown here
    survived = true;
  });
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  EXPECT_TRUE(survived);
  EXPECT_EQ(a.exit_reason(), ExitReason::normal());
}

GROVE_TEST(ExitSignals, UnlinkDoesNotWithdrawASignalThatCameWithoutTheLink) {
  bool survived = false;
  Greenlet<void> a = spawn([&] {
    Greenlet<void> peer = never_started();
    link(peer);
    unlink(peer);
    exit(self(), ExitReason::user("own"));  // acted on at once
    survived = true;
  });
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  EXPECT_FALSE(survived);
  EXPECT_EQ(a.exit_reason(), ExitReason::user("own"));
}

GROVE_TEST(ExitSignals, UnlinkAfterATrappedSignalLeavesTheExitMessage) {
  std::vector<Exit> got;
  Greenlet<void> a = spawn([&] {
    trap_exit(true);
    Greenlet<void> peer = never_started();
    link(peer);
    exit(peer, ExitReason::user("x"));  // trapped: an Exit message is queued
    unlink(peer);
    (void)receive_for(std::chrono::milliseconds(100), [&](Exit e) { got.push_back(e); });
  });
  ASSERT_TRUE(a.join(Deadline::after(10.0)));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].reason, ExitReason::user("x"));
}

GROVE_TEST(ExitSignals, AnUnstartedLinkedActorReleasedByItsCreatorLeavesNoDanglingLink) {
  // The creator links to an actor it never starts and drops the handle; the actor must stay
  // valid for the link, and the creator's death must still reach it.
  std::weak_ptr<int> probe;
  Greenlet<void> creator = spawn([&] {
    auto token = std::make_shared<int>(1);
    probe = token;
    ActorOptions options;
    options.start = false;
    options.link = true;
    (void)spawn_opt(options, [token] {});  // handle dropped at once
    receive([](Go) {});
  });
  sleep(0.0);
  EXPECT_FALSE(probe.expired());  // still held: the unstarted actor lives through the link
  exit(creator, ExitReason::user("bye"));
  ASSERT_TRUE(creator.join(Deadline::after(10.0)));
  sleep(0.0);
  EXPECT_TRUE(probe.expired()) << "the unstarted actor (and what it captured) was not freed";
}

GROVE_TEST(ExitSignals, AnUnstartedMonitoredActorReleasedLeavesNoDanglingMonitor) {
  std::vector<Down> downs;
  Greenlet<void> watcher = spawn([&] {
    ActorOptions options;
    options.start = false;
    auto target = spawn_opt(options, [] {});
    (void)monitor(target);
    target = {};  // released: the monitor keeps it valid
    receive([](Go) {});
  });
  sleep(0.0);
  exit(watcher, ExitReason::kill());
  ASSERT_TRUE(watcher.join(Deadline::after(10.0)));
  EXPECT_EQ(watcher.exit_reason(), ExitReason::killed());
}

}  // namespace
}  // namespace grove
