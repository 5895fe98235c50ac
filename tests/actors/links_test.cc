// Links, monitors and exit signals: OTP's rules E1–E9, one test each, and gevent's callbacks.
#include <algorithm>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/actor.h"
#include "actors/event.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

using testing::ExpectFailures;

struct Go {};

// An actor that links to `other` (optionally trapping) and then waits for messages, recording
// the Exit messages it receives.
Greenlet<void> linked_waiter(ActorRef other, bool trap, std::vector<Exit>* exits) {
  return spawn([other, trap, exits] {
    trap_exit(trap);
    link(other);
    for (;;) receive([&](Exit e) { exits->push_back(e); });
  });
}

// An actor that runs the closures it is sent, one at a time, and acknowledges each: a test
// drives link/unlink/monitor from inside actors and knows when each has happened, without
// sleeping.
struct Run {
  std::function<void()> fn;
  Event* done;
};

Greenlet<void> runner(bool trap) {
  return spawn([trap] {
    trap_exit(trap);
    for (;;) {
      receive([](Run r) {
        r.fn();
        r.done->set();
      });
    }
  });
}

// Runs `fn` inside `actor` and waits until it has.
void run_in(const ActorRef& actor, std::function<void()> fn) {
  Event done;
  send(actor, Run{std::move(fn), &done});
  ASSERT_TRUE(done.wait_for(std::chrono::seconds(5)));
}

// Ends `actor` with `reason` and waits for it. Its exit signals and Down messages are queued by
// the time join() returns.
void end(const ActorRef& actor, ExitReason reason) {
  Event never;
  send(actor, Run{[reason] { throw ExitSignal{reason}; }, &never});
  ASSERT_TRUE(actor.join(Deadline::after(5.0)));
}

// The Exit and Down messages queued for `actor`, taken out of its mailbox.
struct Seen {
  std::vector<Exit> exits;
  std::vector<Down> downs;
};
Seen drain(const ActorRef& actor) {
  Seen seen;
  run_in(actor, [&] {
    while (receive_until(Deadline::after(0.0), [&](Exit e) { seen.exits.push_back(e); },
                         [&](Down d) { seen.downs.push_back(d); })) {
    }
  });
  return seen;
}

GROVE_TEST(Links, E1_LinkIsTwoWayAndSingle) {
  // One call links both ways: whichever end exits, the other gets exactly one signal, although
  // link() was called twice.
  for (const bool linker_exits : {false, true}) {
    Greenlet<void> linker = runner(/*trap=*/true);
    Greenlet<void> peer = runner(/*trap=*/true);
    run_in(linker, [&] {
      link(peer);
      link(peer);
    });
    const ActorRef exiting = linker_exits ? ActorRef(linker) : ActorRef(peer);
    const ActorRef other = linker_exits ? ActorRef(peer) : ActorRef(linker);
    end(exiting, ExitReason::user("gone"));
    const Seen seen = drain(other);
    ASSERT_EQ(seen.exits.size(), 1u) << "linker exits: " << linker_exits;
    EXPECT_EQ(seen.exits[0].from, exiting);
    EXPECT_EQ(seen.exits[0].reason, ExitReason::user("gone"));
    EXPECT_TRUE(seen.downs.empty());
    other.kill();
  }
}

GROVE_TEST(Links, E1_OneUnlinkFromEitherEndRemovesTheLink) {
  // Linked twice, unlinked once (and then again, a no-op): no signal in either direction.
  for (const bool linker_unlinks : {false, true}) {
    for (const bool linker_exits : {false, true}) {
      Greenlet<void> linker = runner(/*trap=*/true);
      Greenlet<void> peer = runner(/*trap=*/true);
      run_in(linker, [&] {
        link(peer);
        link(peer);
      });
      run_in(linker_unlinks ? ActorRef(linker) : ActorRef(peer), [&] {
        const ActorRef other = linker_unlinks ? ActorRef(peer) : ActorRef(linker);
        unlink(other);
        unlink(other);
      });
      const ActorRef exiting = linker_exits ? ActorRef(linker) : ActorRef(peer);
      const ActorRef other = linker_exits ? ActorRef(peer) : ActorRef(linker);
      end(exiting, ExitReason::user("gone"));
      const Seen seen = drain(other);
      EXPECT_TRUE(seen.exits.empty()) << "linker unlinks: " << linker_unlinks << ", linker exits: " << linker_exits;
      EXPECT_FALSE(other.dead());
      other.kill();
    }
  }
}

GROVE_TEST(Links, E2_LinkedActorsReceiveTheExitReason) {
  std::vector<Exit> exits;
  Greenlet<void> target = spawn([] {
    receive([](Go) {});
    throw ExitSignal{ExitReason::user("overload")};
  });
  Greenlet<void> watcher = linked_waiter(target, /*trap=*/true, &exits);
  sleep(0.001);
  send(target, Go{});
  (void)target.join();
  sleep(0.001);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].from, ActorRef(target));
  EXPECT_EQ(exits[0].reason, ExitReason::user("overload"));
  watcher.kill();
}

GROVE_TEST(Links, E3_NormalExitIsIgnoredByANonTrappingActor) {
  std::vector<Exit> exits;
  Greenlet<void> target = spawn([] { receive([](Go) {}); });
  Greenlet<void> watcher = linked_waiter(target, /*trap=*/false, &exits);
  sleep(0.001);
  send(target, Go{});  // ends normally
  (void)target.join();
  sleep(0.005);
  EXPECT_FALSE(watcher.dead());
  watcher.kill();
  EXPECT_TRUE(watcher.join());
}

GROVE_TEST(Links, E4_AbnormalExitKillsANonTrappingActorWithTheSameReasonAndPropagates) {
  ExpectFailures crashes;
  std::vector<Exit> exits;
  Greenlet<void> origin = spawn([] {
    receive([](Go) {});
    throw std::runtime_error("disk on fire");
  });
  Greenlet<void> middle = linked_waiter(origin, /*trap=*/false, &exits);
  Greenlet<void> last = linked_waiter(middle, /*trap=*/false, &exits);
  std::vector<Exit> observed;
  Greenlet<void> observer = linked_waiter(last, /*trap=*/true, &observed);
  sleep(0.001);
  send(origin, Go{});
  ASSERT_TRUE(middle.join(Deadline::after(20.0)));
  ASSERT_TRUE(last.join(Deadline::after(20.0)));
  EXPECT_EQ(middle.exit_reason(), origin.exit_reason());
  EXPECT_EQ(last.exit_reason(), origin.exit_reason());
  EXPECT_THROW(last.get(), std::runtime_error);
  sleep(0.001);
  ASSERT_EQ(observed.size(), 1u);
  EXPECT_EQ(observed[0].from, ActorRef(last));
  EXPECT_EQ(crashes.count(), 1u) << "reported where it happened, not at every link";
  observer.kill();
}

GROVE_TEST(Links, E5_TrappingActorGetsAnExitMessage) {
  std::vector<Exit> exits;
  Greenlet<void> target = spawn([] { receive([](Go) {}); });
  Greenlet<void> watcher = linked_waiter(target, /*trap=*/true, &exits);
  sleep(0.001);
  target.kill();
  (void)target.join();
  sleep(0.001);
  EXPECT_FALSE(watcher.dead());
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].reason, ExitReason::killed());
  watcher.kill();
}

GROVE_TEST(Links, E6_KillSignalCannotBeTrappedAndLinksSeeKilled) {
  std::vector<Exit> exits;
  std::vector<Exit> observed;
  Greenlet<void> trapper = spawn([&] {
    trap_exit(true);
    for (;;) receive([&](Exit e) { exits.push_back(e); });
  });
  Greenlet<void> observer = linked_waiter(trapper, /*trap=*/true, &observed);
  sleep(0.001);
  exit(trapper, ExitReason::kill());
  ASSERT_TRUE(trapper.join(Deadline::after(20.0)));
  EXPECT_EQ(trapper.exit_reason(), ExitReason::killed());
  EXPECT_TRUE(exits.empty());
  sleep(0.001);
  ASSERT_EQ(observed.size(), 1u);
  EXPECT_EQ(observed[0].reason, ExitReason::killed());
  observer.kill();
}

GROVE_TEST(Links, E7_LinkingToADeadActorGivesNoproc) {
  Greenlet<void> dead = spawn([] {});
  dead.get();
  std::vector<Exit> exits;
  Greenlet<void> trapper = spawn([&] {
    trap_exit(true);
    link(dead);
    receive([&](Exit e) { exits.push_back(e); });
  });
  trapper.get();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].reason, ExitReason::noproc());
  Greenlet<void> plain = spawn([&] {
    link(dead);
    sleep(1.0);
  });
  EXPECT_TRUE(plain.join(Deadline::after(20.0)));
  EXPECT_EQ(plain.exit_reason(), ExitReason::noproc());
}

GROVE_TEST(Links, E8_MonitorIsOneWay) {
  // The watcher's exit is not seen by its target, not even by a trapping one.
  Greenlet<void> watcher = runner(/*trap=*/true);
  Greenlet<void> target = runner(/*trap=*/true);
  run_in(watcher, [&] { (void)monitor(target); });
  end(watcher, ExitReason::user("watcher gone"));
  const Seen at_target = drain(target);
  EXPECT_TRUE(at_target.exits.empty());
  EXPECT_TRUE(at_target.downs.empty());
  EXPECT_FALSE(target.dead());
  // The target's exit reaches a non-trapping watcher as one Down message, no exit signal: it
  // lives on whatever the reason.
  Greenlet<void> plain = runner(/*trap=*/false);
  MonitorRef ref;
  run_in(plain, [&] { ref = monitor(target); });
  end(target, ExitReason::user("target gone"));
  const Seen at_plain = drain(plain);
  ASSERT_EQ(at_plain.downs.size(), 1u);
  EXPECT_EQ(at_plain.downs[0].ref, ref);
  EXPECT_EQ(at_plain.downs[0].from, ActorRef(target));
  EXPECT_EQ(at_plain.downs[0].reason, ExitReason::user("target gone"));
  EXPECT_TRUE(at_plain.exits.empty());
  EXPECT_FALSE(plain.dead());
  plain.kill();
}

GROVE_TEST(Links, E8_MonitorsAreOneWayStackAndFireOnce) {
  std::vector<Down> downs;
  Greenlet<void> target = spawn([] { receive([](Go) {}); });
  MonitorRef r1, r2;
  Greenlet<void> watcher = spawn([&] {
    r1 = monitor(target);
    r2 = monitor(target);
    for (int i = 0; i < 2; ++i) receive([&](Down d) { downs.push_back(d); });
    EXPECT_FALSE(receive_for(std::chrono::milliseconds(10), [&](Down d) { downs.push_back(d); }));
  });
  sleep(0.001);
  EXPECT_NE(r1.id, r2.id);
  send(target, Go{});
  watcher.get();
  ASSERT_EQ(downs.size(), 2u);
  EXPECT_EQ(downs[0].ref, r1);
  EXPECT_EQ(downs[1].ref, r2);
  EXPECT_EQ(downs[0].from, ActorRef(target));
  EXPECT_TRUE(downs[0].reason.is_normal());
  EXPECT_FALSE(watcher.exit_reason().is_exception()) << "one-way: the watcher lives on";
}

GROVE_TEST(Links, E8_MonitoringADeadActorGivesNoprocAtOnce) {
  Greenlet<void> dead = spawn([] {});
  dead.get();
  ExitReason reason;
  Greenlet<void> watcher = spawn([&] {
    monitor(dead);
    receive([&](Down d) { reason = d.reason; });
  });
  watcher.get();
  EXPECT_EQ(reason, ExitReason::noproc());
}

GROVE_TEST(Links, E8_DemonitorWithFlushRemovesADeliveredDown) {
  Greenlet<void> target = spawn([] {});
  bool got_down = true;
  Greenlet<void> watcher = spawn([&] {
    MonitorRef r = monitor(target);
    sleep(0.005);                    // target dies; the Down is in the mailbox
    EXPECT_FALSE(demonitor(r, true));  // already fired
    got_down = receive_for(std::chrono::milliseconds(5), [](Down) {});
  });
  watcher.get();
  EXPECT_FALSE(got_down);
}

GROVE_TEST(Links, E8_DemonitorBeforeDeathMeansNoDown) {
  Greenlet<void> target = spawn([] { receive([](Go) {}); });
  bool got_down = true;
  Greenlet<void> watcher = spawn([&] {
    MonitorRef r = monitor(target);
    EXPECT_TRUE(demonitor(r));
    send(target, Go{});
    got_down = receive_for(std::chrono::milliseconds(10), [](Down) {});
  });
  watcher.get();
  EXPECT_FALSE(got_down);
}

GROVE_TEST(Links, E9_ExitSignalWithoutALink) {
  Greenlet<void> victim = spawn([] { receive([](Go) {}); });
  Greenlet<void> ignorer = spawn([] { receive([](Go) {}); });
  sleep(0.001);
  exit(victim, ExitReason::user("go away"));
  exit(ignorer, ExitReason::normal());  // ignored by a non-trapping actor
  ASSERT_TRUE(victim.join(Deadline::after(20.0)));
  EXPECT_EQ(victim.exit_reason(), ExitReason::user("go away"));
  sleep(0.001);
  EXPECT_FALSE(ignorer.dead());
  ignorer.kill();
}

// gevent callbacks --------------------------------------------------------------------------

GROVE_TEST(Callbacks, RunAfterDeathInRegistrationOrder) {
  std::vector<std::string> order;
  Greenlet<int> g = spawn([] { return 1; });
  g.link([&](const ActorRef&) { order.push_back("link"); });
  g.rawlink([&](const ActorRef&) { order.push_back("rawlink"); });
  g.link_value([&](const ActorRef&) { order.push_back("link_value"); });
  g.link_exception([&](const ActorRef&) { order.push_back("link_exception"); });
  EXPECT_EQ(g.get(), 1);
  // The non-raw callbacks each run in a new fiber: not before this one waits again.
  EXPECT_EQ(std::count(order.begin(), order.end(), "link"), 0);
  sleep(0.01);
  // rawlink runs directly in the hub; link/link_value each in a new fiber, spawned in order.
  EXPECT_EQ(order, (std::vector<std::string>{"rawlink", "link", "link_value"}));
}

GROVE_TEST(Callbacks, LinkExceptionFiresOnlyOnFailure) {
  ExpectFailures crashes;
  int exception_calls = 0, value_calls = 0;
  Greenlet<void> bad = spawn([] { throw std::runtime_error("x"); });
  bad.link_exception([&](const ActorRef&) { ++exception_calls; });
  bad.link_value([&](const ActorRef&) { ++value_calls; });
  (void)bad.join();
  sleep(0.01);
  EXPECT_EQ(exception_calls, 1);
  EXPECT_EQ(value_calls, 0);
}

GROVE_TEST(Callbacks, FireEvenWhenLinkedAfterDeath) {
  Greenlet<void> g = spawn([] {});
  g.get();
  ActorRef seen;
  g.link([&](const ActorRef& a) { seen = a; });
  sleep(0.01);
  EXPECT_EQ(seen, ActorRef(g));
}

GROVE_TEST(Callbacks, UnlinkRemovesACallback) {
  int calls = 0;
  Greenlet<void> g = spawn([] { sleep(0.001); });
  CallbackId id = g.link([&](const ActorRef&) { ++calls; });
  EXPECT_TRUE(g.unlink(id));
  EXPECT_FALSE(g.unlink(id));
  g.get();
  sleep(0.01);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace grove
