// facade/lock.h — gevent.lock: Semaphore, BoundedSemaphore, RLock, over actors/semaphore.h and
// actors/rlock.h.
//
// acquire(blocking=true, timeout=none) returns false when it could not acquire; release();
// locked(); wait(timeout) -> the counter; counter(). BoundedSemaphore::release() above the initial value throws
// grove::SemaphoreOverReleased (gevent: ValueError). RLock belongs to the greenlet that acquired
// it; releasing it from another throws grove::RLockNotOwned (gevent: RuntimeError).
// Scope guards: std::lock_guard / std::unique_lock work on all three (lock/unlock/try_lock).
//
//   gevent::lock::BoundedSemaphore slots(3);
//   std::lock_guard held(slots);  // `with slots:`
#pragma once

#include "actors/rlock.h"
#include "actors/semaphore.h"
#include "facade/greenlet.h"

namespace gevent::lock {

template <class Core>
class Lockable : public Core {
 public:
  using Core::Core;
  bool acquire(bool blocking = true, Seconds timeout = std::nullopt) {
    return blocking ? Core::acquire(deadline_of(timeout)) : Core::try_acquire();
  }
};

// gevent's Semaphore.wait(timeout): waits (up to `timeout`) until the semaphore could be
// acquired, without acquiring it, and returns the counter then — which can be 0 when another
// greenlet took the unit first, or when the timeout passed.
template <class Core>
class Waitable : public Lockable<Core> {
 public:
  using Lockable<Core>::Lockable;
  std::size_t wait(Seconds timeout = std::nullopt) {
    if (this->counter() == 0) (void)Core::wait(deadline_of(timeout));
    return this->counter();
  }
};
using Semaphore = Waitable<grove::Semaphore>;
using BoundedSemaphore = Waitable<grove::BoundedSemaphore>;
using RLock = Lockable<grove::RLock>;

using grove::RLockNotOwned;
using grove::SemaphoreOverReleased;

}  // namespace gevent::lock
