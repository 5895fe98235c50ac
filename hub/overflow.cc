// hub/overflow.cc — a greenlet that overflows its stack is named, not a bare "Segmentation fault".
//
// A guarded stack has a PROT_NONE page below it (hub/stack.h): running past the bottom faults
// there. Every hub's thread gets an alternate signal stack, and the process a SIGSEGV handler
// that runs on it: when the faulting address lies just below the current fiber's stack, it writes
//
//   grove: greenlet worker overflowed its 64 KiB stack (fault at 0x7f..., 16 bytes below it)
//
// to stderr and lets the fault kill the process as before (SIGSEGV, a core dump where enabled).
// Any other fault goes to the handler that was there before (a sanitizer's, or the default).
// The handler only reads the fiber and calls write(2): async-signal-safe.
//
// An arena stack has no guard page; its canary (hub/internal/stack_pool.h) is checked when the
// fiber switches out, and a damaged one ends the process with the same kind of line:
//
//   grove: greenlet worker overflowed its 64 KiB stack (an unguarded arena stack: ...)
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "hub/hub.h"
#include "hub/internal/scheduling.h"
#include "hub/monitor.h"

namespace grove {
namespace {

struct sigaction previous_segv {};

// Appends to a fixed buffer without allocating.
struct Line {
  char text[512];
  std::size_t size = 0;
  void add(const char* s) {
    while (*s != '\0' && size + 1 < sizeof text) text[size++] = *s++;
  }
  void add(std::uint64_t value, int base = 10) {
    char digits[24];
    int n = 0;
    do {
      const int d = static_cast<int>(value % base);
      digits[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
      value /= base;
    } while (value != 0 && n < 24);
    while (n > 0 && size + 1 < sizeof text) text[size++] = digits[--n];
  }
};

void pass_on(int sig, siginfo_t* info, void* context) {
  if ((previous_segv.sa_flags & SA_SIGINFO) != 0 && previous_segv.sa_sigaction != nullptr) {
    previous_segv.sa_sigaction(sig, info, context);
    return;
  }
  if (previous_segv.sa_handler != SIG_DFL && previous_segv.sa_handler != SIG_IGN &&
      previous_segv.sa_handler != nullptr) {
    previous_segv.sa_handler(sig);
    return;
  }
  // The default: returning re-runs the faulting instruction, which now kills the process.
  ::signal(SIGSEGV, SIG_DFL);
}

void on_segv(int sig, siginfo_t* info, void* context) {
  Hub* hub = Hub::current_if_exists();
  if (hub != nullptr) {
    const Fiber& fiber = hub->current_fiber();
    const std::size_t below = fiber.overflow_depth(info->si_addr);
    if (below != 0) {
      char name[128];
      fiber.copy_name(name, sizeof name);
      Line line;
      line.add("grove: greenlet ");
      line.add(name);
      line.add(" overflowed its ");
      line.add(fiber.stack_size() / 1024);
      line.add(" KiB stack (fault at 0x");
      line.add(reinterpret_cast<std::uintptr_t>(info->si_addr), 16);
      line.add(", ");
      line.add(below);
      line.add(" bytes below it); give it a bigger stack (ActorOptions::stack_size, "
               "StackPolicy::default_size) or recurse less\n");
      (void)!::write(STDERR_FILENO, line.text, line.size);
      ::signal(SIGSEGV, SIG_DFL);  // the fault repeats on return and ends the process
      return;
    }
  }
  pass_on(sig, info, context);
}

}  // namespace

namespace internal {

void stack_canary_overwritten(const Fiber& fiber) noexcept {
  char name[128];
  fiber.copy_name(name, sizeof name);
  Line line;
  line.add("grove: greenlet ");
  line.add(name);
  line.add(" overflowed its ");
  line.add(fiber.stack_size() / 1024);
  line.add(" KiB stack (an unguarded arena stack: the canary below it was overwritten, the stack "
           "below it may be damaged); give it a bigger stack (ActorOptions::stack_size, "
           "StackPolicy::default_size) or recurse less, or guard more stacks "
           "(GROVE_GUARDED_STACKS)\n");
  (void)!::write(STDERR_FILENO, line.text, line.size);
  std::abort();
}

void catch_stack_overflows() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction sa {};
    sa.sa_sigaction = &on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, &previous_segv);
  });
  give_thread_alt_stack();  // the overflowed stack has no room left for the handler
}

}  // namespace internal
}  // namespace grove
