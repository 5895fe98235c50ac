// Supervisors: OTP's rules S1–S10, one test each, and a fault-injection loop.
#include "actors/supervisor.h"

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/registry.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

using testing::ExpectFailures;

struct Crash {};
struct Quit {};

// A worker that logs its start, then serves: Crash → throws, Quit → returns normally.
ChildSpec worker(std::string id, std::vector<std::string>* log, Restart restart = Restart::kPermanent) {
  ChildSpec spec;
  spec.id = id;
  spec.restart = restart;
  spec.start = [id, log] {
    if (log) log->push_back("start " + id);
    return ActorRef(spawn([id, log] {
      try {
        for (;;) {
          receive([](Crash) { throw std::runtime_error("injected crash"); },
                  [](Quit) { throw GreenletExit(); });
        }
      } catch (const ExitSignal& s) {
        if (log) log->push_back("stop " + id);
        throw;
      }
    }));
  };
  return spec;
}

ActorRef child(const Supervisor& sup, const std::string& id) {
  for (const auto& c : sup.which_children()) {
    if (c.id == id) return c.actor;
  }
  return ActorRef();
}

SupervisorFlags flags(Strategy strategy, int intensity = 10, double period = 5.0) {
  SupervisorFlags f;
  f.strategy = strategy;
  f.intensity = intensity;
  f.period = period;
  f.name = "test_sup";
  return f;
}

GROVE_TEST(Supervisor, S1_ChildrenStartInOrder) {
  std::vector<std::string> log;
  Supervisor sup = Supervisor::start(flags(Strategy::kOneForOne),
                                     {worker("a", &log), worker("b", &log), worker("c", &log)});
  EXPECT_EQ(log, (std::vector<std::string>{"start a", "start b", "start c"}));
  auto kids = sup.which_children();
  ASSERT_EQ(kids.size(), 3u);
  EXPECT_EQ(kids[0].id, "a");
  EXPECT_EQ(kids[2].id, "c");
  for (const auto& k : kids) EXPECT_FALSE(k.actor.dead());
  sup.stop();
}

GROVE_TEST(Supervisor, S1_AFailedStartStopsTheStartedOnesInReverseAndFails) {
  // The children are stopped before they ever ran, so their deaths are observed from outside.
  std::vector<std::string> log;
  auto observed = [&log](std::string id) {
    ChildSpec spec;
    spec.id = id;
    spec.start = [&log, id] {
      log.push_back("start " + id);
      ActorRef a = spawn([] { receive([](Quit) {}); });
      a.rawlink([&log, id](const ActorRef&) { log.push_back("stop " + id); });
      return a;
    };
    return spec;
  };
  ChildSpec bad;
  bad.id = "bad";
  bad.start = []() -> ActorRef { throw std::runtime_error("no database"); };
  try {
    Supervisor::start(flags(Strategy::kOneForOne),
                      {observed("a"), observed("b"), bad, observed("c")});
    FAIL() << "start succeeded";
  } catch (const SupervisorError& e) {
    EXPECT_NE(std::string(e.what()).find("bad"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no database"), std::string::npos) << e.what();
  }
  sleep(0.001);  // rawlink callbacks run after a hub pass
  EXPECT_EQ(log, (std::vector<std::string>{"start a", "start b", "stop b", "stop a"}));
}

GROVE_TEST(Supervisor, S2_OneForOneRestartsOnlyTheFailedChild) {
  ExpectFailures crashes;
  std::vector<std::string> log;
  Supervisor sup = Supervisor::start(flags(Strategy::kOneForOne),
                                     {worker("a", &log), worker("b", &log), worker("c", &log)});
  ActorRef a = child(sup, "a"), b = child(sup, "b"), c = child(sup, "c");
  log.clear();
  send(b, Crash{});
  ASSERT_TRUE(b.join(Deadline::after(20.0)));
  sleep(0.01);
  EXPECT_EQ(log, (std::vector<std::string>{"start b"}));
  EXPECT_EQ(child(sup, "a"), a);
  EXPECT_EQ(child(sup, "c"), c);
  EXPECT_NE(child(sup, "b"), b);
  EXPECT_FALSE(child(sup, "b").dead());
  sup.stop();
}

GROVE_TEST(Supervisor, S3_OneForAllStopsOthersInReverseAndRestartsAllInOrder) {
  ExpectFailures crashes;
  std::vector<std::string> log;
  Supervisor sup = Supervisor::start(flags(Strategy::kOneForAll),
                                     {worker("a", &log), worker("b", &log), worker("c", &log)});
  log.clear();
  send(child(sup, "b"), Crash{});
  sleep(0.02);
  EXPECT_EQ(log, (std::vector<std::string>{"stop c", "stop a", "start a", "start b", "start c"}));
  sup.stop();
}

GROVE_TEST(Supervisor, S4_RestForOneRestartsTheFailedAndLaterChildren) {
  ExpectFailures crashes;
  std::vector<std::string> log;
  Supervisor sup = Supervisor::start(
      flags(Strategy::kRestForOne),
      {worker("a", &log), worker("b", &log), worker("c", &log), worker("d", &log)});
  ActorRef a = child(sup, "a");
  log.clear();
  send(child(sup, "b"), Crash{});
  sleep(0.02);
  EXPECT_EQ(log, (std::vector<std::string>{"stop d", "stop c", "start b", "start c", "start d"}));
  EXPECT_EQ(child(sup, "a"), a);
  sup.stop();
}

GROVE_TEST(Supervisor, S5_RestartTypes) {
  ExpectFailures crashes;
  std::vector<std::string> log;
  Supervisor sup = Supervisor::start(
      flags(Strategy::kOneForOne),
      {worker("perm", &log, Restart::kPermanent), worker("trans", &log, Restart::kTransient),
       worker("trans2", &log, Restart::kTransient), worker("temp", &log, Restart::kTemporary)});
  log.clear();
  send(child(sup, "perm"), Quit{});     // normal exit: permanent restarts anyway
  send(child(sup, "trans"), Quit{});    // normal exit: transient does not restart
  send(child(sup, "trans2"), Crash{});  // abnormal: transient restarts
  send(child(sup, "temp"), Crash{});    // temporary: never, and forgotten
  sleep(0.02);
  std::sort(log.begin(), log.end());
  EXPECT_EQ(log, (std::vector<std::string>{"start perm", "start trans2"}));
  EXPECT_FALSE(child(sup, "trans"));
  ChildCounts counts = sup.count_children();
  EXPECT_EQ(counts.specs, 3u) << "the temporary child is forgotten";
  EXPECT_EQ(counts.active, 2u);
  sup.stop();
}

GROVE_TEST(Supervisor, S6_TooManyRestartsStopsEverythingWithShutdown) {
  ExpectFailures crashes;
  std::vector<std::string> log;
  Supervisor sup = Supervisor::start(flags(Strategy::kOneForOne, /*intensity=*/2, /*period=*/5.0),
                                     {worker("a", &log), worker("b", &log)});
  ActorRef b = child(sup, "b");
  for (int i = 0; i < 2; ++i) {  // two restarts: within budget
    send(child(sup, "a"), Crash{});
    sleep(0.01);
    ASSERT_FALSE(sup.actor().dead());
  }
  send(child(sup, "a"), Crash{});  // the third in 5 s: gives up
  ASSERT_TRUE(sup.actor().join(Deadline::after(20.0)));
  EXPECT_EQ(sup.actor().exit_reason(), ExitReason::shutdown());
  EXPECT_TRUE(b.dead()) << "all children stop when the supervisor gives up";
}

GROVE_TEST(Supervisor, S6_DefaultIntensityIsOneRestartInFiveSeconds) {
  ExpectFailures crashes;
  SupervisorFlags f;
  EXPECT_EQ(f.intensity, 1);
  EXPECT_DOUBLE_EQ(f.period, 5.0);
  Supervisor sup = Supervisor::start(f, {worker("a", nullptr)});
  send(child(sup, "a"), Crash{});
  sleep(0.01);
  EXPECT_FALSE(sup.actor().dead());
  send(child(sup, "a"), Crash{});
  EXPECT_TRUE(sup.actor().join(Deadline::after(20.0)));
}

GROVE_TEST(Supervisor, S7_ShutdownReverseOrderAndBrutalKillAndTimeout) {
  std::vector<std::string> log;
  // "stubborn" traps exits and ignores shutdown: the timeout must end in a kill.
  ChildSpec stubborn;
  stubborn.id = "stubborn";
  stubborn.shutdown = Shutdown::timeout(0.02);
  stubborn.start = [&log] {
    return ActorRef(spawn([&log] {
      trap_exit(true);
      for (;;) receive([](Exit) {});
    }));
  };
  ChildSpec brutal = worker("brutal", &log);
  brutal.shutdown = Shutdown::brutal_kill();
  Supervisor sup = Supervisor::start(flags(Strategy::kOneForOne),
                                     {worker("a", &log), stubborn, brutal, worker("z", &log)});
  ActorRef s = child(sup, "stubborn");
  ActorRef b = child(sup, "brutal");
  log.clear();
  const double start = Deadline::now();
  sup.stop();
  EXPECT_GE(Deadline::now() - start, 0.019) << "the stubborn child got its timeout";
  EXPECT_EQ(s.exit_reason(), ExitReason::killed());
  EXPECT_EQ(b.exit_reason(), ExitReason::killed());
  // Reverse start order: z (shutdown signal), brutal (the kill signal still unwinds its stack),
  // stubborn (shutdown ignored, killed after its timeout; it logs nothing), a.
  EXPECT_EQ(log, (std::vector<std::string>{"stop z", "stop brutal", "stop a"}));
  EXPECT_EQ(sup.actor().exit_reason(), ExitReason::shutdown());
}

GROVE_TEST(Supervisor, S8_WhenTheSupervisorDiesItsChildrenDie) {
  Supervisor sup = Supervisor::start(flags(Strategy::kOneForOne), {worker("a", nullptr)});
  ActorRef a = child(sup, "a");
  exit(sup.actor(), ExitReason::kill());
  ASSERT_TRUE(sup.actor().join(Deadline::after(20.0)));
  ASSERT_TRUE(a.join(Deadline::after(20.0)));
  EXPECT_TRUE(a.dead());
}

GROVE_TEST(Supervisor, S9_DynamicChildren) {
  std::vector<std::string> log;
  Supervisor sup = Supervisor::start(flags(Strategy::kOneForOne), {worker("a", &log)});
  ActorRef b = sup.start_child(worker("b", &log));
  EXPECT_FALSE(b.dead());
  EXPECT_THROW(sup.start_child(worker("b", &log)), SupervisorError);
  EXPECT_EQ(sup.count_children().active, 2u);
  EXPECT_TRUE(sup.terminate_child("b"));
  EXPECT_TRUE(b.dead());
  EXPECT_EQ(sup.count_children().specs, 2u) << "terminate keeps the spec";
  EXPECT_EQ(sup.count_children().active, 1u);
  EXPECT_FALSE(sup.delete_child("a")) << "cannot delete a running child";
  ActorRef b2 = sup.restart_child("b");
  ASSERT_TRUE(b2);
  EXPECT_NE(b2, b);
  EXPECT_TRUE(sup.terminate_child("b"));
  EXPECT_TRUE(sup.delete_child("b"));
  EXPECT_EQ(sup.count_children().specs, 1u);
  EXPECT_FALSE(sup.terminate_child("nope"));
  sup.stop();
}

GROVE_TEST(Supervisor, S9_SimpleOneForOneManyChildrenOfOneSpec) {
  ExpectFailures crashes;
  ChildSpec tmpl = worker("conn", nullptr, Restart::kTemporary);
  Supervisor sup = Supervisor::start(flags(Strategy::kSimpleOneForOne), {tmpl});
  EXPECT_EQ(sup.count_children().specs, 0u);
  std::vector<ActorRef> kids;
  for (int i = 0; i < 50; ++i) {
    kids.push_back(sup.start_child([] { return ActorRef(spawn([] { receive([](Crash) { throw std::runtime_error("x"); }); })); }));
  }
  EXPECT_EQ(sup.count_children().active, 50u);
  send(kids[7], Crash{});  // a temporary child: just forgotten
  sleep(0.01);
  EXPECT_EQ(sup.count_children().active, 49u);
  EXPECT_TRUE(sup.terminate_child(kids[8]));
  EXPECT_EQ(sup.count_children().active, 48u);
  sup.stop();
  for (auto& k : kids) EXPECT_TRUE(k.dead());
}

GROVE_TEST(Supervisor, S10_SupervisorsNestIntoTrees) {
  ExpectFailures crashes;
  std::vector<std::string> log;
  ChildSpec inner;
  inner.id = "inner";
  inner.type = ChildType::kSupervisor;
  inner.start = [&log] {
    return Supervisor::start(flags(Strategy::kOneForOne), {worker("leaf1", &log), worker("leaf2", &log)})
        .actor();
  };
  Supervisor root = Supervisor::start(flags(Strategy::kOneForOne), {worker("top", &log), inner});
  EXPECT_EQ(root.count_children().supervisors, 1u);
  ActorRef inner_actor = child(root, "inner");
  log.clear();
  root.stop();  // inner stops its leaves (reverse), then top stops
  EXPECT_EQ(log, (std::vector<std::string>{"stop leaf2", "stop leaf1", "stop top"}));
  EXPECT_TRUE(inner_actor.dead());
}

GROVE_TEST(Supervisor, FaultInjectionKeepsTheTreeShapeUntilTheIntensityIsExceeded) {
  ExpectFailures crashes;
  constexpr int kIntensity = 30;
  Supervisor sup = Supervisor::start(
      flags(Strategy::kOneForOne, kIntensity, /*period=*/60.0),
      {worker("w0", nullptr), worker("w1", nullptr), worker("w2", nullptr), worker("w3", nullptr)});
  std::mt19937 rng(12345);
  int crashes_sent = 0;
  while (crashes_sent < kIntensity) {
    const std::string id = "w" + std::to_string(rng() % 4);
    ActorRef victim = child(sup, id);
    send(victim, Crash{});
    ASSERT_TRUE(victim.join(Deadline::after(20.0)));
    ++crashes_sent;
    sleep(0.001);
    // The declared shape holds: four running children with the same ids, in order.
    auto kids = sup.which_children();
    ASSERT_EQ(kids.size(), 4u);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(kids[i].id, "w" + std::to_string(i));
      EXPECT_TRUE(kids[i].actor && !kids[i].actor.dead());
    }
  }
  EXPECT_FALSE(sup.actor().dead()) << "exactly the intensity: still alive";
  send(child(sup, "w0"), Crash{});
  ASSERT_TRUE(sup.actor().join(Deadline::after(20.0)));
  EXPECT_EQ(sup.actor().exit_reason(), ExitReason::shutdown());
}

// Registry ------------------------------------------------------------------------------------

GROVE_TEST(Registry, RegisterWhereisAndFreedOnDeath) {
  Greenlet<void> a = spawn([] { receive([](Quit) {}); });
  register_name("kv", a);
  EXPECT_EQ(whereis("kv"), ActorRef(a));
  Greenlet<void> b = spawn([] { receive([](Quit) {}); });
  EXPECT_THROW(register_name("kv", b), std::invalid_argument);
  send(a, Quit{});
  a.get();
  EXPECT_FALSE(whereis("kv")) << "the name dies with the actor";
  register_name("kv", b);
  EXPECT_EQ(whereis("kv"), ActorRef(b));
  EXPECT_TRUE(unregister_name("kv"));
  EXPECT_FALSE(unregister_name("kv"));
  send(b, Quit{});
  b.get();
}

}  // namespace
}  // namespace grove
