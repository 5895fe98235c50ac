// hub/local.h — FiberLocal<T>: one T per fiber, made on the fiber's first use and destroyed when
// that fiber ends (gevent.local's model; thread_local is per thread, not per greenlet).
//
// Model: get() returns the calling fiber's value, making it first with the factory (default:
// T{}) when this fiber has none. Every fiber — a greenlet-actor, a raw fiber, a thread's main
// fiber — has its own; two fibers never see each other's. A value is destroyed on its fiber's
// own stack right after the fiber's body returned (or was killed), before anyone joining it
// wakes; a thread's main fiber keeps its values until its hub is destroyed. Destroying the
// FiberLocal destroys the calling fiber's value at once; values other fibers hold live on until
// those fibers end (they need nothing from the FiberLocal object).
//
// Thread: get() from any fiber of any hub, for that fiber. The factory runs in the calling fiber
// (it may wait). Cost: a linear scan of the fiber's few slots per get(); one allocation per value.
//
//   grove::FiberLocal<std::string> request_id;
//   grove::spawn_fiber([&] { request_id.get() = "a"; handle(); });  // handle() reads "a"
//   grove::spawn_fiber([&] { request_id.get() = "b"; handle(); });  // ... and here "b"
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>

#include "hub/hub.h"

namespace grove {

namespace internal {
inline std::uint64_t next_local_key() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace internal

template <class T>
class FiberLocal {
 public:
  FiberLocal() : factory_([] { return new T(); }) {}
  // `make` builds each fiber's value (gevent: the local subclass's __init__, run per greenlet).
  explicit FiberLocal(std::function<T()> make)
      : factory_([make = std::move(make)] { return new T(make()); }) {}
  FiberLocal(const FiberLocal&) = delete;
  FiberLocal& operator=(const FiberLocal&) = delete;
  ~FiberLocal() {
    if (Hub* hub = Hub::current_if_exists()) (void)hub->current_fiber().erase_local(key_);
  }

  // The calling fiber's value, made now if it has none.
  T& get() {
    Fiber& fiber = Hub::current().current_fiber();
    if (void* v = fiber.local(key_)) return *static_cast<T*>(v);
    T* value = factory_();
    fiber.set_local(key_, value, &destroy);
    return *value;
  }
  // The calling fiber's value if it has one; never makes one.
  T* get_if() const noexcept {
    Hub* hub = Hub::current_if_exists();
    return hub ? static_cast<T*>(hub->current_fiber().local(key_)) : nullptr;
  }
  // Replaces the calling fiber's value.
  void set(T value) {
    Fiber& fiber = Hub::current().current_fiber();
    fiber.set_local(key_, new T(std::move(value)), &destroy);
  }
  // Destroys the calling fiber's value (the next get() makes a fresh one); true if it had one.
  bool reset() noexcept {
    Hub* hub = Hub::current_if_exists();
    return hub != nullptr && hub->current_fiber().erase_local(key_);
  }

  T& operator*() { return get(); }
  T* operator->() { return &get(); }

 private:
  static void destroy(void* v) noexcept { delete static_cast<T*>(v); }

  std::uint64_t key_ = internal::next_local_key();
  std::function<T*()> factory_;
};

}  // namespace grove
