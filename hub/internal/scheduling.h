// hub/internal/scheduling.h — the switching code of hub/scheduler.h, inline for the hub's own
// .cc files (scheduler.cc, wait.cc, fiber.cc, hub.cc): a yield or a wait is a handful of loads
// and stores around jump_fcontext, and a call per step would show in every figure.
//
// Thread: the hub's own thread.
#pragma once

#include <utility>

#include "hub/internal/context.h"
#include "hub/internal/stack_pool.h"
#include "hub/internal/switch.h"
#include "hub/scheduler.h"
#include "hub/wait.h"

namespace grove {

namespace internal {
// Says on stderr that `fiber` ran past the bottom of its arena stack (hub/overflow.cc); aborts.
[[noreturn]] void stack_canary_overwritten(const Fiber& fiber) noexcept;
}  // namespace internal

inline internal::Stack Scheduler::take_stack(std::size_t size) {
  return stacks_->allocate(size);
}

inline void Scheduler::release_stack(Fiber& f) noexcept {
  internal::destroy_context(f.ctx_);
  stacks_->release(f.stack_);
  f.stack_ = {};
}

inline void Scheduler::after_switch() noexcept {
  if (Fiber* dead = std::exchange(dying_, nullptr)) {
    release_stack(*dead);
    dead->release();  // the hub's reference
  }
}

[[gnu::always_inline]] inline void Scheduler::switch_to(Fiber& next, bool finishing) {
  Fiber& prev = *current_;
  if (!prev.stack_.canary_intact()) [[unlikely]] internal::stack_canary_overwritten(prev);
  next.ran_ = true;
  current_ = &next;
  next.state_ = FiberState::kRunning;
  ++switches_;
  note_progress();
  internal::switch_context(eh_, prev.ctx_, next.ctx_, finishing);
  if (dying_ != nullptr) [[unlikely]] {
    after_switch();
  }
}

[[gnu::always_inline]] inline void Scheduler::switch_out(bool finishing) {
  Fiber* next = loop_fiber_;
  while (pass_budget_ > 0 && ready_head_ != nullptr) {
    Fiber* f = ready_head_;
    ready_head_ = f->next_ready_;
    if (ready_head_ == nullptr) ready_tail_ = nullptr;
    --ready_count_;
    if (f->state_ == FiberState::kDead) {  // killed before it ever ran
      f->release();
      continue;
    }
    if ((--pass_budget_ & 63) == 0 && pass_budget_ > 0) [[unlikely]] {
      check_pass_clock();  // a long pass: may end it (out of line, off the switch path)
    }
    next = f;
    break;
  }
  if (next == current_) {  // yielded with nobody else ready
    if (!current_->stack_.canary_intact()) [[unlikely]] {
      internal::stack_canary_overwritten(*current_);
    }
    current_->state_ = FiberState::kRunning;
    // Still a yield point: the blocking monitor must not take a polite fiber for a stuck one.
    note_progress();
    return;
  }
  switch_to(*next, finishing);
}

[[gnu::always_inline]] inline void Scheduler::park(Waiter& w, const char* what) {
  Fiber& self = *current_;
  self.state_ = FiberState::kParked;
  self.waiter_ = &w;
  self.what_ = what;
  // Parked from here on (a wake or an interruption during the poll finds it so).
  if (ready_head_ == nullptr) park_poll_(park_poll_arg_);
  switch_out();
  self.waiter_ = nullptr;
}

[[gnu::always_inline]] inline void Scheduler::yield() {
  schedule(*current_);
  switch_out();
}

}  // namespace grove
