// actors/queue.h — queues greenlets share: FIFO Queue, LifoQueue, PriorityQueue, and the
// rendezvous Channel (gevent.queue).
//
// Model: one implementation (actors/internal/queue_core.h) parameterised by the container:
//   Queue<T>(maxsize)              first in, first out; maxsize 0 = unbounded
//   LifoQueue<T>(maxsize)          last in, first out
//   PriorityQueue<T, Less>(maxsize) least item first (by Less; gevent/heapq order)
//   Channel<T>                     no buffer: put() waits until a getter takes the item
// maxsize 0 means UNBOUNDED, as in modern gevent; the 0.13 manual's Queue(0) was a channel —
// here Channel is its own type. The buffered queues are joinable (gevent's Queue /
// JoinableQueue): every successful put adds an unfinished task; task_done(), join(deadline),
// unfinished_tasks(); and shutdown(immediate) (Python 3.13 / gevent 24.10 semantics).
//
// Blocking calls return status, never throw for timeouts or shutdown:
//   put(item, deadline) / try_put / put_for        -> QueueStatus {kOk, kTimedOut, kShutDown}
//   get(deadline) / try_get / get_for               -> QueueResult<T> (item or status)
//   peek(deadline) / try_peek / peek_for            -> QueueResult<T> (a copy; not on Channel)
// try_* never wait and report kTimedOut when they would. A failed put leaves the caller's item
// untouched (the rvalue forms move from it only on success). Kill and Timeout scopes are thrown
// at the wait point, as everywhere.
//
// wait_source() makes a queue one of the sources of wait_any (hub/wait_any.h, Go's select over
// receiving channels): it fires when a get would not wait, and takes nothing.
//
// Wake order: FIFO among parked getters, and among parked putters. A put that finds a parked
// getter moves the item into it and wakes it without yielding (the getter runs at a later pass);
// a get that frees space in a bounded queue moves the longest-parked putter's item in and wakes
// that putter. So no fiber can overtake a parked one.
//
// Thread: one hub's fibers. Cost: no allocation per item (a ring buffer / vector that grows
// geometrically; parked fibers keep their slot on their own stack); a handed-over item is moved
// once into the getter. Destruction: fibers still waiting get ObjectDestroyed (like WaitList);
// buffered items are destroyed.
//
//   grove::Queue<std::string> jobs(100);
//   grove::spawn_fiber([&] { for (auto& job : jobs) run(job); });  // until shutdown
//   jobs.put("resize img.png");
//   if (jobs.try_put("extra") == grove::QueueStatus::kTimedOut) log("full");
//   jobs.shutdown();
#pragma once

#include <cstddef>
#include <functional>

#include "actors/internal/queue_core.h"
#include "actors/internal/queue_disciplines.h"

namespace grove {

// First in, first out; `maxsize` 0 = unbounded.
template <class T>
class Queue : public internal::QueueCore<T, internal::FifoDiscipline<T>> {
 public:
  explicit Queue(std::size_t maxsize = 0)
      : internal::QueueCore<T, internal::FifoDiscipline<T>>(maxsize) {}
};

// Last in, first out; `maxsize` 0 = unbounded.
template <class T>
class LifoQueue : public internal::QueueCore<T, internal::LifoDiscipline<T>> {
 public:
  explicit LifoQueue(std::size_t maxsize = 0)
      : internal::QueueCore<T, internal::LifoDiscipline<T>>(maxsize) {}
};

// Least item (by `Less`) first; equal items in no particular order. `maxsize` 0 = unbounded.
template <class T, class Less = std::less<T>>
class PriorityQueue : public internal::QueueCore<T, internal::PriorityDiscipline<T, Less>> {
 public:
  explicit PriorityQueue(std::size_t maxsize = 0, Less less = Less())
      : internal::QueueCore<T, internal::PriorityDiscipline<T, Less>>(
            maxsize, internal::PriorityDiscipline<T, Less>(std::move(less))) {}
};

// Rendezvous: put() waits until a getter takes the item; get() waits for a putter. try_put
// succeeds only if a getter is parked, try_get only if a putter is. No peek.
template <class T>
class Channel : public internal::QueueCore<T, internal::RendezvousDiscipline<T>> {
 public:
  Channel() : internal::QueueCore<T, internal::RendezvousDiscipline<T>>(0) {}
};

}  // namespace grove
