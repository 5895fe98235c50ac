// facade/event.h — gevent.event: Event and AsyncResult, over actors/event.h and
// actors/async_result.h.
//
//   Event: set(), clear(), is_set()/isSet()/ready(), wait(timeout) -> the flag (true if the event
//          was set at any point while waiting: a set-then-clear still wakes waiters),
//          rawlink(callback)/unlink (the callback receives the Event).
//   AsyncResult<T>: set(value), set_exception(e), get(block, timeout) (rethrows; not ready:
//          block=false throws Timeout at once, otherwise after `timeout`), get_nowait(),
//          wait(timeout) -> the value or nullopt (never throws), ready(), successful(), value(),
//          exception(), rawlink(callback) (receives the AsyncResult). Setting twice replaces the
//          earlier outcome (as gevent does). An AsyncResult can be a greenlet's link target:
//          g.link(result) delivers the greenlet's value or exception into it.
//
//   gevent::event::AsyncResult<int> result;
//   gevent::spawn([&] { result.set(compute()); });
//   int v = result.get(/*block=*/true, /*timeout=*/5.0);
#pragma once

#include <functional>
#include <optional>
#include <type_traits>

#include "actors/async_result.h"
#include "actors/event.h"
#include "facade/greenlet.h"

namespace gevent::event {

class Event : public grove::Event {
 public:
  using grove::Event::Event;
  // The flag after waiting up to `timeout` (nullopt: forever).
  bool wait(Seconds timeout = std::nullopt) { return grove::Event::wait(deadline_of(timeout)); }
  bool ready() const noexcept { return is_set(); }
  bool isSet() const noexcept { return is_set(); }  // gevent's old spelling
  // rawlink(callback): the callback receives this Event (or takes nothing), once, from the hub
  // after the next set().
  template <class F>
  grove::LinkId rawlink(F callback) {
    if constexpr (std::is_invocable_v<F&, Event&>) {
      return grove::Event::rawlink([this, callback = std::move(callback)]() mutable { callback(*this); });
    } else {
      return grove::Event::rawlink(std::function<void()>(std::move(callback)));
    }
  }
};

template <class T = void>
class AsyncResult : public grove::AsyncResult<T> {
 public:
  using Base = grove::AsyncResult<T>;
  using Base::Base;

  T get(bool block = true, Seconds timeout = std::nullopt) {
    if (!this->ready()) {
      if (!block) throw Timeout::unarmed(0.0);
      if (!Base::wait(deadline_of(timeout))) throw Timeout::unarmed(timeout.value_or(0.0));
    }
    return Base::get();
  }
  T get_nowait() { return get(false); }
  // rawlink(callback): the callback receives this AsyncResult (or takes nothing), once, from the
  // hub after it became ready.
  template <class F>
  grove::LinkId rawlink(F callback) {
    if constexpr (std::is_invocable_v<F&, AsyncResult&>) {
      return Base::rawlink([this, callback = std::move(callback)]() mutable { callback(*this); });
    } else {
      return Base::rawlink(std::function<void()>(std::move(callback)));
    }
  }
  // The value (or, for AsyncResult<void>, whether it is set) after waiting up to `timeout`;
  // never throws the stored exception.
  auto wait(Seconds timeout = std::nullopt) {
    (void)Base::wait(deadline_of(timeout));
    if constexpr (std::is_void_v<T>) {
      return this->ready();
    } else {
      using V = std::decay_t<decltype(*this->value())>;
      const auto* v = this->value();
      return v != nullptr ? std::optional<V>(*v) : std::optional<V>();
    }
  }
};

}  // namespace gevent::event

namespace gevent {
using event::AsyncResult;
using event::Event;
}  // namespace gevent
