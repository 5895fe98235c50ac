// hub/scheduler.h — the half of a Hub that decides which fiber runs: the ready queue, the pass
// budget, and the switch from one fiber to the next.
//
// Model: fibers made ready (`schedule`) wait in a FIFO. A fiber that waits (`park`) or yields
// switches straight to the head of that queue; the hub's own fiber (the loop fiber, which polls
// the Reactor) runs only when the queue is empty or the pass budget is spent. The budget is set
// by the hub after each poll (`start_pass`): one pass of the queue, but at least
// kMinSwitchesPerPoll switches, so that two fibers yielding to each other do not pay a poll
// syscall every other switch; from the 64th switch of a pass on, every 64th switch also reads
// the clock and ends the pass early once kMaxPollIntervalSeconds have passed since the first of
// those reads, so heavy fibers between yields cannot hold I/O back for 1024 turns (a short pass,
// the common case, never reads the clock). A fiber that parks with the queue empty first runs the
// hub's park poll (`set_park_poll`) on its own stack: the loop fiber's first, non-blocking poll,
// done in place, so that a request/response wait goes straight from the waiting fiber to the one
// the poll woke (one switch instead of two through the loop fiber). The scheduler also owns the
// thread's stack pool: a fiber takes its stack when it starts and gives it back after its last
// switch.
//
// Thread: the hub's own thread only, except `switch_epoch()`, read by the blocking monitor's
// thread (hub/monitor.h). Lifetime: a member of its Hub; it owns the main fiber (the thread's
// own stack) and the loop fiber for the hub's whole life.
//
// Nothing above hub/ uses this class directly; Hub forwards what it offers:
//
//   Hub& hub = grove::Hub::current();
//   hub.schedule(fiber);  // -> Scheduler::schedule: appended to the ready queue
//   hub.yield();          // -> Scheduler::yield: every other ready fiber runs once first
//
// The switching code itself (switch_out, park) is inline in hub/internal/scheduling.h, for the
// hub's own .cc files: it is the hottest path of the library.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "hub/fiber.h"

namespace grove {

class Hub;
class Waiter;

namespace internal {
struct EhGlobals;
struct DebugLayout;
class StackPool;
}  // namespace internal

class Scheduler {
 public:
  static constexpr int kMinSwitchesPerPoll = 1024;
  static constexpr double kMaxPollIntervalSeconds = 0.001;

  Scheduler();
  ~Scheduler();  // releases the main and loop fibers
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Takes the thread's own stack as the running `main` fiber, and `loop_fiber` as the fiber that
  // runs `body(arg)` whenever nothing else is ready. Once, from the Hub's constructor.
  void adopt(Fiber& main, Fiber& loop_fiber, void (*body)(void* arg), void* arg);

  // What a fiber that parks with nothing ready runs first, on its own stack: the hub's poll in
  // place (Hub::poll_in_place). When that poll makes a fiber ready, the parking fiber switches
  // straight to it, not through the loop fiber: a request/response wait costs one switch, not
  // two. Once, from the Hub's constructor.
  void set_park_poll(void (*poll)(void* arg), void* arg) noexcept {
    park_poll_ = poll;
    park_poll_arg_ = arg;
  }
  // For the poll in place: while it runs, the loop fiber is the current fiber for the code it
  // calls (libev's callbacks see what they see on the loop fiber); then the parked one again.
  Fiber* lend_current_to_loop() noexcept {
    Fiber* parked = current_;
    current_ = loop_fiber_;
    return parked;
  }
  void take_back_current(Fiber* parked) noexcept { current_ = parked; }

  Fiber& current() const noexcept { return *current_; }
  Fiber& main() const noexcept { return *main_; }
  Fiber& loop_fiber() const noexcept { return *loop_fiber_; }
  bool in_loop_fiber() const noexcept { return current_ == loop_fiber_; }

  // Makes `f` ready: appends it to the ready queue.
  void schedule(Fiber& f) noexcept {
    f.state_ = FiberState::kReady;
    f.next_ready_ = nullptr;
    if (ready_tail_ != nullptr) {
      ready_tail_->next_ready_ = &f;
    } else {
      ready_head_ = &f;
    }
    ready_tail_ = &f;
    ++ready_count_;
    ++wakeups_;
  }
  bool has_ready() const noexcept { return ready_head_ != nullptr; }
  std::size_t ready_count() const noexcept { return ready_count_; }

  // The current fiber goes to the back of the ready queue and the next one runs. Inline in
  // hub/internal/scheduling.h.
  inline void yield();
  // Parks the current fiber on `w` (state kParked, waiting on `what`) and switches away; returns
  // when it is scheduled again. Inline in hub/internal/scheduling.h.
  inline void park(Waiter& w, const char* what);
  // Switches to the next ready fiber, or to the loop fiber when none is or the pass is over.
  // `finishing`: the current fiber is dead and never resumed. Inline in scheduling.h.
  inline void switch_out(bool finishing = false);

  // The loop fiber has just polled: run the queue for one pass (at least kMinSwitchesPerPoll
  // switches) before polling again.
  void start_pass() noexcept;
  // Every 64th switch of a pass, from the 64th on: reads the clock (the first time, it starts
  // the pass's clock) and ends the pass once kMaxPollIntervalSeconds have gone by.
  [[gnu::noinline]] void check_pass_clock() noexcept;
  // Ends the pass at the next switch (work was queued for the loop fiber).
  void end_pass() noexcept { pass_budget_ = 0; }

  // A stack for a fiber about to start; given back by `release_stack` (a fiber that never
  // ran) or after its last switch (`release_after_switch`). Inline in scheduling.h.
  inline internal::Stack take_stack(std::size_t size);
  inline void release_stack(Fiber& f) noexcept;
  // `f` has run its last line: its stack is released right after the switch away from it.
  void release_after_switch(Fiber& f) noexcept { dying_ = &f; }
  std::size_t stacks_pooled() const;

  // Completes a switch on the side of the fiber switched to (releases a dead fiber's stack).
  // Inline in scheduling.h.
  inline void after_switch() noexcept;

  // The blocking monitor's view (any thread): a counter that moves at every switch and yield.
  std::uint64_t switch_epoch() const noexcept {
    return switch_epoch_.load(std::memory_order_relaxed);
  }
  void note_progress() noexcept {
    switch_epoch_.store(switch_epoch_.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
  }

  std::uint64_t switches() const noexcept { return switches_; }
  std::uint64_t wakeups() const noexcept { return wakeups_; }

 private:
  friend struct internal::DebugLayout;
  inline void switch_to(Fiber& next, bool finishing);

  Fiber* current_ = nullptr;
  internal::EhGlobals* eh_ = nullptr;  // this thread's C++ exception state, swapped per switch
  Fiber* main_ = nullptr;
  Fiber* loop_fiber_ = nullptr;
  Fiber* ready_head_ = nullptr;
  Fiber* ready_tail_ = nullptr;
  std::size_t ready_count_ = 0;
  int pass_budget_ = 0;
  double last_poll_ = 0;  // monotonic seconds at the pass's 64th switch; 0 before it
  Fiber* dying_ = nullptr;  // finished fiber whose stack is released after the switch
  void (*loop_body_)(void* arg) = nullptr;  // what the loop fiber runs
  void* loop_body_arg_ = nullptr;
  void (*park_poll_)(void* arg) = [](void*) {};  // see set_park_poll
  void* park_poll_arg_ = nullptr;
  std::uint64_t switches_ = 0;
  std::uint64_t wakeups_ = 0;
  std::atomic<std::uint64_t> switch_epoch_{0};
  std::unique_ptr<internal::StackPool> stacks_;
};

}  // namespace grove
