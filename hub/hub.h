// hub/hub.h — the per-thread hub: a Scheduler and a Reactor, and the fibers they share.
//
// Model: each thread that uses grove gets one Hub, created on first use. The thread's own stack
// becomes its "main fiber"; spawned fibers run when the main fiber (or any fiber) waits. The hub
// is two parts and the fiber that joins them:
//   - its Scheduler (hub/scheduler.h) keeps the ready queue: a fiber that waits switches
//     directly to the next ready fiber;
//   - its Reactor (hub/reactor.h) owns the libev loop (timers, I/O watchers) and the inbox other
//     threads post to (RemoteHub);
//   - the hub's own fiber (the loop fiber) runs when nothing is ready, and then blocks in the
//     reactor, or once per pass of the ready queue, to poll the reactor without blocking, so a
//     loop of sleep(0) never starves I/O or timers. When passes are very short (a handful of
//     fibers yielding to each other) the poll happens once every kMinSwitchesPerPoll switches
//     instead of every pass: a non-blocking poll is a syscall (~1.1 µs), and paying it every two
//     switches would make yield 50 times slower. So that a few fibers doing heavy work between
//     yields cannot delay I/O for 1024 of their turns, every 64th switch also checks the clock
//     and polls when kMaxPollIntervalSeconds has passed since the last poll. Before it blocks,
//     it polls without blocking for up to kIdleSpinSeconds (adaptive, hub/idle_spin.h): under
//     load the next event is usually microseconds away, and catching it spares the sender the
//     cost of waking this thread.
// The hub itself keeps what belongs to neither: the list of live fibers, kills and timeouts
// delivered to them, callbacks, the error handler, counters and the debugger's view.
//
// If the main fiber waits and nothing can ever wake it (no ready fiber, no active timer or I/O
// watcher, no thread-pool job in flight), the wait throws LoopExit naming what it waited for.
//
// Thread: everything here is for the hub's own thread, except `remote()`, whose post() may be
// called from any thread. Destruction: `Hub::destroy_current()` (also run at thread exit) kills
// every fiber still alive with GreenletExit and runs them until their stacks unwind.
//
//   grove::spawn_fiber([] { grove::sleep(0.05); std::puts("child"); });
//   grove::sleep(0.1);  // the main fiber waits; the child runs
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hub/errors.h"
#include "hub/fiber.h"
#include "hub/idle_spin.h"
#include "hub/reactor.h"
#include "hub/scheduler.h"
#include "hub/wait.h"

namespace grove {

namespace internal {
// Installs the SIGSEGV handler that names a greenlet overflowing its stack (once per process) and
// gives this thread an alternate signal stack (hub/overflow.cc).
void catch_stack_overflows();
struct Inbox;
struct LoopAccess;

// An item posted to a hub from any thread: an intrusive node of the hub's multi-producer inbox
// (no allocation beyond the item itself). The hub calls `run_posted(item, true)` from its own
// fiber, in the order items were posted by each thread; if the hub has ended the item is
// dropped with `run_posted(item, false)` on whichever thread notices. Either way `run_posted`
// owns the item and frees it; with `deliver` false it must not run anything (only free).
struct Posted {
  std::atomic<Posted*> next_posted{nullptr};
  void (*run_posted)(Posted* self, bool deliver) = nullptr;
};
struct Watch;
struct DebugLayout;
// Puts `hub` on (and takes it off) the process-wide list of hubs that debuggers walk to find
// every fiber (hub/debugger.cc). Any thread; cheap (a mutex, once per hub).
void register_for_debuggers(Hub& hub) noexcept;
void unregister_for_debuggers(Hub& hub) noexcept;
}  // namespace internal

// What the hub tells its error handler about a failure nobody else owns.
struct ErrorReport {
  std::string where;            // e.g. `<Greenlet "worker" at 0x...: fn>`
  std::exception_ptr error;
};
using ErrorHandler = std::function<void(const ErrorReport&)>;

struct HubStats {
  std::uint64_t switches = 0;   // fiber-to-fiber switches
  std::uint64_t wakeups = 0;    // fibers made ready
  std::uint64_t polls = 0;      // polls of the reactor (libev iterations and fast polls)
  std::uint64_t fast_polls = 0; // of those, fast polls in place (Reactor::poll_in_place)
  std::uint64_t timers_started = 0;
  std::uint64_t fibers_spawned = 0;
  std::size_t fibers_alive = 0;   // started, not dead (not counting main)
  std::size_t ready = 0;
  std::size_t stacks_pooled = 0;
  std::uint64_t inbox_items = 0;    // items posted from other threads and run here
  std::uint64_t inbox_wakeups = 0;  // times a poster had to wake the hub (eventfd signals)
};

// A thread-safe handle to a hub: post work to it from any thread. Posting to a hub whose thread
// has ended returns false and drops the work.
//
// The inbox behind it is a lock-free multi-producer queue (one atomic exchange per post, plus
// one store). Items posted by one thread run in the order posted. Wake-ups are coalesced: a
// poster writes the hub's eventfd only when the hub is asleep in its poller and nobody has
// woken it yet, so a burst costs one syscall and a busy hub gets none (it drains the inbox on
// every pass of its run queue).
class RemoteHub {
 public:
  RemoteHub() = default;
  // Runs `fn` on the hub's own fiber (it must not block). Allocates one node for `fn`.
  bool post(std::function<void()> fn) const;
  // Low level: posts an intrusive item (takes ownership; dropped if the hub has ended).
  bool post(internal::Posted* item) const;
  explicit operator bool() const { return inbox_ != nullptr; }
  friend bool operator==(const RemoteHub& a, const RemoteHub& b) noexcept {
    return a.inbox_ == b.inbox_;
  }

 private:
  friend class Hub;
  explicit RemoteHub(std::shared_ptr<internal::Inbox> inbox) : inbox_(std::move(inbox)) {}
  std::shared_ptr<internal::Inbox> inbox_;
};

class Hub {
 public:
  static constexpr int kMinSwitchesPerPoll = Scheduler::kMinSwitchesPerPoll;
  static constexpr double kMaxPollIntervalSeconds = Scheduler::kMaxPollIntervalSeconds;
  // How long a hub that just received work from another thread polls its inbox before it
  // sleeps in the poller.
  static constexpr double kInboxSpinSeconds = Reactor::kInboxSpinSeconds;
  // At most how long a hub with nothing ready polls its reactor before it sleeps (adaptive, see
  // hub/idle_spin.h); GROVE_IDLE_SPIN_US overrides it for every hub of the process.
  static constexpr double kIdleSpinSeconds = IdleSpin::kDefaultLimitSeconds;

  // This thread's hub, created on first use.
  static Hub& current() {
    Hub* hub = current_hub_;
    return hub != nullptr ? *hub : create_current();
  }
  static Hub* current_if_exists() noexcept { return current_hub_; }
  // Kills and unwinds every fiber of this thread's hub, then frees it. Call from the main fiber.
  static void destroy_current();

  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  Fiber& current_fiber() const noexcept { return scheduler_.current(); }
  // False in the hub's own fiber (callbacks, libev handlers), which must never park.
  bool can_wait() const noexcept { return !scheduler_.in_loop_fiber(); }
  Fiber& main_fiber() const noexcept { return scheduler_.main(); }
  bool in_main_fiber() const noexcept { return &scheduler_.current() == &scheduler_.main(); }

  // sleep(0): lets every other ready fiber run once, then returns. A wait point.
  void yield();
  // A wait point that does not wait: throws what a kill or an expired Timeout delivered to the
  // calling fiber, if anything. Cheap (two loads) when there is nothing.
  void interruption_point() {
    Fiber& self = scheduler_.current();
    if (self.pending_ || self.final_) [[unlikely]] throw_interruption(self);
  }
  // Parks the calling fiber for `seconds` (<= 0 behaves as yield()). A wait point.
  void sleep(double seconds);

  RemoteHub remote() const;
  // The RemoteHub of `hub` if it still exists (any thread); empty once it was destroyed.
  static RemoteHub remote_of(const Hub* hub);

  // Runs `fn` from the hub's own fiber after the current pass (gevent's loop.run_callback):
  // before the next poll, in the order queued. `fn` must not block. Hub thread only.
  void run_callback(std::function<void()> fn);

  // Failures that escape a fiber and have no other owner go here (default: spdlog error line).
  void set_error_handler(ErrorHandler handler);
  void report_error(std::string where, std::exception_ptr error);

  // Keeps the loop "alive" for LoopExit detection while something outside the hub (a thread,
  // another hub) may still wake a fiber of this one. Balanced calls; hub thread only.
  void ref_external() noexcept;
  void unref_external() noexcept;

  // This hub's idle-spin limit in seconds (0: sleep as soon as nothing is ready). Hub thread.
  void set_idle_spin_limit(double seconds) noexcept { idle_spin_.set_limit(seconds); }
  double idle_spin_limit() const noexcept { return idle_spin_.limit(); }

  HubStats stats() const;
  // Live fibers of this hub, readable from any thread (a placement hint: Runtime's least
  // loaded hub).
  std::size_t load() const noexcept { return load_.load(std::memory_order_relaxed); }
  // One line per live fiber: id, state, what it waits on, stack high-water; then the counters.
  std::string run_info() const;

  // Low level, used by Fiber/Waiter and the primitives above: makes `f` ready (appends it to
  // the run queue).
  void schedule(Fiber& f) noexcept { scheduler_.schedule(f); }

 private:
  friend class Fiber;
  friend class Waiter;
  friend class Timeout;
  friend struct internal::Watch;
  friend struct internal::DebugLayout;
  friend struct internal::LoopAccess;
  friend void internal::register_for_debuggers(Hub& hub) noexcept;
  friend void internal::unregister_for_debuggers(Hub& hub) noexcept;
  class OwnFiber;  // the main fiber and the loop fiber

  Hub();
  ~Hub();
  static Hub& create_current();

  [[gnu::tls_model("initial-exec")]] static inline thread_local Hub* current_hub_ = nullptr;

  // Delivers an interruption to `f`: thrown at its wait point, or kept for its next one.
  // `timeout_id` names the Timeout scope when `kind` is kTimeout. Precedence: nothing replaces
  // a final kill (pending or thrown); a kill replaces a pending timeout; a timeout never
  // replaces a pending kill.
  // True if `error` is now what `f` throws next.
  bool interrupt(Fiber& f, std::exception_ptr error, Fiber::Pending kind,
                 std::uint64_t timeout_id) noexcept;
  // Throws the calling fiber's pending interruption, or its final kill (not while unwinding).
  void throw_interruption(Fiber& self);
  void loop_run();  // body of the hub's own fiber: polls the reactor between passes
  // Nothing is ready: polls the reactor without blocking until the idle spin's window has passed;
  // true if that made a fiber ready or queued a callback (then the hub does not sleep). Sets
  // `idle_since` to when the hub started waiting (the gap the spin learns from starts there).
  bool spin_before_sleep(double& idle_since, bool first_poll_done);
  // Scheduler::set_park_poll's hook: a fiber parks with nothing ready. Does on the parking
  // fiber's stack what the loop fiber would do first, the idle spin's first poll, when nothing
  // else needs the loop fiber (no callback, no posted work). What the poll finds that is more
  // than a wake-up (a posted item, a call_later callback: user code that may want more stack
  // than a greenlet has left) is left to the loop fiber, which then runs before anyone else. If
  // the poll only made fibers ready, starts the pass the loop fiber would start; if it found
  // nothing, the loop fiber's spin starts after that first poll.
  void poll_in_place();
  void on_fiber_dead(Fiber& f) noexcept;
  // The list of live fibers (inline: spawn and death are on the spawn+join path).
  void add_live(Fiber& f) noexcept {
    f.prev_live_ = nullptr;
    f.next_live_ = live_head_;
    if (live_head_ != nullptr) live_head_->prev_live_ = &f;
    live_head_ = &f;
    ++live_count_;
    load_.store(live_count_, std::memory_order_relaxed);
  }
  void remove_live(Fiber& f) noexcept {
    if (f.prev_live_ != nullptr) {
      f.prev_live_->next_live_ = f.next_live_;
    } else if (live_head_ == &f) {
      live_head_ = f.next_live_;
    } else {
      return;  // not linked
    }
    if (f.next_live_ != nullptr) f.next_live_->prev_live_ = f.prev_live_;
    f.prev_live_ = f.next_live_ = nullptr;
    --live_count_;
    load_.store(live_count_, std::memory_order_relaxed);
  }
  void deliver_loop_exit();
  void run_callbacks();

  // Declared in this order so that the reactor (its watchers, its inbox) goes before the
  // scheduler releases the main and loop fibers.
  Scheduler scheduler_;
  Reactor reactor_;
  Fiber* live_head_ = nullptr;
  std::size_t live_count_ = 0;
  std::atomic<std::size_t> load_{0};  // live_count_, readable from any thread
  std::uint64_t fibers_spawned_ = 0;
  bool destroying_ = false;
  // The process-wide list of hubs for debuggers (hub/debugger.cc), and the kernel's id of this
  // hub's thread, so a debugger can tell which thread runs which hub.
  Hub* prev_hub_ = nullptr;
  Hub* next_hub_ = nullptr;
  std::int64_t thread_id_ = 0;

  std::vector<std::function<void()>> callbacks_;
  IdleSpin idle_spin_;
  bool first_poll_done_ = false;  // poll_in_place found nothing: the spin's first poll is done
  // The blocking monitor's registration (hub/monitor.h).
  std::shared_ptr<internal::Watch> watch_;
  ErrorHandler error_handler_;
};

// Parks the calling fiber (or the main fiber) for `seconds`; 0 = yield once to every ready fiber.
void sleep(double seconds);
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) {
  sleep(std::chrono::duration<double>(d).count());
}
inline void yield() { Hub::current().yield(); }

struct SpawnOptions {
  std::size_t stack_size = 0;  // 0 = the stack policy's default (64 KiB)
};

// Spawns a fiber running `f` at the hub's next pass. What `f` throws (other than GreenletExit)
// is reported to the hub's error handler.
template <class F>
FiberRef spawn_fiber(F&& f, SpawnOptions options = {}) {
  using Impl = internal::FunctionFiber<std::decay_t<F>>;
  FiberRef ref(new Impl(std::decay_t<F>(std::forward<F>(f)), options.stack_size));
  ref->start();
  return ref;
}

}  // namespace grove
