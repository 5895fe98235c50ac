// actors/iwait.h — wait for many greenlets, Events or AsyncResults and take each as it becomes
// ready (gevent's iwait and wait).
//
// Model: iwait(objects, deadline, count) hands out the objects as they become ready, in the
// order they do (those ready already first, in the order given), at most `count` of them
// (default all); next() returns std::nullopt after that, or when `deadline` passed first.
// "Ready" is each object's own: a greenlet (ActorRef, Greenlet<T>) has ended, an Event is set,
// an AsyncResult holds a value or an exception; any type with a wait_source() works
// (hub/wait_any.h), held by value or by pointer. wait(objects, deadline, count) collects what
// iwait hands out. Built on grove::WaitSet: the objects are registered once, so draining n of
// them costs O(n), and every next() is a wait point (kill and Timeout scopes are thrown there).
//
// Thread: the fiber that called iwait() drives it; the objects must outlive it (greenlet handles
// are held by value, so those do). Cost: a few allocations when made; none per next().
//
//   std::vector<grove::ActorRef> workers = start_workers();
//   for (auto& w : grove::iwait(workers, grove::Deadline::after(10.0))) report(w);
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "actors/next_iterator.h"
#include "hub/wait.h"
#include "hub/wait_any.h"

namespace grove {

namespace internal {
template <class W>
WaitSource wait_source_of(W& w) {
  if constexpr (std::is_pointer_v<W>) {
    return w->wait_source();
  } else {
    return w.wait_source();
  }
}
template <class W>
std::vector<WaitSource> wait_sources_of(std::vector<W>& objects) {
  std::vector<WaitSource> out;
  out.reserve(objects.size());
  for (W& w : objects) out.push_back(wait_source_of(w));
  return out;
}
}  // namespace internal

template <class W>
class IWait {
 public:
  IWait(std::vector<W> objects, Deadline deadline = Deadline::never(),
        std::optional<std::size_t> count = std::nullopt)
      : objects_(std::move(objects)),
        set_(internal::wait_sources_of(objects_)),
        deadline_(deadline),
        remaining_(count ? std::min(*count, objects_.size()) : objects_.size()) {}
  IWait(IWait&&) noexcept = default;
  IWait(const IWait&) = delete;
  IWait& operator=(const IWait&) = delete;

  // The next object to be ready; nullopt when `count` were handed out or the deadline passed.
  std::optional<W> next() {
    if (remaining_ == 0) return std::nullopt;
    const std::optional<std::size_t> i = set_.next(deadline_, "iwait");
    if (!i) return std::nullopt;
    --remaining_;
    return objects_[*i];
  }

  // for (auto& g : grove::iwait(greenlets)): each object as it becomes ready.
  using iterator = NextIterator<IWait, W>;
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  std::vector<W> objects_;
  WaitSet set_;
  Deadline deadline_;
  std::size_t remaining_;
};

template <class W>
IWait<W> iwait(std::vector<W> objects, Deadline deadline = Deadline::never(),
               std::optional<std::size_t> count = std::nullopt) {
  return IWait<W>(std::move(objects), deadline, count);
}

// The objects that became ready (at most `count`) before `deadline`, in the order they did.
template <class W>
std::vector<W> wait(std::vector<W> objects, Deadline deadline = Deadline::never(),
                    std::optional<std::size_t> count = std::nullopt) {
  std::vector<W> done;
  IWait<W> it(std::move(objects), deadline, count);
  while (std::optional<W> w = it.next()) done.push_back(std::move(*w));
  return done;
}

}  // namespace grove
