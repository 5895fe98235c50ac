// hub/idle_spin.h — how long a hub with nothing ready polls before it sleeps.
//
// Why: a hub that sleeps in epoll_wait must be woken by whoever sends it the next event, and on
// another core that wake-up is an inter-processor interrupt paid by the sender (several
// microseconds in a virtual machine), plus a context switch and an idle exit paid by the hub.
// Under load the next event usually comes a few microseconds after the hub ran out of work:
// polling without blocking for that long (epoll_wait with timeout 0) finds it, and neither side
// pays the wake-up. With redis-benchmark or wrk pinned to the other core, this is the
// difference between the client spending ~5% of its CPU waking the server and not at all.
//
// Model: the window adapts to the gaps the hub sees, so an idle or lightly loaded hub does not
// burn CPU. It starts at the limit; a spin that ends without finding work halves it (below
// kFloorSeconds it is 0: no spin); a spin that finds work, or a sleep that ended within the
// limit (work came soon enough that a spin would have caught it), restores it to the limit. With events every 25 µs and a
// 20 µs limit, the spins fail and the window falls to 0 in five sleeps, and stays there while the
// gaps stay longer than the limit. The limit is GROVE_IDLE_SPIN_US (microseconds, at most
// 10000, 0 disables), default kDefaultLimitSeconds.
//
// Thread: one per hub, its own thread only. Pure bookkeeping: the hub reads the clock and polls
// (Hub::loop_run); nothing above hub/ uses this class.
//
//   IdleSpin spin(20e-6);
//   if (spin.window() > 0) { /* poll until work or window() elapsed */ spin.spun(found); }
//   if (!found) { /* sleep until work */ spin.slept(seconds_since_the_hub_ran_out_of_work); }
#pragma once

namespace grove {

class IdleSpin {
 public:
  static constexpr double kDefaultLimitSeconds = 20e-6;
  static constexpr double kFloorSeconds = 1e-6;

  explicit IdleSpin(double limit_seconds) noexcept { set_limit(limit_seconds); }

  // 0 (or less) disables spinning.
  void set_limit(double seconds) noexcept {
    limit_ = seconds > 0 ? seconds : 0;
    window_ = limit_;
  }
  double limit() const noexcept { return limit_; }
  // How long to poll before the next sleep; 0: sleep at once.
  double window() const noexcept { return window_; }

  // A spin of window() ended: `found` if it found work before the window closed.
  void spun(bool found) noexcept {
    if (found) {
      window_ = limit_;
      return;
    }
    window_ /= 2;
    if (window_ < kFloorSeconds) window_ = 0;
  }
  // The hub slept (after a failed spin or none) and work came `gap_seconds` after it started
  // waiting: a gap within the limit means spinning would have paid off.
  void slept(double gap_seconds) noexcept {
    if (gap_seconds <= limit_) window_ = limit_;
  }

 private:
  double limit_ = 0;
  double window_ = 0;
};

}  // namespace grove
