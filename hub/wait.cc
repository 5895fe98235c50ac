// hub/wait.cc — Deadline, Waiter and WaitList (hub/wait.h): how a fiber parks and is woken,
// with an optional libev timer for its deadline.
#include "hub/wait.h"

#include <ev.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "hub/errors.h"
#include "hub/fiber.h"
#include "hub/hub.h"
#include "hub/internal/loop.h"
#include "hub/internal/scheduling.h"

namespace grove {


double Deadline::now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Deadline Deadline::after(double seconds) {
  if (std::isnan(seconds) || seconds == std::numeric_limits<double>::infinity()) return never();
  // Already passed: no need to read the clock (a wait point with a zero timeout is common, e.g.
  // IoWatcher::wait's check for a pending kill when readiness is already there).
  if (seconds <= 0) return Deadline(-std::numeric_limits<double>::infinity());
  return Deadline(now() + seconds);
}

Deadline Deadline::at(std::chrono::steady_clock::time_point tp) {
  const double delta =
      std::chrono::duration<double>(tp - std::chrono::steady_clock::now()).count();
  return after(delta);
}

double Deadline::remaining() const {
  if (is_never()) return std::numeric_limits<double>::infinity();
  if (at_ == -std::numeric_limits<double>::infinity()) return at_;  // after(0): passed
  return at_ - now();
}


namespace {

struct DeadlineTimer {
  ev_timer timer;
  Waiter* waiter;
};

}  // namespace

void Waiter::on_deadline(struct ev_loop* loop, ev_timer* w, int) {
  internal::timer_fired(loop, w);
  Waiter* waiter = reinterpret_cast<DeadlineTimer*>(w)->waiter;
  if (waiter->state_ != State::kParked) return;
  if (waiter->list_ != nullptr) waiter->list_->remove(*waiter);
  waiter->state_ = State::kTimedOut;
  waiter->fiber_->hub().scheduler_.schedule(*waiter->fiber_);
}

// [[gnu::hot]]: on every I/O wait. GCC groups such functions in .text.hot, so a wait and a wake
// run through a few contiguous lines of code (the kernel's work in between evicts the rest).
[[gnu::hot]] Waiter::Waiter() noexcept : fiber_(&Hub::current().current_fiber()) {}

[[gnu::hot]] bool Waiter::wake() noexcept {
  switch (state_) {
    case State::kParked:
      if (list_ != nullptr) list_->remove(*this);
      state_ = State::kWoken;
      fiber_->hub().scheduler_.schedule(*fiber_);
      return true;
    case State::kIdle:
      if (list_ != nullptr) list_->remove(*this);
      state_ = State::kWoken;  // woken before it parked: wait() returns at once
      if (forward_ != nullptr) [[unlikely]] {
        // A registration of a wait_any or WaitSet: it joins the chain of registrations that
        // fired (newest first, through their payloads) and wakes the waiter that parks.
        payload = forward_->payload;
        forward_->payload = this;
        (void)forward_->wake();
      }
      return true;
    default:
      return false;
  }
}

bool Waiter::interrupt(std::exception_ptr error) noexcept {
  if (state_ != State::kParked) [[unlikely]] {
    if (forward_ == nullptr || state_ != State::kIdle) return false;
    // A registration of a wait_any (its source was destroyed or cancelled): leave the source
    // and interrupt the waiter that parks.
    if (list_ != nullptr) list_->remove(*this);
    return forward_->interrupt(std::move(error));
  }
  if (list_ != nullptr) list_->remove(*this);
  Fiber& f = *fiber_;
  // Parked means nothing final is pending (it would have woken the fiber); a pending timeout
  // or one-shot kill is replaced by this more specific error, which is thrown first.
  f.pending_ = std::move(error);
  f.pending_kind_ = Fiber::Pending::kOnce;
  f.pending_timeout_ = 0;
  state_ = State::kInterrupted;
  f.hub().scheduler_.schedule(f);
  return true;
}

[[gnu::always_inline]] inline void Waiter::throw_if_interrupted() {
  Fiber& self = *fiber_;
  // A wait point: what was delivered while the fiber was running is thrown now.
  if ((self.pending_ || self.final_) && !shielded_) [[unlikely]] {
    // A final kill is not thrown out of a destructor that waits while the stack unwinds: that
    // wait stays on its list and parks as any other (leaving the list there parked it for good).
    if (self.pending_ || std::uncaught_exceptions() == 0) {
      if (list_ != nullptr) list_->remove(*this);
      self.hub().throw_interruption(self);  // throws
    }
  }
}

[[gnu::always_inline]] inline WaitStatus Waiter::wait_inline(Deadline deadline, const char* what) {
  throw_if_interrupted();
  if (state_ == State::kWoken) {  // woken before it parked
    state_ = State::kIdle;
    return WaitStatus::kWoken;
  }
  Hub& hub = fiber_->hub();
  DeadlineTimer timer;
  bool timed = false;
  if (!deadline.is_never()) {
    const double left = deadline.remaining();
    if (left <= 0) {
      if (list_ != nullptr) list_->remove(*this);
      return WaitStatus::kTimedOut;
    }
    timer.waiter = this;
    ev_init(&timer.timer, &on_deadline);
    internal::arm_timer(hub, &timer.timer, left);
    hub.reactor_.count_timer();
    timed = true;
  }
  state_ = State::kParked;
  struct StopTimer {
    DeadlineTimer* timer;
    bool active;
    Hub& hub;
    ~StopTimer() {
      if (active) internal::disarm_timer(hub, &timer->timer);
    }
  } stop{&timer, timed, hub};
  hub.scheduler_.park(*this, what);
  return finish_wait();
}

[[gnu::always_inline]] inline WaitStatus Waiter::finish_wait() {
  switch (state_) {
    case State::kWoken:
      state_ = State::kIdle;
      return WaitStatus::kWoken;
    case State::kTimedOut:
      state_ = State::kIdle;
      return WaitStatus::kTimedOut;
    case State::kInterrupted:
      state_ = State::kIdle;
      fiber_->hub().throw_interruption(*fiber_);
      std::abort();  // interrupted with nothing to throw: a scheduling bug
    default:
      std::abort();  // resumed while still parked: a scheduling bug
  }
}

[[gnu::hot]] WaitStatus Waiter::wait(Deadline deadline, const char* what) {
  return wait_inline(deadline, what);
}

[[gnu::hot]] WaitStatus Waiter::poll() {
  throw_if_interrupted();
  if (state_ == State::kWoken) {
    state_ = State::kIdle;
    return WaitStatus::kWoken;
  }
  if (list_ != nullptr) list_->remove(*this);
  return WaitStatus::kTimedOut;
}

void Waiter::wait_shielded(const char* what) {
  shielded_ = true;
  struct Unshield {
    bool& flag;
    ~Unshield() { flag = false; }
  } unshield{shielded_};
  (void)wait_inline(Deadline::never(), what);
}

WaitList::~WaitList() {
  // Fibers still parked here would be woken later through freed memory: interrupt them now.
  if (head_ == nullptr) return;
  spdlog::error("grove: a WaitList was destroyed while {} fiber(s) waited on it; they get "
                "ObjectDestroyed",
                size_);
  while (head_ != nullptr) {
    Waiter* w = head_;
    const char* what = w->fiber_->what_;
    if (!w->interrupt(std::make_exception_ptr(ObjectDestroyed(fmt::format(
            "grove: the object this fiber waited on (\"{}\") was destroyed", what))))) {
      remove(*w);  // not parked (woken meanwhile): just unlink it
    }
  }
}

Waiter* WaitList::wake_one() noexcept {
  Waiter* w = head_;
  if (w == nullptr) return nullptr;
  w->wake();  // unlinks
  return w;
}

std::size_t WaitList::wake_all() noexcept {
  std::size_t n = 0;
  while (head_ != nullptr) {
    head_->wake();
    ++n;
  }
  return n;
}

WaitStatus WaitList::wait(Deadline deadline, const char* what) {
  Waiter w;
  push_back(w);
  return w.wait_inline(deadline, what);
}
}  // namespace grove
