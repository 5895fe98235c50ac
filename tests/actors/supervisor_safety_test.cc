// Supervisor requests stay memory-safe when their caller is killed, kills are not turned into
// error replies, and no child outlives a supervisor that dies (run under --config=asan: a
// request that wrote into its killed caller's stack is a stack-use-after-return there).
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "actors/supervisor.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

struct Go {};

ChildSpec worker(std::string id) {
  return ChildSpec{.id = std::move(id), .start = [] { return spawn([] { receive([](Go) {}); }); }};
}

// A child whose start function parks its supervisor for a while, so a request to that
// supervisor is queued (or running) long enough for its caller to be killed.
ChildSpec slow_starter(std::string id, double seconds) {
  return ChildSpec{.id = std::move(id), .start = [seconds] {
                     sleep(seconds);
                     return spawn([] { receive([](Go) {}); });
                   }};
}

// Runs `request` in a fiber, kills that fiber while the supervisor is busy with a slow start,
// then lets the supervisor finish: nothing may be written to the dead caller's stack.
template <class Request>
void kill_caller_during(Supervisor sup, Request request) {
  FiberRef busy = spawn_fiber([sup] { (void)sup.start_child(slow_starter("slow", 0.05)); });
  sleep(0.0);  // the supervisor now runs the slow start; the next request waits in its mailbox
  bool returned = false;
  FiberRef caller = spawn_fiber([&] {
    request(sup);
    returned = true;
  });
  sleep(0.0);  // the caller has queued its request and waits
  caller->kill();
  ASSERT_TRUE(caller->join(Deadline::after(10.0)));
  EXPECT_FALSE(returned);
  ASSERT_TRUE(busy->join(Deadline::after(10.0)));
  // The supervisor handled (or dropped) the orphaned request and still serves.
  EXPECT_FALSE(sup.which_children().empty());
  sup.stop();
}

GROVE_TEST(SupervisorSafety, KilledCallerOfStartChild) {
  kill_caller_during(Supervisor::start({}, {}),
                     [](Supervisor s) { (void)s.start_child(worker("w")); });
}

GROVE_TEST(SupervisorSafety, KilledCallerOfTerminateChild) {
  Supervisor sup = Supervisor::start({}, {worker("w")});
  kill_caller_during(sup, [](Supervisor s) { (void)s.terminate_child("w"); });
}

GROVE_TEST(SupervisorSafety, KilledCallerOfRestartChild) {
  Supervisor sup = Supervisor::start({}, {worker("w")});
  (void)sup.terminate_child("w");
  kill_caller_during(sup, [](Supervisor s) { (void)s.restart_child("w"); });
}

GROVE_TEST(SupervisorSafety, KilledCallerOfDeleteChild) {
  Supervisor sup = Supervisor::start({}, {worker("w")});
  (void)sup.terminate_child("w");
  kill_caller_during(sup, [](Supervisor s) { (void)s.delete_child("w"); });
}

GROVE_TEST(SupervisorSafety, KilledCallerOfWhichChildren) {
  Supervisor sup = Supervisor::start({}, {worker("w")});
  kill_caller_during(sup, [](Supervisor s) { (void)s.which_children(); });
}

GROVE_TEST(SupervisorSafety, KilledCallerOfCountChildren) {
  Supervisor sup = Supervisor::start({}, {worker("w")});
  kill_caller_during(sup, [](Supervisor s) { (void)s.count_children(); });
}

GROVE_TEST(SupervisorSafety, KilledCallerOfSimpleOneForOneStartChild) {
  Supervisor sup = Supervisor::start({.strategy = Strategy::kSimpleOneForOne},
                                     {ChildSpec{.id = "conn", .start = [] { return ActorRef(); }}});
  FiberRef busy = spawn_fiber([sup] {
    (void)sup.start_child([] {
      sleep(0.05);
      return spawn([] { receive([](Go) {}); });
    });
  });
  sleep(0.0);
  bool returned = false;
  FiberRef caller = spawn_fiber([&] {
    (void)sup.start_child([] { return spawn([] { receive([](Go) {}); }); });
    returned = true;
  });
  sleep(0.0);
  caller->kill();
  ASSERT_TRUE(caller->join(Deadline::after(10.0)));
  ASSERT_TRUE(busy->join(Deadline::after(10.0)));
  EXPECT_FALSE(returned);
  EXPECT_EQ(sup.count_children().active, 2u);  // the killed caller's request still completed
  sup.stop();
}

GROVE_TEST(SupervisorSafety, ARequestFromTheSupervisorItselfIsRefused) {
  std::string error;
  auto sup = std::make_shared<Supervisor>();
  *sup = Supervisor::start({}, {});
  EXPECT_THROW(
      (void)sup->start_child(ChildSpec{.id = "asks", .start = [sup, &error]() -> ActorRef {
        try {
          (void)sup->which_children();  // runs inside the supervisor: would wait for itself
        } catch (const SupervisorError& e) {
          error = e.what();
        }
        throw std::runtime_error("refused as expected");
      }}),
      SupervisorError);
  EXPECT_NE(error.find("itself"), std::string::npos) << error;
  sup->stop();
}

GROVE_TEST(SupervisorSafety, ARequestFromAnotherThreadIsRefused) {
  Supervisor sup = Supervisor::start({}, {worker("w")});
  std::string error;
  std::thread other([&] {
    try {
      (void)sup.which_children();
    } catch (const SupervisorError& e) {
      error = e.what();
    }
  });
  other.join();
  EXPECT_NE(error.find("thread"), std::string::npos) << error;
  sup.stop();
}

GROVE_TEST(SupervisorSafety, AKillDuringARequestKillsTheSupervisorAndItsChildren) {
  Supervisor sup = Supervisor::start({}, {worker("a"), worker("b")});
  std::vector<ChildInfo> children = sup.which_children();
  ASSERT_EQ(children.size(), 2u);
  std::string caller_error;
  FiberRef caller = spawn_fiber([&] {
    try {
      (void)sup.start_child(slow_starter("slow", 5.0));
    } catch (const SupervisorError& e) {
      caller_error = e.what();
    }
  });
  sleep(0.0);  // the supervisor sleeps inside the slow start
  exit(sup.actor(), ExitReason::kill());
  ASSERT_TRUE(sup.actor().join(Deadline::after(10.0)));
  EXPECT_EQ(sup.actor().exit_reason(), ExitReason::killed());
  for (const auto& c : children) {
    ASSERT_TRUE(c.actor.join(Deadline::after(10.0)));
    EXPECT_EQ(c.actor.exit_reason(), ExitReason::killed()) << c.id;
  }
  ASSERT_TRUE(caller->join(Deadline::after(10.0)));
  EXPECT_FALSE(caller_error.empty()) << "the caller must get an error, not wait forever";
}

GROVE_TEST(SupervisorSafety, AChildThatIgnoresShutdownIsKilledAfterItsTimeout) {
  ActorRef stubborn_child;
  ChildSpec stubborn{.id = "stubborn",
                     .start =
                         [&] {
                           stubborn_child = spawn([] {
                             trap_exit(true);  // receives Exit{shutdown} and ignores it
                             for (;;) receive([](Exit) {});
                           });
                           return stubborn_child;
                         },
                     .shutdown = Shutdown::timeout(0.05)};
  Supervisor sup = Supervisor::start({}, {stubborn});
  EXPECT_TRUE(sup.terminate_child("stubborn"));
  ASSERT_TRUE(stubborn_child.dead());
  EXPECT_EQ(stubborn_child.exit_reason(), ExitReason::killed());
  sup.stop();
}

GROVE_TEST(SupervisorSafety, ASupervisorKilledMidShutdownLeavesNoChildRunning) {
  // Child "a" traps and ignores its shutdown (timeout infinity), so stop() waits on it; the
  // supervisor is killed meanwhile. Every child must still end.
  std::vector<ActorRef> kids;
  auto trapping = [&](std::string id) {
    return ChildSpec{.id = std::move(id),
                     .start =
                         [&] {
                           kids.push_back(spawn([] {
                             trap_exit(true);
                             for (;;) receive([](Exit) {});
                           }));
                           return kids.back();
                         },
                     .shutdown = Shutdown::infinity()};
  };
  Supervisor sup = Supervisor::start({}, {trapping("a"), trapping("b")});
  FiberRef stopper = spawn_fiber([sup] { sup.stop(); });
  sleep(0.01);  // the supervisor waits for "b" (stopped first, reverse order)
  exit(sup.actor(), ExitReason::kill());
  ASSERT_TRUE(sup.actor().join(Deadline::after(10.0)));
  for (const auto& k : kids) {
    ASSERT_TRUE(k.join(Deadline::after(10.0))) << "a child outlived its supervisor";
    EXPECT_EQ(k.exit_reason(), ExitReason::killed());
  }
  ASSERT_TRUE(stopper->join(Deadline::after(10.0)));
}

GROVE_TEST(SupervisorSafety, ShutdownWithADetailCountsAsNormalForTransientChildren) {
  int starts = 0;
  ChildSpec transient{.id = "t",
                      .start =
                          [&] {
                            ++starts;
                            return spawn([] {
                              receive([](Go) {});
                              throw ExitSignal{ExitReason::shutdown("maintenance")};
                            });
                          },
                      .restart = Restart::kTransient};
  Supervisor sup = Supervisor::start({}, {transient});
  ActorRef child = sup.which_children().at(0).actor;
  send(child, Go{});
  ASSERT_TRUE(child.join(Deadline::after(10.0)));
  EXPECT_EQ(child.exit_reason(), ExitReason::shutdown("maintenance"));
  EXPECT_EQ(child.exit_reason().to_string(), "shutdown: maintenance");
  // Not restarted: {shutdown, Term} is a normal stop for a transient child.
  EXPECT_FALSE(sup.which_children().at(0).actor);
  EXPECT_EQ(starts, 1);
  sup.stop();
}

}  // namespace
}  // namespace grove
