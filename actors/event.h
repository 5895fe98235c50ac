// actors/event.h — a resettable flag greenlets can wait on (gevent.event.Event).
//
// Model: set() raises the flag and wakes every fiber waiting at that moment; waits that start
// while the flag is up return true at once, until clear(). A waiter returns true if the event was
// set at any point while it waited: set() followed by clear() before the waiters run still
// wakes them with true (modern gevent). wait() returns false only when its own deadline passes;
// a kill or an expired Timeout (or within()) is thrown out of it.
//
// Wake order: waiters run in the order they started waiting. rawlink() callbacks are one-shot:
// after set() they run from the hub's own fiber (after the current pass), in registration order,
// and are then removed; one linked while the event is set runs at the next pass. They must not
// block. unlink() removes one that has not run yet.
//
// Thread: owned by the hub of the thread that uses it; call from that hub's fibers (from another
// thread, post to it with Hub::remote().post). Cost: no allocation until the first rawlink();
// set() is O(waiters); wait() on a set event does not switch.
// Destruction: fibers still waiting get ObjectDestroyed (like WaitList); pending callbacks are
// dropped.
//
//   grove::Event ready;
//   grove::spawn_fiber([&] { load(); ready.set(); });
//   if (!ready.wait_for(std::chrono::seconds(2))) log_timeout();
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

#include "actors/internal/links.h"
#include "hub/wait.h"
#include "hub/wait_any.h"

namespace grove {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Raises the flag; wakes every current waiter (with true) and queues the rawlink callbacks.
  void set() {
    flag_ = true;
    waiters_.wake_all();
    links_.notify_if_ready();
  }
  // Lowers the flag. Waiters already woken by an earlier set() still return true.
  void clear() noexcept { flag_ = false; }
  bool is_set() const noexcept { return flag_; }

  // True if the event is set, or was set while waiting; false when `deadline` passed first.
  // Returns at once (without switching) when the flag is up. A wait point otherwise.
  [[nodiscard]] bool wait(Deadline deadline = Deadline::never()) {
    if (flag_) return true;
    // Only set() wakes this list, so "woken" means "was set while we waited".
    return waiters_.wait(deadline, "event") == WaitStatus::kWoken;
  }
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait(Deadline::after(timeout));
  }

  // gevent's rawlink: `callback` runs once from the hub after the next set() (or at the next
  // pass if the event is set now). Returns an id for unlink().
  LinkId rawlink(std::function<void()> callback) { return links_.add(std::move(callback)); }
  // Removes a callback that has not run yet; false if there is none with that id.
  bool unlink(LinkId id) noexcept { return links_.remove(id); }
  std::size_t link_count() const noexcept { return links_.size(); }

  // The event as a source for wait_any (hub/wait_any.h): ready while set; fires on set().
  WaitSource wait_source() noexcept {
    return WaitSource(
        waiters_, [](const void* e) noexcept { return static_cast<const Event*>(e)->flag_; },
        this);
  }

  // Fibers currently parked in wait() (and in wait_any on this event).
  std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  bool flag_ = false;
  WaitList waiters_;
  internal::LinkList links_{&flag_};
};

}  // namespace grove
