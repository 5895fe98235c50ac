// hub/internal/loop.h — the libev loop behind a hub's Reactor, for the code of hub/ that owns
// watchers (IoWatcher, Waiter deadlines, Timeout, call_later). Nothing above hub/ includes it:
// layers above wait through those types, never on libev directly.
//
// Thread: the hub's own thread. Lifetime: the loop lives as long as its hub; a watcher must be
// stopped before the hub goes (hub/io.h says how IoWatcher handles a hub that ends first).
//
//   ev_init(&timer, &on_timer);
//   grove::internal::arm_timer(grove::Hub::current(), &timer, 0.5);
#pragma once

#include <ev.h>
#include <sys/epoll.h>

#include <cstddef>

#include "hub/hub.h"
#include "hub/reactor.h"

namespace grove::internal {

struct Loop {
  struct ev_loop* loop = nullptr;
  ev_io wake{};  // the inbox's eventfd
  std::size_t external_refs = 0;
  // What a fast poll reads (Reactor::poll_in_place): here rather than on the stack of the
  // greenlet that polls, which may be small.
  static constexpr int kFastPollEvents = 64;
  epoll_event fast_poll_events[kFastPollEvents];
};

struct LoopAccess {
  static struct ev_loop* of(const Hub& hub) noexcept { return hub.reactor_.loop_->loop; }
  static Reactor& reactor(Hub& hub) noexcept { return hub.reactor_; }
};

// The libev loop of `hub`.
inline struct ev_loop* ev_loop_of(const Hub& hub) noexcept { return LoopAccess::of(hub); }

// The reactor of `hub` (its watcher registry and counters).
inline Reactor& reactor_of(Hub& hub) noexcept { return LoopAccess::reactor(hub); }

// Every libev timer of a hub goes through these three, so that its reactor knows when one may
// be due (its fast poll leaves timers to libev's own iteration: Reactor::poll_in_place).
//
// Arms `timer` (ev_init'ed with its callback, not active) on `hub`'s loop, to fire once `after`
// seconds from now; libev's clock is brought up to date first (a poll in place may not have
// read it).
inline void arm_timer(Hub& hub, ev_timer* timer, double after) noexcept {
  struct ev_loop* loop = ev_loop_of(hub);
  ev_timer_set(timer, after, 0.);
  ev_now_update(loop);
  ev_timer_start(loop, timer);
  reactor_of(hub).timer_armed(after);
}
// Stops `timer` if it is armed.
inline void disarm_timer(Hub& hub, ev_timer* timer) noexcept {
  if (!ev_is_active(timer)) return;
  ev_timer_stop(ev_loop_of(hub), timer);
  reactor_of(hub).timer_disarmed();
}
// First thing in a timer's callback: libev stopped a one-shot timer before calling it.
inline void timer_fired(struct ev_loop* loop, ev_timer* timer) noexcept {
  if (!ev_is_active(timer)) static_cast<Reactor*>(ev_userdata(loop))->timer_disarmed();
}

}  // namespace grove::internal
