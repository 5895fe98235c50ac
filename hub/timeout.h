// hub/timeout.h — a deadline for a whole block of code, delivered at its wait points.
//
// Model: constructing a Timeout starts a timer for the calling fiber; if it expires while the
// scope is alive, the fiber's current or next wait point throws a copy of the Timeout (an inert
// copy: it carries the seconds and the identity of the scope that fired). Leaving the scope
// cancels the timer. Code that does not wait cannot be interrupted.
//
// Silent form: Timeout(seconds, Timeout::kSilent) throws nothing; when it expires, the blocking
// call in progress, and every later one inside the scope, returns "timed out" (the core's
// WaitStatus::kTimedOut, `false` from wait_for-style calls) — gevent's `Timeout(s, False)`.
//
// Nesting: each scope has its own timer; the one that fires first is thrown, and a handler can
// tell which by comparing with the scope (`e == outer`). Timeout(0) fires at the fiber's next
// blocking wait; Timeout::never() (or a negative/infinite value) never fires.
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
#include <string>

struct ev_loop;
struct ev_timer;

namespace grove {

class Fiber;

class Timeout {
 public:
  enum Mode { kThrow, kSilent };

  // Starts at once (gevent's Timeout.start_new). Negative or infinite seconds: never fires.
  explicit Timeout(double seconds, Mode mode = kThrow);
  template <class Rep, class Period>
  explicit Timeout(std::chrono::duration<Rep, Period> d, Mode mode = kThrow)
      : Timeout(std::chrono::duration<double>(d).count(), mode) {}
  // Throws `error` instead of a Timeout when it expires (gevent's Timeout(seconds, exception)).
  Timeout(double seconds, std::exception_ptr error);
  static Timeout never() { return Timeout(-1.0); }
  // An unarmed Timeout that says `seconds` — for calls that report a timeout by throwing one
  // without waiting (gevent's get(block=False) on an unready result).
  static Timeout unarmed(double seconds) {
    Timeout t(-1.0);
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
  bool silent() const noexcept { return mode_ == kSilent; }
  std::string message() const;  // "Timeout after 0.5 seconds"
  const char* what() const noexcept { return "grove::Timeout"; }

  // Same scope (the thrown copy equals the scope it came from).
  friend bool operator==(const Timeout& a, const Timeout& b) noexcept { return a.id_ == b.id_; }

 private:
  static void on_timer(struct ev_loop* loop, struct ev_timer* w, int events);
  void arm(double seconds);
  void fire() noexcept;

  double seconds_;
  Mode mode_;
  std::uint64_t id_;
  std::exception_ptr error_;  // thrown instead of a copy of this scope, when set
  bool expired_ = false;
  bool armed_ = false;
  Fiber* owner_ = nullptr;
  // The libev timer of an armed scope (kept opaque; checked against ev_timer in timeout.cc).
  alignas(8) unsigned char timer_[64];
};

}  // namespace grove
