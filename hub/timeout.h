// hub/timeout.h — a deadline for a whole block of code, delivered at its wait points.
//
// Model: constructing a Timeout starts a timer for the calling fiber; if it expires while the
// scope is alive, the fiber's current or next wait point throws a copy of the Timeout (an inert
// copy: it carries the seconds and the identity of the scope that fired). Leaving the scope
// cancels the timer. Code that does not wait cannot be interrupted. A timeout never replaces a
// kill delivered to the same fiber, and a kill replaces a timeout not yet thrown.
//
// Silent form: `within(seconds, body)` runs `body` under a timeout and returns whether it
// completed; when the time is up, the wait in progress throws an exception that only that
// `within` catches, so control leaves `body` at once, destructors run, and no later wait is
// affected — gevent's `with Timeout(s, False):`. A body that returns a value gives a
// std::optional of it.
//
//   if (!grove::within(0.5, [&] { reply = conn.read_line(); })) log_slow_peer();
//
// Nesting: each scope has its own timer; the one that fires first is thrown, and a handler can
// tell which by comparing with the scope (`e == outer`). Timeout(0) — or any negative value, as
// in gevent — fires at the fiber's next blocking wait; Timeout::never() (an infinite value)
// never fires.
//
// Timeout does not derive from std::exception (see hub/errors.h).
//
//   grove::Timeout t(0.5);
//   try {
//     auto item = queue.get();
//   } catch (const grove::Timeout& e) {
//     if (e != t) throw;  // an outer timeout: not ours to handle
//     log_slow();
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

struct ev_loop;
struct ev_timer;

namespace grove {

class Fiber;
class Timeout;
namespace internal {
Timeout make_within_timeout(double seconds);
}  // namespace internal

class Timeout {
 public:
  // Starts at once (gevent's Timeout.start_new). Zero or negative seconds: fires at the next
  // blocking wait. Infinite seconds: never fires.
  explicit Timeout(double seconds);
  template <class Rep, class Period>
  explicit Timeout(std::chrono::duration<Rep, Period> d)
      : Timeout(std::chrono::duration<double>(d).count()) {}
  // Throws `error` instead of a Timeout when it expires (gevent's Timeout(seconds, exception)).
  Timeout(double seconds, std::exception_ptr error);
  static Timeout never() { return Timeout(std::numeric_limits<double>::infinity()); }
  // gevent's Timeout.start_new(seconds): the same as constructing one (it starts at once).
  static Timeout start_new(double seconds) { return Timeout(seconds); }
  static Timeout start_new(double seconds, std::exception_ptr error) {
    return Timeout(seconds, std::move(error));
  }
  // An unarmed Timeout that says `seconds` — for calls that report a timeout by throwing one
  // without waiting (gevent's get(block=False) on an unready result).
  static Timeout unarmed(double seconds) {
    Timeout t(std::numeric_limits<double>::infinity());
    t.seconds_ = seconds;
    t.expired_ = true;
    return t;
  }

  // The thrown copy: inert (no timer), same identity.
  Timeout(const Timeout& other);
  Timeout(Timeout&& other) noexcept;
  Timeout& operator=(const Timeout&) = delete;
  ~Timeout();

  // Re-arms an inactive (cancelled or expired) scope for its seconds from now. Only on the
  // owning fiber.
  void start();
  // Stops the timer; a delivered-but-not-yet-thrown expiry of this scope is dropped.
  void cancel() noexcept;
  // True while the timer is armed and has not fired.
  bool pending() const noexcept;
  // True once it has fired.
  bool expired() const noexcept { return expired_; }

  double seconds() const noexcept { return seconds_; }
  std::uint64_t id() const noexcept { return id_; }
  std::string message() const;  // "Timeout after 0.5 seconds"
  const char* what() const noexcept { return "grove::Timeout"; }

  // Same scope (the thrown copy equals the scope it came from).
  friend bool operator==(const Timeout& a, const Timeout& b) noexcept { return a.id_ == b.id_; }

 private:
  friend Timeout internal::make_within_timeout(double seconds);
  static void on_timer(struct ev_loop* loop, struct ev_timer* w, int events);
  void arm(double seconds);
  void fire() noexcept;

  double seconds_;
  std::uint64_t id_;
  std::exception_ptr error_;  // thrown instead of a copy of this scope, when set
  bool expired_ = false;
  bool armed_ = false;
  Fiber* owner_ = nullptr;
  // The libev timer of an armed scope (kept opaque; checked against ev_timer in timeout.cc).
  alignas(8) unsigned char timer_[64];
};

namespace internal {
// What within() throws to leave its body; only the within() that armed it catches it. Not a
// std::exception, so `catch (const std::exception&)` in the body does not swallow it.
struct ScopeExpired {
  std::uint64_t scope;
};
}  // namespace internal

// Runs `body()` under a timeout of `seconds`: true (or the value, for a body that returns one)
// if it completed, false (std::nullopt) if the time ran out first. See the header comment.
template <class F>
[[nodiscard]] auto within(double seconds, F&& body) {
  using R = std::invoke_result_t<F&>;
  Timeout scope = internal::make_within_timeout(seconds);
  try {
    if constexpr (std::is_void_v<R>) {
      body();
      return !scope.expired();  // a body that swallowed the expiry still ran out of time
    } else {
      R value = body();
      return scope.expired() ? std::optional<R>() : std::optional<R>(std::move(value));
    }
  } catch (const internal::ScopeExpired& e) {
    if (e.scope != scope.id()) throw;  // an outer within's
    if constexpr (std::is_void_v<R>) {
      return false;
    } else {
      return std::optional<R>();
    }
  }
}
template <class Rep, class Period, class F>
[[nodiscard]] auto within(std::chrono::duration<Rep, Period> d, F&& body) {
  return within(std::chrono::duration<double>(d).count(), std::forward<F>(body));
}

}  // namespace grove
