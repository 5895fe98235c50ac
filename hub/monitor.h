// hub/monitor.h — the blocking detector: notices a greenlet that runs too long without yielding.
//
// Model: a monitor thread samples each watched hub's switch counter. When a hub has not switched
// for longer than `max_blocking_time` while not idle in its poller, one fiber is hogging it: the
// monitor signals the hub's thread (SIGURG); the handler, running on the stuck fiber's stack,
// records a raw backtrace (glibc's backtrace(), warmed up beforehand) and the fiber's name into a preallocated buffer; the
// monitor thread then symbolizes it (backward-cpp with libdw) and reports it — by default one
// spdlog warning:
//
//   grove: Fiber-12 has blocked the hub for 105 ms without yielding; it is at:
//     #0 spin_without_yielding at tests/hub/monitor_test.cc:21
//     ...
//
// One report per stall. Seastar's stall detector works this way; gevent's monitor thread does
// the same with a 100 ms default (grove's is 10 ms).
//
// Enable per hub with start_monitor() on that hub's thread, or for every hub created afterwards
// with GROVE_MONITOR_THREAD=1 (and GROVE_MAX_BLOCKING_TIME=<seconds>), mirroring gevent's
// GEVENT_MONITOR_THREAD_ENABLE / GEVENT_MAX_BLOCKING_TIME. Reports are delivered on the monitor
// thread: an on_report callback must be thread-safe.
//
// Cost: nothing on the hub's thread beyond a relaxed counter store per switch; the monitor
// thread wakes every max_blocking_time / 4.
//
//   grove::MonitorOptions options;
//   options.max_blocking_time = 0.05;
//   grove::start_monitor(options);
#pragma once

#include <functional>
#include <string>

namespace grove {

struct BlockingReport {
  std::string fiber;          // the stuck fiber's name
  double blocked_seconds = 0;  // how long it had run without switching when sampled
  std::string stack;          // symbolized frames, one per line
};

struct MonitorOptions {
  double max_blocking_time = 0.010;
  // Called on the monitor thread; default: spdlog::warn.
  std::function<void(const BlockingReport&)> on_report;
};

// Watches this thread's hub (creating it if needed). Starting again replaces the options.
void start_monitor(MonitorOptions options = {});
// Stops watching this thread's hub.
void stop_monitor();

class Hub;
namespace internal {
// Called when a hub is created: starts watching it when GROVE_MONITOR_THREAD=1.
void watch_from_environment();
// Called when a watched hub is destroyed.
void unwatch(Hub* hub);
}  // namespace internal

}  // namespace grove
