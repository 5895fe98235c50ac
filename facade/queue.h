// facade/queue.h — gevent.queue: SimpleQueue, Queue/JoinableQueue, PriorityQueue, LifoQueue,
// UnboundQueue, Channel, and the exceptions Empty, Full, ShutDown — over actors/queue.h.
//
// Signatures are gevent's: put(item, block=true, timeout=none), get(block=true, timeout=none),
// peek(block, timeout), put_nowait/get_nowait/peek_nowait, qsize(), empty(), full(), maxsize;
// a get that cannot complete throws Empty, a put Full, and after shutdown() a put throws
// ShutDown, as does a get once the queue is empty (at once with immediate=true).
// Queue is joinable (task_done, join(timeout), unfinished_tasks); JoinableQueue is an alias.
//
// maxsize: 0 (or none) means UNBOUNDED, as in modern gevent. The 0.13 manual in gevent-docs/
// says Queue(0) is a channel (put blocks until a getter takes the item); here that is Channel.
//
//   gevent::queue::Queue<std::string> tasks;
//   tasks.put("work");
//   try { auto t = tasks.get(/*block=*/true, /*timeout=*/0.5); } catch (const gevent::queue::Empty&) {}
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>

#include "actors/queue.h"
#include "facade/greenlet.h"

namespace gevent::queue {

struct Empty : std::runtime_error {
  Empty() : std::runtime_error("queue.Empty") {}
};
struct Full : std::runtime_error {
  Full() : std::runtime_error("queue.Full") {}
};
struct ShutDown : std::runtime_error {
  ShutDown() : std::runtime_error("queue.ShutDown") {}
};

namespace internal {
// Turns a failed status into gevent's exception. Out of line and cold, so that the adapters
// below stay as small as the core calls they wrap and inline into the caller's loop.
[[noreturn, gnu::cold, gnu::noinline]] inline void raise_put(grove::QueueStatus st) {
  if (st == grove::QueueStatus::kShutDown) throw ShutDown();
  throw Full();
}
[[noreturn, gnu::cold, gnu::noinline]] inline void raise_get(grove::QueueStatus st) {
  if (st == grove::QueueStatus::kShutDown) throw ShutDown();
  throw Empty();
}

// gevent's manners over any grove queue core. The argument-less put(item)/get()/peek() are
// separate overloads (not defaulted block/timeout) so the common blocking call is exactly one
// core call: with `block ? core.put(..) : core.try_put(..)` the compiler sees two call sites of
// the core's put path and stops inlining it, which cost ~50% of BM_GeventQueueThroughput.
template <class Core>
class Adapter : public Core {
 public:
  using Core::Core;
  using value_type = std::decay_t<decltype(*std::declval<Core&>().try_get())>;

  void put(value_type item) { check(Core::put(std::move(item))); }
  void put(value_type item, bool block, Seconds timeout = std::nullopt) {
    check(block ? Core::put(std::move(item), deadline_of(timeout)) : Core::try_put(std::move(item)));
  }
  value_type get() { return unwrap(Core::get()); }
  value_type get(bool block, Seconds timeout = std::nullopt) {
    return unwrap(block ? Core::get(deadline_of(timeout)) : Core::try_get());
  }
  void put_nowait(value_type item) { check(Core::try_put(std::move(item))); }
  value_type get_nowait() { return unwrap(Core::try_get()); }
  std::size_t qsize() const noexcept { return Core::size(); }

 protected:
  static void check(grove::QueueStatus st) {
    if (st != grove::QueueStatus::kOk) [[unlikely]] raise_put(st);
  }
  static value_type unwrap(grove::QueueResult<value_type>&& r) {
    if (!r.ok()) [[unlikely]] raise_get(r.status());
    return std::move(r).value();
  }
};

template <class Core>
class Peekable : public Adapter<Core> {
 public:
  using Adapter<Core>::Adapter;
  using typename Adapter<Core>::value_type;
  value_type peek() { return this->unwrap(Core::peek()); }
  value_type peek(bool block, Seconds timeout = std::nullopt) {
    return this->unwrap(block ? Core::peek(deadline_of(timeout)) : Core::try_peek());
  }
  value_type peek_nowait() { return this->unwrap(Core::try_peek()); }
};

template <class Core>
class Joinable : public Peekable<Core> {
 public:
  using Peekable<Core>::Peekable;
  // Waits until every item put was marked task_done(); false on timeout.
  bool join(Seconds timeout = std::nullopt) { return Core::join(deadline_of(timeout)); }
};
}  // namespace internal

// A FIFO queue with gevent's manners (SimpleQueue has no task tracking in gevent; here every
// buffered queue tracks tasks, which costs nothing when unused).
template <class T>
using SimpleQueue = internal::Peekable<grove::Queue<T>>;
template <class T>
using Queue = internal::Joinable<grove::Queue<T>>;
template <class T>
using JoinableQueue = Queue<T>;
// Unbounded FIFO (gevent's UnboundQueue).
template <class T>
using UnboundQueue = Queue<T>;
template <class T, class Less = std::less<T>>
using PriorityQueue = internal::Joinable<grove::PriorityQueue<T, Less>>;
template <class T>
using LifoQueue = internal::Joinable<grove::LifoQueue<T>>;
// Rendezvous: put() waits until a getter takes the item. As in gevent, it never holds an item:
// qsize() is 0 and empty() and full() are always true; balance() is putters waiting minus
// getters waiting.
template <class T>
class Channel : public internal::Adapter<grove::Channel<T>> {
 public:
  using internal::Adapter<grove::Channel<T>>::Adapter;
  bool empty() const noexcept { return true; }
  bool full() const noexcept { return true; }
  std::ptrdiff_t balance() const noexcept {
    return static_cast<std::ptrdiff_t>(this->putters_waiting()) -
           static_cast<std::ptrdiff_t>(this->getters_waiting());
  }
};

}  // namespace gevent::queue
