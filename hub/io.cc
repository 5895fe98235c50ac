// hub/io.cc — IoWatcher on libev's ev_io.
#include "hub/io.h"

#include <ev.h>

#include <memory>
#include <utility>
#include <vector>

#include "hub/errors.h"
#include "hub/hub.h"

namespace grove {

namespace {
ev_io* as_io(unsigned char* storage) { return reinterpret_cast<ev_io*>(storage); }
}  // namespace

IoWatcher::IoWatcher() noexcept {
  static_assert(sizeof(ev_io) <= sizeof(io_), "IoWatcher::io_ too small for ev_io");
  ev_init(as_io(io_), &IoWatcher::on_ready);
  as_io(io_)->data = this;
}

IoWatcher::IoWatcher(int fd, int events) noexcept : IoWatcher() { reset(fd, events); }

IoWatcher::~IoWatcher() {
  stop();
  if (waiter_ != nullptr) {
    // Destroyed under a fiber that waits on it: wake that fiber with an error, and tell its
    // wait() not to touch this object again.
    *gone_ = true;
    (void)waiter_->interrupt(std::make_exception_ptr(ObjectDestroyed(
        "grove: the I/O watcher this fiber waited on was destroyed (a socket closed or freed "
        "under a greenlet blocked on it)")));
  }
}

void IoWatcher::reset(int fd, int events) noexcept {
  stop();
  fd_ = fd;
  events_ = events;
  ready_ = 0;
  if (loop_ == nullptr) loop_ = Hub::current().ev_loop();
  ev_io_set(as_io(io_), fd, events);
}

void IoWatcher::stop() noexcept {
  if (active_) {
    ev_io_stop(static_cast<struct ev_loop*>(loop_), as_io(io_));
    active_ = false;
  }
}

void IoWatcher::on_ready(struct ev_loop* loop, struct ev_io* w, int revents) {
  auto* self = static_cast<IoWatcher*>(w->data);
  self->ready_ |= revents & (EV_READ | EV_WRITE);
  if (self->waiter_ != nullptr) self->waiter_->wake();
  // Stop polling until someone waits again: the readiness is remembered, and a level-triggered
  // poller would otherwise report this fd at every poll until the woken fiber gets its turn,
  // which on a long run queue makes every poll cost as much as all the fds still ready. Stopped
  // and restarted before the next poll, the watcher costs no epoll_ctl (libev batches changes).
  ev_io_stop(loop, w);
  self->active_ = false;
}

int IoWatcher::wait(Deadline deadline, const char* what) {
  if (waiter_ != nullptr) {
    throw ConcurrentObjectUseError(
        "This socket is already used by another greenlet (two greenlets waiting for the same "
        "direction on one file descriptor)");
  }
  Waiter waiter;
  bool gone = false;
  waiter_ = &waiter;
  gone_ = &gone;
  struct Clear {
    IoWatcher* self;
    const bool& gone;
    ~Clear() {
      if (!gone) self->waiter_ = nullptr;
    }
  } clear{this, gone};
  for (;;) {
    if (const int ready = std::exchange(ready_, 0) & events_) {
      // Still a wait point: a pending kill or timeout goes first.
      if (waiter.wait(Deadline::after(0.0), what) == WaitStatus::kWoken) continue;
      return ready;
    }
    start();
    if (waiter.wait(deadline, what) == WaitStatus::kTimedOut) return 0;
  }
}

int IoWatcher::wait_any(IoWatcher* const* watchers, std::size_t count, Deadline deadline,
                        const char* what) {
  WaitSource inline_sources[kInlineSources];
  std::vector<WaitSource> heap_sources;
  WaitSource* sources = inline_sources;
  if (count > kInlineSources) {
    heap_sources.resize(count);
    sources = heap_sources.data();
  }
  for (std::size_t i = 0; i < count; ++i) sources[i] = WaitSource(*watchers[i]);
  (void)grove::wait_any(std::span<const WaitSource>(sources, count), deadline, what);
  int n = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (watchers[i]->ready() != 0) ++n;
  }
  return n;
}

void IoWatcher::start() noexcept {
  if (!active_) {
    ev_io_start(static_cast<struct ev_loop*>(loop_), as_io(io_));
    active_ = true;
  }
}

void IoWatcher::attach(Waiter& w, bool* gone) {
  if (waiter_ != nullptr) {
    throw ConcurrentObjectUseError(
        "This file descriptor is already waited for by another greenlet in the same "
        "direction");
  }
  waiter_ = &w;
  gone_ = gone;
  start();
}

void IoWatcher::detach() noexcept {
  waiter_ = nullptr;
  gone_ = nullptr;
}

bool IoWatcher::cancel(std::exception_ptr error) noexcept {
  if (waiter_ == nullptr) return false;
  return waiter_->interrupt(std::move(error));
}

}  // namespace grove
