// Properties: supervisors (OTP's S1–S9, and E11 for a killed supervisor) against the model in
// otp_supervisor_model.h.
//
// A schedule starts supervisors with random strategies, intensities and child specs (restart
// type, shutdown, behaviour), makes children crash, return, exit with a reason or get killed,
// and calls the supervisor's requests (start_child, terminate_child, restart_child,
// delete_child, stop). Children record their starts and stops in one log, in order; after each
// step the log, each stopped child's exit reason, which_children and the supervisor's own fate
// are compared with the model. The restart period is an hour, so every restart counts: the
// sliding window itself is a unit test (tests/actors/supervisor_test.cc).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <cstddef>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/actor.h"
#include "actors/supervisor.h"
#include "hub/runtime.h"
#include "facade/testing.h"
#include "tests/property/otp_harness.h"
#include "tests/property/otp_supervisor_model.h"

namespace {

using otp_model::Reason;
using Model = otp_model::SupervisorModel;
using Behaviour = Model::Behaviour;
using Event = Model::Event;

constexpr double kShutdownTimeout = 0.02;  // what a stubborn child costs each time it is stopped

// What the driver tells a child.
struct ChildOrder {
  enum Op { kCrash, kReturn, kRaise } op;
  Reason reason;
};

class World {
 public:
  // With a runtime, incarnation n of any child runs on hub n % size (the supervisor and the
  // driver stay on the driver's hub), so every link and exit signal between the supervisor and
  // its children crosses hubs.
  explicit World(grove::Runtime* runtime = nullptr) : runtime_(runtime) {}
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World() {  // runs on failure too: no actor may outlive the log it writes to
    if (sup.actor()) grove::exit(sup.actor(), grove::ExitReason::kill());
    for (const auto& a : incarnations_copy()) grove::exit(a, grove::ExitReason::kill());
    if (sup.actor()) (void)sup.actor().join(grove::Deadline::after(10.0));
    for (const auto& a : incarnations_copy()) (void)a.join(grove::Deadline::after(10.0));
  }

  grove::ChildSpec spec(const Model::Spec& s) {
    grove::ChildSpec spec;
    spec.id = s.id;
    spec.restart = s.restart == Model::Restart::kPermanent   ? grove::Restart::kPermanent
                   : s.restart == Model::Restart::kTransient ? grove::Restart::kTransient
                                                             : grove::Restart::kTemporary;
    spec.shutdown = s.shutdown == Model::Shutdown::kBrutalKill ? grove::Shutdown::brutal_kill()
                    : s.shutdown == Model::Shutdown::kTimeout  ? grove::Shutdown::timeout(kShutdownTimeout)
                                                               : grove::Shutdown::infinity();
    spec.start = starter(s.id, s.behaviour);
    return spec;
  }
  // The start function of a child: runs in the supervisor, spawns one incarnation.
  std::function<grove::ActorRef()> starter(std::string id, Behaviour behaviour) {
    return [this, id, behaviour] {
      std::unique_lock lock(mutex_);
      const int incarnation = static_cast<int>(incarnations.size());
      const grove::ActorRef parent = grove::self();
      grove::ActorOptions placed;
      if (runtime_ != nullptr) placed.hub = &runtime_->hub(static_cast<std::size_t>(incarnation) % runtime_->size());
      ids.push_back(id);
      events.push_back({true, id, incarnation});
      lock.unlock();  // (spawning may run the child at once, on this hub)
      grove::ActorRef a = grove::spawn_opt(placed, [this, incarnation, behaviour, parent] { child(incarnation, behaviour, parent); });
      lock.lock();
      incarnations.push_back(a);
      return a;
    };
  }

  grove::Runtime* runtime() const { return runtime_; }
  std::vector<grove::ActorRef> incarnations_copy() {
    std::lock_guard lock(mutex_);
    return incarnations;
  }
  std::vector<Event> events_since(std::size_t seen) {
    std::lock_guard lock(mutex_);
    return {events.begin() + static_cast<std::ptrdiff_t>(seen), events.end()};
  }
  std::size_t events_seen() {
    std::lock_guard lock(mutex_);
    return events.size();
  }
  grove::ActorRef incarnation(std::size_t i) {
    std::lock_guard lock(mutex_);
    return incarnations[i];
  }

  grove::Supervisor sup;
  int simple_started = 0;
  std::vector<grove::ActorRef> incarnations;
  std::vector<std::string> ids;  // by incarnation
  std::vector<Event> events;

 private:
  grove::Runtime* runtime_ = nullptr;
  std::mutex mutex_;  // children on other hubs log their stops while the driver reads

  void child(int incarnation, Behaviour behaviour, const grove::ActorRef& parent) {
    if (behaviour != Behaviour::kPlain) grove::trap_exit(true);
    struct Stopped {  // logs the stop however the body ends
      World* w;
      int incarnation;
      ~Stopped() {
        std::lock_guard lock(w->mutex_);
        w->events.push_back({false, w->ids[incarnation], incarnation});
      }
    } stopped{this, incarnation};
    for (bool done = false; !done;) {
      grove::receive(
          [&](ChildOrder o) {
            if (o.op == ChildOrder::kCrash) throw std::runtime_error("crash");
            if (o.op == ChildOrder::kRaise) throw grove::ExitSignal{otp_model::to_grove(o.reason)};
            done = true;
          },
          [&](const grove::Exit& e) {  // obedient: stop as the supervisor says (as gen_server does)
            if (behaviour == Behaviour::kObedient && e.from == parent) throw grove::ExitSignal{e.reason};
          });
    }
  }
};

// Lets the hub settle, and waits out a supervisor that waits for a stubborn child's timeout.
void settle(World& w) {
  for (;;) {
    otp_model::settle(w.runtime());
    const grove::ActorRef s = w.sup.actor();
    if (!s || s.dead() || std::string(s->waiting_on()) != "join") return;
    grove::sleep(kShutdownTimeout / 4);
  }
}

const char* name(Model::Strategy s) {
  static const char* const names[] = {"one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one"};
  return names[static_cast<int>(s)];
}

std::string describe(const Model::Spec& s) {
  static const char* const restarts[] = {"permanent", "transient", "temporary"};
  static const char* const shutdowns[] = {"brutal_kill", "timeout", "infinity"};
  static const char* const behaviours[] = {"plain", "obedient", "stubborn"};
  return fmt::format("{}:{}/{}/{}", s.id, restarts[static_cast<int>(s.restart)],
                     shutdowns[static_cast<int>(s.shutdown)], behaviours[static_cast<int>(s.behaviour)]);
}

std::string describe(const std::vector<Event>& events) {
  std::string out;
  for (const auto& e : events) out += fmt::format(" {}{}#{}", e.start ? "+" : "-", e.id, e.incarnation);
  return out;
}

struct Step final : rc::state::Command<Model, World> {
  enum Op { kStartSupervisor, kCrash, kReturn, kRaise, kKill, kStartChild, kTerminateChild, kRestartChild,
            kDeleteChild, kStop, kKillSupervisor };
  Op op = kStartSupervisor;
  Model::Strategy strategy = Model::Strategy::kOneForOne;
  int intensity = 1;
  std::vector<Model::Spec> specs;  // kStartSupervisor: the children; kStartChild: specs[0]
  int child = 0;                   // index into the model's children
  std::string id;                  // kTerminateChild, kRestartChild, kDeleteChild (may be unknown)
  Reason reason;                   // kRaise

  bool by_id() const { return op == kTerminateChild && strategy != Model::Strategy::kSimpleOneForOne; }

  void checkPreconditions(const Model& m) const override {
    if (op == kStartSupervisor) {
      RC_PRE(!m.alive);
      RC_PRE(!specs.empty());
      return;
    }
    RC_PRE(m.alive);
    RC_PRE(strategy == m.strategy);  // ops made for one supervisor do not carry over to the next
    const bool simple = m.strategy == Model::Strategy::kSimpleOneForOne;
    // (RC_PRE captures its expression's operands, so && would not short-circuit.)
    const bool child_runs = child < static_cast<int>(m.children.size()) && m.children[child].running >= 0;
    switch (op) {
      case kCrash: case kReturn: case kRaise: case kKill: RC_PRE(child_runs); break;
      case kTerminateChild:
        if (simple) RC_PRE(child_runs);
        break;
      case kStartChild: RC_PRE(!specs.empty()); break;
      case kRestartChild: case kDeleteChild: RC_PRE(!simple); break;
      case kKillSupervisor:  // a stubborn child ignores even a killed supervisor's signal (OTP too)
        for (const auto& c : m.children) {
          const bool ends_with_its_supervisor = c.running < 0 || c.spec.behaviour != Behaviour::kStubborn;
          RC_PRE(ends_with_its_supervisor);
        }
        break;
      default: break;
    }
  }

  void apply(Model& m) const override {
    m.begin_step();
    switch (op) {
      case kStartSupervisor: m.start_supervisor(strategy, intensity, specs); break;
      case kCrash: m.child_exit(child, Reason::crash()); break;
      case kReturn: m.child_exit(child, Reason::normal()); break;
      case kRaise: m.child_exit(child, reason); break;
      case kKill: m.child_exit(child, Reason::killed()); break;
      case kStartChild: answer_ = m.start_child(specs[0]); break;
      case kTerminateChild: answer_ = m.terminate_child(by_id() ? m.find(id) : child); break;
      case kRestartChild: answer_ = m.restart_child(m.find(id)); break;
      case kDeleteChild: answer_ = m.delete_child(m.find(id)); break;
      case kStop: m.stop_supervisor(); break;
      case kKillSupervisor: m.kill_supervisor(); break;
    }
  }

  void run(const Model& m, World& w) const override {
    const std::size_t seen = w.events_seen();
    const bool answer = perform(m, w);
    settle(w);
    const Model next = nextState(m);  // also sets answer_
    if (op == kStartChild || op == kTerminateChild || op == kRestartChild || op == kDeleteChild) {
      if (answer != answer_) RC_FAIL(fmt::format("the request answered {}, the model says {}", answer, answer_));
    }
    check(next, w, seen);
  }

  void show(std::ostream& os) const override {
    switch (op) {
      case kStartSupervisor: {
        os << "start " << name(strategy) << " supervisor, intensity " << intensity << ", children";
        for (const auto& s : specs) os << " " << describe(s);
        break;
      }
      case kCrash: os << "child " << child << " throws (crash)"; break;
      case kReturn: os << "child " << child << " returns"; break;
      case kRaise: os << "child " << child << " throws ExitSignal{" << reason << "}"; break;
      case kKill: os << "driver: exit(child " << child << ", kill)"; break;
      case kStartChild:
        if (strategy == Model::Strategy::kSimpleOneForOne) {
          os << "start_child(template)";
        } else {
          os << "start_child(" << describe(specs[0]) << ")";
        }
        break;
      case kTerminateChild:
        if (by_id()) {
          os << "terminate_child(" << id << ")";
        } else {
          os << "terminate_child(child " << child << ")";
        }
        break;
      case kRestartChild: os << "restart_child(" << id << ")"; break;
      case kDeleteChild: os << "delete_child(" << id << ")"; break;
      case kStop: os << "stop()"; break;
      case kKillSupervisor: os << "driver: exit(supervisor, kill)"; break;
    }
  }

 private:
  mutable bool answer_ = false;  // the model's answer to the request (set by apply)

  // Runs the step on the real supervisor; returns the request's answer.
  bool perform(const Model& m, World& w) const {
    const auto running = [&] { return w.incarnation(static_cast<std::size_t>(m.children[child].running)); };
    switch (op) {
      case kStartSupervisor: {
        grove::SupervisorFlags flags;
        flags.strategy = static_cast<grove::Strategy>(static_cast<int>(strategy));
        flags.intensity = intensity;
        flags.period = 3600.0;
        flags.name = "sup";
        w.simple_started = 0;
        std::vector<grove::ChildSpec> children;
        for (const auto& s : specs) children.push_back(w.spec(s));
        w.sup = grove::Supervisor::start(flags, std::move(children));
        return true;
      }
      case kCrash: grove::send(running(), ChildOrder{ChildOrder::kCrash, {}}); return true;
      case kReturn: grove::send(running(), ChildOrder{ChildOrder::kReturn, {}}); return true;
      case kRaise: grove::send(running(), ChildOrder{ChildOrder::kRaise, reason}); return true;
      case kKill: grove::exit(running(), grove::ExitReason::kill()); return true;
      case kStartChild:
        try {
          if (m.strategy == Model::Strategy::kSimpleOneForOne) {
            const std::string simple_id = fmt::format("{}-{}", m.simple_template.id, ++w.simple_started);
            return static_cast<bool>(w.sup.start_child(w.starter(simple_id, m.simple_template.behaviour)));
          }
          return static_cast<bool>(w.sup.start_child(w.spec(specs[0])));
        } catch (const grove::SupervisorError&) {
          return false;
        }
      case kTerminateChild: return by_id() ? w.sup.terminate_child(id) : w.sup.terminate_child(running());
      case kRestartChild: return static_cast<bool>(w.sup.restart_child(id));
      case kDeleteChild: return w.sup.delete_child(id);
      case kStop: w.sup.stop(); return true;
      case kKillSupervisor: grove::exit(w.sup.actor(), grove::ExitReason::kill()); return true;
    }
    return false;
  }

  static void check(const Model& m, World& w, std::size_t seen) {
    std::vector<Event> got = w.events_since(seen);
    std::vector<Event> want = m.events;
    if (m.unordered) {
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
    }
    if (got != want) {
      RC_FAIL(fmt::format("children started/stopped [{} ], the model says [{} ]{}", describe(got), describe(want),
                          m.unordered ? " (in any order)" : ""));
    }
    for (const Event& e : want) {  // how each stopped child ended
      if (e.start) continue;
      std::string text;
      const Reason r = otp_model::from_grove(w.incarnation(static_cast<std::size_t>(e.incarnation)).exit_reason(), &text);
      if (!(r == m.ended_with[e.incarnation])) {
        RC_FAIL(fmt::format("child {}#{} ended with {}, the model says {}", e.id, e.incarnation, text,
                            m.ended_with[e.incarnation].to_string()));
      }
    }
    const grove::ActorRef s = w.sup.actor();
    if (m.alive == s.dead()) {
      RC_FAIL(fmt::format("the supervisor is {}, the model says {}", s.dead() ? "dead (" + s.exit_reason().to_string() + ")" : "alive",
                          m.alive ? "alive" : "dead (" + m.reason.to_string() + ")"));
    }
    if (!m.alive) {
      std::string text;
      if (!(otp_model::from_grove(s.exit_reason(), &text) == m.reason)) {
        RC_FAIL(fmt::format("the supervisor ended with {}, the model says {}", text, m.reason.to_string()));
      }
      return;
    }
    const std::vector<grove::ChildInfo> children = w.sup.which_children();
    std::string got_children, want_children;
    for (const auto& c : children) got_children += fmt::format(" {}{}", c.id, c.actor ? "(running)" : "");
    for (const auto& c : m.children) want_children += fmt::format(" {}{}", c.spec.id, c.running >= 0 ? "(running)" : "");
    bool same = children.size() == m.children.size();
    for (std::size_t i = 0; same && i < children.size(); ++i) {
      const auto& c = m.children[i];
      same = children[i].id == c.spec.id &&
             (c.running >= 0 ? children[i].actor == w.incarnation(static_cast<std::size_t>(c.running)) && !children[i].actor.dead()
                             : !children[i].actor);
    }
    if (!same) RC_FAIL(fmt::format("which_children: [{} ], the model says [{} ]", got_children, want_children));
  }
};

// ---------------------------------------------------------------------------------------------
// Schedules

template <class T>
T pick(std::vector<T> choices) {
  return *rc::gen::elementOf(std::move(choices));
}

Model::Spec gen_spec(const std::string& id) {
  Model::Spec s;
  s.id = id;
  s.restart = pick<Model::Restart>({Model::Restart::kPermanent, Model::Restart::kTransient, Model::Restart::kTemporary});
  s.shutdown = pick<Model::Shutdown>({Model::Shutdown::kBrutalKill, Model::Shutdown::kTimeout, Model::Shutdown::kInfinity});
  s.behaviour = pick<Behaviour>({Behaviour::kPlain, Behaviour::kPlain, Behaviour::kObedient, Behaviour::kStubborn});
  if (s.shutdown == Model::Shutdown::kInfinity && s.behaviour == Behaviour::kStubborn) s.behaviour = Behaviour::kPlain;
  return s;
}

rc::Gen<std::shared_ptr<const rc::state::Command<Model, World>>> gen_step(const Model& m) {
  return rc::gen::exec([m]() -> std::shared_ptr<const rc::state::Command<Model, World>> {
    auto step = std::make_shared<Step>();
    if (!m.alive) {
      step->op = Step::kStartSupervisor;
      step->strategy = pick<Model::Strategy>({Model::Strategy::kOneForOne, Model::Strategy::kOneForAll,
                                              Model::Strategy::kRestForOne, Model::Strategy::kSimpleOneForOne});
      step->intensity = pick<int>({0, 1, 2, 3, 5, 8});
      const int n = step->strategy == Model::Strategy::kSimpleOneForOne ? 1 : *rc::gen::inRange(1, 5);
      for (int i = 0; i < n; ++i) step->specs.push_back(gen_spec(std::string(1, static_cast<char>('a' + i))));
      if (step->strategy == Model::Strategy::kSimpleOneForOne) step->specs[0].id = "w";
      return step;
    }
    std::vector<int> running;
    for (std::size_t i = 0; i < m.children.size(); ++i) {
      if (m.children[i].running >= 0) running.push_back(static_cast<int>(i));
    }
    std::vector<std::pair<int, Step::Op>> weights = {
        {6, Step::kCrash}, {2, Step::kReturn}, {2, Step::kRaise}, {3, Step::kKill}, {3, Step::kStartChild},
        {2, Step::kTerminateChild}, {2, Step::kRestartChild}, {1, Step::kDeleteChild}, {1, Step::kStop},
        {1, Step::kKillSupervisor}};
    std::vector<Step::Op> ops;
    for (const auto& [weight, op] : weights) ops.insert(ops.end(), weight, op);
    step->op = *rc::gen::elementOf(ops);
    step->strategy = m.strategy;
    step->child = running.empty() ? 0 : *rc::gen::elementOf(running);
    step->id = pick<std::string>({"a", "b", "c", "d", "e", "f"});
    step->specs.push_back(gen_spec(step->id));
    step->reason = pick<Reason>({Reason::shutdown(), Reason::shutdown_with(1), Reason::user_reason(0), Reason::normal()});
    return step;
  });
}

// Quiet while failures are the point: restarts, give-ups and crashes are logged by design.
struct QuietLogs {
  spdlog::level::level_enum was = spdlog::get_level();
  QuietLogs() { spdlog::set_level(spdlog::level::off); }
  ~QuietLogs() { spdlog::set_level(was); }
};

// S1–S9: strategies, restart types, intensity, shutdown and dynamic children; E11 for a killed
// supervisor.
// `hubs` > 0: the children run on a Runtime of that many hubs.
void run_schedules(std::size_t hubs = 0) {
  const Model initial;
  const auto steps = *rc::state::gen::commands(initial, gen_step);
  QuietLogs quiet;
  std::unique_ptr<grove::Runtime> runtime;
  if (hubs > 0) runtime = std::make_unique<grove::Runtime>(grove::RuntimeOptions{.threads = hubs});
  grove::testing::in_hub(
      [&] {
        grove::testing::ExpectFailures crashes;  // crashing children are reported by the hub
        World world(runtime.get());
        rc::state::runAll(steps, initial, world);
      },
      60.0);
}

}  // namespace

RC_GTEST_PROP(OtpSupervisor, RestartsAndStopsFollowTheModel, ()) { run_schedules(); }

// S1–S9 with the children on 2–4 other hubs: the supervisor's links, its exit signals to the
// children and their ends cross hubs as messages, and the rules are the same.
RC_GTEST_PROP(OtpSupervisor, TheRulesHoldWithChildrenOnOtherHubs, ()) {
  run_schedules(*rc::gen::inRange<std::size_t>(2, 5));
}
