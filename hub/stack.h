// hub/stack.h — how fiber stacks are allocated, and the policy that keeps a million of them
// within this machine's limits.
//
// Model: a stack is a fixed range of address space; memory is committed by the kernel only as
// the fiber touches it (an idle fiber costs about one page). Stacks are pooled per thread and
// reused, so spawning costs a free-list pop rather than an mmap (~45 ns against ~20 µs).
//
// Guard pages: a guarded stack has a PROT_NONE page below it, so an overflow faults at once, and
// the fault is named on stderr before the process dies of it: "grove: greenlet worker
// overflowed its 64 KiB stack (...)" (hub/overflow.cc).
// Each guarded stack costs the kernel two memory maps, and `vm.max_map_count` is 65530 here, so
// only the first `guarded_stack_limit` stacks of the process are guarded (default 16384, about
// half of the map budget); beyond that, stacks are carved from large unguarded arenas (one map
// per arena of 256 stacks). An arena stack has a canary instead: a word just below its bottom,
// checked each time its fiber switches out (one compare). An overflow there is caught when the
// fiber next yields or ends, not at the faulting instruction: by then it has written into the
// stack below, and the process aborts with "grove: greenlet worker overflowed its 64 KiB stack
// (an unguarded arena stack: ...)" before that neighbour runs again. A frame that jumps over the
// canary without writing it, or a fiber that never switches out again, is not caught: keep deep
// recursion out of greenlets, or raise the limit (and max_map_count), or give such a greenlet a
// bigger stack. `GROVE_GUARDED_STACKS=<n>` sets the limit at start-up.
//
// Thread: configure before spawning fibers; the limits are process-wide, the pools per thread
// (each hub's Scheduler owns its thread's pool, hub/scheduler.h).
//
//   grove::StackPolicy policy = grove::stack_policy();
//   policy.default_size = 128 * 1024;
//   grove::set_stack_policy(policy);
#pragma once

#include <cstddef>
#include <cstdint>

namespace grove {

struct StackPolicy {
  std::size_t default_size = 64 * 1024;   // address space per fiber stack
  std::size_t guarded_stack_limit = 16384;  // stacks with a guard page, process-wide
  std::size_t warm_stacks_kept = 8192;     // freed stacks kept with their memory, per thread
};

StackPolicy stack_policy();
void set_stack_policy(const StackPolicy& policy);

// Counters for tests and run-info dumps (process-wide).
struct StackStats {
  std::size_t guarded_in_use = 0;  // guarded stacks allocated (in use or pooled)
  std::size_t arena_maps = 0;      // arenas mapped
};
StackStats stack_stats();

// ---------------------------------------------------------------------------------------------
// Low level: what a Fiber holds of its stack and of its suspended execution. Plain data, defined
// here so that hub/fiber.h needs no internal header; only hub/ reads or writes them (the pool in
// hub/internal/stack_pool.h, the switch in hub/internal/switch.h).
namespace internal {

// An arena stack has no guard page below it: an overflow would run into the stack carved below
// it. So the last word of the stack below (or of a spare page below the arena's first stack)
// holds this value, and the hub checks it every time a fiber switches out (one compare): a word
// that changed means the fiber ran past its bottom, and the process stops before the neighbour
// runs on a damaged stack. The word shares a page with the neighbour's first frames, which are
// resident anyway, so the canary costs no memory.
inline constexpr std::uint64_t kStackCanary = 0x9e3779b97f4a7c15ull;
// Guarded stacks (and a thread's own stack) point at this word instead: never overwritten.
extern const std::uint64_t kIntactCanary;
// Bytes at the top of every arena stack kept for the canary of the stack above it.
inline constexpr std::size_t kCanaryReserve = 16;

struct Stack {
  void* bottom = nullptr;  // lowest usable address
  std::size_t size = 0;    // the size class (an arena stack's fiber gets usable_size())
  bool guarded = false;
  bool from_arena = false;
  // The word below `bottom` that an overflow overwrites first (arena stacks), or kIntactCanary.
  const std::uint64_t* canary = &kIntactCanary;

  std::size_t usable_size() const noexcept { return from_arena ? size - kCanaryReserve : size; }
  bool canary_intact() const noexcept { return *canary == kStackCanary; }
};

// A suspended execution: the saved fcontext of a stack, plus what must travel with it across a
// switch — the C++ runtime's per-thread exception state and the sanitizers' fiber bookkeeping
// (hub/internal/context.h makes and switches them).
struct MachineContext {
  void* fctx = nullptr;  // Boost.Context fcontext_t of the suspended stack

  // C++ exception state of this context while it is suspended.
  void* eh_caught = nullptr;
  unsigned eh_uncaught = 0;

  // Stack bounds (for ASan); null/0 for a thread's own stack until first learned.
  const void* stack_bottom = nullptr;
  std::size_t stack_size = 0;
  void* asan_fake_stack = nullptr;
  void* tsan_fiber = nullptr;
  bool owns_tsan_fiber = false;

  // What a fresh context runs on its first switch-in.
  void (*entry)(MachineContext* from, void* arg) = nullptr;
  void* entry_arg = nullptr;
};

}  // namespace internal

}  // namespace grove
