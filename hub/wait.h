// hub/wait.h — Waiter and WaitList: the one way a fiber parks and is woken.
//
// Every blocking primitive in grove (sleep, join, events, queues, locks, mailbox receive, socket
// waits) is a thin user of these two types, so timeouts, kills and wake order are solved here
// once.
//
// Model: a Waiter belongs to the fiber that created it. `wait()` parks that fiber until someone
// calls `wake()` (status kWoken) or its own deadline passes (kTimedOut) — nothing else makes a
// wait return. Interruptions are thrown out of `wait()` instead: a kill, a Timeout scope that
// expired, `interrupt(error)` (gevent's cancel_wait), or ObjectDestroyed when the WaitList it
// waits on is destroyed. A wake that happens first wins: if a fiber was woken and, before it ran
// again, was killed, the wait returns kWoken and the kill is thrown at its next wait point (so a
// value handed over with the wake is never lost).
//
// `wait_shielded()` parks without being interruptible: kills and timeouts that arrive meanwhile
// stay pending and are thrown at the fiber's next ordinary wait point. It is for the few waits
// that must outlive their caller's cancellation to stay memory-safe (run_in_thread waits for
// its job, which may use the caller's stack).
//
// A WaitList is an intrusive FIFO of waiters: `wake_one()` wakes the longest waiter. Nothing is
// allocated. A Waiter unlinks itself when its wait ends, however it ends.
//
// Implemented in hub/wait.cc: a parked waiter is a fiber off the Scheduler's ready queue, and a
// deadline is a timer on the hub's Reactor (hub/scheduler.h, hub/reactor.h).
//
// Thread: hub thread only (wake from another thread with RemoteHub::post). Destruction: destroying a
// WaitList with fibers parked on it interrupts each of them with ObjectDestroyed (hub/errors.h)
// and logs the mistake; nothing writes into the freed list afterwards.
//
//   grove::WaitList readers;
//   // consumer fiber:
//   while (items.empty()) {
//     if (readers.wait(grove::Deadline::after(0.5), "items") == grove::WaitStatus::kTimedOut) {
//       return std::nullopt;
//     }
//   }
//   // producer:
//   items.push_back(x);
//   readers.wake_one();
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>

struct ev_loop;
struct ev_timer;

namespace grove {

class Fiber;
class WaitList;
namespace internal {
struct WaitAnyAccess;
}  // namespace internal

// A point on the hub's monotonic clock (seconds; steady_clock / CLOCK_MONOTONIC).
class Deadline {
 public:
  constexpr Deadline() = default;  // never
  static constexpr Deadline never() { return Deadline(); }
  static Deadline after(double seconds);
  template <class Rep, class Period>
  static Deadline after(std::chrono::duration<Rep, Period> d) {
    return after(std::chrono::duration<double>(d).count());
  }
  static Deadline at(std::chrono::steady_clock::time_point tp);
  // Seconds of the monotonic clock now.
  static double now();

  constexpr bool is_never() const { return at_ == std::numeric_limits<double>::infinity(); }
  constexpr double seconds() const { return at_; }
  double remaining() const;  // seconds left, <= 0 when passed, +inf when never
  bool passed() const { return !is_never() && remaining() <= 0; }

 private:
  explicit constexpr Deadline(double at) : at_(at) {}
  double at_ = std::numeric_limits<double>::infinity();
};

enum class [[nodiscard]] WaitStatus : std::uint8_t {
  kWoken,     // someone called wake()
  kTimedOut,  // the wait's own deadline passed
};

class Waiter {
 public:
  Waiter() noexcept;  // for the calling fiber
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter();  // unlinks (inline below)

  // Parks the calling fiber until woken or `deadline`. `what` names the wait in LoopExit messages
  // and run-info dumps. Throws what a kill or Timeout delivers.
  WaitStatus wait(Deadline deadline = Deadline::never(), const char* what = "wait");
  // A wait point that never parks: wait(Deadline::after(0)) without reading a clock. Throws what
  // a kill or Timeout delivered; kWoken if woken since, else kTimedOut (and leaves its list).
  WaitStatus poll();
  // Parks until woken, ignoring kills and timeouts (they are thrown at the next ordinary wait
  // point). Only interrupt() ends it early. See the header comment.
  void wait_shielded(const char* what = "wait");

  // Wakes the fiber (it runs at a later pass). False if it was already woken.
  bool wake() noexcept;
  // Wakes the fiber by throwing `error` out of its wait() (gevent's cancel_wait; close() waking a
  // blocked recv). False if it was not parked.
  bool interrupt(std::exception_ptr error) noexcept;

  bool woken() const noexcept { return state_ == State::kWoken; }
  bool linked() const noexcept { return list_ != nullptr; }
  Fiber* fiber() const noexcept { return fiber_; }

  // Free for the primitive that parks this waiter: e.g. a queue hands an item over through it.
  void* payload = nullptr;

 private:
  friend class WaitList;
  friend class Hub;
  friend struct internal::WaitAnyAccess;
  enum class State : std::uint8_t { kIdle, kParked, kWoken, kTimedOut, kInterrupted };
  static void on_deadline(struct ev_loop* loop, struct ev_timer* w, int events);
  void throw_if_interrupted();
  WaitStatus wait_inline(Deadline deadline, const char* what);
  WaitStatus finish_wait();

  Fiber* fiber_;
  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  WaitList* list_ = nullptr;
  // Set on the registrations of a wait_any or WaitSet (hub/wait_any.h): this waiter never
  // parks; waking it wakes `forward_` (the one that parks) and pushes it on the chain of fired
  // registrations in `forward_->payload`; interrupting it interrupts `forward_`.
  Waiter* forward_ = nullptr;
  State state_ = State::kIdle;
  bool shielded_ = false;
};

class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  ~WaitList();

  // Parks the calling fiber at the back of the list until woken or `deadline`.
  WaitStatus wait(Deadline deadline = Deadline::never(), const char* what = "wait list");

  void push_back(Waiter& w) noexcept;  // inline below
  void remove(Waiter& w) noexcept;     // no-op if not linked here; inline below
  Waiter* front() const noexcept { return head_; }
  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }

  // Unlinks and wakes the longest waiter; returns it (nullptr if none). The returned pointer is
  // valid until that fiber runs.
  Waiter* wake_one() noexcept;
  std::size_t wake_all() noexcept;

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

// The list operations are on every park and wake path: inline.

inline void WaitList::push_back(Waiter& w) noexcept {
  if (w.list_ != nullptr) w.list_->remove(w);
  w.list_ = this;
  w.prev_ = tail_;
  w.next_ = nullptr;
  if (tail_ != nullptr) {
    tail_->next_ = &w;
  } else {
    head_ = &w;
  }
  tail_ = &w;
  ++size_;
}

inline void WaitList::remove(Waiter& w) noexcept {
  if (w.list_ != this) return;
  (w.prev_ != nullptr ? w.prev_->next_ : head_) = w.next_;
  (w.next_ != nullptr ? w.next_->prev_ : tail_) = w.prev_;
  w.prev_ = w.next_ = nullptr;
  w.list_ = nullptr;
  --size_;
}

inline Waiter::~Waiter() {
  if (list_ != nullptr) list_->remove(*this);
}

}  // namespace grove
