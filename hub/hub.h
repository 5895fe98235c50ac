// hub/hub.h — the per-thread scheduler: run queue, libev loop, timers, cross-thread inbox.
//
// Model: each thread that uses grove gets one Hub, created on first use. The thread's own stack
// becomes its "main fiber"; spawned fibers run when the main fiber (or any fiber) waits. A fiber
// that waits switches directly to the next ready fiber; the hub's own fiber runs only when
// nothing is ready (then it blocks in libev) or once per pass of the run queue, to poll libev
// without blocking, so a loop of sleep(0) never starves I/O or timers. When passes are very
// short (a handful of fibers yielding to each other) the poll happens once every
// kMinSwitchesPerPoll switches instead of every pass: a non-blocking poll is a syscall (~1.1 µs),
// and paying it every two switches would make yield 50 times slower. So that a few fibers doing
// heavy work between yields cannot delay I/O for 1024 of their turns, every 64th switch also
// checks the clock and polls when kMaxPollIntervalSeconds has passed since the last poll.
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
#include "hub/wait.h"

struct ev_loop;
struct ev_io;

namespace grove {

class IoWatcher;

namespace internal {
// Installs the SIGSEGV handler that names a greenlet overflowing its stack (once per process) and
// gives this thread an alternate signal stack (hub/overflow.cc).
void catch_stack_overflows();
// Says on stderr that `fiber` ran past the bottom of its arena stack (its canary was
// overwritten, hub/internal/stack_pool.h) and aborts.
[[noreturn]] void stack_canary_overwritten(const Fiber& fiber) noexcept;
struct Loop;
struct Inbox;

// An item posted to a hub from any thread: an intrusive node of the hub's multi-producer inbox
// (no allocation beyond the item itself). The hub calls `run_posted(item, true)` from its own
// fiber, in the order items were posted by each thread; if the hub has ended the item is
// dropped with `run_posted(item, false)` on whichever thread notices. Either way `run_posted`
// owns the item and frees it; with `deliver` false it must not run anything (only free).
struct Posted {
  std::atomic<Posted*> next_posted{nullptr};
  void (*run_posted)(Posted* self, bool deliver) = nullptr;
};
struct EhGlobals;
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
  std::uint64_t polls = 0;      // libev loop iterations
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
  static constexpr int kMinSwitchesPerPoll = 1024;
  static constexpr double kMaxPollIntervalSeconds = 0.001;
  // How long a hub that just received work from another thread polls its inbox before it
  // sleeps in the poller (see loop_run).
  static constexpr double kInboxSpinSeconds = 20e-6;

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

  Fiber& current_fiber() const noexcept { return *current_; }
  // False in the hub's own fiber (callbacks, libev handlers), which must never park.
  bool can_wait() const noexcept { return current_ != loop_fiber_; }
  Fiber& main_fiber() const noexcept { return *main_; }
  bool in_main_fiber() const noexcept { return current_ == main_; }

  // sleep(0): lets every other ready fiber run once, then returns. A wait point.
  void yield();
  // A wait point that does not wait: throws what a kill or an expired Timeout delivered to the
  // calling fiber, if anything. Cheap (two loads) when there is nothing.
  void interruption_point() {
    Fiber& self = *current_;
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

  HubStats stats() const;
  // Live fibers of this hub, readable from any thread (a placement hint: Runtime's least
  // loaded hub).
  std::size_t load() const noexcept { return load_.load(std::memory_order_relaxed); }
  // One line per live fiber: id, state, what it waits on, stack high-water; then the counters.
  std::string run_info() const;

  // Low level: the libev loop (`struct ev_loop*`) for code in hub/ and net/ that owns watchers.
  void* ev_loop() const noexcept;

  // Low level, used by Fiber/Waiter: makes `f` ready (appends to the run queue).
  void schedule(Fiber& f) noexcept;

 private:
  friend class Fiber;
  friend class Waiter;
  friend class Timeout;
  friend class IoWatcher;
  friend struct internal::Watch;
  friend struct internal::DebugLayout;
  friend void internal::register_for_debuggers(Hub& hub) noexcept;
  friend void internal::unregister_for_debuggers(Hub& hub) noexcept;
  class MainFiber;
  class LoopFiber;

  Hub();
  ~Hub();
  static Hub& create_current();

  [[gnu::tls_model("initial-exec")]] static inline thread_local Hub* current_hub_ = nullptr;

  // Parks the current fiber (state kParked on `w`) and switches away.
  void park(Waiter& w, const char* what);
  // Picks the next fiber to run (or the hub's own) and switches to it.
  void switch_out(bool finishing = false);
  void switch_to(Fiber& next, bool finishing);
  void after_switch(internal::MachineContext* from) noexcept;
  // Delivers an interruption to `f`: thrown at its wait point, or kept for its next one.
  // `timeout_id` names the Timeout scope when `kind` is kTimeout. Precedence: nothing replaces
  // a final kill (pending or thrown); a kill replaces a pending timeout; a timeout never
  // replaces a pending kill.
  // True if `error` is now what `f` throws next.
  bool interrupt(Fiber& f, std::exception_ptr error, Fiber::Pending kind,
                 std::uint64_t timeout_id) noexcept;
  // Throws the calling fiber's pending interruption, or its final kill (not while unwinding).
  void throw_interruption(Fiber& self);
  static void on_inbox(struct ev_loop* loop, struct ev_io* w, int events);
  // Runs what other threads posted; true if it ran anything.
  bool drain_inbox();
  // Waits up to kInboxSpinSeconds, without a syscall, for something to be posted.
  bool spin_for_inbox();
  bool inbox_active_ = false;  // the inbox had work since the hub last went to sleep
  void loop_run();  // body of the hub's own fiber
  void on_fiber_dead(Fiber& f) noexcept;
  void add_live(Fiber& f) noexcept;
  void remove_live(Fiber& f) noexcept;
  void deliver_loop_exit();
  internal::Stack take_stack(std::size_t size);

  Fiber* current_ = nullptr;
  internal::EhGlobals* eh_ = nullptr;  // this thread's C++ exception state, swapped per switch
  Fiber* main_ = nullptr;
  Fiber* loop_fiber_ = nullptr;
  Fiber* ready_head_ = nullptr;
  Fiber* ready_tail_ = nullptr;
  std::size_t ready_count_ = 0;
  int pass_budget_ = 0;
  double last_poll_ = 0;  // monotonic seconds of the last libev poll
  Fiber* live_head_ = nullptr;
  std::size_t live_count_ = 0;
  std::atomic<std::size_t> load_{0};  // live_count_, readable from any thread
  Fiber* dying_ = nullptr;  // finished fiber whose stack is released after the switch
  bool destroying_ = false;
  // The process-wide list of hubs for debuggers (hub/debugger.cc), and the kernel's id of this
  // hub's thread, so a debugger can tell which thread runs which hub.
  Hub* prev_hub_ = nullptr;
  Hub* next_hub_ = nullptr;
  std::int64_t thread_id_ = 0;

  void run_callbacks();
  std::vector<std::function<void()>> callbacks_;
  // Read by the blocking monitor's thread (hub/monitor.h): a switch counter and whether the hub
  // is idle in the poller (not blocked by a fiber).
  std::atomic<std::uint64_t> switch_epoch_{0};
  std::atomic<bool> idle_in_poll_{false};
  std::shared_ptr<internal::Watch> watch_;
  std::unique_ptr<internal::Loop> loop_;
  // The IoWatchers registered with the loop, by fd: the heads of intrusive lists kept by
  // hub/io.cc (for IoWatcher::closing, and so that the hub's end stops them all).
  std::vector<IoWatcher*> io_by_fd_;
  std::shared_ptr<internal::Inbox> inbox_;
  internal::StackPool stacks_;
  ErrorHandler error_handler_;
  HubStats stats_;
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
