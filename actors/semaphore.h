// actors/semaphore.h — counting semaphores for greenlets (gevent.lock.Semaphore,
// BoundedSemaphore).
//
// Model: a counter of free units. acquire() takes one, parking while none is free; release()
// gives one back. Fair, no barging: a release() with fibers parked in acquire() hands its unit
// straight to the longest-parked one (the counter stays 0), so a fiber that arrives later can
// never overtake a parked one. wait() parks until a unit is free without taking it (it returns
// true once a release() made the counter positive, even if someone took the unit before the
// waiter ran).
//
// BoundedSemaphore(n): release() when the counter is already n throws SemaphoreOverReleased
// ("BoundedSemaphore released too many times"; gevent raises ValueError). A plain Semaphore may
// be released above its initial value.
//
// Thread: one hub's fibers. Cost: acquire/release with no contention are a few instructions;
// nothing is allocated. Destruction: fibers still waiting get ObjectDestroyed (like WaitList).
// lock()/unlock()/try_lock() make it usable with std::unique_lock and std::scoped_lock.
//
//   grove::Semaphore slots(4);             // at most 4 downloads at once
//   grove::spawn_fiber([&] {
//     grove::Semaphore::Guard held(slots);  // acquire ... release at scope exit
//     download(url);
//   });
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>

#include "hub/wait.h"
#include "hub/wait_any.h"

namespace grove {

// A BoundedSemaphore released more times than it was acquired.
class SemaphoreOverReleased : public std::logic_error {
 public:
  SemaphoreOverReleased() : std::logic_error("BoundedSemaphore released too many times") {}
};

class Semaphore {
 public:
  explicit Semaphore(std::size_t value = 1) noexcept : counter_(value), initial_(value) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Takes a unit; parks (FIFO) while none is free. False when `deadline` passed first.
  [[nodiscard]] bool acquire(Deadline deadline = Deadline::never()) {
    if (counter_ > 0) {  // nobody is parked when counter_ > 0 (release hands units over)
      --counter_;
      return true;
    }
    return acquire_slow(deadline);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool acquire_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire(Deadline::after(timeout));
  }
  [[nodiscard]] bool try_acquire() noexcept {
    if (counter_ == 0) return false;
    --counter_;
    return true;
  }

  // Gives a unit back: to the longest-parked acquirer if any, else to the counter (waking every
  // wait()er). Throws SemaphoreOverReleased on a BoundedSemaphore already at its initial value.
  void release() {
    if (Waiter* w = acquirers_.front()) {
      w->wake();  // the unit passes to it directly
      return;
    }
    if (bounded_ && counter_ >= initial_) throw SemaphoreOverReleased();
    ++counter_;
    watchers_.wake_all();
  }

  // Parks until a unit is free, without taking it; false when `deadline` passed first.
  [[nodiscard]] bool wait(Deadline deadline = Deadline::never()) {
    if (counter_ > 0) return true;
    return watchers_.wait(deadline, "semaphore wait") == WaitStatus::kWoken;
  }
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait(Deadline::after(timeout));
  }

  // The semaphore as a source for wait_any (hub/wait_any.h): ready while a unit is free, like
  // wait() (it takes nothing: acquire after it fired, or use try_acquire).
  WaitSource wait_source() noexcept {
    return WaitSource(
        watchers_,
        [](const void* s) noexcept { return static_cast<const Semaphore*>(s)->counter_ > 0; },
        this);
  }

  bool locked() const noexcept { return counter_ == 0; }
  std::size_t counter() const noexcept { return counter_; }
  bool bounded() const noexcept { return bounded_; }
  // Fibers parked in acquire() and in wait().
  std::size_t waiting() const noexcept { return acquirers_.size() + watchers_.size(); }

  // BasicLockable / Lockable, for std::unique_lock and friends.
  // (Without a deadline, acquire() either takes a unit or throws what interrupted it.)
  void lock() {
    if (!acquire()) throw std::logic_error("grove::Semaphore: acquire without deadline failed");
  }
  void unlock() { release(); }
  bool try_lock() noexcept { return try_acquire(); }

  // Holds one unit for a scope (acquire() with no deadline; release() at exit). Releases only
  // what it acquired: when the acquire throws (a kill, a Timeout), there is nothing to give back.
  class [[nodiscard]] Guard {
   public:
    explicit Guard(Semaphore& s) : s_(s), held_(s_.acquire()) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() {
      if (held_) s_.release();
    }

   private:
    Semaphore& s_;
    bool held_;
  };

 protected:
  Semaphore(std::size_t value, bool bounded) noexcept
      : counter_(value), initial_(value), bounded_(bounded) {}

 private:
  bool acquire_slow(Deadline deadline) {
    // Woken only by release(), which hands its unit over: woken means acquired.
    return acquirers_.wait(deadline, "semaphore") == WaitStatus::kWoken;
  }

  std::size_t counter_;
  std::size_t initial_;
  bool bounded_ = false;
  WaitList acquirers_;
  WaitList watchers_;
};

// A Semaphore whose release() beyond its initial value throws SemaphoreOverReleased.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::size_t value = 1) noexcept : Semaphore(value, true) {}
};

}  // namespace grove
