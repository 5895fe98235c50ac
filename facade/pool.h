// facade/pool.h — gevent.pool: Group and Pool, over actors/group.h.
//
// Group: add, discard, join(timeout, raise_error), kill(block, timeout), killone, spawn, map,
// imap, imap_unordered, apply, apply_async, full. Pool(size): spawn waits while full (Pool(0)
// forever); add() waits too, and add(greenlet, block=false) (or a timeout that passes) throws
// PoolFull; free_count(), wait_available(timeout). imap yields in input order (a failed item
// throws at its position); imap_unordered in completion order. Members are greenlet-actors:
// what spawn returns is a gevent::Greenlet.
//
//   gevent::pool::Pool pool(10);
//   auto pages = pool.map([](const std::string& url) { return fetch(url); }, urls);
#pragma once

#include <stdexcept>

#include "actors/group.h"
#include "facade/greenlet.h"

namespace gevent::pool {

struct PoolFull : std::runtime_error {
  PoolFull() : std::runtime_error("pool.PoolFull: no room in the pool") {}
};

template <class Core>
class Manners : public Core {
 public:
  using Core::Core;
  template <class F, class... Args>
  auto spawn(F&& f, Args&&... args) {
    auto g = Core::spawn(std::forward<F>(f), std::forward<Args>(args)...);
    return Greenlet<typename decltype(g)::result_type>(std::move(g));
  }
  bool join(Seconds timeout = std::nullopt, bool raise_error = false) {
    return Core::join(deadline_of(timeout), raise_error);
  }
  bool kill(bool block = true, Seconds timeout = std::nullopt) {
    return Core::kill(block, deadline_of(timeout));
  }
  bool killone(const grove::ActorRef& g, bool block = true, Seconds timeout = std::nullopt) {
    return Core::killone(g, block, deadline_of(timeout));
  }
};

using Group = Manners<grove::Group>;

class Pool : public Manners<grove::Pool> {
 public:
  using Manners::Manners;
  // Adds a greenlet: waits for room (up to `timeout`), or with block=false does not wait; throws
  // PoolFull when there is no room in time (gevent's add(greenlet, blocking, timeout)).
  void add(const grove::ActorRef& g, bool block = true, Seconds timeout = std::nullopt) {
    if (!block) {
      if (!try_add(g)) throw PoolFull();
      return;
    }
    if (!wait_for_room(deadline_of(timeout))) throw PoolFull();
    track(g);
  }
  bool wait_available(Seconds timeout = std::nullopt) {
    return grove::Pool::wait_available(deadline_of(timeout));
  }
};

}  // namespace gevent::pool

namespace gevent {
using pool::Group;
using pool::Pool;
}  // namespace gevent
