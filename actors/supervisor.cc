// actors/supervisor.cc — the supervisor actor's loop, restart strategies and intensity.
#include "actors/supervisor.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>

#include "hub/runtime.h"

namespace grove {

const char* to_string(Strategy s) {
  switch (s) {
    case Strategy::kOneForOne: return "one_for_one";
    case Strategy::kOneForAll: return "one_for_all";
    case Strategy::kRestForOne: return "rest_for_one";
    case Strategy::kSimpleOneForOne: return "simple_one_for_one";
  }
  return "?";
}

const char* to_string(Restart r) {
  switch (r) {
    case Restart::kPermanent: return "permanent";
    case Restart::kTransient: return "transient";
    case Restart::kTemporary: return "temporary";
  }
  return "?";
}

namespace {

// A request executed by the supervisor actor. Everything a request touches travels by value:
// the function owns its arguments and writes its result into state shared with the caller, so
// a caller that is killed while it waits (its stack unwound) leaves nothing the supervisor could
// write into. If the supervisor dies with the request still queued, the destructor fails it.
struct CallReply {
  bool finished = false;
  std::exception_ptr error;
  WaitList waiters;
  void finish(std::exception_ptr e) {
    if (finished) return;
    finished = true;
    error = std::move(e);
    waiters.wake_all();
  }
};

struct Call {
  std::function<void(Supervisor::State&)> fn;
  std::shared_ptr<CallReply> reply;
  Call(std::function<void(Supervisor::State&)> f, std::shared_ptr<CallReply> r)
      : fn(std::move(f)), reply(std::move(r)) {}
  Call(Call&&) = default;
  ~Call() {
    if (reply) {
      reply->finish(std::make_exception_ptr(
          SupervisorError("the supervisor exited before answering the call")));
    }
  }
};

struct Child {
  ChildSpec spec;
  ActorRef actor;
  Shutdown shutdown() const {
    if (spec.shutdown) return *spec.shutdown;
    return spec.type == ChildType::kSupervisor ? Shutdown::infinity() : Shutdown::timeout(5.0);
  }
};

// Thrown inside the supervisor when it gives up or is told to stop.
struct StopSupervisor {
  ExitReason reason;
};

// True when the calling fiber was killed for good (a kill or an exit signal reached it): what it
// caught is the end of the supervisor, not an error of one request.
bool dying() {
  return static_cast<bool>(Hub::current().current_fiber().final_kill());
}

// How long a child gets to die after the untrappable kill before the supervisor gives up on it.
constexpr double kKillGrace = 5.0;

}  // namespace

struct Supervisor::State {
  SupervisorFlags flags;
  std::string name;
  std::shared_ptr<Supervisor::Outcome> outcome = std::make_shared<Supervisor::Outcome>();
  ActorRef parent;
  std::vector<Child> children;  // start order
  std::optional<ChildSpec> template_spec;  // simple_one_for_one
  std::deque<double> restarts;
  std::uint64_t dynamic_count = 0;

  Child* find(const std::string& id) {
    for (auto& c : children) {
      if (c.spec.id == id) return &c;
    }
    return nullptr;
  }
  Child* find(const ActorBase* actor) {
    for (auto& c : children) {
      if (c.actor.get() == actor) return &c;
    }
    return nullptr;
  }

  static Hub* hub_for(const ChildHub& choice) {
    Runtime* rt = Runtime::current();
    if (rt == nullptr || choice.is_same()) return nullptr;
    return &rt->hub(choice.is_spread() ? rt->least_loaded() : choice.index());
  }

  // Starts one child: spawn through its start function and link. Throws SupervisorError.
  void start(Child& c) {
    ActorRef a;
    try {
      // Placed on the spec's hub, linked before it runs and named after the spec (unless the
      // start function names it): a child that fails at once is seen with its own reason.
      PlaceOn place(hub_for(c.spec.hub), self(), c.spec.id);
      a = c.spec.start();
    } catch (...) {
      if (dying()) throw;
      throw SupervisorError(fmt::format("supervisor {}: child {} failed to start: {}", name,
                                        c.spec.id,
                                        describe_exception(std::current_exception()).what));
    }
    if (!a) {
      throw SupervisorError(fmt::format("supervisor {}: child {} failed to start: no actor",
                                        name, c.spec.id));
    }
    // A child the start function left unnamed goes by its ChildSpec id in every report, as OTP
    // names a child by its id ("<Greenlet \"keyspace\" ...>", not "Greenlet-48"): PlaceOn
    // named it at birth. link() is for a start function that returned an actor it did not
    // spawn itself.
    link(a);  // a child that already died arrives as Exit{noproc}
    c.actor = a;
  }

  // Stops one child by its Shutdown (S7). The child stays linked until it is dead, so if the
  // supervisor dies meanwhile the child still gets its exit signal; the Exit message it then
  // sends finds no child (c.actor is cleared first) and is ignored.
  //
  // While it waits, the child stays in `children`, so a supervisor that dies meanwhile kills it
  // with the others (kill_all).
  void terminate(Child& c) {
    const ActorRef a = c.actor;
    if (a && !a.dead()) stop_child(c.spec.id, a, c.shutdown());
    c.actor = ActorRef();  // not when stop_child throws: kill_all still finds the child
  }

  void stop_child(const std::string& id, const ActorRef& a, Shutdown how) {
    if (!how.is_brutal_kill()) {
      exit(a, ExitReason::shutdown());
      const Deadline deadline =
          how.is_infinity() ? Deadline::never() : Deadline::after(how.seconds());
      if (a.join(deadline)) return;
      spdlog::warn("supervisor {}: child {} did not stop within {} s; killing it", name, id,
                   how.seconds());
    }
    exit(a, ExitReason::kill());
    if (a.join(Deadline::after(kKillGrace))) return;
    // Only a child that never reaches a wait point (or waits for a thread-pool job) gets here.
    spdlog::error("supervisor {}: child {} did not die within {} s of kill; abandoning it", name,
                  id, kKillGrace);
    unlink(a);
  }

  // The supervisor itself is dying: every child gets the untrappable kill at once, nobody is
  // waited for (OTP: a killed supervisor's children end with `killed`), none is orphaned.
  void kill_all() noexcept {
    for (auto& c : children) {
      if (c.actor && !c.actor.dead()) exit(c.actor, ExitReason::kill());
    }
  }

  // Reverse start order (S7), from the end down to `first`.
  void terminate_from(std::size_t first) {
    for (std::size_t i = children.size(); i-- > first;) terminate(children[i]);
  }

  // Stops the children from `first` on so that a strategy can restart them (S3, S4). A
  // temporary child stopped this way is forgotten, not restarted (S5), as in OTP.
  void stop_for_restart(std::size_t first) {
    terminate_from(first);
    const auto temporary = [](const Child& x) { return x.spec.restart == Restart::kTemporary; };
    children.erase(std::remove_if(children.begin() + static_cast<std::ptrdiff_t>(first),
                                  children.end(), temporary),
                   children.end());
  }

  // Counts a restart; gives up (S6) when the budget is exceeded.
  void count_restart() {
    const double now = Deadline::now();
    restarts.push_back(now);
    while (!restarts.empty() && now - restarts.front() > flags.period) restarts.pop_front();
    if (static_cast<int>(restarts.size()) > flags.intensity) {
      outcome->gave_up = fmt::format("reached max restart intensity ({} restarts in {} s, {} allowed)",
                                     restarts.size(), flags.period, flags.intensity);
      spdlog::error("supervisor {} gives up: {}; stopping all children and exiting with reason "
                    "shutdown",
                    name, outcome->gave_up);
      throw StopSupervisor{ExitReason::shutdown()};
    }
  }

  // Starts child `i`; a start that fails counts as a restart and is retried until the budget
  // runs out.
  void restart_at(std::size_t i) {
    Child& c = children[i];
    for (;;) {
      try {
        start(c);
        spdlog::info("supervisor {}: restarted child {} as {}", name, c.spec.id,
                     c.actor->describe());
        return;
      } catch (const SupervisorError& e) {
        spdlog::error("{}", e.what());
        count_restart();  // throws StopSupervisor when the budget is spent
      }
    }
  }

  // Starts the stopped children of [first, end) in order.
  void restart_range(std::size_t first) {
    for (std::size_t i = first; i < children.size(); ++i) {
      if (!children[i].actor) restart_at(i);
    }
  }

  void on_child_exit(const ActorRef& from, const ExitReason& reason) {
    Child* c = find(from.get());
    if (c == nullptr) return;  // not (any more) ours
    c->actor = ActorRef();
    const bool abnormal = reason.is_abnormal_for_restart();
    if (abnormal) {
      spdlog::error("supervisor {}: child {} exited with reason {}", name, c->spec.id,
                    reason.to_string());
    }
    const bool restart = c->spec.restart == Restart::kPermanent ||
                         (c->spec.restart == Restart::kTransient && abnormal);
    if (!restart) {
      // Forgotten (S5); so is a simple_one_for_one child that is not restarted (S9), as in OTP.
      if (c->spec.restart == Restart::kTemporary || flags.strategy == Strategy::kSimpleOneForOne) {
        std::erase_if(children, [&](const Child& x) { return &x == c; });
      }
      return;
    }
    count_restart();
    const std::size_t index = static_cast<std::size_t>(c - children.data());
    switch (flags.strategy) {
      case Strategy::kOneForOne:
      case Strategy::kSimpleOneForOne:
        restart_at(index);
        break;
      case Strategy::kOneForAll:  // S3
        stop_for_restart(0);
        restart_range(0);
        break;
      case Strategy::kRestForOne:  // S4
        stop_for_restart(index + 1);
        restart_range(index);
        break;
    }
  }

  // Adds a child and starts it; on failure the spec is not kept. Returns the started actor.
  ActorRef add_and_start(ChildSpec spec) {
    children.push_back(Child{std::move(spec), ActorRef()});
    try {
      start(children.back());
    } catch (...) {
      children.pop_back();
      throw;
    }
    return children.back().actor;
  }

  // terminate_child: stops `c`; a temporary or simple_one_for_one child's spec goes with it.
  void terminate_child(Child* c) {
    terminate(*c);
    if (c->spec.restart == Restart::kTemporary || template_spec) {
      std::erase_if(children, [&](const Child& x) { return &x == c; });
    }
  }

  void shutdown_all() {
    if (flags.strategy == Strategy::kSimpleOneForOne) {
      for (auto& c : children) terminate(c);
    } else {
      terminate_from(0);
    }
  }
};

namespace {

struct InitReply {
  bool finished = false;
  std::exception_ptr error;
  WaitList waiters;
};

void supervise(std::shared_ptr<Supervisor::State> state, std::shared_ptr<InitReply> init) {
  Supervisor::State& s = *state;
  // However the start ends (a child failed, the supervisor was killed meanwhile), the caller of
  // Supervisor::start is answered.
  struct AnswerStart {
    InitReply& init;
    ~AnswerStart() {
      if (init.finished) return;
      init.finished = true;
      if (!init.error) {
        init.error = std::make_exception_ptr(
            SupervisorError("the supervisor was killed while it started its children"));
      }
      init.waiters.wake_all();
    }
  } answer{*init};
  trap_exit(true);
  if (s.name.empty()) s.name = self().name();
  s.outcome->name = s.name;
  // S1: start in order; on failure stop the started ones in reverse and fail the start.
  if (s.flags.strategy == Strategy::kSimpleOneForOne) {
    if (s.children.size() != 1) {
      init->error = std::make_exception_ptr(
          SupervisorError("simple_one_for_one needs exactly one child spec (the template)"));
    } else {
      s.template_spec = std::move(s.children.front().spec);
      s.children.clear();
    }
  } else {
    for (std::size_t i = 0; i < s.children.size(); ++i) {
      try {
        s.start(s.children[i]);
      } catch (...) {
        if (dying()) {
          s.kill_all();
          throw;
        }
        init->error = std::current_exception();
        s.terminate_from(0);
        break;
      }
    }
  }
  init->finished = true;
  init->waiters.wake_all();
  if (init->error) throw ExitSignal{ExitReason::shutdown()};

  try {
    for (;;) {
      receive(
          [&](Exit e) {
            if (s.parent && e.from == s.parent) {  // the parent stops us (S8, S10)
              throw StopSupervisor{e.reason.is_normal() ? ExitReason::shutdown() : e.reason};
            }
            s.on_child_exit(e.from, e.reason);
          },
          [&](Call call) {
            std::shared_ptr<CallReply> reply = std::move(call.reply);
            try {
              call.fn(s);
              reply->finish(nullptr);
            } catch (const StopSupervisor&) {
              reply->finish(nullptr);
              throw;
            } catch (...) {
              if (dying()) {  // a kill is not an error reply: the supervisor dies (E11)
                reply->finish(std::make_exception_ptr(
                    SupervisorError("the supervisor was killed while handling the request")));
                throw;
              }
              reply->finish(std::current_exception());
            }
          });
    }
  } catch (const StopSupervisor& stop) {
    // Orderly: children stop in reverse order (S6, S7). If the supervisor is killed meanwhile,
    // the rest get the kill at once.
    try {
      s.shutdown_all();
    } catch (...) {
      s.kill_all();
      throw;
    }
    throw ExitSignal{stop.reason};
  } catch (...) {
    // Killed, ended by an exit signal, or a bug: no orderly shutdown, no child left behind.
    s.kill_all();
    throw;
  }
}

}  // namespace

Supervisor Supervisor::start(SupervisorFlags flags, std::vector<ChildSpec> children) {
  auto state = std::make_shared<State>();
  state->flags = std::move(flags);
  state->name = state->flags.name;
  for (auto& spec : children) state->children.push_back(Child{std::move(spec), ActorRef()});
  auto init = std::make_shared<InitReply>();
  ActorOptions options;
  options.name = state->flags.name;
  if (in_actor()) {
    state->parent = self();
    options.link = true;
  }
  ActorRef actor = spawn_opt(options, [state, init] { supervise(state, init); });
  while (!init->finished) {
    if (init->waiters.wait(Deadline::never(), "supervisor start") == WaitStatus::kTimedOut) {
      std::abort();  // a wait without a deadline does not time out
    }
  }
  if (init->error) {
    (void)actor.join();
    std::rethrow_exception(init->error);
  }
  return Supervisor(actor, state->outcome);
}

SupervisorError Supervisor::not_running() const {
  if (gave_up()) {
    return SupervisorError(
        fmt::format("supervisor {} gave up: {}", outcome_->name, outcome_->gave_up));
  }
  return SupervisorError("the supervisor is not running");
}

void Supervisor::call(std::function<void(State&)> fn) const {
  if (!actor_) throw not_running();
  if (Hub::current_if_exists() != &actor_->hub()) {
    throw SupervisorError(
        "supervisor requests must come from fibers of the supervisor's own thread (send it a "
        "message from other threads)");
  }
  if (actor_.dead()) throw not_running();
  if (in_actor() && self() == actor_) {
    throw SupervisorError(
        "a supervisor cannot make a request to itself (a child's start function called one of "
        "its supervisor's methods; it would wait for itself)");
  }
  auto reply = std::make_shared<CallReply>();
  send(actor_, Call(std::move(fn), reply));
  while (!reply->finished) {
    if (reply->waiters.wait(Deadline::never(), "supervisor call") == WaitStatus::kTimedOut) {
      std::abort();  // a wait without a deadline does not time out
    }
  }
  if (reply->error) std::rethrow_exception(reply->error);
}

// Each request below captures its arguments by value and its result through a shared_ptr (see
// CallReply): nothing refers to the caller's stack.

ActorRef Supervisor::start_child(ChildSpec spec) const {
  auto started = std::make_shared<ActorRef>();
  call([spec = std::move(spec), started](State& s) {
    if (s.flags.strategy == Strategy::kSimpleOneForOne) {
      throw SupervisorError("simple_one_for_one: use start_child(start function)");
    }
    if (s.find(spec.id) != nullptr) {
      throw SupervisorError(fmt::format("supervisor {}: child {} already exists", s.name, spec.id));
    }
    *started = s.add_and_start(spec);
  });
  return *started;
}

ActorRef Supervisor::start_child(std::function<ActorRef()> start) const {
  auto started = std::make_shared<ActorRef>();
  call([start = std::move(start), started](State& s) {
    if (!s.template_spec) {
      throw SupervisorError("start_child(start function) is for simple_one_for_one supervisors");
    }
    ChildSpec spec = *s.template_spec;
    spec.id = fmt::format("{}-{}", s.template_spec->id, ++s.dynamic_count);
    spec.start = start;
    *started = s.add_and_start(std::move(spec));
  });
  return *started;
}

bool Supervisor::terminate_child(const std::string& id) const {
  auto found = std::make_shared<bool>(false);
  call([id, found](State& s) {
    Child* c = s.find(id);
    if (c == nullptr) return;
    *found = true;
    s.terminate_child(c);
  });
  return *found;
}

bool Supervisor::terminate_child(const ActorRef& child) const {
  auto found = std::make_shared<bool>(false);
  call([child, found](State& s) {
    Child* c = s.find(child.get());
    if (c == nullptr) return;
    *found = true;
    s.terminate_child(c);
  });
  return *found;
}

ActorRef Supervisor::restart_child(const std::string& id) const {
  auto started = std::make_shared<ActorRef>();
  call([id, started](State& s) {
    Child* c = s.find(id);
    if (c == nullptr || c->actor) return;
    s.start(*c);
    *started = c->actor;
  });
  return *started;
}

bool Supervisor::delete_child(const std::string& id) const {
  auto deleted = std::make_shared<bool>(false);
  call([id, deleted](State& s) {
    Child* c = s.find(id);
    if (c == nullptr || c->actor) return;
    std::erase_if(s.children, [&](const Child& x) { return &x == c; });
    *deleted = true;
  });
  return *deleted;
}

std::vector<ChildInfo> Supervisor::which_children() const {
  auto out = std::make_shared<std::vector<ChildInfo>>();
  call([out](State& s) {
    for (const auto& c : s.children) {
      out->push_back(ChildInfo{c.spec.id, c.actor, c.spec.type, c.spec.restart});
    }
  });
  return std::move(*out);
}

ChildCounts Supervisor::count_children() const {
  auto counts = std::make_shared<ChildCounts>();
  call([counts](State& s) {
    for (const auto& c : s.children) {
      ++counts->specs;
      if (c.actor) ++counts->active;
      if (c.spec.type == ChildType::kSupervisor) {
        ++counts->supervisors;
      } else {
        ++counts->workers;
      }
    }
  });
  return *counts;
}

void Supervisor::stop() const {
  if (!actor_ || actor_.dead()) return;
  try {
    call([](State&) { throw StopSupervisor{ExitReason::shutdown()}; });
  } catch (const SupervisorError&) {
    // It exited before answering: that is what we asked for.
  }
  (void)actor_.join();
}

}  // namespace grove
