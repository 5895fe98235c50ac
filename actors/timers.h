// actors/timers.h — a message sent after a delay, cancellable (OTP's erlang:send_after and
// cancel_timer).
//
// Model: send_after(to, message, seconds) sends `message` to `to` when the time is up, exactly
// as send() would then (dropped if `to` died meanwhile). The TimerHandle cancels it: cancel()
// returns true if the message was not sent and never will be. Built on call_later
// (hub/timer.h): one libev timer per pending message, no fiber.
//
// Thread: the caller's hub runs the timer (so the handle belongs to that thread); `to` may live
// on any thread, as with send().
//
//   struct Tick {};
//   grove::TimerHandle tick = grove::send_after(grove::self(), Tick{}, 1.0);
//   // ...
//   tick.cancel();  // no Tick will arrive
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "actors/actor.h"
#include "hub/timer.h"

namespace grove {

template <class M>
TimerHandle send_after(const ActorRef& to, M&& message, double seconds) {
  // Shared, so move-only messages travel through the copyable std::function.
  auto held = std::make_shared<std::decay_t<M>>(std::forward<M>(message));
  return call_later(seconds, [to, held] { send(to, std::move(*held)); });
}

template <class M, class Rep, class Period>
TimerHandle send_after(const ActorRef& to, M&& message, std::chrono::duration<Rep, Period> d) {
  return send_after(to, std::forward<M>(message), std::chrono::duration<double>(d).count());
}

}  // namespace grove
