// Properties: links, monitors, exit signals and trap_exit (OTP's E1–E11) against the model in
// otp_links_model.h.
//
// Each test actor runs a small command interpreter: the driver sends it commands as messages
// (link to X, monitor X, trap on, exit X with R, crash, return, ...), and it records in its log
// every Exit/Down message it handles, in order, and the results of its commands. The driver
// runs one step at a time and lets the hub settle, so a schedule is deterministic on one hub;
// after each step it compares every actor's log, liveness and exit reason with the model.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/actor.h"
#include "facade/testing.h"
#include "hub/runtime.h"
#include "tests/property/otp_harness.h"
#include "tests/property/otp_links_model.h"

namespace {

using otp_model::kDriver;
using otp_model::kSelf;
using otp_model::LinksModel;
using otp_model::Msg;
using otp_model::Reason;

constexpr int kMaxAlive = 5;    // actors alive at once
constexpr int kMaxActors = 24;  // in all
constexpr int kUnknown = -99;   // a sender or monitor the test never made (always a mismatch)

// What the driver asks a test actor to do.
struct Order {
  enum Op { kLink, kUnlink, kMonitor, kDemonitor, kExit, kCrash, kReturn, kRaise, kTrap, kHold,
            kCatchAll, kSpawnLink, kLinkToDoomed, kNote };
  Op op;
  int target = 0;
  Reason reason;
  bool flag = false;
  int value = 0;
};

// The system under test: the actors, what each one handled, and the monitor references.
class World {
 public:
  World() = default;
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World() {  // runs on failure too: no actor may outlive the logs it writes to
    tearing_down = true;
    for (const auto& a : actors) a.kill();
    for (const auto& a : actors) (void)a.join(grove::Deadline::after(10.0));
  }

  // With a runtime, actor n lives on hub n % size (the driver stays on its own hub).
  explicit World(grove::Runtime* runtime) : runtime_(runtime) {}

  grove::ActorOptions placed() {
    grove::ActorOptions o;
    if (runtime_ != nullptr) {
      std::lock_guard lock(mutex_);
      o.hub = &runtime_->hub(actors.size() % runtime_->size());
    }
    return o;
  }
  void spawn(bool hold) {
    const int me = size();
    add(grove::spawn_opt(placed(), [this, me, hold] { interpret(me, hold); }));
  }
  void add(grove::ActorRef a) {
    std::lock_guard lock(mutex_);
    actors.push_back(std::move(a));
    logs.emplace_back();
  }
  int size() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(actors.size());
  }
  grove::ActorRef actor(int i) {
    std::lock_guard lock(mutex_);
    return actors[static_cast<std::size_t>(i)];
  }
  int index_of(const grove::ActorRef& a) {
    if (!a) return kDriver;
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < actors.size(); ++i) {
      if (actors[i] == a) return static_cast<int>(i);
    }
    return kUnknown;
  }
  int ref_index(grove::MonitorRef r) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < refs.size(); ++i) {
      if (refs[i] == r) return static_cast<int>(i);
    }
    return kUnknown;
  }
  void add_ref(grove::MonitorRef r) {
    std::lock_guard lock(mutex_);
    refs.push_back(r);
  }
  grove::MonitorRef ref(int i) {
    std::lock_guard lock(mutex_);
    return refs[static_cast<std::size_t>(i)];
  }
  grove::Runtime* runtime() const { return runtime_; }

  std::vector<grove::ActorRef> actors;
  std::vector<std::vector<Msg>> logs;
  std::vector<grove::MonitorRef> refs;     // by the model's monitor index
  std::atomic<bool> tearing_down{false};

 private:
  grove::Runtime* runtime_ = nullptr;
  std::mutex mutex_;  // actors on several hubs add, log and look up at once
  void record(int me, Msg m) {
    std::lock_guard lock(mutex_);
    logs[me].push_back(m);
  }
  void interpret(int me, bool hold);
  void execute(int me, const Order& c);
};

// `hold`: handle commands only, Exit/Down stay queued.
void World::interpret(int me, bool hold) {
  // A badly behaved actor (the catch_all command): swallows one exception thrown at its receive.
  // The only exception a trapping actor can get there is a kill, and a kill is final (E11): the
  // next receive throws it again and the actor ends.
  bool catch_all = false;
  for (;;) {
    std::optional<Order> command;
    auto on_command = [&](Order c) { command = c; };
    auto on_exit = [&](grove::Exit e) {
      record(me, {Msg::kExit, index_of(e.from), otp_model::from_grove(e.reason)});
    };
    auto on_down = [&](grove::Down d) {
      record(me, {Msg::kDown, index_of(d.from), otp_model::from_grove(d.reason), ref_index(d.ref)});
    };
    try {
      if (hold) {
        grove::receive(on_command);
      } else {
        grove::receive(on_command, on_exit, on_down);
      }
    } catch (...) {
      if (!catch_all || tearing_down) throw;
      catch_all = false;
      continue;
    }
    if (!command) continue;
    switch (command->op) {
      case Order::kReturn: return;
      case Order::kHold: hold = command->flag; break;
      case Order::kCatchAll:
        grove::trap_exit(true);
        catch_all = true;
        break;
      default: execute(me, *command); break;
    }
  }
}

void World::execute(int me, const Order& c) {
  switch (c.op) {
    case Order::kLink: grove::link(actor(c.target)); break;
    case Order::kUnlink: grove::unlink(actor(c.target)); break;
    case Order::kMonitor: add_ref(grove::monitor(actor(c.target))); break;
    case Order::kDemonitor: {
      const bool active = grove::demonitor(ref(c.value), c.flag);
      record(me, {Msg::kDemonitor, kSelf, {}, active ? 1 : 0});
      break;
    }
    case Order::kExit: grove::exit(actor(c.target), otp_model::to_grove(c.reason)); break;
    case Order::kCrash: throw std::runtime_error("crash");
    case Order::kRaise: throw grove::ExitSignal{otp_model::to_grove(c.reason)};
    case Order::kTrap: grove::trap_exit(c.flag); break;
    case Order::kSpawnLink: {
      const int child = size();
      grove::ActorOptions options = placed();
      options.link = true;
      add(grove::spawn_opt(options, [this, child, hold = c.flag] { interpret(child, hold); }));
      break;
    }
    case Order::kLinkToDoomed: {  // an actor that never runs: killed while linked, maybe unlinked
      // On the linker's own hub: there the kill's Exit is queued before unlink() runs, as the
      // model has it. Across hubs it arrives after the unlink and is dropped (OTP: no signal of
      // a link after unlink returns) — CrossHub.E1_KillThenUnlinkAcrossHubsDeliversNothing.
      grove::ActorOptions options;
      options.start = false;
      const int doomed = size();
      add(grove::spawn_opt(options, [this, doomed] { interpret(doomed, false); }));
      const grove::ActorRef a = actor(doomed);
      grove::link(a);
      a.kill();
      if (c.flag) grove::unlink(a);
      break;
    }
    case Order::kNote: record(me, {Msg::kNote, kDriver, {}, c.value}); break;
    default: break;
  }
}

// ---------------------------------------------------------------------------------------------
// One step of a schedule

void settle(World& w) { otp_model::settle(w.runtime()); }

std::string show_actor(int a) {
  if (a == kDriver) return "driver";
  if (a == kSelf) return "self";
  if (a == kUnknown) return "unknown";
  return fmt::format("a{}", a);
}

std::string describe(const Msg& m) {
  switch (m.kind) {
    case Msg::kExit: return fmt::format("Exit({}, {})", show_actor(m.from), m.reason.to_string());
    case Msg::kDown: return fmt::format("Down(#{}, {}, {})", m.value, show_actor(m.from), m.reason.to_string());
    case Msg::kNote: return fmt::format("note{}", m.value);
    case Msg::kDemonitor: return fmt::format("demonitor={}", m.value != 0);
  }
  return "?";
}

struct Step final : rc::state::Command<LinksModel, World> {
  enum Op { kSpawn, kSpawnLink, kLink, kUnlink, kMonitor, kDemonitor, kExit, kCrash, kReturn, kRaise,
            kTrap, kHold, kCatchAll, kKill, kBurst, kDouble, kLinkToDoomed };
  Op op = kSpawn;
  int by = 0;  // the actor that runs the command
  int to = 0;  // its target
  int k = 0;   // kDemonitor: which of by's monitors; kBurst: how many notes
  Reason r, r2;
  bool flag = false;   // trap/hold on-off; demonitor flush; spawn holding
  bool gevent = false;  // kKill/kBurst/kDouble: a kill signal is sent with ActorRef::kill()

  static bool driver_op(Op op) { return op == kSpawn || op == kKill || op == kBurst || op == kDouble; }

  void checkPreconditions(const LinksModel& m) const override {
    const int n = static_cast<int>(m.actors.size());
    RC_PRE(to >= 0 && to < n);
    if (op == kSpawn || op == kSpawnLink || op == kLinkToDoomed) {
      RC_PRE(n < kMaxActors);
      RC_PRE(std::count_if(m.actors.begin(), m.actors.end(), [](const auto& a) { return a.alive; }) < kMaxAlive);
    }
    if (driver_op(op)) return;
    RC_PRE(m.alive(by));
    const auto& a = m.actors[by];
    if (op == kMonitor) RC_PRE(to != by);
    if (op == kDemonitor) RC_PRE(k >= 0 && k < static_cast<int>(a.monitors.size()));
    if (op == kTrap && !flag) RC_PRE(!a.catch_all);
    if (op == kCatchAll) RC_PRE(!a.catch_all);
    if (op == kRaise) RC_PRE(r.kind != Reason::kKill);
  }

  void apply(LinksModel& m) const override {
    m.begin_step();
    switch (op) {
      case kSpawn: m.spawn(flag); break;
      case kSpawnLink: m.link(by, m.spawn(flag)); break;
      case kLinkToDoomed: m.link_to_doomed(by, flag); break;
      case kLink: m.link(by, to); break;
      case kUnlink: m.unlink(by, to); break;
      case kMonitor: m.monitor(by, to); break;
      case kDemonitor: m.demonitor(by, m.actors[by].monitors[k], flag); break;
      case kExit: m.signal(by, to, r); break;
      case kCrash: m.kill(by, Reason::crash()); break;
      case kReturn: m.kill(by, Reason::normal()); break;
      case kRaise: m.kill(by, r); break;
      case kTrap: m.actors[by].trap = flag; break;
      case kHold: m.actors[by].hold = flag; break;
      case kCatchAll: m.actors[by].trap = m.actors[by].catch_all = true; break;
      case kKill: m.signal(kDriver, to, Reason::kill()); break;
      case kBurst:
        for (int i = 0; i < k; ++i) m.deliver(to, {Msg::kNote, kDriver, {}, i});
        m.signal(kDriver, to, r);
        break;
      case kDouble:
        m.signal(kDriver, to, r);
        m.signal(kDriver, to, r2);
        break;
    }
    m.end_step();
  }

  void run(const LinksModel& m, World& w) const override {
    std::vector<std::size_t> seen;
    for (const auto& log : w.logs) seen.push_back(log.size());
    perform(m, w);
    settle(w);
    check(nextState(m), w, seen);
  }

  void show(std::ostream& os) const override {
    const std::string a = show_actor(by), b = show_actor(to);
    switch (op) {
      case kSpawn: os << "driver: spawn" << (flag ? " (holding Exit/Down)" : ""); break;
      case kSpawnLink: os << a << ": spawn_link" << (flag ? " (holding Exit/Down)" : ""); break;
      case kLinkToDoomed:
        os << a << ": link to a new unstarted actor, kill it" << (flag ? ", unlink it" : "");
        break;
      case kLink: os << a << ": link " << b; break;
      case kUnlink: os << a << ": unlink " << b; break;
      case kMonitor: os << a << ": monitor " << b; break;
      case kDemonitor: os << a << ": demonitor its monitor " << k << (flag ? " with flush" : ""); break;
      case kExit: os << a << ": exit(" << b << ", " << r << ")"; break;
      case kCrash: os << a << ": throw (crash)"; break;
      case kReturn: os << a << ": return"; break;
      case kRaise: os << a << ": throw ExitSignal{" << r << "}"; break;
      case kTrap: os << a << ": trap_exit(" << flag << ")"; break;
      case kHold: os << a << (flag ? ": hold Exit/Down messages" : ": handle Exit/Down messages"); break;
      case kCatchAll: os << a << ": trap_exit(1) and catch (...) once"; break;
      case kKill: os << "driver: " << (gevent ? "kill() " : "exit(kill) ") << b; break;
      case kBurst:
        os << "driver: " << k << " notes to " << b << ", then " << signal_text(r);
        break;
      case kDouble: os << "driver: " << signal_text(r) << " then " << signal_text(r2) << " to " << b; break;
    }
  }

 private:
  std::string signal_text(const Reason& reason) const {
    return reason.kind == Reason::kKill && gevent ? "kill()" : "exit(" + reason.to_string() + ")";
  }
  void signal(World& w, const Reason& reason) const {
    if (reason.kind == Reason::kKill && gevent) {
      w.actors[to].kill();
    } else {
      grove::exit(w.actors[to], otp_model::to_grove(reason));
    }
  }
  void perform(const LinksModel& m, World& w) const {
    Order c{Order::kLink, to, r, flag, 0};
    switch (op) {
      case kSpawn: w.spawn(flag); return;
      case kKill: signal(w, Reason::kill()); return;
      case kBurst:
        for (int i = 0; i < k; ++i) grove::send(w.actor(to), Order{Order::kNote, 0, {}, false, i});
        signal(w, r);
        return;
      case kDouble:
        signal(w, r);
        signal(w, r2);
        return;
      case kSpawnLink: c.op = Order::kSpawnLink; break;
      case kLinkToDoomed: c.op = Order::kLinkToDoomed; break;
      case kLink: c.op = Order::kLink; break;
      case kUnlink: c.op = Order::kUnlink; break;
      case kMonitor: c.op = Order::kMonitor; break;
      case kDemonitor:
        c.op = Order::kDemonitor;
        c.value = m.actors[by].monitors[k];
        break;
      case kExit: c.op = Order::kExit; break;
      case kCrash: c.op = Order::kCrash; break;
      case kReturn: c.op = Order::kReturn; break;
      case kRaise: c.op = Order::kRaise; break;
      case kTrap: c.op = Order::kTrap; break;
      case kHold: c.op = Order::kHold; break;
      case kCatchAll: c.op = Order::kCatchAll; break;
    }
    grove::send(w.actor(by), c);
  }

  // Every actor's liveness, exit reason, how many Exit/Down it holds queued, and what it handled
  // during the step (per sender, in order).
  static void check(const LinksModel& m, const World& w, const std::vector<std::size_t>& seen) {
    RC_ASSERT(w.actors.size() == m.actors.size());
    for (std::size_t i = 0; i < m.actors.size(); ++i) {
      const auto& want = m.actors[i];
      const grove::ActorRef& got = w.actors[i];
      const std::string who = show_actor(static_cast<int>(i));
      if (want.alive == got.dead()) {
        std::string text;
        if (got.dead()) (void)otp_model::from_grove(got.exit_reason(), &text);
        RC_FAIL(fmt::format("{} should be {}, but is {}", who,
                            want.alive ? "alive" : "dead (" + want.reason.to_string() + ")",
                            got.dead() ? "dead (" + text + ")" : "alive"));
      }
      if (!want.alive) {
        std::string text;
        const Reason reason = otp_model::from_grove(got.exit_reason(), &text);
        if (!(reason == want.reason)) {
          RC_FAIL(fmt::format("{} died with {}, the model says {}", who, text, want.reason.to_string()));
        }
      }
      if (want.alive && got->mailbox_size() != want.mailbox.size()) {
        RC_FAIL(fmt::format("{} has {} message(s) queued, the model says {}", who, got->mailbox_size(),
                            want.mailbox.size()));
      }
      const std::vector<Msg> handled(w.logs[i].begin() + static_cast<std::ptrdiff_t>(i < seen.size() ? seen[i] : 0),
                                     w.logs[i].end());
      check_log(who, want.expected, handled);
    }
  }

  // Per sender: what was handled is the expected sequence minus some optional entries.
  static void check_log(const std::string& who, const std::vector<otp_model::Expected>& want,
                        const std::vector<Msg>& got) {
    std::vector<int> senders;
    for (const auto& e : want) senders.push_back(e.msg.from);
    for (const auto& g : got) senders.push_back(g.from);
    for (int s : senders) {
      std::size_t gi = 0;
      bool ok = true;
      auto next_got = [&] {
        while (gi < got.size() && got[gi].from != s) ++gi;
        return gi < got.size() ? &got[gi] : nullptr;
      };
      for (const auto& e : want) {
        if (e.msg.from != s) continue;
        const Msg* g = next_got();
        if (g != nullptr && *g == e.msg) {
          ++gi;
        } else if (!e.optional) {
          ok = false;
        }
      }
      if (next_got() != nullptr) ok = false;
      if (!ok) {
        std::string expected, handled;
        for (const auto& e : want) expected += " " + describe(e.msg) + (e.optional ? "?" : "");
        for (const auto& g : got) handled += " " + describe(g);
        RC_FAIL(fmt::format("{} handled [{} ] during the step; the model expects [{} ] (? = optional), "
                            "compared per sender",
                            who, handled, expected));
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Schedules

enum class Ops { kLinksAndMonitors, kWithRaces };

rc::Gen<Reason> gen_signal_reason() {
  return rc::gen::elementOf(std::vector<Reason>{Reason::normal(), Reason::shutdown(), Reason::shutdown_with(1),
                                                Reason::user_reason(0), Reason::user_reason(1), Reason::kill()});
}

rc::Gen<std::shared_ptr<const rc::state::Command<LinksModel, World>>> gen_step(const LinksModel& m, Ops ops) {
  std::vector<int> alive;
  for (int i = 0; i < static_cast<int>(m.actors.size()); ++i) {
    if (m.alive(i)) alive.push_back(i);
  }
  const int n = static_cast<int>(m.actors.size());
  const bool races = ops == Ops::kWithRaces;
  return rc::gen::exec([m, alive, n, races]() -> std::shared_ptr<const rc::state::Command<LinksModel, World>> {
    auto step = std::make_shared<Step>();
    std::vector<std::pair<int, Step::Op>> weights = {
        {4, Step::kSpawn}, {3, Step::kSpawnLink}, {8, Step::kLink}, {3, Step::kUnlink},
        {6, Step::kMonitor}, {6, Step::kDemonitor}, {6, Step::kExit}, {2, Step::kCrash},
        {2, Step::kReturn}, {2, Step::kRaise}, {5, Step::kTrap}, {6, Step::kHold},
        {3, Step::kKill}, {2, Step::kLinkToDoomed}};
    if (races) {
      weights.insert(weights.end(), {{3, Step::kCatchAll}, {4, Step::kBurst}, {5, Step::kDouble}});
    }
    std::vector<Step::Op> ops;  // each op `weight` times: elementOf picks uniformly at every size
    for (const auto& [weight, op] : weights) ops.insert(ops.end(), weight, op);
    step->op = *rc::gen::elementOf(ops);
    step->by = alive.empty() ? 0 : *rc::gen::elementOf(alive);
    // Mostly a live target; now and then any actor, dead ones included (E7, E8's noproc).
    std::vector<int> all(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = i;
    step->to = alive.empty() || *rc::gen::elementOf(std::vector<int>{0, 1, 2, 3, 4}) == 0
                   ? *rc::gen::elementOf(all)
                   : *rc::gen::elementOf(alive);
    const int monitors = alive.empty() ? 0 : static_cast<int>(m.actors[step->by].monitors.size());
    step->k = step->op == Step::kDemonitor ? (monitors > 0 ? *rc::gen::inRange(0, monitors) : 0)
                                           : *rc::gen::inRange(0, 4);  // shrinks towards fewer notes
    step->r = *gen_signal_reason();
    step->r2 = *gen_signal_reason();
    step->flag = *rc::gen::arbitrary<bool>();
    step->gevent = *rc::gen::arbitrary<bool>();
    if (step->op == Step::kRaise && step->r.kind == Reason::kKill) step->r = Reason::user_reason(0);
    return step;
  });
}

// `hubs` > 0: the actors are spread over a Runtime of that many hubs.
void run_schedules(Ops ops, std::size_t hubs = 0) {
  LinksModel initial;
  for (int i = 0; i < 3; ++i) initial.spawn(/*hold=*/i == 2);
  const auto steps = *rc::state::gen::commands(initial, [ops](const LinksModel& m) { return gen_step(m, ops); });
  std::unique_ptr<grove::Runtime> runtime;
  if (hubs > 0) runtime = std::make_unique<grove::Runtime>(grove::RuntimeOptions{.threads = hubs});
  grove::testing::in_hub(
      [&] {
        grove::testing::ExpectFailures crashes;  // the crash command is reported by the hub
        World world(runtime.get());
        for (int i = 0; i < 3; ++i) world.spawn(/*hold=*/i == 2);
        settle(world);
        rc::state::runAll(steps, initial, world);
      },
      60.0);
}

}  // namespace

// E1–E9: links, monitors, trap_exit and exit signals, one step at a time.
RC_GTEST_PROP(OtpLinks, LinksMonitorsAndExitSignalsFollowTheModel, ()) {
  run_schedules(Ops::kLinksAndMonitors);
}

// E10–E11 too: signals sent back to back (a backlog of notes then a signal, two signals in a
// row) and actors that catch (...) around their receive.
RC_GTEST_PROP(OtpLinks, SignalsActFirstAndAKillIsFinal, ()) {
  run_schedules(Ops::kWithRaces);
}

// E1–E9 with the actors spread over 2–4 hubs: every link, monitor and signal between actors of
// different hubs crosses as a message, and the rules are the same. (The races schedule is not
// run here: a burst of notes followed by a signal from another hub may have a note handled
// before the signal arrives, which the model, written for one hub, does not allow yet.)
RC_GTEST_PROP(OtpLinks, TheRulesHoldAcrossHubs, ()) {
  const auto hubs = *rc::gen::inRange<std::size_t>(2, 5);
  run_schedules(Ops::kLinksAndMonitors, hubs);
}
