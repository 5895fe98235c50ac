// hub/monitor.cc — the monitor thread, the sampling signal handler and symbolization.
#include "hub/monitor.h"

#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
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
      : hub(&h),
        thread(pthread_self()),
        tid(static_cast<pid_t>(::syscall(SYS_gettid))),
        cpu_clock(clock),
        options(std::move(o)) {}

  std::uint64_t epoch() const { return hub->scheduler_.switch_epoch(); }
  bool idle() const { return hub->reactor_.idle_in_poll(); }
  Fiber& current() const { return hub->current_fiber(); }
  static void attach(Hub& h, std::shared_ptr<Watch> w) { h.watch_ = std::move(w); }
  static void detach(Hub& h) { h.watch_.reset(); }

  Hub* const hub;
  const pthread_t thread;
  const pid_t tid;            // the hub thread's id, for /proc/self/task/<tid>
  const clockid_t cpu_clock;  // the hub thread's CPU-time clock
  const MonitorOptions options;

  // The monitor thread's view; guarded by the monitor's mutex.
  std::uint64_t last_epoch = 0;
  std::int64_t cpu_at_epoch = -1;  // thread CPU ns when last_epoch was first seen; -1 = not yet
  std::chrono::steady_clock::time_point wall_at_epoch;
  bool reported = false;  // the current stall has been sampled (one report per stall)
  bool in_kernel = false;  // the current stall is a thread asleep in the kernel, not a busy one
  std::string blocked_in;  // the system call of a stall in the kernel
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

// ---------------------------------------------------------------------------------------------
// A hub thread asleep in the kernel, as /proc shows it to the monitor thread.

struct KernelWait {
  bool asleep = false;  // the thread sleeps in the kernel (state S or D), not runnable
  long call = -1;       // the system call it sleeps in; -1 when not in one (a page fault)
  unsigned long args[6] = {};
  std::uintptr_t sp = 0;  // its user stack pointer and the instruction after the call
  std::uintptr_t pc = 0;
};

// Reads a small /proc file into `buf` (NUL-terminated); false if it cannot.
bool read_proc(const char* path, char* buf, std::size_t size) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = ::read(fd, buf, size - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  return true;
}

KernelWait kernel_wait(pid_t tid) {
  KernelWait k;
  char path[64];
  char buf[512];
  // The state is the field after the command name, which may itself hold ')' and spaces.
  fmt::format_to_n(path, sizeof path - 1, "/proc/self/task/{}/stat", tid).out[0] = '\0';
  if (!read_proc(path, buf, sizeof buf)) return k;
  const char* close_paren = std::strrchr(buf, ')');
  if (close_paren == nullptr || close_paren[1] != ' ') return k;
  k.asleep = close_paren[2] == 'S' || close_paren[2] == 'D';
  if (!k.asleep) return k;
  // "nr arg0 ... arg5 sp pc" while in a system call, "-1 sp pc" when blocked outside one.
  fmt::format_to_n(path, sizeof path - 1, "/proc/self/task/{}/syscall", tid).out[0] = '\0';
  if (!read_proc(path, buf, sizeof buf)) return k;
  char* p = buf;
  char* end = nullptr;
  const long call = std::strtol(p, &end, 10);
  if (end == p) return k;  // "running"
  p = end;
  unsigned long fields[8] = {};
  int count = 0;
  for (; count < 8; ++count) {
    fields[count] = std::strtoul(p, &end, 16);
    if (end == p) break;
    p = end;
  }
  if (call >= 0 && count == 8) {
    k.call = call;
    std::copy(fields, fields + 6, k.args);
    k.sp = fields[6];
    k.pc = fields[7];
  } else if (call < 0 && count == 2) {
    k.sp = fields[0];
    k.pc = fields[1];
  }
  return k;
}

std::string call_name(long call) {
  switch (call) {
#define GROVE_CALL(name) \
    case SYS_##name:     \
      return #name;
    GROVE_CALL(read) GROVE_CALL(write) GROVE_CALL(readv) GROVE_CALL(writev)
    GROVE_CALL(pread64) GROVE_CALL(pwrite64) GROVE_CALL(recvfrom) GROVE_CALL(sendto)
    GROVE_CALL(recvmsg) GROVE_CALL(sendmsg) GROVE_CALL(accept) GROVE_CALL(accept4)
    GROVE_CALL(connect) GROVE_CALL(ppoll) GROVE_CALL(pselect6) GROVE_CALL(epoll_pwait)
    GROVE_CALL(nanosleep) GROVE_CALL(clock_nanosleep) GROVE_CALL(futex) GROVE_CALL(wait4)
    GROVE_CALL(waitid) GROVE_CALL(flock) GROVE_CALL(fcntl) GROVE_CALL(openat)
    GROVE_CALL(rt_sigtimedwait) GROVE_CALL(rt_sigsuspend)
#if defined(SYS_poll)
    GROVE_CALL(poll) GROVE_CALL(select) GROVE_CALL(epoll_wait) GROVE_CALL(pause) GROVE_CALL(open)
#endif
#undef GROVE_CALL
    default:
      return call < 0 ? "a page fault" : fmt::format("system call {}", call);
  }
}

// Whether the socket `fd` has a timeout for `option` (a call bounded by one ends with EINTR
// when a handler runs, instead of restarting).
bool has_socket_timeout(unsigned long fd, int option) {
  timeval tv{};
  socklen_t len = sizeof tv;
  if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, option, &tv, &len) != 0) return false;
  return tv.tv_sec != 0 || tv.tv_usec != 0;
}

// Whether the kernel resumes the call transparently after a handler installed with SA_RESTART
// runs (signal(7)): then sampling the fiber with the signal changes nothing for the program.
// The others (sleeps, poll/select/epoll waits, waits with a timeout) end early with EINTR.
bool restarts_after_handler(const KernelWait& k) {
  switch (k.call) {
    case SYS_read: case SYS_readv: case SYS_pread64: case SYS_recvfrom: case SYS_recvmsg:
    case SYS_accept: case SYS_accept4:
      return !has_socket_timeout(k.args[0], SO_RCVTIMEO);
    case SYS_write: case SYS_writev: case SYS_pwrite64: case SYS_sendto: case SYS_sendmsg:
      return !has_socket_timeout(k.args[0], SO_SNDTIMEO);
    case SYS_wait4: case SYS_waitid: case SYS_flock: case SYS_fcntl: case SYS_openat:
#if defined(SYS_open)
    case SYS_open:
#endif
      return true;
    case SYS_futex:
      return k.args[3] == 0;  // a wait without a timeout (a mutex, a condition variable)
    default:
      return false;
  }
}

// Reads `size` bytes of this process at `address` without faulting on an unmapped one.
bool peek(std::uintptr_t address, void* out, std::size_t size) {
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  return ::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

bool follows_a_call(std::uintptr_t address) {
#if defined(__x86_64__)
  unsigned char b[7];
  if (address < sizeof b || !peek(address - sizeof b, b, sizeof b)) return false;
  auto indirect = [&](int at) { return b[at] == 0xff && ((b[at + 1] >> 3) & 7) == 2; };
  return b[2] == 0xe8 || indirect(5) || indirect(4) || indirect(1) || indirect(0);
#else
  (void)address;
  return true;
#endif
}

// The frames of a thread that cannot be interrupted: the instruction after its system call,
// then the words on its stack that are return addresses into loaded code (a stack scan, as crash
// reporters do without unwind information; stale addresses of returned calls may appear).
std::vector<void*> scan_stack(const KernelWait& k) {
  std::vector<void*> frames;
  if (k.pc != 0) frames.push_back(reinterpret_cast<void*>(k.pc));
  if (k.sp == 0) return frames;
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> code;
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto& ranges = *static_cast<std::vector<std::pair<std::uintptr_t, std::uintptr_t>>*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) != 0) {
            ranges.emplace_back(info->dlpi_addr + ph.p_vaddr,
                                info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
          }
        }
        return 0;
      },
      &code);
  constexpr std::size_t kPage = 4096;
  constexpr std::size_t kScanned = 16 * 1024;
  std::vector<std::uintptr_t> words(kPage / sizeof(std::uintptr_t));
  std::uintptr_t at = k.sp & ~static_cast<std::uintptr_t>(sizeof(std::uintptr_t) - 1);
  const std::uintptr_t end = at + kScanned;
  while (at < end && frames.size() < 32) {
    const std::size_t chunk = std::min<std::size_t>(kPage - (at % kPage), end - at);
    if (!peek(at, words.data(), chunk)) break;  // the top of the stack
    for (std::size_t i = 0; i < chunk / sizeof(std::uintptr_t) && frames.size() < 32; ++i) {
      const std::uintptr_t w = words[i];
      const bool in_code = std::any_of(code.begin(), code.end(),
                                       [w](const auto& r) { return w >= r.first && w < r.second; });
      if (in_code && follows_a_call(w)) frames.push_back(reinterpret_cast<void*>(w));
    }
    at += chunk;
  }
  return frames;
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
    if (watch->state.load(std::memory_order_acquire) == internal::kCaptured) {
      watch->held = captured(*watch);  // sampled, not yet taken by the monitor thread
      watch->state.store(internal::kIdle, std::memory_order_release);
    }
    if (tls_watch == watch.get()) {
      tls_watch = nullptr;
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    Watch::detach(*hub);
    if (watch->held) {
      // A stall sampled but not reported yet: reported now, as measured so far, by the monitor
      // thread (symbolizing takes more stack than the fiber calling this may have).
      handoff_.push_back(release_held(watch, false));
      wake_.notify_all();
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
      if (watches_.empty() && handoff_.empty()) {
        wake_.wait(lock);
      } else if (handoff_.empty()) {
        wake_.wait_for(lock, period());
      }
      deliveries.swap(handoff_);
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
    const Clock::duration blocked_wall = wall - w.wall_at_epoch;
    if (w.reported) {
      w.blocked_cpu = blocked;
      w.blocked_wall = blocked_wall;
      const double so_far = w.in_kernel ? seconds(blocked_wall) : seconds(blocked);
      if (w.held && so_far >= std::max(kStillBlocked, 10 * w.options.max_blocking_time)) {
        out.push_back(release_held(watch, true));
      }
      return;
    }
    if (seconds(blocked) >= w.options.max_blocking_time) {  // busy on the CPU
      w.reported = true;
      w.in_kernel = false;
      w.blocked_in.clear();
      w.blocked_cpu = blocked;
      w.blocked_wall = blocked_wall;
      ask_for_sample(w, wall);
      return;
    }
    if (seconds(blocked_wall) < w.options.max_blocking_time) return;
    // Not busy, yet the fiber has not switched for as long: is the thread asleep in the kernel
    // (a blocking call nobody made cooperative)? A thread that waits for a core is runnable,
    // not asleep, and is left alone.
    const KernelWait k = kernel_wait(w.tid);
    if (!k.asleep || w.epoch() != w.last_epoch || w.idle()) return;
    w.reported = true;
    w.in_kernel = true;
    w.blocked_in = call_name(k.call);
    w.blocked_cpu = blocked;
    w.blocked_wall = blocked_wall;
    if (w.options.interrupt_calls_to_sample || restarts_after_handler(k)) {
      ask_for_sample(w, wall);
      return;
    }
    internal::HeldReport held;
    held.report.fiber = "<not sampled>";
    held.report.stack = fmt::format(
        "  (not interrupted: a signal would end {} early; these are the return addresses found "
        "on its stack, innermost first, and may include stale ones)\n",
        w.blocked_in);
    held.frames = scan_stack(k);
    w.held = std::move(held);
  }

  void ask_for_sample(Watch& w, Clock::time_point now) {
    w.asked_at = now;
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
    d.report.blocked_seconds = w.in_kernel ? seconds(w.blocked_wall) : seconds(w.blocked_cpu);
    d.report.wall_seconds = seconds(w.blocked_wall);
    d.report.blocked_in = w.in_kernel ? w.blocked_in : std::string();
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
  std::vector<Delivery> handoff_;  // reports of retired watches, for the monitor thread to deliver
  bool thread_started_ = false;
};

}  // namespace

std::string to_string(const BlockingReport& report) {
  const double ms = report.blocked_seconds * 1000;
  const double wall_ms = report.wall_seconds * 1000;
  if (!report.blocked_in.empty()) {
    return fmt::format(
        "grove: {} {} the hub for {:.0f} ms asleep in {} (a blocking call that is not "
        "cooperative){}; it {} at:\n{}",
        report.fiber, report.ongoing ? "has blocked" : "blocked", ms, report.blocked_in,
        report.ongoing ? " and has not yielded yet" : " without yielding",
        report.ongoing ? "is" : "was", report.stack);
  }
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
