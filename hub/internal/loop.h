// hub/internal/loop.h — the libev loop behind a hub's Reactor, for the code of hub/ that owns
// watchers (IoWatcher, Waiter deadlines, Timeout, call_later). Nothing above hub/ includes it:
// layers above wait through those types, never on libev directly.
//
// Thread: the hub's own thread. Lifetime: the loop lives as long as its hub; a watcher must be
// stopped before the hub goes (hub/io.h says how IoWatcher handles a hub that ends first).
//
//   ev_timer_start(grove::internal::ev_loop_of(grove::Hub::current()), &timer);
#pragma once

#include <ev.h>

#include <cstddef>

#include "hub/hub.h"
#include "hub/reactor.h"

namespace grove::internal {

struct Loop {
  struct ev_loop* loop = nullptr;
  ev_io wake{};  // the inbox's eventfd
  std::size_t external_refs = 0;
};

struct LoopAccess {
  static struct ev_loop* of(const Hub& hub) noexcept { return hub.reactor_.loop_->loop; }
  static Reactor& reactor(Hub& hub) noexcept { return hub.reactor_; }
};

// The libev loop of `hub`.
inline struct ev_loop* ev_loop_of(const Hub& hub) noexcept { return LoopAccess::of(hub); }

// The reactor of `hub` (its watcher registry and counters).
inline Reactor& reactor_of(Hub& hub) noexcept { return LoopAccess::reactor(hub); }

}  // namespace grove::internal
