// actors/rlock.h — a re-entrant lock owned by a fiber (gevent.lock.RLock).
//
// Model: the fiber that acquires it owns it and may acquire it again (count() goes up); it is
// free when the owner has released it as many times. Other fibers park in acquire(), FIFO: the
// release that frees it hands ownership straight to the longest-parked fiber (no barging).
// The owner is the current fiber (`&Hub::current().current_fiber()`, the main fiber included);
// the lock keeps a reference to it, so its identity cannot be reused while it owns the lock.
// Releasing a lock the current fiber does not own throws RLockNotOwned.
//
// A fiber that dies while owning the lock leaves it locked (as in gevent); use Guard so a kill
// that unwinds the fiber releases it.
//
// Thread: one hub's fibers. Cost: uncontended acquire/release touch two fields and the owner's
// reference count; nothing is allocated. Destruction: no fiber may be waiting (aborts).
// lock()/unlock()/try_lock() make it usable with std::unique_lock.
//
//   grove::RLock lock;
//   void update() {
//     grove::RLock::Guard held(lock);  // re-entrant: update() may call itself
//     // ...
//   }
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>

#include "hub/hub.h"
#include "hub/wait.h"

namespace grove {

// release() by a fiber that does not own the RLock.
class RLockNotOwned : public std::logic_error {
 public:
  RLockNotOwned() : std::logic_error("cannot release an RLock the current greenlet does not own") {}
};

class RLock {
 public:
  RLock() = default;
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  // Takes the lock (or one more level of it, for its owner); parks FIFO while another fiber
  // owns it. False when `deadline` passed first.
  [[nodiscard]] bool acquire(Deadline deadline = Deadline::never()) {
    Fiber* me = &Hub::current().current_fiber();
    if (owner_.get() == me) {
      ++count_;
      return true;
    }
    if (!owner_) {  // nobody parks while it is free (release hands it over)
      owner_ = FiberRef(me);
      count_ = 1;
      return true;
    }
    // Woken only by release(), which makes us the owner first.
    return waiters_.wait(deadline, "rlock") == WaitStatus::kWoken;
  }
  template <class Rep, class Period>
  [[nodiscard]] bool acquire_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire(Deadline::after(timeout));
  }
  [[nodiscard]] bool try_acquire() { return !owner_ || is_owned() ? acquire() : false; }

  // Releases one level; the last one hands the lock to the longest-parked fiber, if any.
  // Throws RLockNotOwned when the current fiber is not the owner.
  void release() {
    if (!is_owned()) throw RLockNotOwned();
    if (--count_ > 0) return;
    if (Waiter* w = waiters_.front()) {
      owner_ = FiberRef(w->fiber());
      count_ = 1;
      w->wake();
    } else {
      owner_ = nullptr;
    }
  }

  bool locked() const noexcept { return static_cast<bool>(owner_); }
  // True when the current fiber owns it.
  bool is_owned() const noexcept { return owner_.get() == &Hub::current().current_fiber(); }
  // How many times the owner holds it (0 when free).
  std::size_t count() const noexcept { return count_; }
  const Fiber* owner() const noexcept { return owner_.get(); }
  std::size_t waiting() const noexcept { return waiters_.size(); }

  void lock() {
    if (!acquire()) throw std::logic_error("grove::RLock: acquire without deadline failed");
  }
  void unlock() { release(); }
  bool try_lock() { return try_acquire(); }

  // Holds one level of the lock for a scope.
  class [[nodiscard]] Guard {
   public:
    explicit Guard(RLock& l) : l_(l), held_(l_.acquire()) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() {
      if (held_) l_.release();
    }

   private:
    RLock& l_;
    bool held_;
  };

 private:
  FiberRef owner_;
  std::size_t count_ = 0;
  WaitList waiters_;
};

}  // namespace grove
