// Actors on different hubs (a Runtime's threads): messages, links, monitors, exit signals and
// the registry follow the same rules (E1–E9) as on one hub.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "actors/actor.h"
#include "actors/call.h"
#include "actors/registry.h"
#include "actors/supervisor.h"
#include "hub/runtime.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

struct Go {};
struct Note {
  int n;
};

ActorOptions on(Runtime& rt, std::size_t i) {
  ActorOptions o;
  o.hub = &rt.hub(i);
  return o;
}

// An actor that traps exits and reports the first Exit or Down it gets to `observer`.
struct Seen {
  std::string kind;
  ActorRef from;
  ExitReason reason;
};

GROVE_TEST(CrossHub, SendKeepsEachSendersOrder) {
  Runtime rt({.threads = 2});
  auto sink = spawn_opt(on(rt, 1), [] {
    int expected = 0;
    bool ordered = true;
    while (expected < 10000) {
      receive([&](Note n) { ordered = ordered && n.n == expected++; });
    }
    return ordered;
  });
  auto source = spawn_opt(on(rt, 0), [sink] {
    for (int i = 0; i < 10000; ++i) send(sink, Note{i});
  });
  ASSERT_TRUE(sink.join(Deadline::after(60.0)));
  ASSERT_TRUE(source.join(Deadline::after(60.0)));
  EXPECT_TRUE(sink.get());
  EXPECT_NE(&sink->hub(), &Hub::current());
}

GROVE_TEST(CrossHub, E2_E4_AnAbnormalExitKillsALinkedActorOnAnotherHub) {
  Runtime rt({.threads = 2});
  auto b = spawn_opt(on(rt, 1), [] { receive([](Go) {}); throw ExitSignal{ExitReason::user("boom")}; });
  auto a = spawn_opt(on(rt, 0), [b] {
    link(b);
    send(b, Go{});
    receive([](Note) {});  // never comes: the link ends a
  });
  ASSERT_TRUE(a.join(Deadline::after(30.0)));
  EXPECT_EQ(a.exit_reason(), ExitReason::user("boom"));
  EXPECT_EQ(b.exit_reason(), ExitReason::user("boom"));
}

GROVE_TEST(CrossHub, E3_E5_ATrappingActorGetsExitAndNormalIsIgnoredOtherwise) {
  Runtime rt({.threads = 2});
  auto quitter = spawn_opt(on(rt, 1), [] { receive([](Go) {}); });  // ends normally
  auto trapper = spawn_opt(on(rt, 0), [quitter] {
    trap_exit(true);
    link(quitter);
    send(quitter, Go{});
    Seen seen;
    receive([&](Exit e) { seen = {"exit", e.from, e.reason}; });
    return seen.from == quitter && seen.reason.is_normal();
  });
  EXPECT_TRUE(trapper.get());
  auto quitter2 = spawn_opt(on(rt, 1), [] { receive([](Go) {}); });
  auto bystander = spawn_opt(on(rt, 0), [quitter2] {
    link(quitter2);
    send(quitter2, Go{});
    receive_for(std::chrono::milliseconds(200), [](Note) {});
    return 7;
  });
  EXPECT_EQ(bystander.get(), 7);  // normal from a link did not end it (E3)
}

GROVE_TEST(CrossHub, E6_KillCannotBeTrappedAndLinksSeeKilled) {
  Runtime rt({.threads = 2});
  auto victim = spawn_opt(on(rt, 1), [] {
    trap_exit(true);
    for (;;) receive([](Exit) {});
  });
  auto watcher = spawn_opt(on(rt, 0), [victim] {
    trap_exit(true);
    link(victim);
    exit(victim, ExitReason::kill());
    ExitReason reason;
    receive([&](Exit e) { reason = e.reason; });
    return reason == ExitReason::killed();
  });
  EXPECT_TRUE(watcher.get());
  ASSERT_TRUE(victim.join(Deadline::after(30.0)));
  EXPECT_EQ(victim.exit_reason(), ExitReason::killed());
}

GROVE_TEST(CrossHub, E7_LinkToAnActorThatDiedOnAnotherHubGivesNoproc) {
  Runtime rt({.threads = 2});
  auto gone = spawn_opt(on(rt, 1), [] {});
  ASSERT_TRUE(gone.join(Deadline::after(30.0)));
  auto linker = spawn_opt(on(rt, 0), [gone] {
    trap_exit(true);
    link(gone);
    ExitReason reason;
    ActorRef from;
    receive([&](Exit e) {
      reason = e.reason;
      from = e.from;
    });
    return reason == ExitReason::noproc() && from == gone;
  });
  EXPECT_TRUE(linker.get());
}

// The link request crosses hubs while the target dies: either the target's death carries its
// reason, or the late link gives noproc — never silence.
GROVE_TEST(CrossHub, E7_ALinkRacingTheTargetsDeathAlwaysSignals) {
  Runtime rt({.threads = 2});
  for (int round = 0; round < 50; ++round) {
    auto target = spawn_opt(on(rt, 1), [] { throw ExitSignal{ExitReason::user("gone")}; });
    auto linker = spawn_opt(on(rt, 0), [target] {
      trap_exit(true);
      link(target);
      ExitReason reason;
      receive([&](Exit e) { reason = e.reason; });
      return reason == ExitReason::user("gone") || reason == ExitReason::noproc();
    });
    ASSERT_TRUE(linker.join(Deadline::after(30.0)));
    EXPECT_TRUE(linker.get()) << "round " << round;
  }
}

GROVE_TEST(CrossHub, E1_AfterUnlinkNoExitSignalArrives) {
  Runtime rt({.threads = 2});
  auto other = spawn_opt(on(rt, 1), [] {
    receive([](Go) {});
    throw ExitSignal{ExitReason::user("late")};
  });
  auto a = spawn_opt(on(rt, 0), [other] {
    link(other);
    link(other);  // one link
    unlink(other);
    send(other, Go{});
    (void)other.join(Deadline::after(30.0));
    receive_for(std::chrono::milliseconds(100), [](Note) {});
    return 1;
  });
  EXPECT_EQ(a.get(), 1);
  EXPECT_EQ(other.exit_reason(), ExitReason::user("late"));
}

// The kill's exit signal is still on its way when unlink() runs: it is dropped on arrival, and a
// trapping linker finds no Exit (on one hub the Exit is already queued by then).
GROVE_TEST(CrossHub, E1_KillThenUnlinkAcrossHubsDeliversNothing) {
  Runtime rt({.threads = 2});
  auto linker = spawn_opt(on(rt, 0), [&rt] {
    trap_exit(true);
    ActorOptions o = on(rt, 1);
    o.start = false;
    auto doomed = spawn_opt(o, [] {});
    link(doomed);
    doomed.kill();
    unlink(doomed);
    (void)doomed.join(Deadline::after(30.0));
    const bool got = receive_for(std::chrono::milliseconds(200), [](Exit) {});
    return !got && doomed.exit_reason() == ExitReason::killed();
  });
  EXPECT_TRUE(linker.get());
}

GROVE_TEST(CrossHub, E8_MonitorsAcrossHubs) {
  Runtime rt({.threads = 2});
  auto target = spawn_opt(on(rt, 1), [] {
    receive([](Go) {});
    throw ExitSignal{ExitReason::user("bye")};
  });
  auto watcher = spawn_opt(on(rt, 0), [target] {
    const MonitorRef m1 = monitor(target);
    const MonitorRef m2 = monitor(target);  // monitors stack
    const MonitorRef m3 = monitor(target);
    EXPECT_TRUE(demonitor(m3));
    send(target, Go{});
    std::vector<MonitorRef> downs;
    for (int i = 0; i < 2; ++i) {
      receive([&](Down d) {
        EXPECT_EQ(d.from, target);
        EXPECT_EQ(d.reason, ExitReason::user("bye"));
        downs.push_back(d.ref);
      });
    }
    // No Down for the demonitored reference, and a monitor of the dead target gives noproc.
    EXPECT_FALSE(receive_for(std::chrono::milliseconds(100), [&](Down d) { downs.push_back(d.ref); }));
    const MonitorRef late = monitor(target);
    ExitReason reason;
    receive([&](Down d) {
      EXPECT_EQ(d.ref, late);
      reason = d.reason;
    });
    return downs.size() == 2 && downs[0] == m1 && downs[1] == m2 && reason == ExitReason::noproc();
  });
  EXPECT_TRUE(watcher.get());
}

GROVE_TEST(CrossHub, E9_ExitToAnotherHub) {
  Runtime rt({.threads = 2});
  auto calm = spawn_opt(on(rt, 1), [] { receive([](Go) {}); });
  exit(calm, ExitReason::normal());  // ignored by a non-trapping actor
  auto ended = spawn_opt(on(rt, 1), [] { receive([](Go) {}); });
  exit(ended, ExitReason::user("stop"));
  ASSERT_TRUE(ended.join(Deadline::after(30.0)));
  EXPECT_EQ(ended.exit_reason(), ExitReason::user("stop"));
  EXPECT_FALSE(calm.join(Deadline::after(0.1)));
  send(calm, Go{});
  ASSERT_TRUE(calm.join(Deadline::after(30.0)));
  EXPECT_TRUE(calm.exit_reason().is_normal());
}

GROVE_TEST(CrossHub, KillAndJoinFromAnotherHub) {
  Runtime rt({.threads = 2});
  auto sleeper = spawn_opt(on(rt, 1), [] { sleep(3600.0); });
  EXPECT_FALSE(sleeper.join(Deadline::after(0.05)));
  EXPECT_TRUE(sleeper.kill_and_wait(Deadline::after(30.0)));
  EXPECT_EQ(sleeper.exit_reason(), ExitReason::killed());
}

// spawn_link onto another hub links before the child runs: a child that fails at once is seen
// with its own reason, not noproc.
GROVE_TEST(CrossHub, SpawnLinkOnAnotherHubLinksBeforeTheChildRuns) {
  Runtime rt({.threads = 2});
  auto parent = spawn_opt(on(rt, 0), [&rt] {
    trap_exit(true);
    ActorOptions o = on(rt, 1);
    o.link = true;
    auto child = spawn_opt(o, [] { throw ExitSignal{ExitReason::user("early")}; });
    ExitReason reason;
    receive([&](Exit e) { reason = e.reason; });
    return reason == ExitReason::user("early");
  });
  EXPECT_TRUE(parent.get());
}

GROVE_TEST(CrossHub, OneRegistryForEveryHub) {
  Runtime rt({.threads = 2});
  auto named = spawn_opt(on(rt, 1), [] {
    register_name("cross_hub_echo", self());
    for (;;) {
      receive([](std::pair<ActorRef, int> m) { send(m.first, m.second * 2); });
    }
  });
  auto asker = spawn_opt(on(rt, 0), [] {
    ActorRef echo;
    while (!(echo = whereis("cross_hub_echo"))) sleep(0.001);
    send("cross_hub_echo", std::pair<ActorRef, int>{self(), 21});
    int answer = 0;
    receive([&](int v) { answer = v; });
    EXPECT_THROW(register_name("cross_hub_echo", self()), std::invalid_argument);
    return answer;
  });
  EXPECT_EQ(asker.get(), 42);
  named.kill();
  ASSERT_TRUE(named.join(Deadline::after(30.0)));
  EXPECT_FALSE(whereis("cross_hub_echo"));  // the name went with the actor
}

// S2 + placement: a child on hub 1 that crashes is restarted on hub 1.
GROVE_TEST(CrossHub, SupervisorRestartsAChildOnTheHubItsSpecNames) {
  Runtime rt({.threads = 2});
  auto driver = spawn_opt(on(rt, 0), [&rt] {
    trap_exit(true);  // the supervisor is linked to its starter; its end is not ours
    ChildSpec worker{.id = "worker", .start = [] { return spawn([] { receive([](Go) {}); throw std::runtime_error("crash"); }); }};
    worker.hub = ChildHub::index(1);
    auto sup = Supervisor::start({.strategy = Strategy::kOneForOne, .intensity = 5}, {worker});
    const ActorRef first = sup.which_children().at(0).actor;
    bool ok = &first->hub() == &rt.hub(1) && first.name() == "worker";
    send(first, Go{});
    ActorRef second;
    for (int i = 0; i < 10000 && (!second || second == first); ++i) {
      second = sup.which_children().at(0).actor;
      sleep(0.001);
    }
    ok = ok && second && second != first && &second->hub() == &rt.hub(1);
    ok = ok && first.exit_reason().is_exception();
    sup.stop();
    ok = ok && second.dead() && second.exit_reason() == ExitReason::shutdown();
    return ok;
  });
  ASSERT_TRUE(driver.join(Deadline::after(60.0)));
  EXPECT_TRUE(driver.get());
}

// "spread" puts children on the least loaded hubs; stop() ends them in reverse start order
// (S7) with `shutdown`, each on its own hub.
GROVE_TEST(CrossHub, SupervisorSpreadsChildrenAndStopsThemInReverseOrder) {
  Runtime rt({.threads = 3});
  auto driver = spawn_opt(on(rt, 0), [&rt] {
    trap_exit(true);
    auto order = std::make_shared<std::vector<std::string>>();
    auto mutex = std::make_shared<std::mutex>();
    std::vector<ChildSpec> specs;
    for (int i = 0; i < 3; ++i) {
      const std::string id = "c" + std::to_string(i);
      ChildSpec c{.id = id, .start = [id, order, mutex] {
                    return spawn([id, order, mutex] {
                      trap_exit(true);
                      {
                        std::lock_guard lock(*mutex);
                        order->push_back(id + ":ready");
                      }
                      receive([&](Exit e) {
                        std::lock_guard lock(*mutex);
                        order->push_back(id + ":" + e.reason.to_string());
                      });
                    });
                  }};
      c.hub = ChildHub::spread();
      specs.push_back(std::move(c));
    }
    auto sup = Supervisor::start({}, specs);
    std::set<const Hub*> hubs;
    for (const auto& c : sup.which_children()) hubs.insert(&c.actor->hub());
    for (;;) {  // every child trapping exits
      {
        std::lock_guard lock(*mutex);
        if (order->size() == 3) break;
      }
      sleep(0.001);
    }
    sup.stop();
    std::lock_guard lock(*mutex);
    return hubs.size() >= 2 && order->size() == 6 &&
           std::vector<std::string>(order->begin() + 3, order->end()) ==
               std::vector<std::string>{"c2:shutdown", "c1:shutdown", "c0:shutdown"};
  });
  ASSERT_TRUE(driver.join(Deadline::after(60.0)));
  EXPECT_TRUE(driver.get());
}

// S6: more restarts than the intensity allows, children on another hub: the supervisor gives up
// with `shutdown` and its children end.
GROVE_TEST(CrossHub, SupervisorGivesUpAcrossHubs) {
  Runtime rt({.threads = 2});
  auto driver = spawn_opt(on(rt, 0), [] {
    trap_exit(true);
    ChildSpec crasher{.id = "crasher", .start = [] { return spawn([] { throw std::runtime_error("crash"); }); }};
    crasher.hub = ChildHub::index(1);
    ChildSpec idle{.id = "idle", .start = [] { return spawn([] { sleep(3600.0); }); }};
    idle.hub = ChildHub::index(1);
    auto sup = Supervisor::start({.intensity = 2, .period = 60.0}, {idle, crasher});
    const ActorRef idle_actor = sup.which_children().at(0).actor;
    (void)sup.actor().join(Deadline::after(30.0));
    return sup.gave_up() && sup.actor().exit_reason() == ExitReason::shutdown() &&
           idle_actor.join(Deadline::after(30.0));
  });
  ASSERT_TRUE(driver.join(Deadline::after(60.0)));
  EXPECT_TRUE(driver.get());
}

// Stopping the runtime kills every actor on every hub, links and all, and frees them (LSan).
struct Square {
  int n;
};
struct Hang {};

// A server on hub 1 answering Square and leaving Hang unanswered.
ActorRef square_server(Runtime& rt) {
  return spawn_opt(on(rt, 1), [] {
    serve(on_call<Square>([](const Square& q) { return q.n * q.n; }), [](Request<Hang, int>) {});
  });
}

GROVE_TEST(CrossHub, CallAcrossHubsFromAnActorAndFromAPlainFiber) {
  Runtime rt({.threads = 2});
  auto server = square_server(rt);
  auto caller = spawn_opt(on(rt, 0), [server] {
    int sum = 0;
    for (int i = 0; i < 1000; ++i) sum += call<int>(server, Square{i}, 30.0);
    return sum;
  });
  ASSERT_TRUE(caller.join(Deadline::after(60.0)));
  EXPECT_EQ(caller.get(), 332833500);  // the sum of i*i for i < 1000
  EXPECT_EQ(call<int>(server, Square{12}, 30.0), 144);  // from the test's own thread's hub
  send(server, StopServer{});
  ASSERT_TRUE(server.join(Deadline::after(30.0)));
}

GROVE_TEST(CrossHub, CallAcrossHubsSeesTheServerExitWithItsReason) {
  Runtime rt({.threads = 2});
  auto server = square_server(rt);
  auto killer = spawn([server] {
    sleep(0.01);
    exit(server, ExitReason::user("crashed"));
  });
  try {
    (void)call<int>(server, Hang{}, 60.0);
    ADD_FAILURE() << "the call returned";
  } catch (const CallError& e) {
    EXPECT_EQ(e.kind(), CallError::Kind::kServerExited);
    EXPECT_EQ(e.reason(), ExitReason::user("crashed"));
  }
  ASSERT_TRUE(killer.join(Deadline::after(30.0)));
}

GROVE_TEST(CrossHub, CallAcrossHubsToADeadServerIsNoproc) {
  Runtime rt({.threads = 2});
  auto server = square_server(rt);
  send(server, StopServer{});
  ASSERT_TRUE(server.join(Deadline::after(30.0)));
  try {
    (void)call<int>(server, Square{2}, 30.0);
    ADD_FAILURE() << "the call returned";
  } catch (const CallError& e) {
    EXPECT_EQ(e.kind(), CallError::Kind::kNoProc);
  }
}

GROVE_TEST(CrossHub, CallAcrossHubsTimesOutAndALateReplyIsDropped) {
  Runtime rt({.threads = 2});
  // Replies to each Square only when the next request arrives, so the first call times out and
  // its answer arrives after the caller has left.
  auto server = spawn_opt(on(rt, 1), [] {
    std::optional<Request<Square, int>> held;
    for (;;) {
      receive([&](Request<Square, int> r) {
        if (held) held->reply(held->body.n * held->body.n);
        held = std::move(r);
        if (held->body.n < 0) {
          held->reply(-1);
          held.reset();
        }
      },
      [](StopServer) { throw ExitSignal{ExitReason::normal()}; });
    }
  });
  try {
    (void)call<int>(server, Square{3}, 0.05);
    ADD_FAILURE() << "the call returned";
  } catch (const CallError& e) {
    EXPECT_EQ(e.kind(), CallError::Kind::kTimeout);
  }
  EXPECT_EQ(call<int>(server, Square{-5}, 30.0), -1);  // not the late 9
  send(server, StopServer{});
  ASSERT_TRUE(server.join(Deadline::after(30.0)));
}

TEST(CrossHubShutdown, StopEndsLinkedActorsOnAllHubs) {
  std::vector<ActorRef> actors;
  {
    Runtime rt({.threads = 3});
    for (int i = 0; i < 12; ++i) {
      ActorOptions o;
      o.hub = &rt.hub(static_cast<std::size_t>(i) % 3);
      ActorRef prev = actors.empty() ? ActorRef() : actors.back();
      actors.push_back(spawn_opt(o, [prev] {
        if (prev) link(prev);
        if (prev) (void)monitor(prev);
        sleep(3600.0);
      }));
    }
    rt.stop();
  }
  for (const auto& a : actors) EXPECT_TRUE(a.dead());
}

}  // namespace
}  // namespace grove
