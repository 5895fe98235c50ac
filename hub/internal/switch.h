// hub/internal/switch.h — the stack switch itself, inline so a yield is one call deep.
//
// Included only by hub/*.cc. A switch that goes through several out-of-line frames pays one
// return misprediction per frame on the way back (the return stack buffer holds the other
// fiber's frames), which costs more than the jump itself; keeping the jump inline in the
// scheduler is what makes a yield cost ~15 ns instead of ~45 ns here.
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include "hub/internal/context.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace grove::internal {

// libstdc++'s per-thread exception globals (unwind-cxx.h). The layout is fixed by the Itanium
// C++ ABI: the caught-exception stack, then the uncaught count.
struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};

EhGlobals* current_eh_globals() noexcept;

struct SwitchRecord {
  MachineContext* from;
  MachineContext* to;
};

// Runs first thing on the resumed side: store the suspended side's fcontext and finish the
// sanitizer switch. Returns the context that switched to us.
inline MachineContext* finish_switch(boost::context::detail::transfer_t t) noexcept {
  auto* record = static_cast<SwitchRecord*>(t.data);
  MachineContext* from = record->from;
  from->fctx = t.fctx;
#if defined(__SANITIZE_ADDRESS__)
  MachineContext* self = record->to;
  const void* bottom = nullptr;
  std::size_t size = 0;
  __sanitizer_finish_switch_fiber(self->asan_fake_stack, &bottom, &size);
  if (from->stack_bottom == nullptr) {  // a thread's own stack: learn its bounds
    from->stack_bottom = bottom;
    from->stack_size = size;
  }
#endif
  return from;
}

// Suspends `from`, resumes `to`; returns the context that later switched back to `from`.
// `eh` is this thread's exception globals (cached by the hub).
[[gnu::always_inline]] inline MachineContext* switch_context(EhGlobals* eh, MachineContext& from,
                                                             MachineContext& to,
                                                             bool finishing) noexcept {
  from.eh_caught = eh->caught_exceptions;
  from.eh_uncaught = eh->uncaught_exceptions;
  eh->caught_exceptions = to.eh_caught;
  eh->uncaught_exceptions = to.eh_uncaught;
  SwitchRecord record{&from, &to};
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_start_switch_fiber(finishing ? nullptr : &from.asan_fake_stack, to.stack_bottom,
                                 to.stack_size);
#endif
#if defined(__SANITIZE_THREAD__)
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
  (void)finishing;
  return finish_switch(boost::context::detail::jump_fcontext(to.fctx, &record));
}

}  // namespace grove::internal
