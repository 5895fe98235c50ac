// hub/internal/context.cc — fcontext switching, exception-state swap, sanitizer annotations.
#include "hub/internal/context.h"

#include <boost/context/detail/fcontext.hpp>
#include <cxxabi.h>

#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#define GROVE_ASAN 1
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define GROVE_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif

namespace grove::internal {
namespace {

namespace bctx = boost::context::detail;

// libstdc++'s per-thread exception globals (unwind-cxx.h). The layout is fixed by the Itanium
// C++ ABI: the caught-exception stack, then the uncaught count.
struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};

EhGlobals* eh_globals() {
  thread_local EhGlobals* globals = reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
  return globals;
}

// What a switch hands to the side it resumes.
struct SwitchRecord {
  MachineContext* from;
  MachineContext* to;
};

// Runs first thing on the resumed side: store the suspended side's fcontext and finish the
// sanitizer switch. Returns the context that switched to us.
MachineContext* on_resume(bctx::transfer_t t) {
  auto* record = static_cast<SwitchRecord*>(t.data);
  MachineContext* from = record->from;
  from->fctx = t.fctx;
#if GROVE_ASAN
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

[[noreturn]] void trampoline(bctx::transfer_t t) {
  MachineContext* self = static_cast<SwitchRecord*>(t.data)->to;
  MachineContext* from = on_resume(t);
  self->entry(from, self->entry_arg);
  std::abort();  // an entry switches away for good; it never returns
}

}  // namespace

void make_context(MachineContext& ctx, void* stack_bottom, std::size_t size, ContextEntry entry,
                  void* arg) {
  void* top = static_cast<char*>(stack_bottom) + size;
  ctx.fctx = bctx::make_fcontext(top, size, &trampoline);
  ctx.stack_bottom = stack_bottom;
  ctx.stack_size = size;
  ctx.eh_caught = nullptr;
  ctx.eh_uncaught = 0;
  ctx.asan_fake_stack = nullptr;
  ctx.entry = entry;
  ctx.entry_arg = arg;
#if GROVE_TSAN
  if (ctx.tsan_fiber == nullptr) {
    ctx.tsan_fiber = __tsan_create_fiber(0);
    ctx.owns_tsan_fiber = true;
  }
#endif
}

void adopt_thread_context(MachineContext& ctx) {
  ctx = MachineContext{};
#if GROVE_TSAN
  ctx.tsan_fiber = __tsan_get_current_fiber();
  ctx.owns_tsan_fiber = false;
#endif
}

MachineContext* switch_context(MachineContext& from, MachineContext& to, bool finishing) {
  EhGlobals* eh = eh_globals();
  from.eh_caught = eh->caught_exceptions;
  from.eh_uncaught = eh->uncaught_exceptions;
  eh->caught_exceptions = to.eh_caught;
  eh->uncaught_exceptions = to.eh_uncaught;
  SwitchRecord record{&from, &to};
#if GROVE_ASAN
  __sanitizer_start_switch_fiber(finishing ? nullptr : &from.asan_fake_stack, to.stack_bottom,
                                 to.stack_size);
#endif
#if GROVE_TSAN
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
  (void)finishing;
  bctx::transfer_t t = bctx::jump_fcontext(to.fctx, &record);
  return on_resume(t);
}

void destroy_context(MachineContext& ctx) {
#if GROVE_TSAN
  if (ctx.owns_tsan_fiber && ctx.tsan_fiber != nullptr) __tsan_destroy_fiber(ctx.tsan_fiber);
#endif
  ctx.tsan_fiber = nullptr;
  ctx.owns_tsan_fiber = false;
}

}  // namespace grove::internal
