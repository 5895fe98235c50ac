// hub/runtime.h — a hub per core: N threads, each running its own Hub, and a way to reach them.
//
// Model: Runtime starts `threads` threads (default: one per CPU), each with its own hub (libev
// loop, run queue, stack pool), optionally pinned to one CPU each. Fibers never migrate; work
// spreads as actors placed on hubs (actors/actor.h: ActorOptions::hub) talking by messages
// through each hub's lock-free inbox (RemoteHub). `least_loaded()` names the hub with the
// fewest live fibers. `stop()` (or the destructor) asks every hub to end: each kills and
// unwinds its fibers (Hub::destroy_current) and its thread is joined, so nothing is left
// running. Work posted to a stopped hub is dropped.
//
// Thread: construct, stop and destroy from a thread that is not one of the runtime's hubs;
// everything else from any thread. Inside a hub thread, Runtime::current() is the runtime it
// belongs to (null elsewhere) and Runtime::current_index() its index.
//
//   grove::Runtime rt({.threads = 2});
//   rt.post(1, [] { spdlog::info("on hub 1"); });
//   rt.stop();
//
// run_on(hub, fn) runs `fn` on another hub and waits (cooperatively, from a fiber) for what it
// returns or throws: the building block for "start this there and tell me the result".
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "hub/hub.h"
#include "hub/wait.h"

namespace grove {

struct RuntimeOptions {
  std::size_t threads = 0;  // 0: one per CPU the process may run on
  bool pin = false;         // pin hub i to the i-th allowed CPU (modulo their count)
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();  // stop()
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  std::size_t size() const noexcept { return hubs_.size(); }
  // Hub `i`, for placement (ActorOptions::hub) and comparisons; touch it only from its thread.
  Hub& hub(std::size_t i) const;
  RemoteHub remote(std::size_t i) const;
  // The index of `hub` in this runtime, or nullopt.
  std::optional<std::size_t> index_of(const Hub& hub) const noexcept;
  // The hub with the fewest live fibers (ties taken in turn). A hint, read without locks.
  std::size_t least_loaded() const noexcept;
  // Runs `fn` on hub i's own fiber (must not block). False if that hub has stopped.
  bool post(std::size_t i, std::function<void()> fn) const;

  // Asks every hub to end, then joins their threads. Idempotent. Not from a hub thread.
  void stop();

  static Runtime* current() noexcept;
  static std::size_t current_index() noexcept;

 private:
  struct Slot;
  void run_hub(Slot& slot, std::size_t index);
  std::vector<std::unique_ptr<Slot>> hubs_;
  mutable std::atomic<std::size_t> cursor_{0};
  bool stopped_ = false;
};

namespace internal {
// Parks the calling fiber until `done` is set by a posted reply (or the deadline passes).
struct RemoteReply {
  std::exception_ptr error;
  bool done = false;
  WaitList waiters;
};
void post_or_throw(const RemoteHub& to, std::function<void()> fn);
}  // namespace internal

// Runs `fn()` on `hub` (from its own fiber: `fn` must not block) and waits for its value or
// exception, parking the calling fiber. On the caller's own hub it just calls `fn`. Throws
// std::runtime_error if `hub` has stopped. If the caller is killed while it waits, `fn` still
// runs and its result is dropped.
template <class F>
auto run_on(Hub& hub, F fn) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  Hub& here = Hub::current();
  if (&hub == &here) return fn();
  struct State : internal::RemoteReply {
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value;
  };
  auto state = std::make_shared<State>();
  RemoteHub back = here.remote();
  here.ref_external();
  struct Unref {
    Hub& hub;
    ~Unref() { hub.unref_external(); }
  } unref{here};
  internal::post_or_throw(Hub::remote_of(&hub), [state, back, fn = std::move(fn)]() mutable {
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
        state->value.emplace(true);
      } else {
        state->value.emplace(fn());
      }
    } catch (...) {
      state->error = std::current_exception();
    }
    back.post([state] {
      state->done = true;
      state->waiters.wake_all();
    });
  });
  while (!state->done) (void)state->waiters.wait(Deadline::never(), "run_on");
  if (state->error) std::rethrow_exception(state->error);
  if constexpr (!std::is_void_v<R>) return std::move(*state->value);
}

}  // namespace grove
