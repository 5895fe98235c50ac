// hub/timer.h — run a function from the hub after a delay, with a handle that cancels it.
//
// Model: call_later(seconds, fn) arms a one-shot timer on the calling thread's hub; when it
// expires, `fn` runs from the hub's own fiber (like Hub::run_callback: it must not block; spawn
// a fiber for work that waits). The returned TimerHandle cancels it; dropping the handle does
// not. A pending timer keeps the hub's loop alive (no LoopExit while one is armed); timers still
// pending when the hub is destroyed are dropped without running. This is what send_after
// (actors/timers.h) and other delayed work are built on — one libev timer each, no fiber.
//
// Thread: hub thread only, handles included. Cost: one allocation and one libev timer per call.
//
//   grove::TimerHandle retry = grove::call_later(0.5, [conn] { conn->reconnect_soon(); });
//   // ...
//   if (connected) retry.cancel();
#pragma once

#include <functional>
#include <memory>

namespace grove {

class Hub;
namespace internal {
struct TimerEntry;
void drop_timers(Hub& hub) noexcept;  // called when `hub` is destroyed
}  // namespace internal

class TimerHandle {
 public:
  TimerHandle() = default;
  // Stops the timer; true if it had not fired yet (then `fn` will never run).
  bool cancel() noexcept;
  // True while armed: not fired, not cancelled.
  bool pending() const noexcept;
  // Seconds until it fires (0 when not pending).
  double remaining() const noexcept;

 private:
  friend TimerHandle call_later(double seconds, std::function<void()> fn);
  explicit TimerHandle(std::shared_ptr<internal::TimerEntry> entry) : entry_(std::move(entry)) {}
  std::shared_ptr<internal::TimerEntry> entry_;
};

// Runs `fn` from this thread's hub after `seconds` (<= 0: at the next loop iteration).
TimerHandle call_later(double seconds, std::function<void()> fn);

}  // namespace grove
