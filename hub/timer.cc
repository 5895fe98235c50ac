// hub/timer.cc — call_later on libev timers, owned by the hub while armed.
#include "hub/timer.h"

#include <ev.h>

#include <cmath>
#include <exception>
#include <utility>

#include "hub/hub.h"
#include "hub/internal/loop.h"

namespace grove {
namespace internal {

// An armed entry owns itself (`self`) and sits in its hub's list, so it outlives a dropped
// handle and is freed when it fires, is cancelled, or its hub goes.
struct TimerEntry {
  ev_timer timer{};
  Hub* hub = nullptr;
  std::function<void()> fn;
  std::shared_ptr<TimerEntry> self;
  TimerEntry* prev = nullptr;
  TimerEntry* next = nullptr;
};

namespace {

// Per thread, like the hub itself.
thread_local TimerEntry* armed_head = nullptr;

void unlink(TimerEntry& e) noexcept {
  (e.prev != nullptr ? e.prev->next : armed_head) = e.next;
  if (e.next != nullptr) e.next->prev = e.prev;
  e.prev = e.next = nullptr;
}

// Stops and unlinks an armed entry; returns the self-reference for the caller to drop last.
std::shared_ptr<TimerEntry> disarm(TimerEntry& e) noexcept {
  disarm_timer(*e.hub, &e.timer);
  unlink(e);
  return std::move(e.self);
}

void run_reporting(Hub& hub, std::function<void()>& fn) {
  try {
    fn();
  } catch (...) {
    hub.report_error("<call_later callback>", std::current_exception());
  }
}

void on_timer(struct ev_loop* loop, ev_timer* w, int) {
  timer_fired(loop, w);
  auto* e = static_cast<TimerEntry*>(w->data);
  std::shared_ptr<TimerEntry> keep = disarm(*e);
  std::function<void()> fn = std::move(e->fn);
  Hub& hub = *e->hub;
  if (reactor_of(hub).polling_in_place()) {
    // On a parked greenlet's stack (Hub::poll_in_place), which may not have room for what `fn`
    // does: the loop fiber runs it first thing, before any fiber the same poll woke.
    hub.run_callback([&hub, fn = std::move(fn)]() mutable { run_reporting(hub, fn); });
    return;
  }
  run_reporting(hub, fn);
}

}  // namespace

void drop_timers(Hub& hub) noexcept {
  for (TimerEntry* e = armed_head; e != nullptr;) {
    TimerEntry* next = e->next;
    if (e->hub == &hub) {
      std::shared_ptr<TimerEntry> gone = disarm(*e);
      gone->fn = nullptr;
    }
    e = next;
  }
}

}  // namespace internal

TimerHandle call_later(double seconds, std::function<void()> fn) {
  Hub& hub = Hub::current();
  auto entry = std::make_shared<internal::TimerEntry>();
  internal::TimerEntry& e = *entry;
  e.hub = &hub;
  e.fn = std::move(fn);
  ev_init(&e.timer, &internal::on_timer);
  e.timer.data = &e;
  internal::arm_timer(hub, &e.timer, std::isfinite(seconds) && seconds > 0 ? seconds : 0.0);
  e.self = entry;
  e.next = internal::armed_head;
  if (e.next != nullptr) e.next->prev = &e;
  internal::armed_head = &e;
  return TimerHandle(std::move(entry));
}

bool TimerHandle::cancel() noexcept {
  if (!pending()) return false;
  std::shared_ptr<internal::TimerEntry> gone = internal::disarm(*entry_);
  entry_->fn = nullptr;
  return true;
}

bool TimerHandle::pending() const noexcept { return entry_ && entry_->self != nullptr; }

double TimerHandle::remaining() const noexcept {
  if (!pending()) return 0.0;
  return ev_timer_remaining(internal::ev_loop_of(*entry_->hub),
                            &entry_->timer);
}

}  // namespace grove
