// hub/wait_any.h — one fiber waits for the first of several sources, and learns which.
//
// Model: a WaitSource is something a fiber can wait for among others: a readiness test plus the
// place where its owner announces a change — a WaitList the owner wakes (an Event, an
// AsyncResult, a fiber's join list, a mailbox, a semaphore's or queue's readiness list) or an
// IoWatcher (an fd ready to read or write). `wait_any(sources, deadline)` returns the index of a
// ready source, or std::nullopt when `deadline` passed first (Go's `select` with cases that only
// look, Boost.Asio's wait_for_one, CML's `choose` over events):
//   - sources ready already: the lowest index, without parking (still a wait point: a pending
//     kill or expired Timeout is thrown first);
//   - otherwise the fiber parks once, registered on every source, and the first source to fire
//     is the answer. "Fired" means what the source's own single wait means by woken: an Event
//     set while waiting counts even if it was cleared before the fiber ran.
// Nothing is taken from a source: wait_any only looks. The caller then takes what is ready
// (receives the message, reads the socket, joins the fiber), as after select(2).
//
// Interruptions are those of any wait (hub/wait.h): a kill or Timeout scope is thrown out of
// wait_any; a source destroyed, closed or cancelled while the fiber waits (WaitList destroyed,
// IoWatcher destroyed or cancel()ed) throws that source's error (ObjectDestroyed, or the
// cancel's) out of wait_any. However the wait ends, the fiber is unregistered from every source
// before wait_any returns or throws; a source destroyed meanwhile is not touched again.
//
// A source's WaitList must be woken with wake_all (or have no other waiter): wait_any looks and
// does not take, so a wake_one meant to hand something over (a semaphore's unit, a queue item)
// would be lost on it. The primitives hand out sources with that property (wait_source()).
// An IoWatcher admits one waiting fiber (ConcurrentObjectUseError, as for IoWatcher::wait).
//
// Thread: hub thread, from a fiber. Cost: no allocation for up to kInlineSources sources (the
// registrations live on the waiting fiber's stack); one registration per source, O(count) to
// register and unregister; a source that fires costs one extra branch on its wake.
//
//   grove::Event stop;
//   grove::IoWatcher readable(fd, grove::kIoRead);
//   auto which = grove::wait_any({readable, stop.wait_source()}, grove::Deadline::after(5.0));
//   if (!which) return timed_out();
//   if (*which == 1) return stopping();
//   read_from(fd);
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>

#include "hub/wait.h"

namespace grove {

class IoWatcher;

class WaitSource {
 public:
  using ReadyFn = bool (*)(const void* object) noexcept;

  // Never ready, never fires (Go's nil channel in a select): a place-holder.
  constexpr WaitSource() noexcept = default;

  // Ready when `ready(object)`; the owner wakes `list` (wake_all) when that may have changed.
  constexpr WaitSource(WaitList& list, ReadyFn ready, const void* object) noexcept
      : list_(&list), ready_(ready), object_(object) {}
  // Ready when the watcher has reported one of its directions (IoWatcher::ready() != 0), or
  // when `also(object)` says so (an owner that tracks readiness itself, as a Socket does).
  WaitSource(IoWatcher& watcher, ReadyFn also = nullptr,  // NOLINT(google-explicit-constructor)
             const void* object = nullptr) noexcept
      : io_(&watcher), ready_(also), object_(object) {}

  // Whether waiting on this source alone would return at once.
  bool ready() const noexcept;
  IoWatcher* watcher() const noexcept { return io_; }

 private:
  friend struct internal::WaitAnyAccess;
  WaitList* list_ = nullptr;
  IoWatcher* io_ = nullptr;
  ReadyFn ready_ = nullptr;
  const void* object_ = nullptr;
};

// Sources waited for without allocating.
inline constexpr std::size_t kInlineSources = 8;

// See the header comment. `what` names the wait in run-info dumps and LoopExit messages.
[[nodiscard]] std::optional<std::size_t> wait_any(std::span<const WaitSource> sources,
                                                  Deadline deadline = Deadline::never(),
                                                  const char* what = "wait any");
[[nodiscard]] inline std::optional<std::size_t> wait_any(std::initializer_list<WaitSource> sources,
                                                         Deadline deadline = Deadline::never(),
                                                         const char* what = "wait any") {
  return wait_any(std::span<const WaitSource>(sources.begin(), sources.size()), deadline, what);
}

// A standing wait on many WaitList sources that hands out each source once, in the order they
// became ready (gevent's iwait): the sources ready when the set is made come first, by index;
// the others as they fire. Registration happens once, in the constructor, so draining n
// sources costs O(n) in all, not O(n) per source.
//
// Model: next(deadline) returns the index of the next source that fired, parking when none has
// yet; std::nullopt when `deadline` passed first or every source was handed out. A kill or
// Timeout scope is thrown out of next(); a source destroyed while registered throws
// ObjectDestroyed out of the next()'s park, or, when nobody is parked, is dropped silently (it
// never becomes ready). Only WaitList sources (an IoWatcher admits a single waiter for as long
// as it is registered: use wait_any for those; std::invalid_argument here).
//
// Thread: the fiber that made the set calls next(); destroy it there too. Cost: one allocation
// for the registrations; nothing per next().
//
//   grove::WaitSet done({a.wait_source(), b.wait_source(), c.wait_source()});
//   while (auto i = done.next(grove::Deadline::after(5.0))) report(*i);
class WaitSet {
 public:
  explicit WaitSet(std::span<const WaitSource> sources);
  WaitSet(std::initializer_list<WaitSource> sources)
      : WaitSet(std::span<const WaitSource>(sources.begin(), sources.size())) {}
  WaitSet(WaitSet&&) noexcept;
  WaitSet& operator=(WaitSet&&) = delete;
  WaitSet(const WaitSet&) = delete;
  WaitSet& operator=(const WaitSet&) = delete;
  ~WaitSet();

  [[nodiscard]] std::optional<std::size_t> next(Deadline deadline = Deadline::never(),
                                                const char* what = "iwait");
  // Sources not handed out yet.
  std::size_t remaining() const noexcept { return count_ - handed_out_; }

 private:
  void harvest();

  std::size_t count_ = 0;
  std::size_t handed_out_ = 0;
  Waiter* registrations_ = nullptr;  // count_ of them (new[]), one per source
  Waiter* parked_ = nullptr;         // the waiter next() parks on (heap: registrations point at it)
  std::size_t* ready_ = nullptr;     // count_ slots: indices in hand-out order
  std::size_t ready_head_ = 0;
  std::size_t ready_tail_ = 0;
};

}  // namespace grove
