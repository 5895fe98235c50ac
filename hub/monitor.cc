// hub/monitor.cc — the monitor thread, the sampling signal handler and symbolization.
#include "hub/monitor.h"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <backward.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hub/hub.h"

namespace grove {

namespace internal {

// The handshake between the monitor thread and the signal handler, per watch. Every move out of
// kAsked is a compare-and-swap, so the handler and a monitor thread that gives up cannot both
// win.
enum SampleState : int {
  kIdle,       // nothing asked
  kAsked,      // the signal is on its way; the handler will capture
  kCapturing,  // the handler is filling the buffer
  kCaptured,   // the buffer is full; the monitor thread takes it
  kAbandoned,  // the monitor thread stopped waiting; a late signal is still ours and dropped
};

// A report sampled and waiting for its stall to end.
struct HeldReport {
  BlockingReport report;
  std::vector<void*> frames;
  void* pc = nullptr;
};

// What the monitor knows about one watched hub. Owned by the monitor's list and by the hub.
struct Watch {
  Watch(Hub& h, MonitorOptions o, clockid_t clock)
      : hub(&h), thread(pthread_self()), cpu_clock(clock), options(std::move(o)) {}

  std::uint64_t epoch() const { return hub->switch_epoch_.load(std::memory_order_relaxed); }
  bool idle() const { return hub->idle_in_poll_.load(std::memory_order_relaxed); }
  Fiber& current() const { return hub->current_fiber(); }
  static void attach(Hub& h, std::shared_ptr<Watch> w) { h.watch_ = std::move(w); }
  static void detach(Hub& h) { h.watch_.reset(); }

  Hub* const hub;
  const pthread_t thread;
  const clockid_t cpu_clock;  // the hub thread's CPU-time clock
  const MonitorOptions options;

  // The monitor thread's view; guarded by the monitor's mutex.
  std::uint64_t last_epoch = 0;
  std::int64_t cpu_at_epoch = -1;  // thread CPU ns when last_epoch was first seen; -1 = not yet
  std::chrono::steady_clock::time_point wall_at_epoch;
  bool reported = false;  // the current stall has been sampled (one report per stall)
  // CPU and wall time of the current stall as of the last sample that found it still going.
  std::int64_t blocked_cpu = 0;
  std::chrono::steady_clock::duration blocked_wall{};
  // The stall's report, with its stack, held until the fiber yields (then it carries the whole
  // blocked time) or until kStillBlocked has passed (then it goes out marked as ongoing).
  std::optional<HeldReport> held;
  std::chrono::steady_clock::time_point asked_at;
  int in_flight = 0;  // reports of this watch being delivered outside the mutex

  std::atomic<std::uint64_t> samples{0};
  std::atomic<std::uint64_t> reports{0};

  // Written by the signal handler on the hub's thread between kCapturing and kCaptured.
  std::atomic<int> state{kIdle};
  std::uint64_t epoch_at_capture = 0;
  void* pc = nullptr;  // the interrupted instruction
  int depth = 0;
  void* frames[64] = {};
  char name[128] = {};
};

}  // namespace internal

namespace {

using internal::Watch;
using Clock = std::chrono::steady_clock;

// How long the monitor thread waits for a hub thread to take the signal before it reports the
// stall without a stack (the thread may block the signal, or a sanitizer may hold it back).
constexpr auto kSignalPatience = std::chrono::seconds(2);
// A stall still going after this much CPU time (or ten thresholds, if that is longer) is
// reported without waiting for its end: a fiber stuck for good is reported too.
constexpr double kStillBlocked = 1.0;
constexpr std::size_t kAltStackSize = 64 * 1024;

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

[[gnu::tls_model("initial-exec")]] thread_local Watch* tls_watch = nullptr;

// Per signal number: the action grove's handler replaced, and how many watches use the signal.
// `previous` is written (by sigaction, under the monitor's mutex) only while grove's handler is
// not installed for that signal, so the handler reads a settled value.
struct SignalSlot {
  struct sigaction previous {};
  int users = 0;
};
SignalSlot signal_slots[NSIG];

bool usable_signal(int sig) {
  if (sig <= 0 || sig >= NSIG) return false;
  switch (sig) {
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE:
    case SIGTRAP: case SIGSYS: case SIGABRT:
      return false;
    default:
      return true;
  }
}

// Hands a signal grove did not ask for to the handler it replaced.
void pass_on(int sig, siginfo_t* info, void* context) {
  const struct sigaction& previous = signal_slots[sig].previous;
  if ((previous.sa_flags & SA_SIGINFO) != 0) {
    if (previous.sa_sigaction != nullptr) previous.sa_sigaction(sig, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
  }
}

void* interrupted_pc(void* context) {
  if (context == nullptr) return nullptr;
  const auto* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return reinterpret_cast<void*>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return reinterpret_cast<void*>(uc->uc_mcontext.pc);
#else
  (void)uc;
  return nullptr;
#endif
}

// Runs on the hub's thread, on its alternate signal stack. Async-signal-safe: lock-free atomics,
// plain stores into the watch's preallocated buffer, and glibc's backtrace(), whose unwinder
// (libgcc_s) was loaded by start_monitor() so that nothing is loaded or allocated here.
// (Linking the nongnu libunwind instead would replace the C++ exception unwinder for the whole
// program with one that masks signals on every throw.)
void on_signal(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  Watch* w = tls_watch;
  if (w != nullptr && w->options.signal == sig) {
    int expected = internal::kAsked;
    if (w->state.compare_exchange_strong(expected, internal::kCapturing,
                                         std::memory_order_acquire)) {
      w->pc = interrupted_pc(context);
      w->depth = ::backtrace(w->frames, static_cast<int>(std::size(w->frames)));
      w->epoch_at_capture = w->epoch();
      w->current().copy_name(w->name, sizeof w->name);
      w->state.store(internal::kCaptured, std::memory_order_release);
      errno = saved_errno;
      return;
    }
    if (expected == internal::kAbandoned &&
        w->state.compare_exchange_strong(expected, internal::kIdle, std::memory_order_relaxed)) {
      errno = saved_errno;
      return;  // our own signal, arriving after the monitor stopped waiting for it
    }
  }
  pass_on(sig, info, context);
  errno = saved_errno;
}

// Gives this thread an alternate signal stack for as long as it lives, unless it has one.
void ensure_alt_stack() {
  struct AltStack {
    char* mapping = nullptr;
    std::size_t mapped = 0;
    ~AltStack() {
      if (mapping == nullptr) return;
      stack_t current{};
      if (::sigaltstack(nullptr, &current) == 0 && current.ss_sp == mapping + page() &&
          (current.ss_flags & SS_ONSTACK) == 0) {
        stack_t off{};
        off.ss_flags = SS_DISABLE;
        ::sigaltstack(&off, nullptr);
      }
      ::munmap(mapping, mapped);
    }
    static std::size_t page() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }
  };
  thread_local AltStack alt;
  if (alt.mapping != nullptr) return;
  stack_t current{};
  if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0) return;
  const std::size_t mapped = kAltStackSize + AltStack::page();
  void* m = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "grove: mmap of the signal stack");
  auto* mapping = static_cast<char*>(m);
  ::mprotect(mapping, AltStack::page(), PROT_NONE);  // guard page: an overflow faults at once
  stack_t alt_stack{};
  alt_stack.ss_sp = mapping + AltStack::page();
  alt_stack.ss_size = kAltStackSize;
  if (::sigaltstack(&alt_stack, nullptr) != 0) {
    const int error = errno;
    ::munmap(mapping, mapped);
    throw std::system_error(error, std::generic_category(), "grove: sigaltstack");
  }
  alt.mapping = mapping;
  alt.mapped = mapped;
}

std::int64_t cpu_ns(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return -1;
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double seconds(std::int64_t ns) { return static_cast<double>(ns) * 1e-9; }
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A report on its way out of the monitor's mutex.
struct Delivery {
  std::shared_ptr<Watch> watch;
  BlockingReport report;
  std::vector<void*> frames;
  void* pc = nullptr;
};

void add_frame(std::string& out, int& shown, const std::string& function,
               const std::string& file, unsigned line, const std::string& object) {
  const std::string fn = function.empty() ? "??" : readable_name(function);
  if (file.empty()) {
    fmt::format_to(std::back_inserter(out), "  #{} {} in {}\n", shown++, fn, object);
  } else {
    const std::string_view path = std::string_view(file).starts_with("./")
                                      ? std::string_view(file).substr(2)
                                      : std::string_view(file);
    fmt::format_to(std::back_inserter(out), "  #{} {} at {}:{}\n", shown++, fn, path, line);
  }
}

std::string symbolize(const std::vector<void*>& frames, void* pc) {
  // Start at the interrupted instruction when the unwinder went through the signal frame;
  // otherwise skip the sampler's own frames by name.
  std::size_t first = 0;
  if (pc != nullptr) {
    const auto at = std::find(frames.begin(), frames.end(), pc);
    if (at != frames.end()) first = static_cast<std::size_t>(at - frames.begin());
  }
  // Every frame but the interrupted one is a return address, the instruction after a call:
  // one byte back is the call itself, so the line is the call's (and a call that ends a
  // function is not taken for the next function).
  std::vector<void*> addresses(frames.begin() + static_cast<std::ptrdiff_t>(first), frames.end());
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (i > 0 || pc == nullptr) addresses[i] = static_cast<char*>(addresses[i]) - 1;
  }
  backward::TraceResolver resolver;
  resolver.load_addresses(addresses.data(), static_cast<int>(addresses.size()));
  std::string out;
  int shown = 0;
  for (std::size_t i = 0; i < addresses.size() && shown < 32; ++i) {
    backward::ResolvedTrace trace =
        resolver.resolve(backward::ResolvedTrace(backward::Trace(addresses[i], i)));
    const std::string& outer =
        trace.source.function.empty() ? trace.object_function : trace.source.function;
    if (first == 0 && (outer.find("on_signal") != std::string::npos ||
                       outer.find("backtrace") != std::string::npos ||
                       outer.find("__restore_rt") != std::string::npos)) {
      continue;
    }
    // Calls the compiler inlined are frames of their own, innermost first: the user's lambda
    // that made the call shows under its name and line, not as the function it was inlined
    // into. `inliners` lists the inlined calls outermost first, each with the place it was
    // called from; `source` holds the innermost line and the outermost function.
    const auto& inl = trace.inliners;
    if (trace.source.filename.empty() || inl.empty()) {
      add_frame(out, shown, outer, trace.source.filename, trace.source.line,
                trace.object_filename);
      continue;
    }
    add_frame(out, shown, inl.back().function, trace.source.filename, trace.source.line, {});
    for (std::size_t k = inl.size(); k-- > 0 && shown < 32;) {
      const std::string& caller = k > 0 ? inl[k - 1].function : outer;
      add_frame(out, shown, caller, inl[k].filename, inl[k].line, {});
    }
  }
  return out;
}

class Monitor {
 public:
  static Monitor& get() {
    static auto* m = new Monitor();  // never destroyed: its thread outlives static destructors
    return *m;
  }

  void start(Hub& hub, MonitorOptions options, clockid_t clock) {
    std::unique_lock lock(mutex_);
    retire_locked(&hub, lock);
    auto watch = std::make_shared<Watch>(hub, std::move(options), clock);
    watch->last_epoch = watch->epoch();
    acquire_signal(watch->options.signal);
    watches_.push_back(watch);
    Watch::attach(hub, watch);
    tls_watch = watch.get();
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (!thread_started_) {
      std::thread([this] { run(); }).detach();  // lives for the process
      thread_started_ = true;
    }
    wake_.notify_all();
  }

  // Stops watching `hub`; the caller is the hub's thread.
  void retire(Hub* hub) {
    std::unique_lock lock(mutex_);
    retire_locked(hub, lock);
  }

 private:
  void retire_locked(Hub* hub, std::unique_lock<std::mutex>& lock) {
    const auto it = std::find_if(watches_.begin(), watches_.end(),
                                 [&](const auto& w) { return w->hub == hub; });
    if (it == watches_.end()) return;
    std::shared_ptr<Watch> watch = *it;
    watches_.erase(it);
    // A signal the monitor thread sent before we took the mutex is pending for this thread;
    // any system call returns through the kernel's signal delivery, so let it land on the
    // watch now rather than on the replaced handler after the watch is gone.
    if (watch->state.load(std::memory_order_acquire) == internal::kAsked) {
      sigset_t pending;
      ::sigpending(&pending);
    }
    if (tls_watch == watch.get()) {
      tls_watch = nullptr;
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    Watch::detach(*hub);
    if (watch->held) {  // a stall sampled but not reported yet: reported now, as measured so far
      Delivery last = release_held(watch, false);
      lock.unlock();
      deliver(last);
      lock.lock();
      --watch->in_flight;
    }
    delivered_.wait(lock, [&] { return watch->in_flight == 0; });
    release_signal(watch->options.signal);
  }

  void acquire_signal(int sig) {
    SignalSlot& slot = signal_slots[sig];
    if (slot.users++ > 0) return;
    struct sigaction ours {};
    ours.sa_sigaction = &on_signal;
    ours.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&ours.sa_mask);
    if (::sigaction(sig, &ours, &slot.previous) != 0) {
      --slot.users;
      throw std::system_error(errno, std::generic_category(),
                              fmt::format("grove: cannot install the monitor's handler for signal {}", sig));
    }
  }

  void release_signal(int sig) {
    SignalSlot& slot = signal_slots[sig];
    if (--slot.users > 0) return;
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) != 0 &&
        current.sa_sigaction == &on_signal) {
      ::sigaction(sig, &slot.previous, nullptr);
    }
  }

  void run() {
    std::unique_lock lock(mutex_);
    std::vector<Delivery> deliveries;
    for (;;) {
      if (watches_.empty()) {
        wake_.wait(lock);
      } else {
        wake_.wait_for(lock, period());
      }
      for (const auto& w : watches_) sample(w, deliveries);
      if (deliveries.empty()) continue;
      lock.unlock();  // symbolizing can take a while (libdw reads debug info)
      for (Delivery& d : deliveries) deliver(d);
      lock.lock();
      for (Delivery& d : deliveries) --d.watch->in_flight;
      deliveries.clear();
      delivered_.notify_all();
    }
  }

  std::chrono::duration<double> period() const {
    double p = 0.25;
    for (const auto& w : watches_) p = std::min(p, w->options.max_blocking_time / 4);
    return std::chrono::duration<double>(std::max(p, 0.0005));
  }

  void sample(const std::shared_ptr<Watch>& watch, std::vector<Delivery>& out) {
    Watch& w = *watch;
    w.samples.fetch_add(1, std::memory_order_relaxed);
    const Clock::time_point wall = Clock::now();
    int state = w.state.load(std::memory_order_acquire);
    if (state == internal::kCaptured) {
      w.held = captured(w);
      w.state.store(internal::kIdle, std::memory_order_release);
      // Sampled after the fiber yielded: the stall is over, and its length known.
      if (w.epoch_at_capture != w.last_epoch) out.push_back(release_held(watch, false));
      return;
    }
    if (state == internal::kCapturing) return;
    if (state == internal::kAsked) {
      if (wall - w.asked_at < kSignalPatience) return;
      if (w.state.compare_exchange_strong(state, internal::kAbandoned)) w.held = unsampled(w);
    }
    const std::int64_t cpu = cpu_ns(w.cpu_clock);
    if (cpu < 0) return;
    const std::uint64_t epoch = w.epoch();
    if (epoch != w.last_epoch || w.idle() || w.cpu_at_epoch < 0) {
      // The stall (if there was one) ended after the previous sample.
      if (w.held) out.push_back(release_held(watch, false));
      w.last_epoch = epoch;
      w.cpu_at_epoch = cpu;
      w.wall_at_epoch = wall;
      w.reported = false;
      return;
    }
    const std::int64_t blocked = cpu - w.cpu_at_epoch;
    if (w.reported) {
      w.blocked_cpu = blocked;
      w.blocked_wall = wall - w.wall_at_epoch;
      if (w.held && seconds(blocked) >= std::max(kStillBlocked, 10 * w.options.max_blocking_time)) {
        out.push_back(release_held(watch, true));
      }
      return;
    }
    if (seconds(blocked) < w.options.max_blocking_time) return;
    w.reported = true;
    w.blocked_cpu = blocked;
    w.blocked_wall = wall - w.wall_at_epoch;
    w.asked_at = wall;
    w.state.store(internal::kAsked, std::memory_order_release);  // from kIdle or kAbandoned
    ::pthread_kill(w.thread, w.options.signal);
  }

  static internal::HeldReport captured(Watch& w) {
    internal::HeldReport held;
    held.report.fiber = w.name;
    held.frames.assign(w.frames, w.frames + std::max(w.depth, 0));
    held.pc = w.pc;
    if (w.epoch_at_capture != w.last_epoch) {
      held.report.stack =
          "  (the fiber yielded before its stack was sampled; this is what ran next)\n";
    }
    return held;
  }

  static internal::HeldReport unsampled(const Watch& w) {
    internal::HeldReport held;
    held.report.fiber = "<unknown fiber>";
    held.report.stack = fmt::format(
        "  (no stack: the hub's thread did not take signal {} within {} s; does it block it?)\n",
        w.options.signal, std::chrono::duration<double>(kSignalPatience).count());
    return held;
  }

  // The held report, on its way out with the stall's length as last measured.
  static Delivery release_held(const std::shared_ptr<Watch>& watch, bool ongoing) {
    Watch& w = *watch;
    Delivery d;
    d.watch = watch;
    d.report = std::move(w.held->report);
    d.frames = std::move(w.held->frames);
    d.pc = w.held->pc;
    w.held.reset();
    d.report.blocked_seconds = seconds(w.blocked_cpu);
    d.report.wall_seconds = seconds(w.blocked_wall);
    d.report.ongoing = ongoing;
    ++w.in_flight;
    w.reports.fetch_add(1, std::memory_order_relaxed);
    return d;
  }

  static void deliver(Delivery& d) {
    if (!d.frames.empty()) d.report.stack += symbolize(d.frames, d.pc);
    try {
      if (d.watch->options.on_report) {
        d.watch->options.on_report(d.report);
      } else {
        spdlog::warn("{}", to_string(d.report));
      }
    } catch (const std::exception& e) {
      spdlog::error("grove: the blocking monitor's on_report threw: {}", e.what());
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;       // watches changed
  std::condition_variable delivered_;  // a batch of reports was delivered
  std::vector<std::shared_ptr<Watch>> watches_;
  bool thread_started_ = false;
};

}  // namespace

std::string to_string(const BlockingReport& report) {
  const double ms = report.blocked_seconds * 1000;
  const double wall_ms = report.wall_seconds * 1000;
  if (report.ongoing) {
    return fmt::format(
        "grove: {} has blocked the hub for {:.0f} ms of CPU time (over {:.0f} ms) and has not "
        "yielded yet; it is at:\n{}",
        report.fiber, ms, wall_ms, report.stack);
  }
  return fmt::format(
      "grove: {} blocked the hub for {:.0f} ms of CPU time (over {:.0f} ms) without yielding; "
      "it was at:\n{}",
      report.fiber, ms, wall_ms, report.stack);
}

void start_monitor(MonitorOptions options) {
  if (!(std::isfinite(options.max_blocking_time) && options.max_blocking_time > 0)) {
    throw std::invalid_argument(fmt::format(
        "grove: start_monitor: max_blocking_time must be a number of seconds > 0, not {}",
        options.max_blocking_time));
  }
  if (!usable_signal(options.signal)) {
    throw std::invalid_argument(fmt::format(
        "grove: start_monitor: signal {} cannot sample stacks (fault signals, SIGABRT, SIGKILL "
        "and SIGSTOP are refused)",
        options.signal));
  }
  {
    void* warm[4];
    (void)::backtrace(warm, 4);  // loads libgcc's unwinder now, not inside the signal handler
  }
  ensure_alt_stack();
  Hub& hub = Hub::current();
  clockid_t clock{};
  if (const int rc = ::pthread_getcpuclockid(::pthread_self(), &clock); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "grove: pthread_getcpuclockid");
  }
  Monitor::get().start(hub, std::move(options), clock);
}

void stop_monitor() {
  Hub* hub = Hub::current_if_exists();
  if (hub == nullptr) return;
  Monitor::get().retire(hub);
}

MonitorStats monitor_stats() {
  const Watch* w = tls_watch;
  if (w == nullptr) return {};
  MonitorStats stats;
  stats.watching = true;
  stats.max_blocking_time = w->options.max_blocking_time;
  stats.samples = w->samples.load(std::memory_order_relaxed);
  stats.reports = w->reports.load(std::memory_order_relaxed);
  return stats;
}

namespace internal {

void give_thread_alt_stack() { ensure_alt_stack(); }

void unwatch(Hub* hub) { Monitor::get().retire(hub); }

MonitorEnvironment parse_monitor_environment(const char* monitor_thread,
                                             const char* max_blocking_time) {
  MonitorEnvironment env;
  const std::string_view on = monitor_thread != nullptr ? monitor_thread : "";
  if (on == "1" || on == "true" || on == "yes" || on == "on") {
    env.enabled = true;
  } else if (!(on.empty() || on == "0" || on == "false" || on == "no" || on == "off")) {
    env.errors.push_back(fmt::format(
        "GROVE_MONITOR_THREAD='{}' is not understood: use 1 (or true, yes, on) to start the "
        "blocking monitor, 0 (or false, no, off) not to; not starting it",
        on));
  }
  if (max_blocking_time != nullptr) {
    const std::string text = max_blocking_time;
    char* end = nullptr;
    errno = 0;
    const double s = text.empty() ? 0 : std::strtod(text.c_str(), &end);
    const bool whole = !text.empty() && end != nullptr && *end == '\0';
    if (whole && errno == 0 && std::isfinite(s) && s > 0) {
      env.max_blocking_time = s;
    } else {
      env.errors.push_back(fmt::format(
          "GROVE_MAX_BLOCKING_TIME='{}' is not a number of seconds > 0 (e.g. 0.01); using the "
          "default {} s",
          text, env.max_blocking_time));
    }
  }
  return env;
}

void watch_from_environment() {
  // Read once per process, so a bad value is reported once, not for every hub.
  static const MonitorEnvironment env = [] {
    MonitorEnvironment e = parse_monitor_environment(std::getenv("GROVE_MONITOR_THREAD"),
                                                     std::getenv("GROVE_MAX_BLOCKING_TIME"));
    for (const auto& error : e.errors) spdlog::error("grove: {}", error);
    return e;
  }();
  if (!env.enabled) return;
  MonitorOptions options;
  options.max_blocking_time = env.max_blocking_time;
  start_monitor(options);
}

}  // namespace internal

}  // namespace grove
