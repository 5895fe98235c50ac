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
// Thread: configure before spawning fibers; the limits are process-wide, the pools per thread.
//
//   grove::StackPolicy policy = grove::stack_policy();
//   policy.default_size = 128 * 1024;
//   grove::set_stack_policy(policy);
#pragma once

#include <cstddef>

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

}  // namespace grove
