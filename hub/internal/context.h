// hub/internal/context.h — the one place grove touches the machine.
//
// A MachineContext is a suspended execution: the saved fcontext of a stack, plus what must
// travel with it across a switch — the C++ runtime's per-thread exception state (the
// caught-exception stack and the uncaught count) and the sanitizers' fiber bookkeeping.
// Everything above this file (run queue, waiting, timeouts) is ordinary C++.
//
// Thread: a context is switched to only on the thread that created it.
// Cost: one switch is jump_fcontext (~5.5 ns here) plus two word swaps of exception state.
#pragma once

#include <cstddef>

#include "hub/stack.h"

namespace grove::internal {

// MachineContext itself is defined in hub/stack.h (a Fiber holds one).


// Entry of a new context. `from` is the context that switched to it; `arg` is what was given to
// make_context. The function must never return: it ends by switch_context(..., finishing=true).
using ContextEntry = void (*)(MachineContext* from, void* arg);

// Prepares `ctx` to start running `entry(arg)` on the stack [bottom, bottom + size).
void make_context(MachineContext& ctx, void* stack_bottom, std::size_t size, ContextEntry entry,
                  void* arg);

// Makes `ctx` describe the calling thread's own stack (used for a thread's main fiber).
void adopt_thread_context(MachineContext& ctx);

// The switch itself: hub/internal/switch.h (inline; included by the hub's .cc files only).

// Releases sanitizer state of a context that finished.
void destroy_context(MachineContext& ctx);

}  // namespace grove::internal
