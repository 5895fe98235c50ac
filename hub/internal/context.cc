// hub/internal/context.cc — creating and releasing contexts (the switch is in switch.h).
#include "hub/internal/context.h"

#include "hub/internal/switch.h"

#include <boost/context/detail/fcontext.hpp>
#include <cxxabi.h>

#include <cstdlib>

#if defined(__SANITIZE_THREAD__)
#define GROVE_TSAN 1
#endif

namespace grove::internal {
namespace bctx = boost::context::detail;

EhGlobals* current_eh_globals() noexcept {
  return reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
}

namespace {

[[noreturn]] void trampoline(bctx::transfer_t t) {
  MachineContext* self = static_cast<SwitchRecord*>(t.data)->to;
  MachineContext* from = finish_switch(t);
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

void destroy_context(MachineContext& ctx) {
#if GROVE_TSAN
  if (ctx.owns_tsan_fiber && ctx.tsan_fiber != nullptr) __tsan_destroy_fiber(ctx.tsan_fiber);
#endif
  ctx.tsan_fiber = nullptr;
  ctx.owns_tsan_fiber = false;
}

}  // namespace grove::internal
