// hub/hub.cc — the Hub: its scheduler and reactor put together by the loop fiber, the list of
// live fibers, kills and timeouts delivered to them, callbacks, errors and counters.
#include "hub/hub.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hub/internal/env.h"
#include "hub/internal/scheduling.h"
#include "hub/monitor.h"
#include "hub/timer.h"

namespace grove {

namespace {

constexpr std::uint32_t kKillRethrowsReported = 1000;

// Every live hub's inbox, so another thread can reach a hub it only knows by pointer.
std::mutex hubs_mutex;
std::unordered_map<const Hub*, std::weak_ptr<internal::Inbox>>& live_hubs() {
  static auto* hubs = new std::unordered_map<const Hub*, std::weak_ptr<internal::Inbox>>();
  return *hubs;
}

// Runs Hub::destroy_current() when a thread that used grove exits.
struct HubReaper {
  ~HubReaper() { Hub::destroy_current(); }
};
thread_local HubReaper* tls_reaper = nullptr;

}  // namespace


// The two fibers a hub owns for its whole life and never runs a body in: the thread's own stack
// ("main") and the loop fiber ("hub", whose body the scheduler runs).
class Hub::OwnFiber final : public Fiber {
 public:
  OwnFiber(const char* name, const char* description) : Fiber(0), description_(description) {
    set_debug_name(name);
  }
  std::string describe() const override { return description_; }

 private:
  void run() override {}
  const char* description_;
};

void Hub::throw_interruption(Fiber& self) {
  if (self.pending_) {
    const Fiber::Pending kind = std::exchange(self.pending_kind_, Fiber::Pending::kNone);
    std::exception_ptr error = std::exchange(self.pending_, nullptr);
    self.pending_timeout_ = 0;
    if (kind == Fiber::Pending::kFinal) self.final_ = error;
    std::rethrow_exception(error);
  }
  // A final kill is thrown again at every wait point, but never out of a destructor that waits
  // while the stack unwinds (that would terminate the program).
  if (self.final_ && std::uncaught_exceptions() == 0) {
    // The fiber caught its kill and went on to wait again. Let the others run first, so a loop
    // that keeps catching the kill cannot stall the hub, and say so once.
    if (++self.kill_rethrows_ == kKillRethrowsReported) {
      spdlog::error("grove: {} caught its kill {} times and keeps waiting; it cannot end until "
                    "it lets the kill propagate",
                    self.describe(), kKillRethrowsReported);
    }
    scheduler_.yield();
    std::rethrow_exception(self.final_);
  }
}

Hub& Hub::create_current() {
  new Hub();  // registers itself as current_hub_
  internal::watch_from_environment();
  if (tls_reaper == nullptr) {
    thread_local HubReaper reaper;
    tls_reaper = &reaper;
  }
  return *current_hub_;
}

namespace {
// GROVE_IDLE_SPIN_US, read once per process.
double idle_spin_limit_from_env() {
  static const double limit =
      static_cast<double>(internal::env_count(
          "GROVE_IDLE_SPIN_US", 0, 10000,
          static_cast<std::uint64_t>(IdleSpin::kDefaultLimitSeconds * 1e6))) *
      1e-6;
  return limit;
}
}  // namespace

Hub::Hub() : reactor_(*this), idle_spin_(idle_spin_limit_from_env()) {
  current_hub_ = this;  // fibers below look the hub up while being constructed
  internal::catch_stack_overflows();
  {
    std::lock_guard lock(hubs_mutex);
    live_hubs()[this] = reactor_.inbox();
  }
  // Main first, so that it keeps the hub's first fiber id.
  Fiber* main = new OwnFiber("main", "<main fiber>");
  Fiber* loop_fiber = new OwnFiber("hub", "<hub>");
  scheduler_.adopt(*main, *loop_fiber, [](void* self) { static_cast<Hub*>(self)->loop_run(); },
                   this);
  scheduler_.set_park_poll([](void* self) { static_cast<Hub*>(self)->poll_in_place(); }, this);
  internal::register_for_debuggers(*this);
}

Hub::~Hub() {
  internal::unregister_for_debuggers(*this);
  if (watch_) internal::unwatch(this);
  internal::drop_timers(*this);
  {
    std::lock_guard lock(hubs_mutex);
    live_hubs().erase(this);
  }
  // Then the members: the reactor closes its inbox, stops the watchers still registered and
  // destroys the loop; the scheduler releases the loop and main fibers.
}

void Hub::destroy_current() {
  Hub* hub = current_hub_;
  if (hub == nullptr) return;
  if (!hub->in_main_fiber()) {
    spdlog::error("grove: Hub::destroy_current() called from a fiber; the hub is leaked");
    return;
  }
  hub->destroying_ = true;
  // Kill every fiber still alive and let it unwind; fibers that catch the kill and wait again are
  // killed again, a bounded number of times.
  for (int round = 0; round < 100 && hub->live_count_ > 0; ++round) {
    std::vector<FiberRef> alive;
    for (Fiber* f = hub->live_head_; f != nullptr; f = f->next_live_) alive.emplace_back(f);
    for (auto& f : alive) f->kill();
    for (int spin = 0; spin < 1000 && hub->live_count_ > 0; ++spin) {
      try {
        hub->yield();
      } catch (...) {
        // A kill or LoopExit aimed at main while tearing down: ignore.
      }
      if (!hub->scheduler_.has_ready()) break;  // the rest are parked: kill them again
    }
    if (hub->live_count_ > 0 && !hub->scheduler_.has_ready()) {
      // Parked where a kill waits its turn (a shielded wait for a thread-pool job): give the
      // loop a moment to deliver what they wait for.
      try {
        hub->sleep(0.01);
      } catch (...) {
      }
    }
  }
  if (hub->live_count_ > 0) {
    spdlog::error("grove: {} fiber(s) refused to die while the hub was destroyed; leaked",
                  hub->live_count_);
  }
  current_hub_ = nullptr;
  delete hub;
}

RemoteHub Hub::remote() const { return RemoteHub(reactor_.inbox()); }

RemoteHub Hub::remote_of(const Hub* hub) {
  std::lock_guard lock(hubs_mutex);
  auto it = live_hubs().find(hub);
  if (it == live_hubs().end()) return RemoteHub();
  return RemoteHub(it->second.lock());
}

void Hub::run_callback(std::function<void()> fn) {
  callbacks_.push_back(std::move(fn));
  scheduler_.end_pass();  // the hub's fiber runs at the next switch
}

void Hub::run_callbacks() {
  // Callbacks queued by these callbacks run at the next pass, not in this one.
  std::vector<std::function<void()>> batch;
  batch.swap(callbacks_);
  for (auto& fn : batch) {
    try {
      fn();
    } catch (...) {
      report_error("<hub callback>", std::current_exception());
    }
  }
}

void Hub::ref_external() noexcept { reactor_.ref_external(); }

void Hub::unref_external() noexcept { reactor_.unref_external(); }

void Hub::set_error_handler(ErrorHandler handler) { error_handler_ = std::move(handler); }

void Hub::report_error(std::string where, std::exception_ptr error) {
  if (error_handler_) {
    error_handler_(ErrorReport{std::move(where), std::move(error)});
    return;
  }
  spdlog::error("{}", describe_failure(where, error));
}

HubStats Hub::stats() const {
  HubStats s;
  s.switches = scheduler_.switches();
  s.wakeups = scheduler_.wakeups();
  s.polls = reactor_.polls();
  s.fast_polls = reactor_.fast_polls();
  s.timers_started = reactor_.timers_started();
  s.fibers_spawned = fibers_spawned_;
  s.fibers_alive = live_count_;
  s.ready = scheduler_.ready_count();
  s.stacks_pooled = scheduler_.stacks_pooled();
  s.inbox_items = reactor_.inbox_items();
  s.inbox_wakeups = reactor_.inbox_wakeups();
  return s;
}

std::string Hub::run_info() const {
  std::string out;
  for (Fiber* f = live_head_; f != nullptr; f = f->next_live_) {
    const std::string details = f->run_info_details();
    fmt::format_to(std::back_inserter(out),
                   "{} state={} waiting_on=\"{}\" stack_high_water={}{}{}\n", f->describe(),
                   to_string(f->state_), f->waiting_on(), f->stack_high_water(),
                   details.empty() ? "" : " ", details);
  }
  const HubStats s = stats();
  fmt::format_to(std::back_inserter(out),
                 "hub: fibers_alive={} ready={} switches={} wakeups={} polls={} fast_polls={} "
                 "timers={} spawned={} stacks_pooled={}\n",
                 s.fibers_alive, s.ready, s.switches, s.wakeups, s.polls, s.fast_polls,
                 s.timers_started, s.fibers_spawned, s.stacks_pooled);
  return out;
}

void Hub::yield() {
  interruption_point();
  scheduler_.yield();
  interruption_point();
}

void Hub::sleep(double seconds) {
  if (!(seconds > 0)) {
    yield();
    return;
  }
  Waiter w;
  (void)w.wait(Deadline::after(seconds), "sleep");
}

void sleep(double seconds) { Hub::current().sleep(seconds); }

void Hub::on_fiber_dead(Fiber& f) noexcept {
  f.state_ = FiberState::kDead;
  f.dead_.store(true, std::memory_order_release);
  f.pending_ = nullptr;
  f.pending_kind_ = Fiber::Pending::kNone;
  f.final_ = nullptr;
  remove_live(f);
  f.joiners_.wake_all();
  scheduler_.release_after_switch(f);
}

bool Hub::interrupt(Fiber& f, std::exception_ptr error, Fiber::Pending kind,
                    std::uint64_t timeout_id) noexcept {
  using P = Fiber::Pending;
  if (f.state_ == FiberState::kDead) return false;
  // A final kill, thrown or pending, is never replaced (OTP: the first signal that kills
  // decides the reason); a timeout never replaces a pending kill.
  if (f.final_ || f.pending_kind_ == P::kFinal) return false;
  if (kind == P::kTimeout && f.pending_kind_ == P::kOnce) return false;
  f.pending_ = std::move(error);
  f.pending_kind_ = kind;
  f.pending_timeout_ = timeout_id;
  if (f.state_ == FiberState::kParked && f.waiter_ != nullptr && !f.waiter_->shielded_) {
    Waiter& w = *f.waiter_;
    if (w.list_ != nullptr) w.list_->remove(w);
    w.state_ = Waiter::State::kInterrupted;
    scheduler_.schedule(f);
  }
  // Otherwise (running, ready, or in a shielded wait) it is thrown at the next wait point.
  return true;
}

void Hub::deliver_loop_exit() {
  std::string others;
  std::size_t parked = 0;
  for (Fiber* f = live_head_; f != nullptr; f = f->next_live_) {
    if (f->state_ != FiberState::kParked) continue;
    if (++parked <= 5) others += fmt::format("{}{}", others.empty() ? "" : ", ", f->describe());
  }
  std::string message = fmt::format(
      "This operation would block forever: the main fiber waits on \"{}\" and nothing can wake "
      "it (no ready fiber, no active timer or I/O watcher, no pending thread job)",
      main_fiber().what_);
  if (parked > 0) {
    message += fmt::format("; {} other fiber(s) parked: {}{}", parked, others,
                           parked > 5 ? ", ..." : "");
  }
  interrupt(main_fiber(), std::make_exception_ptr(LoopExit(message)), Fiber::Pending::kOnce, 0);
}

// [[gnu::hot]]: on every I/O wait. GCC groups such functions in .text.hot, so a wait and a wake
// run through a few contiguous lines of code (the kernel's work in between evicts the rest).
[[gnu::hot]] void Hub::poll_in_place() {
  if (!callbacks_.empty() || idle_spin_.window() <= 0 || reactor_.inbox_active() ||
      reactor_.inbox_posted_to()) {
    return;
  }
  Fiber* parked = scheduler_.lend_current_to_loop();
  reactor_.poll_in_place();
  scheduler_.take_back_current(parked);
  scheduler_.note_progress();
  if (!callbacks_.empty() || reactor_.inbox_posted_to()) {
    scheduler_.end_pass();  // the loop fiber runs them before anyone else
  } else if (scheduler_.has_ready()) {
    idle_spin_.spun(true);
    scheduler_.start_pass();
  } else {
    first_poll_done_ = true;
  }
}

[[gnu::hot]] bool Hub::spin_before_sleep(double& idle_since, bool first_poll_done) {
  const double window = idle_spin_.window();
  // Work just came from another hub: the reactor's own inbox spin (no syscalls) answers that.
  if (window <= 0 || reactor_.inbox_active()) {
    idle_since = Deadline::now();
    return false;
  }
  // The first poll reads no clock: under load it is the one that finds the next event. A fiber
  // that parked may have done it already, in place (poll_in_place).
  const auto found = [this] {
    scheduler_.note_progress();  // the blocking monitor: a spinning hub is not a blocked one
    reactor_.poll();
    reactor_.drain_inbox();
    return scheduler_.has_ready() || !callbacks_.empty();
  };
  if (!first_poll_done && found()) {
    idle_spin_.spun(true);
    return true;
  }
  idle_since = Deadline::now();
  const double until = idle_since + window;
  do {
    if (found()) {
      idle_spin_.spun(true);
      return true;
    }
  } while (Deadline::now() < until);
  idle_spin_.spun(false);
  return false;
}

[[gnu::hot]] void Hub::loop_run() {
  for (;;) {
    const bool first_poll_done = std::exchange(first_poll_done_, false);
    reactor_.drain_inbox();
    if (!callbacks_.empty()) run_callbacks();
    if (scheduler_.has_ready() || !callbacks_.empty()) {
      reactor_.poll();
    } else if (double idle_since = 0; !spin_before_sleep(idle_since, first_poll_done)) {
      // Nothing ready: block in the reactor until an event makes a fiber ready. With no active
      // (referenced) watcher left, nothing can ever wake main. The gap the idle spin learns from
      // runs from `idle_since`, the spin included.
      while (!scheduler_.has_ready()) {
        const int active = reactor_.sleep();
        if (active == Reactor::kPosted) {  // ran work posted from another thread
          if (!callbacks_.empty()) run_callbacks();
          if (scheduler_.has_ready() || !callbacks_.empty()) break;
          continue;
        }
        scheduler_.note_progress();
        if (!callbacks_.empty()) run_callbacks();
        if (scheduler_.has_ready()) break;
        if (active == 0 && callbacks_.empty()) {
          // The hub runs only when main waits.
          if (main_fiber().state_ != FiberState::kParked) std::abort();
          deliver_loop_exit();
        }
      }
      idle_spin_.slept(Deadline::now() - idle_since);
    }
    scheduler_.start_pass();
    scheduler_.switch_out();
  }
}

}  // namespace grove
