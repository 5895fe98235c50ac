// hub/fiber.cc — Fiber (hub/fiber.h): start, kill, join, fiber-local slots, and the first and
// last lines every fiber runs.
#include "hub/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hub/errors.h"
#include "hub/hub.h"
#include "hub/internal/context.h"
#include "hub/internal/scheduling.h"

namespace grove {

namespace {
std::atomic<std::uint64_t> next_fiber_id{1};
}  // namespace


const char* to_string(FiberState state) {
  switch (state) {
    case FiberState::kNew: return "new";
    case FiberState::kReady: return "ready";
    case FiberState::kRunning: return "running";
    case FiberState::kParked: return "parked";
    case FiberState::kDead: return "dead";
  }
  return "?";
}

Fiber::Fiber(std::size_t stack_size, Hub* hub)
    : requested_stack_(stack_size),
      hub_(hub != nullptr ? hub : &Hub::current()),
      id_(next_fiber_id.fetch_add(1, std::memory_order_relaxed)) {}

Fiber::~Fiber() { destroy_locals(); }

void* Fiber::local(std::uint64_t key) const noexcept {
  for (const LocalSlot& slot : locals_) {
    if (slot.key == key) return slot.value;
  }
  return nullptr;
}

void Fiber::set_local(std::uint64_t key, void* value, void (*destroy)(void*) noexcept) {
  for (LocalSlot& slot : locals_) {
    if (slot.key == key) {
      LocalSlot old = slot;
      slot.value = value;
      slot.destroy = destroy;
      old.destroy(old.value);
      return;
    }
  }
  locals_.push_back(LocalSlot{key, value, destroy});
}

bool Fiber::erase_local(std::uint64_t key) noexcept {
  for (auto it = locals_.begin(); it != locals_.end(); ++it) {
    if (it->key == key) {
      LocalSlot old = *it;
      locals_.erase(it);
      old.destroy(old.value);
      return true;
    }
  }
  return false;
}

void Fiber::destroy_locals() noexcept {
  // Newest first; a destructor that stores a new local is served in the next round.
  while (!locals_.empty()) {
    LocalSlot slot = locals_.back();
    locals_.pop_back();
    slot.destroy(slot.value);
  }
}

std::string Fiber::describe() const {
  if (state_ == FiberState::kParked) return fmt::format("<Fiber {} parked on \"{}\">", id_, what_);
  return fmt::format("<Fiber {} {}>", id_, to_string(state_));
}

void Fiber::copy_name(char* out, std::size_t size) const noexcept {
  if (size == 0) return;
  const char prefix[] = "Fiber-";
  std::size_t n = 0;
  for (const char* p = prefix; *p != '\0' && n + 1 < size; ++p) out[n++] = *p;
  char digits[24];
  int d = 0;
  std::uint64_t v = id_;
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && d < 24);
  while (d > 0 && n + 1 < size) out[n++] = digits[--d];
  out[n] = '\0';
}

std::size_t Fiber::overflow_depth(const void* address) const noexcept {
  if (!stack_.guarded || stack_.bottom == nullptr) return 0;
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  const auto bottom = reinterpret_cast<std::uintptr_t>(stack_.bottom);
  constexpr std::uintptr_t kReach = 64 * 1024;  // a large frame can skip past the guard page
  if (at >= bottom || bottom - at > kReach) return 0;
  return bottom - at;
}

std::size_t Fiber::stack_high_water() const noexcept {
  if (stack_.bottom == nullptr) return 0;
  // The deepest resident page of the stack tells how far it has grown.
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t pages = stack_.size / page;
  std::vector<unsigned char> resident(pages);
  if (::mincore(stack_.bottom, stack_.size, resident.data()) != 0) return 0;
  for (std::size_t i = 0; i < pages; ++i) {
    if (resident[i] & 1) return (pages - i) * page;
  }
  return 0;
}

void Fiber::start() {
  if (state_ != FiberState::kNew || scheduled_once_) return;
  // The stack first: if it cannot be had, the spawner gets the error and nothing changed.
  stack_ = hub_->scheduler_.take_stack(requested_stack_);
  internal::make_context(ctx_, stack_.bottom, stack_.usable_size(), &Fiber::entry, this);
  scheduled_once_ = true;
  add_ref();  // the hub's reference, dropped when the fiber dies
  hub_->add_live(*this);
  ++hub_->fibers_spawned_;
  hub_->scheduler_.schedule(*this);
}

void Fiber::kill() { kill(std::make_exception_ptr(GreenletExit())); }

bool Fiber::kill(std::exception_ptr error, KillMode mode) noexcept {
  if (state_ == FiberState::kDead) return false;
  if (!ran_ && !is_main_) {
    // It never ran: it never will. (If it sits in the run queue, the queue skips it.)
    const bool started = scheduled_once_;
    state_ = FiberState::kDead;
    scheduled_once_ = true;
    FiberRef keep(this);
    if (started) {  // give the stack back now
      hub_->scheduler_.release_stack(*this);
    }
    finish_unstarted(std::move(error));
    dead_.store(true, std::memory_order_release);
    joiners_.wake_all();
    if (started) {
      hub_->remove_live(*this);
      // The run-queue entry keeps the hub's reference until it is popped.
    }
    return true;
  }
  return hub_->interrupt(*this, std::move(error),
                         mode == KillMode::kFinal ? Pending::kFinal : Pending::kOnce, 0);
}

bool Fiber::withdraw_pending_kill() noexcept {
  if (pending_kind_ != Pending::kFinal) return false;
  pending_ = nullptr;
  pending_kind_ = Pending::kNone;
  return true;
}

bool Fiber::join(Deadline deadline) {
  while (!dead()) {
    if (joiners_.wait(deadline, "join") == WaitStatus::kTimedOut) return dead();
  }
  return true;
}

void Fiber::entry(internal::MachineContext* /*from*/, void* self) {
  auto* fiber = static_cast<Fiber*>(self);
  Hub& hub = *fiber->hub_;
  hub.scheduler_.after_switch();
  try {
    fiber->run();
  } catch (const GreenletExit&) {
    // A kill is a normal end.
  } catch (...) {
    hub.report_error(fiber->describe(), std::current_exception());
  }
  fiber->destroy_locals();  // on its own stack, before joiners learn it ended
  fiber->on_finished();
  hub.on_fiber_dead(*fiber);
  hub.scheduler_.switch_out(/*finishing=*/true);
  std::abort();  // a dead fiber is never resumed
}
}  // namespace grove
