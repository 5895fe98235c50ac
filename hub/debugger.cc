// hub/debugger.cc — what a debugger reads to find every fiber of the process.
//
// hub/debug/grove-gdb.py walks the hubs and their fibers straight from memory, in a live
// process or a core file, where no function of the program can be called. The library is built
// without type information (-g1), so the layout the script needs — where each field sits in a
// Hub and a Fiber — is published here as data: `grove_debug_layout`, an array of 64-bit words
// in the order of `Field` below. The script checks the magic and the version first.
//
// The list of hubs is intrusive (Hub::prev_hub_/next_hub_) under one mutex, taken once when a
// hub is made and once when it goes: nothing is paid per fiber or per switch. Fibers are found
// through each hub's own list of live fibers, plus its main and loop fibers.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "hub/hub.h"

namespace grove::internal {

namespace {
std::mutex debug_hubs_mutex;
}  // namespace

// The first hub on the list; read by debuggers through grove_debug_layout.
Hub* debug_first_hub = nullptr;

struct DebugLayout {
  // The words of grove_debug_layout, in order. Append only; bump kVersionValue on any change.
  enum Field : std::size_t {
    kMagic,
    kVersion,
    kFirstHubAddress,  // address of the `Hub*` that heads the list
    kHubNext,
    kHubThreadId,      // std::int64_t
    kHubMain,          // Fiber*
    kHubLoopFiber,     // Fiber*
    kHubCurrent,       // Fiber*
    kHubLiveHead,      // Fiber*, linked through kFiberNextLive
    kFiberId,          // std::uint64_t
    kFiberState,       // std::uint8_t, FiberState
    kFiberWhat,        // const char*, what a parked fiber waits on
    kFiberName,        // const char*, or null
    kFiberContext,     // void*, the saved Boost.Context fcontext (stack pointer) while switched out
    kFiberStackBottom, // void*
    kFiberStackSize,   // std::size_t
    kFiberStackFromArena,  // bool: usable size is the size minus kCanaryReserve
    kFiberNextLive,    // Fiber*
    kFiberRan,         // bool: switched to at least once (its saved context is a real frame)
    kFiberIsActor,     // bool
    kCanaryReserve,
    kStateNew,         // the FiberState values
    kStateReady,
    kStateRunning,
    kStateParked,
    kStateDead,
    kFieldCount,
  };
  static constexpr std::uint64_t kMagicValue = 0x67726f7665646267ull;  // "grovedbg"
  static constexpr std::uint64_t kVersionValue = 1;

  using Words = std::uint64_t[kFieldCount];
  static void fill(Words& w) noexcept;
};

// offsetof on classes with virtual functions is conditionally supported; GCC and Clang give the
// real offsets for classes without virtual bases, which is all a debugger needs.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
void DebugLayout::fill(Words& w) noexcept {
  w[kMagic] = kMagicValue;
  w[kVersion] = kVersionValue;
  w[kFirstHubAddress] = reinterpret_cast<std::uintptr_t>(&debug_first_hub);
  w[kHubNext] = offsetof(Hub, next_hub_);
  w[kHubThreadId] = offsetof(Hub, thread_id_);
  w[kHubMain] = offsetof(Hub, scheduler_) + offsetof(Scheduler, main_);
  w[kHubLoopFiber] = offsetof(Hub, scheduler_) + offsetof(Scheduler, loop_fiber_);
  w[kHubCurrent] = offsetof(Hub, scheduler_) + offsetof(Scheduler, current_);
  w[kHubLiveHead] = offsetof(Hub, live_head_);
  w[kFiberId] = offsetof(Fiber, id_);
  w[kFiberState] = offsetof(Fiber, state_);
  w[kFiberWhat] = offsetof(Fiber, what_);
  w[kFiberName] = offsetof(Fiber, debug_name_);
  w[kFiberContext] = offsetof(Fiber, ctx_) + offsetof(MachineContext, fctx);
  w[kFiberStackBottom] = offsetof(Fiber, stack_) + offsetof(Stack, bottom);
  w[kFiberStackSize] = offsetof(Fiber, stack_) + offsetof(Stack, size);
  w[kFiberStackFromArena] = offsetof(Fiber, stack_) + offsetof(Stack, from_arena);
  w[kFiberNextLive] = offsetof(Fiber, next_live_);
  w[kFiberRan] = offsetof(Fiber, ran_);
  w[kFiberIsActor] = offsetof(Fiber, is_actor_);
  w[kCanaryReserve] = kCanaryReserve;
  w[kStateNew] = static_cast<std::uint64_t>(FiberState::kNew);
  w[kStateReady] = static_cast<std::uint64_t>(FiberState::kReady);
  w[kStateRunning] = static_cast<std::uint64_t>(FiberState::kRunning);
  w[kStateParked] = static_cast<std::uint64_t>(FiberState::kParked);
  w[kStateDead] = static_cast<std::uint64_t>(FiberState::kDead);
}
#pragma GCC diagnostic pop

}  // namespace grove::internal

// The layout, filled before any hub exists (static initialisation of this file, which every
// program with a hub links: Hub's constructor calls into it). `used` keeps it in the binary.
extern "C" {
[[gnu::used]] std::uint64_t grove_debug_layout[grove::internal::DebugLayout::kFieldCount];
}

namespace grove::internal {

namespace {
struct FillLayout {
  FillLayout() noexcept { DebugLayout::fill(grove_debug_layout); }
} fill_layout;
}  // namespace

void register_for_debuggers(Hub& hub) noexcept {
  hub.thread_id_ = static_cast<std::int64_t>(::syscall(SYS_gettid));
  std::lock_guard lock(debug_hubs_mutex);
  hub.prev_hub_ = nullptr;
  hub.next_hub_ = debug_first_hub;
  if (debug_first_hub != nullptr) debug_first_hub->prev_hub_ = &hub;
  debug_first_hub = &hub;
}

void unregister_for_debuggers(Hub& hub) noexcept {
  std::lock_guard lock(debug_hubs_mutex);
  if (hub.prev_hub_ != nullptr) {
    hub.prev_hub_->next_hub_ = hub.next_hub_;
  } else if (debug_first_hub == &hub) {
    debug_first_hub = hub.next_hub_;
  }
  if (hub.next_hub_ != nullptr) hub.next_hub_->prev_hub_ = hub.prev_hub_;
  hub.prev_hub_ = hub.next_hub_ = nullptr;
}

}  // namespace grove::internal
