// hub/monitor.h — the blocking detector: notices a greenlet that keeps its hub's thread busy too
// long without yielding.
//
// Model: a monitor thread samples each watched hub: its switch counter (moved by every switch and
// every yield) and the CPU time its thread has used (the thread's CPU clock, from
// pthread_getcpuclockid). When the thread has spent more than `max_blocking_time` of CPU since
// the monitor last saw the counter move, and the hub is not idle in its poller, one fiber is
// hogging it: the monitor interrupts the hub's thread with a signal; the handler records the
// interrupted fiber's name and a raw backtrace into a preallocated buffer. The monitor thread
// keeps measuring until the fiber yields, then symbolizes the stack (backward-cpp with libdw;
// inlined calls are frames of their own, so the user's lambda that made the call is named with
// its line) and reports the whole stall — by default one spdlog warning (to_string below):
//
//   grove: worker blocked the hub for 700 ms of CPU time (over 702 ms) without yielding; it
//   was at:
//     #0 spin_without_yielding at tests/hub/monitor_test.cc:42
//     #1 operator() at tests/hub/monitor_test.cc:151
//     #2 run at hub/fiber.h:235
//     ...
//
// A call in tail position (the last thing a function does) leaves no frame of its caller at -O2
// (gcc's sibling-call optimization reuses the frame); build with -fno-optimize-sibling-calls
// to see every caller.
//
// The blocked time is measured to the last sample that found the fiber still running, so it
// is short of the truth by at most one sampling period. A stall that goes on past one second of
// CPU (or ten thresholds, if longer) is reported then, marked `ongoing` ("has blocked the hub
// for 1000 ms ... and has not yielded yet"), so a fiber stuck for good is reported too.
//
// A stall is CPU time, not wall time (Seastar's stall detector counts task-clock the same way):
// a hub thread that the OS preempted or descheduled uses no CPU while it waits for a core, so a
// loaded machine never produces a report, and a spinning greenlet is reported after the same
// amount of its own work however busy the machine is. The flip side: a greenlet that sleeps in a
// blocking system call (an un-cooperative read(), nanosleep()) uses no CPU either and is not
// reported here; gevent's monitor, which measures wall time, would report it. A stall
// is sampled after `max_blocking_time` plus at most one sampling period (max_blocking_time / 4)
// of CPU, and reported when it ends. One report per stall.
//
// The signal (MonitorOptions::signal, SIGURG by default: ignored by default and rarely used, Go's
// runtime uses it the same way) has a process-wide handler. The first monitor to use a signal
// installs grove's handler and keeps the one it replaced: a signal grove did not ask for is
// passed on to it (a function is called; SIG_IGN or SIG_DFL means it is dropped, which is what
// SIG_DFL does for SIGURG). When the last monitor using the signal stops, the replaced handler
// is put back, unless someone installed another one meanwhile. The handler does only
// async-signal-safe work: it runs on an alternate signal stack (start_monitor() gives the thread
// one unless it has one already), so a nearly full fiber stack cannot overflow; it copies the
// fiber's name and calls glibc's backtrace(), whose unwinder start_monitor() has already loaded,
// so the handler never loads a library or allocates.
//
// Enable per hub with start_monitor() on that hub's thread, or for every hub created afterwards
// with GROVE_MONITOR_THREAD=1 (and GROVE_MAX_BLOCKING_TIME=<seconds>), mirroring gevent's
// GEVENT_MONITOR_THREAD_ENABLE / GEVENT_MAX_BLOCKING_TIME; a value that is not understood is
// logged as an error once and not used. Reports are delivered on the monitor thread: on_report
// must be thread-safe and must not wait for the hub. After stop_monitor() returns, on_report is
// not running and will not be called again for that hub.
//
// Cost: a relaxed counter store per switch on the hub's thread; the monitor thread wakes every
// max_blocking_time / 4 and reads each watched thread's CPU clock (one system call).
//
//   grove::MonitorOptions options;
//   options.max_blocking_time = 0.05;
//   grove::start_monitor(options);
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace grove {

struct BlockingReport {
  std::string fiber;           // the stuck fiber's name
  double blocked_seconds = 0;  // CPU time the hub's thread spent without switching
  double wall_seconds = 0;     // wall time over which it spent it
  bool ongoing = false;        // reported before the fiber yielded (a stall past one second)
  std::string stack;           // symbolized frames, innermost first, one per line
};

// The report as the default on_report logs it: "grove: NAME blocked the hub for 700 ms of CPU
// time (over 702 ms) without yielding; it was at:" and the stack.
std::string to_string(const BlockingReport& report);

struct MonitorOptions {
  // CPU seconds a fiber may run without yielding; finite and > 0.
  double max_blocking_time = 0.010;
  // The signal that interrupts the hub's thread to sample its stack. Any signal but the ones the
  // kernel raises for faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS), SIGABRT,
  // SIGKILL and SIGSTOP.
  int signal = SIGURG;
  // Called on the monitor thread; default: spdlog::warn.
  std::function<void(const BlockingReport&)> on_report;
};

// Watches this thread's hub (creating it if needed). Starting again replaces the options.
// Throws std::invalid_argument for a max_blocking_time or signal it cannot use.
void start_monitor(MonitorOptions options = {});
// Stops watching this thread's hub; returns once no report for it is being delivered.
void stop_monitor();

// What the monitor has done with this thread's hub since start_monitor() (zeros when unwatched).
struct MonitorStats {
  bool watching = false;
  double max_blocking_time = 0;
  std::uint64_t samples = 0;  // times the monitor thread looked at the hub
  std::uint64_t reports = 0;  // stalls reported
};
MonitorStats monitor_stats();

class Hub;
namespace internal {
// Gives the calling thread an alternate signal stack for as long as it lives, unless it has one
// (signal handlers then run even when the fiber's stack is full).
void give_thread_alt_stack();
// Called when a hub is created: starts watching it when GROVE_MONITOR_THREAD asks for it.
void watch_from_environment();
// Called when a watched hub is destroyed.
void unwatch(Hub* hub);

// GROVE_MONITOR_THREAD / GROVE_MAX_BLOCKING_TIME as read (null = unset): whether to watch, with
// which threshold, and a message for every value that was not understood.
struct MonitorEnvironment {
  bool enabled = false;
  double max_blocking_time = MonitorOptions{}.max_blocking_time;
  std::vector<std::string> errors;
};
MonitorEnvironment parse_monitor_environment(const char* monitor_thread,
                                             const char* max_blocking_time);
}  // namespace internal

}  // namespace grove
