// hub/monitor.cc — the monitor thread, the SIGURG sampler and symbolization.
#include "hub/monitor.h"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <backward.hpp>
#include <fmt/format.h>

#include "hub/hub.h"
#include "hub/internal/env.h"

namespace grove {

namespace internal {

// What the monitor thread knows about one watched hub.
struct Watch {
  explicit Watch(Hub& h) : hub(&h), thread(pthread_self()) {}

  std::atomic<std::uint64_t>& epoch() { return hub->switch_epoch_; }
  std::atomic<bool>& idle() { return hub->idle_in_poll_; }
  Fiber& current() { return hub->current_fiber(); }
  static void attach(Hub& h, std::shared_ptr<Watch> w) { h.watch_ = std::move(w); }
  static void detach(Hub& h) { h.watch_.reset(); }

  Hub* hub;
  pthread_t thread;
  MonitorOptions options;

  // Monitor thread's sampling state.
  std::uint64_t last_epoch = 0;
  std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
  bool reported = false;

  // Signal handshake: 1 = asked, 2 = captured.
  std::atomic<int> sample{0};
  void* frames[64] = {};
  int depth = 0;
  char name[128] = {};
};

}  // namespace internal

namespace {

using internal::Watch;

[[gnu::tls_model("initial-exec")]] thread_local Watch* tls_watch = nullptr;

struct Monitor {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::shared_ptr<Watch>> watches;
  std::thread thread;
  bool running = false;

  void ensure_started() {
    if (running) return;
    running = true;
    struct sigaction sa {};
    sa.sa_sigaction = &on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGURG, &sa, nullptr);
    thread = std::thread([this] { run(); });
    thread.detach();  // lives for the process
  }

  static void on_signal(int, siginfo_t*, void*) {
    Watch* w = tls_watch;
    if (w == nullptr || w->sample.load(std::memory_order_acquire) != 1) return;
    // glibc's backtrace() walks with libgcc's unwinder; it was called once in start_monitor(),
    // so it does not load anything here. (Linking the nongnu libunwind instead would replace
    // the C++ exception unwinder for the whole program with one that masks signals on every
    // throw.)
    w->depth = ::backtrace(w->frames, 64);
    w->current().copy_name(w->name, sizeof w->name);
    w->sample.store(2, std::memory_order_release);
  }

  void run() {
    std::unique_lock lock(mutex);
    for (;;) {
      double period = 1.0;
      for (const auto& w : watches) period = std::min(period, w->options.max_blocking_time / 4);
      period = std::max(period, 0.001);
      changed.wait_for(lock, std::chrono::duration<double>(period));
      const auto now = std::chrono::steady_clock::now();
      for (const auto& w : watches) sample(*w, now, lock);
    }
  }

  void sample(Watch& w, std::chrono::steady_clock::time_point now, std::unique_lock<std::mutex>& lock) {
    const std::uint64_t epoch = w.epoch().load(std::memory_order_relaxed);
    if (epoch != w.last_epoch || w.idle().load(std::memory_order_relaxed)) {
      w.last_epoch = epoch;
      w.since = now;
      w.reported = false;
      return;
    }
    const double blocked = std::chrono::duration<double>(now - w.since).count();
    if (w.reported || blocked < w.options.max_blocking_time) return;
    w.reported = true;
    w.sample.store(1, std::memory_order_release);
    pthread_kill(w.thread, SIGURG);
    for (int i = 0; i < 200 && w.sample.load(std::memory_order_acquire) != 2; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(250));
    }
    if (w.sample.load(std::memory_order_acquire) != 2) {
      w.sample.store(0);
      return;  // the thread did not answer (blocked in a syscall with the signal masked?)
    }
    BlockingReport report;
    report.fiber = w.name;
    report.blocked_seconds = blocked;
    std::vector<void*> frames(w.frames, w.frames + w.depth);
    w.sample.store(0);
    auto on_report = w.options.on_report;
    lock.unlock();  // symbolizing can take a while (libdw reads debug info)
    report.stack = symbolize(frames.data(), static_cast<int>(frames.size()));
    if (on_report) {
      on_report(report);
    } else {
      spdlog::warn("grove: {} has blocked the hub for {:.0f} ms without yielding; it is at:\n{}",
                   report.fiber, report.blocked_seconds * 1000, report.stack);
    }
    lock.lock();
  }

  static std::string symbolize(void* const* frames, int depth) {
    backward::TraceResolver resolver;
    resolver.load_addresses(frames, depth);
    std::string out;
    int shown = 0;
    for (int i = 0; i < depth && shown < 24; ++i) {
      backward::ResolvedTrace trace = resolver.resolve(backward::ResolvedTrace(backward::Trace(frames[i], i)));
      const std::string& fn = trace.source.function.empty() ? trace.object_function : trace.source.function;
      // Skip the sampler's own frames (the signal handler and the kernel trampoline).
      if (fn.find("on_signal") != std::string::npos || fn.find("backtrace") != std::string::npos ||
          fn.find("__restore_rt") != std::string::npos) {
        continue;
      }
      if (trace.source.filename.empty()) {
        fmt::format_to(std::back_inserter(out), "  #{} {} in {}\n", shown++, fn.empty() ? "??" : fn,
                       trace.object_filename);
      } else {
        fmt::format_to(std::back_inserter(out), "  #{} {} at {}:{}\n", shown++, fn,
                       trace.source.filename, trace.source.line);
      }
    }
    return out;
  }
};

Monitor& monitor() {
  static auto* m = new Monitor();  // never destroyed: its thread outlives static destructors
  return *m;
}

}  // namespace

void start_monitor(MonitorOptions options) {
  {
    void* warm[4];
    (void)::backtrace(warm, 4);  // loads libgcc's unwinder now, not inside the signal handler
  }
  Hub& hub = Hub::current();
  Monitor& m = monitor();
  std::lock_guard lock(m.mutex);
  auto watch = std::make_shared<Watch>(hub);
  watch->options = std::move(options);
  watch->last_epoch = watch->epoch().load();
  std::erase_if(m.watches, [&](const auto& w) { return w->hub == &hub; });
  m.watches.push_back(watch);
  Watch::attach(hub, watch);
  tls_watch = watch.get();
  m.ensure_started();
  m.changed.notify_all();
}

void stop_monitor() {
  Hub* hub = Hub::current_if_exists();
  if (hub == nullptr) return;
  Monitor& m = monitor();
  std::lock_guard lock(m.mutex);
  std::erase_if(m.watches, [&](const auto& w) { return w->hub == hub; });
  Watch::detach(*hub);
  tls_watch = nullptr;
}

namespace internal {
void unwatch(Hub* hub) {
  Monitor& m = monitor();
  std::lock_guard lock(m.mutex);
  std::erase_if(m.watches, [&](const auto& w) { return w->hub == hub; });
  if (tls_watch != nullptr && tls_watch->hub == hub) tls_watch = nullptr;
}

void watch_from_environment() {
  if (!env_flag("GROVE_MONITOR_THREAD", false)) return;
  MonitorOptions options;
  options.max_blocking_time =
      env_seconds("GROVE_MAX_BLOCKING_TIME", 3600.0, options.max_blocking_time);
  start_monitor(options);
}
}  // namespace internal

}  // namespace grove
