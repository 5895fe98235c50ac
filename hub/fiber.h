// hub/fiber.h — a stackful fiber scheduled by its thread's Hub.
//
// Model: a Fiber is a function running on its own stack, switched cooperatively: it runs until
// it waits (sleep, a Waiter, I/O), then the hub switches directly to the next ready fiber.
// A fiber belongs to the hub of the thread that created it and never migrates; the hub's
// Scheduler (hub/scheduler.h) keeps its place in the ready queue and switches to it.
// Implemented in hub/fiber.cc; the data it holds of its stack and saved registers is defined in
// hub/stack.h.
//
// This is the hub-level building block. Users normally spawn greenlet-actors (actors/actor.h)
// or, at this level, use `spawn_fiber`, which wraps any callable:
//
//   grove::FiberRef worker = grove::spawn_fiber([] {
//     grove::sleep(0.1);
//     fmt::print("done\n");
//   });
//   worker->join();
//
// Lifetime: fibers are reference counted (FiberRef, thread-safe counts). The hub holds a
// reference from start() until the fiber has died, so a running fiber never disappears under
// itself; the object is freed when the last FiberRef goes away. The stack is taken from the
// per-thread pool when the fiber first runs and returned the moment it dies.
//
// Kill: kill(error) delivers `error` at the fiber's current or next wait point (gevent's
// greenlet.throw); a fiber that never ran is finished without running. Code that does not wait
// cannot be interrupted. A kill is final by default (KillMode::kFinal, OTP's rule E11): once
// thrown, every later wait point of the fiber throws it again, so the fiber ends at its next wait
// whatever it catches — except while it unwinds (a destructor may still wait), and the first
// final kill is never replaced by a later one. KillMode::kOnce throws once, as gevent's
// greenlet.throw does, and the fiber may catch it and go on.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "hub/stack.h"
#include "hub/wait.h"
#include "hub/wait_any.h"

namespace grove {

class Hub;
class Timeout;
namespace internal {
struct DebugLayout;
}  // namespace internal

enum class KillMode : std::uint8_t {
  kFinal,  // thrown at every later wait point (OTP's kill: it cannot be swallowed)
  kOnce,   // thrown once (gevent's greenlet.throw)
};

enum class FiberState : std::uint8_t {
  kNew,      // created, not started
  kReady,    // in the run queue
  kRunning,  // the current fiber
  kParked,   // waiting on a Waiter
  kDead,     // finished; its stack is back in the pool
};

const char* to_string(FiberState state);

class Fiber {
 public:
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  void add_ref() const noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() const noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  FiberState state() const noexcept { return state_; }
  bool started() const noexcept { return state_ != FiberState::kNew || scheduled_once_; }
  // Any thread: once true, the fiber's result (an actor's exit reason) is visible to the caller.
  bool dead() const noexcept { return dead_.load(std::memory_order_acquire); }
  std::uint64_t id() const noexcept { return id_; }
  Hub& hub() const noexcept { return *hub_; }
  // What the fiber is parked on ("sleep", "event", ...), or "" when not parked.
  const char* waiting_on() const noexcept { return state_ == FiberState::kParked ? what_ : ""; }
  // Deepest stack use seen so far, in bytes (sampled when the fiber dies or on request).
  std::size_t stack_high_water() const noexcept;
  std::size_t stack_size() const noexcept { return stack_.size; }
  // How far below this fiber's guarded stack `address` lies, when it is in the 64 KiB under the
  // stack's bottom (a fault there is an overflow); 0 otherwise. Async-signal-safe.
  std::size_t overflow_depth(const void* address) const noexcept;

  // Schedules a new fiber to run at the hub's next pass. No-op once started. Takes the fiber's
  // stack now, so running out of memory (or of kernel maps) throws std::bad_alloc here, to the
  // spawner, never from a switch.
  void start();

  // Delivers `error` at the fiber's current or next wait point; a fiber that never ran finishes
  // without running. No-op on a dead fiber. Does not wait; hub thread only. See the header
  // comment for kFinal and kOnce.
  // True if this kill will be what the fiber throws next (false when an earlier final kill
  // takes precedence, or the fiber is dead).
  bool kill(std::exception_ptr error, KillMode mode = KillMode::kFinal) noexcept;
  void kill();  // with GreenletExit, final

  // The final kill this fiber received (thrown at its wait points), or null.
  const std::exception_ptr& final_kill() const noexcept { return final_; }
  // A final kill delivered but not thrown yet can still be withdrawn (OTP: an exit signal that
  // arrives through a link the receiver removes before acting on it is dropped). True if one was.
  bool withdraw_pending_kill() noexcept;

  // Waits until the fiber is dead. False on timeout. join() without a deadline returns once the
  // fiber is dead (true), so its result may be ignored.
  [[nodiscard]] bool join(Deadline deadline);
  bool join() { return join(Deadline::never()); }
  template <class Rep, class Period>
  [[nodiscard]] bool join_for(std::chrono::duration<Rep, Period> d) {
    return join(Deadline::after(d));
  }
  // Fibers waiting for this one to end (join, and wait_any on its wait_source).
  std::size_t joiners_waiting() const noexcept { return joiners_.size(); }
  // The fiber's end as a source for wait_any (hub/wait_any.h): ready once it is dead.
  WaitSource wait_source() noexcept {
    return WaitSource(
        joiners_, [](const void* f) noexcept { return static_cast<const Fiber*>(f)->dead(); },
        this);
  }

  // A short human description, e.g. `<Fiber 7 parked on "sleep">`; actors override it.
  virtual std::string describe() const;

  // Extra `key=value` details for Hub::run_info (an actor adds its mailbox), "" for none.
  virtual std::string run_info_details() const { return {}; }

  // Writes a short name ("Fiber-7", an actor's name) into `out` without allocating: the
  // blocking monitor calls it from a signal handler.
  virtual void copy_name(char* out, std::size_t size) const noexcept;

  // True for fibers that are greenlet-actors (actors/actor.h); lets that layer find "the current
  // actor" without a dynamic_cast.
  bool is_actor() const noexcept { return is_actor_; }

  // Fiber-local storage, the mechanism under hub/local.h: the value stored under `key` on this
  // fiber (null if none), and storing one (replacing and destroying an earlier one). Values are
  // destroyed on the fiber's own stack when its body returns (or with the fiber, for one that
  // never finishes, such as a thread's main fiber). Hub thread only.
  void* local(std::uint64_t key) const noexcept;
  void set_local(std::uint64_t key, void* value, void (*destroy)(void*) noexcept);
  // Destroys the value under `key` now, if there is one; true if there was.
  bool erase_local(std::uint64_t key) noexcept;

 protected:
  // `stack_size` 0 = the stack policy's default. `hub` null = this thread's hub; another hub
  // may be named (the fiber is then created here and must be started on that hub's thread).
  explicit Fiber(std::size_t stack_size = 0, Hub* hub = nullptr);
  virtual ~Fiber();

  // The body, run on the fiber's own stack. An exception that escapes is reported to the hub's
  // error handler (derived classes catch and keep their own results).
  virtual void run() = 0;
  // Called instead of run() when the fiber is killed before it ever ran (on the killer's stack).
  virtual void finish_unstarted(std::exception_ptr /*reason*/) noexcept {}
  // Called on the fiber's own stack after run() returns, before joiners are woken.
  virtual void on_finished() noexcept {}

  bool is_actor_ = false;  // set by actors/ in its constructor

  // The name a debugger shows for this fiber (hub/debug/grove-gdb.py reads it from memory, so it
  // must be a plain string): an actor's name. Null shows "Fiber-<id>". The string must stay
  // valid until it is replaced or the fiber is destroyed. Hub thread only.
  void set_debug_name(const char* name) noexcept { debug_name_ = name; }

 private:
  friend class Hub;
  friend class Scheduler;
  friend struct internal::DebugLayout;
  friend class Waiter;
  friend class WaitList;
  friend class Timeout;

  static void entry(internal::MachineContext* from, void* self);

  internal::MachineContext ctx_;
  internal::Stack stack_;
  mutable std::atomic<std::uint32_t> refs_{0};
  FiberState state_ = FiberState::kNew;
  std::atomic<bool> dead_{false};
  bool scheduled_once_ = false;
  bool ran_ = false;  // switched to at least once
  bool is_main_ = false;
  std::size_t requested_stack_ = 0;
  Hub* hub_;
  std::uint64_t id_;
  const char* what_ = "";
  const char* debug_name_ = nullptr;

  Fiber* next_ready_ = nullptr;
  Fiber* prev_live_ = nullptr;
  Fiber* next_live_ = nullptr;

  // Interruptions (see Hub::interrupt): `pending_` is thrown at the next wait point; when it is
  // a final kill it then moves to `final_`, thrown at every wait point after that.
  enum class Pending : std::uint8_t { kNone, kTimeout, kOnce, kFinal };
  Waiter* waiter_ = nullptr;          // the waiter it is parked on
  std::exception_ptr pending_;
  Pending pending_kind_ = Pending::kNone;
  std::uint64_t pending_timeout_ = 0;  // id of the Timeout scope `pending_` came from
  std::exception_ptr final_;
  std::uint32_t kill_rethrows_ = 0;  // times `final_` was thrown again
  WaitList joiners_;

  struct LocalSlot {
    std::uint64_t key;
    void* value;
    void (*destroy)(void*) noexcept;
  };
  std::vector<LocalSlot> locals_;
  void destroy_locals() noexcept;
};

// A counted reference to a fiber (any fiber type).
template <class T>
class Ref {
 public:
  Ref() noexcept = default;
  Ref(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)
  explicit Ref(T* p) noexcept : p_(p) {
    if (p_) p_->add_ref();
  }
  Ref(const Ref& o) noexcept : Ref(o.p_) {}
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U>
  Ref(const Ref<U>& o) noexcept : Ref(o.get()) {}  // NOLINT(google-explicit-constructor)
  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Ref() {
    if (p_) p_->release();
  }
  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.p_ == b.p_; }

 private:
  T* p_ = nullptr;
};

using FiberRef = Ref<Fiber>;

namespace internal {
// The fiber behind spawn_fiber(): runs a callable; what escapes it goes to the hub's error
// handler (a GreenletExit is a normal end).
template <class F>
class FunctionFiber final : public Fiber {
 public:
  FunctionFiber(F&& f, std::size_t stack_size) : Fiber(stack_size), f_(std::move(f)) {}

 private:
  void run() override { f_(); }
  F f_;
};
}  // namespace internal

}  // namespace grove
