// hub/io.cc — IoWatcher on libev's ev_io.
#include "hub/io.h"

#include <ev.h>

#include <memory>
#include <utility>
#include <vector>

#include "hub/errors.h"
#include "hub/hub.h"
#include "hub/internal/loop.h"
#include "hub/reactor.h"

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
  ev_io_set(as_io(io_), fd, events);
}

void IoWatcher::stop() noexcept {
  if (active_) {
    auto* loop = static_cast<struct ev_loop*>(loop_);
    // libev counts a started watcher once; an unreferenced one gives its count back first. (If
    // libev stopped the watcher itself, for a bad fd, that stop already gave the count back and
    // ev_io_stop does nothing: the books balance the same way.)
    if (!referenced_) ev_ref(loop);
    ev_io_stop(loop, as_io(io_));
    internal::reactor_of(*hub_).io_changed();
    active_ = false;
    referenced_ = false;
    unlink();
  }
}

// [[gnu::hot]]: on every I/O wait. GCC groups such functions in .text.hot, so a wait and a wake
// run through a few contiguous lines of code (the kernel's work in between evicts the rest).
[[gnu::hot]] void IoWatcher::arm() noexcept {
  if (!active_) {
    // The loop is the one of the hub the waiting fiber runs on, looked up at each registration:
    // a watcher may outlive the hub it was registered with.
    Hub& hub = Hub::current();
    loop_ = internal::ev_loop_of(hub);
    ev_io_start(static_cast<struct ev_loop*>(loop_), as_io(io_));
    internal::reactor_of(hub).io_changed();
    active_ = true;
    referenced_ = true;
    link(hub);
  } else if (!referenced_) {
    ev_ref(static_cast<struct ev_loop*>(loop_));
    referenced_ = true;
  }
}

void IoWatcher::link(Hub& hub) {
  auto& by_fd = internal::reactor_of(hub).io_by_fd_;
  const auto index = static_cast<std::size_t>(fd_);
  if (index >= by_fd.size()) by_fd.resize(index + 1, nullptr);
  hub_ = &hub;
  prev_on_fd_ = nullptr;
  next_on_fd_ = by_fd[index];
  if (next_on_fd_ != nullptr) next_on_fd_->prev_on_fd_ = this;
  by_fd[index] = this;
}

void IoWatcher::unlink() noexcept {
  if (hub_ == nullptr) return;
  if (prev_on_fd_ != nullptr) {
    prev_on_fd_->next_on_fd_ = next_on_fd_;
  } else {
    internal::reactor_of(*hub_).io_by_fd_[static_cast<std::size_t>(fd_)] = next_on_fd_;
  }
  if (next_on_fd_ != nullptr) next_on_fd_->prev_on_fd_ = prev_on_fd_;
  prev_on_fd_ = next_on_fd_ = nullptr;
  hub_ = nullptr;
  loop_ = nullptr;
}

void IoWatcher::closing(int fd) noexcept {
  Hub* hub = Hub::current_if_exists();
  if (hub == nullptr || fd < 0) return;
  std::vector<IoWatcher*>& by_fd = internal::reactor_of(*hub).io_by_fd_;
  if (static_cast<std::size_t>(fd) >= by_fd.size()) return;
  while (IoWatcher* w = by_fd[static_cast<std::size_t>(fd)]) {
    w->stop();
    // Marks the fd as set anew: libev re-registers it at the next start even when that start
    // comes before the next poll (otherwise it would see no change and keep the old file's
    // registration, which the kernel dropped at close).
    ev_io_set(as_io(w->io_), fd, w->events_);
    if (w->waiter_ != nullptr) {
      w->ready_ |= w->events_;
      w->waiter_->wake();
    }
  }
}

void IoWatcher::hub_ending(Reactor& reactor) noexcept {
  for (IoWatcher*& head : reactor.io_by_fd_) {
    while (head != nullptr) head->stop();  // unlinks it: head moves on
  }
}

[[gnu::hot]] void IoWatcher::disarm_idle() noexcept {
  if (!active_) return;
  if (!stays_armed()) {
    stop();
  } else if (referenced_) {
    // Still registered, but nobody waits: it must not keep the loop alive.
    ev_unref(static_cast<struct ev_loop*>(loop_));
    referenced_ = false;
  }
}

[[gnu::hot]] void IoWatcher::on_ready(struct ev_loop* /*loop*/, struct ev_io* w, int revents) {
  auto* self = static_cast<IoWatcher*>(w->data);
  const int fired = revents & (EV_READ | EV_WRITE);
  // Reported again before anyone took the last report: the fiber it woke has not run yet, or
  // nobody has waited since. A level-triggered poller would go on reporting the fd at every
  // poll, which on a long run queue makes every poll cost as much as all the fds still ready:
  // stop watching until the next wait (which restarts it; before the next poll, for free).
  const bool again = fired != 0 && (self->ready_ & fired) == fired;
  self->ready_ |= fired;
  if (self->waiter_ != nullptr) self->waiter_->wake();
  if (!ev_is_active(w)) {
    // libev stopped the watcher itself and reported EV_ERROR (an fd its poller could not take).
    // Keep the books in step, and make a later start register the fd afresh.
    self->stop();
    ev_io_set(w, self->fd_, self->events_);
  } else if (again || !self->stays_armed()) {
    self->stop();
  }
}

[[gnu::hot]] int IoWatcher::wait(Deadline deadline, const char* what) {
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
      if (!gone) {
        self->waiter_ = nullptr;
        self->disarm_idle();
      }
    }
  } clear{this, gone};
  for (;;) {
    if (const int ready = std::exchange(ready_, 0) & events_) {
      // Still a wait point: a pending kill or timeout goes first.
      if (waiter.poll() == WaitStatus::kWoken) continue;
      return ready;
    }
    arm();
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

void IoWatcher::attach(Waiter& w, bool* gone) {
  if (waiter_ != nullptr) {
    throw ConcurrentObjectUseError(
        "This file descriptor is already waited for by another greenlet in the same "
        "direction");
  }
  waiter_ = &w;
  gone_ = gone;
  arm();
}

void IoWatcher::detach() noexcept {
  waiter_ = nullptr;
  gone_ = nullptr;
  disarm_idle();
}

bool IoWatcher::cancel(std::exception_ptr error) noexcept {
  if (waiter_ == nullptr) return false;
  return waiter_->interrupt(std::move(error));
}

}  // namespace grove
