// hub/scheduler.cc — the ready queue, the pass budget and the fibers' stacks (hub/scheduler.h);
// the switch itself is inline in hub/internal/scheduling.h.
#include "hub/scheduler.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "hub/internal/context.h"
#include "hub/internal/scheduling.h"
#include "hub/internal/stack_pool.h"

namespace grove {

Scheduler::Scheduler() : stacks_(std::make_unique<internal::StackPool>()) {}

Scheduler::~Scheduler() {
  if (loop_fiber_ != nullptr) {
    internal::destroy_context(loop_fiber_->ctx_);
    stacks_->release(loop_fiber_->stack_);
    loop_fiber_->stack_ = {};
    loop_fiber_->state_ = FiberState::kDead;
    loop_fiber_->release();
  }
  if (main_ != nullptr) {
    main_->state_ = FiberState::kDead;
    main_->release();
  }
}

void Scheduler::adopt(Fiber& main, Fiber& loop_fiber, void (*body)(void* arg), void* arg) {
  eh_ = internal::current_eh_globals();

  main.add_ref();
  main.is_main_ = true;
  main.state_ = FiberState::kRunning;
  main.scheduled_once_ = true;
  internal::adopt_thread_context(main.ctx_);
  main_ = &main;
  current_ = &main;

  loop_body_ = body;
  loop_body_arg_ = arg;
  loop_fiber.add_ref();
  loop_fiber.scheduled_once_ = true;
  loop_fiber.stack_ = stacks_->allocate(0);
  internal::make_context(
      loop_fiber.ctx_, loop_fiber.stack_.bottom, loop_fiber.stack_.usable_size(),
      [](internal::MachineContext* /*from*/, void* self) {
        auto* scheduler = static_cast<Scheduler*>(self);
        scheduler->after_switch();
        scheduler->loop_body_(scheduler->loop_body_arg_);
        std::abort();  // the loop fiber's body never returns
      },
      this);
  loop_fiber_ = &loop_fiber;
}

void Scheduler::start_pass() noexcept {
  pass_budget_ = std::max<int>(static_cast<int>(ready_count_), kMinSwitchesPerPoll);
  last_poll_ = 0;  // read at the pass's 64th switch, if it gets that far (switch_out)
}

void Scheduler::check_pass_clock() noexcept {
  const double now = Deadline::now();
  if (last_poll_ == 0) {
    last_poll_ = now;
  } else if (now - last_poll_ > kMaxPollIntervalSeconds) {
    pass_budget_ = 0;  // poll after this switch
  }
}

std::size_t Scheduler::stacks_pooled() const { return stacks_->pooled(); }

}  // namespace grove
