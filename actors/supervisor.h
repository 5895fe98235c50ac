// actors/supervisor.h — OTP supervisors: an actor that starts children, watches them and
// restarts them by a strategy, within a restart budget.
//
// Model (rules S1–S10, docs/SEMANTICS.md): Supervisor::start spawns the
// supervisor actor, which traps exits, starts the children in the order listed (each start
// function spawns one actor; the supervisor links to it) and then serves. When a child ends:
//   - restart type: `permanent` always restarts, `transient` only after an abnormal reason (not
//     normal, not shutdown), `temporary` never — and its spec is forgotten;
//   - strategy: one_for_one restarts that child; one_for_all stops the others (reverse start
//     order) and restarts all (start order); rest_for_one does that for the children started
//     after it; simple_one_for_one is one_for_one over many children of one template spec;
//   - intensity: more than `intensity` restarts within `period` seconds (default 1 in 5 s) and
//     the supervisor gives up: it says so in one spdlog error, stops every child and exits with
//     reason `shutdown` (as OTP's does). The reason is the same as after stop(); gave_up() tells
//     the two apart, and requests made after it gave up fail with a SupervisorError that says so.
// Children stop in reverse start order, each by its Shutdown: brutal_kill (the untrappable kill
// signal), a timeout (the `shutdown` signal, then kill when it passes; default 5 s for workers),
// or infinity (default for supervisors). If a child fails to start, the ones already started
// stop in reverse order and start() throws. When the supervisor dies, its children die with it.
// Supervisors nest: a child whose start function starts a Supervisor, with type kSupervisor.
//
// Every child failure, restart and give-up is one spdlog line naming the supervisor, the child
// id and the reason.
//
// Children may run on other hubs of a Runtime (ChildSpec::hub); S1–S10 hold the same, links and
// exit signals crossing hubs as messages.
//
// Thread: call the methods from fibers of the supervisor's hub; they are executed by the
// supervisor actor itself, in mailbox order, and the caller waits for the answer.
//
//   grove::ChildSpec worker{.id = "worker", .start = [] { return grove::spawn(work); }};
//   auto sup = grove::Supervisor::start({.strategy = grove::Strategy::kOneForOne}, {worker});
//   sup.which_children();  // [{id: "worker", actor: <Greenlet ...>}]
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/actor.h"

namespace grove {

enum class Strategy { kOneForOne, kOneForAll, kRestForOne, kSimpleOneForOne };
enum class Restart { kPermanent, kTransient, kTemporary };
enum class ChildType { kWorker, kSupervisor };

const char* to_string(Strategy s);
const char* to_string(Restart r);

class Shutdown {
 public:
  static Shutdown brutal_kill() { return Shutdown(-1.0); }
  static Shutdown timeout(double seconds) { return Shutdown(seconds); }
  static Shutdown infinity() { return Shutdown(std::numeric_limits<double>::infinity()); }
  bool is_brutal_kill() const { return seconds_ < 0; }
  bool is_infinity() const { return seconds_ == std::numeric_limits<double>::infinity(); }
  double seconds() const { return seconds_; }

 private:
  explicit Shutdown(double s) : seconds_(s) {}
  double seconds_;
};

// Which hub a child runs on, when the supervisor runs in a Runtime (hub/runtime.h): its own
// (the default), hub `i` of the runtime, or the least loaded hub at each start ("spread").
// Outside a Runtime every child runs on the supervisor's hub.
class ChildHub {
 public:
  static ChildHub same() { return ChildHub(kSame); }
  static ChildHub index(std::size_t i) { return ChildHub(i); }
  static ChildHub spread() { return ChildHub(kSpread); }
  bool is_same() const { return index_ == kSame; }
  bool is_spread() const { return index_ == kSpread; }
  std::size_t index() const { return index_; }

 private:
  static constexpr std::size_t kSame = static_cast<std::size_t>(-1);
  static constexpr std::size_t kSpread = static_cast<std::size_t>(-2);
  explicit ChildHub(std::size_t i) : index_(i) {}
  std::size_t index_;
};

struct ChildSpec {
  std::string id;
  // Spawns the child and returns it. It is called on the supervisor's hub; spawns it makes that
  // name no hub go to `hub`, and the first one is linked to the supervisor before it runs.
  std::function<ActorRef()> start;
  Restart restart = Restart::kPermanent;
  std::optional<Shutdown> shutdown;  // default: 5 s for workers, infinity for supervisors
  ChildType type = ChildType::kWorker;
  ChildHub hub = ChildHub::same();  // restarts go to the same choice
};

struct SupervisorFlags {
  Strategy strategy = Strategy::kOneForOne;
  int intensity = 1;     // restarts allowed ...
  double period = 5.0;   // ... within this many seconds
  std::string name;      // for logs (default: the actor's name)
};

struct ChildInfo {
  std::string id;
  ActorRef actor;  // empty when not running
  ChildType type;
  Restart restart;
};

struct ChildCounts {
  std::size_t specs = 0;
  std::size_t active = 0;
  std::size_t supervisors = 0;
  std::size_t workers = 0;
};

// A child failed to start while the supervisor started (S1) or on start_child.
class SupervisorError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Supervisor {
 public:
  // Starts the supervisor and its children (S1); throws SupervisorError if one fails to start.
  // When called from an actor, that actor is the supervisor's parent: they are linked, and the
  // parent's exit signal makes the supervisor stop its children and exit.
  static Supervisor start(SupervisorFlags flags, std::vector<ChildSpec> children);

  Supervisor() = default;
  ActorRef actor() const { return actor_; }

  // True once the supervisor gave up (S6), with why in give_up_reason(): "reached max restart
  // intensity (3 restarts in 5 s, 2 allowed)". False while it runs and after stop(). Read it from
  // fibers of the supervisor's hub, e.g. after actor().join().
  bool gave_up() const { return outcome_ && !outcome_->gave_up.empty(); }
  std::string give_up_reason() const { return outcome_ ? outcome_->gave_up : std::string(); }

  // S9. start_child(spec) adds and starts a child (SupervisorError if the id exists or the start
  // fails). For simple_one_for_one, start_child(start) starts one more child of the template.
  ActorRef start_child(ChildSpec spec) const;
  ActorRef start_child(std::function<ActorRef()> start) const;
  // Stops a running child and keeps its spec (a temporary child's spec is dropped). False if
  // unknown. For simple_one_for_one, pass the child's actor.
  bool terminate_child(const std::string& id) const;
  bool terminate_child(const ActorRef& child) const;
  // Starts a stopped child again; empty handle if unknown or already running.
  ActorRef restart_child(const std::string& id) const;
  // Forgets the spec of a stopped child. False if unknown or running.
  bool delete_child(const std::string& id) const;
  std::vector<ChildInfo> which_children() const;
  ChildCounts count_children() const;
  // Stops the children (reverse order) and the supervisor with reason `shutdown`; waits.
  void stop() const;

  struct State;
  // How the supervisor ended, shared by its handles and the supervisor itself.
  struct Outcome {
    std::string name;
    std::string gave_up;  // why it gave up; empty if it did not
  };

 private:
  Supervisor(ActorRef actor, std::shared_ptr<const Outcome> outcome)
      : actor_(std::move(actor)), outcome_(std::move(outcome)) {}
  // Runs `fn` inside the supervisor actor and waits for it.
  void call(std::function<void(State&)> fn) const;
  // The error for a request the supervisor can no longer answer.
  SupervisorError not_running() const;
  ActorRef actor_;
  std::shared_ptr<const Outcome> outcome_;
};

}  // namespace grove
