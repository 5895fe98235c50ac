// hub/io.h — wait for a file descriptor to become readable or writable.
//
// Model: an IoWatcher is one interest (fd + directions) registered with the hub's libev loop.
// `wait()` parks the calling fiber until the fd is ready, the deadline passes, or someone calls
// `cancel(error)`. Readiness the poller reports is latched in the watcher: a report that arrives
// while nobody waits is kept, and the next wait returns it at once.
//
// The poller is told as little as possible, since every change of interest is an epoll_ctl:
//   - A read-only watcher stays registered from its first wait until stop(), reset(), closing()
//     of its fd, the end of its hub or its destruction, waiter or not, so a request/response connection costs no poller change per
//     request even when its fiber waits on other things (a timer, a backend) between reads.
//     Between waits it does not keep the loop alive (a main fiber waiting on nothing else still
//     gets LoopExit).
//   - A watcher that includes kIoWrite is registered only while a fiber waits on it: a socket
//     is nearly always writable, and a standing write interest would be reported at every poll.
//   - A woken fiber is not reported again while it waits for its turn: when the poller reports
//     readiness that is still latched (the fiber that was woken has not run yet, or nobody has
//     waited since), the watcher stops watching until the next wait. The poller is
//     level-triggered; with thousands of woken fibers queued, every poll would otherwise report
//     them all. libev applies watcher changes once per poll, so a watcher stopped and restarted
//     between two polls costs nothing.
//
// A registered watcher must leave the poller before its fd is closed: libev cannot tell a closed
// number from a reused one, and would go on reporting (or silently not reporting) whatever file
// takes the number next. So whoever closes an fd calls IoWatcher::closing(fd) first, which takes
// every watcher of the hub on that fd off the poller, whoever owns it (net::Socket::close and the
// patched close() do). And a hub that ends takes off its loop every watcher still registered, so
// a watcher that outlives its hub (a socket destroyed after Hub::destroy_current()) is left
// inert and never touches the freed loop.
//
// One fiber at a time may wait on a watcher: a second one gets ConcurrentObjectUseError
// (gevent's rule for two greenlets reading one socket).
//
// Thread: hub thread only; a watcher registers with the hub of the fiber that waits on it.
// Destruction: destroying a watcher while a fiber waits on it wakes that fiber with
// ObjectDestroyed (hub/errors.h) — a bug in the caller, reported safely.
//
//   grove::IoWatcher readable(fd, grove::kIoRead);
//   while ((n = ::read(fd, buf, sizeof buf)) < 0 && errno == EAGAIN) {
//     if (readable.wait(grove::Deadline::after(5.0)) == 0) throw timed_out();
//   }
#pragma once

#include <cstddef>
#include <exception>

#include "hub/wait.h"
#include "hub/wait_any.h"

struct ev_io;

namespace grove {

class Hub;
class Reactor;

enum IoEvents : int {
  kIoRead = 1,   // EV_READ
  kIoWrite = 2,  // EV_WRITE
};

class IoWatcher {
 public:
  IoWatcher() noexcept;
  IoWatcher(int fd, int events) noexcept;
  IoWatcher(const IoWatcher&) = delete;
  IoWatcher& operator=(const IoWatcher&) = delete;
  ~IoWatcher();

  // Watches `fd` for `events` from now on (stops the previous interest).
  void reset(int fd, int events) noexcept;
  // Stops watching; a fiber still waiting is not woken (use cancel for that).
  void stop() noexcept;

  // Parks until the fd is ready for one of the watched directions; returns the ready ones, or 0
  // when the deadline passed. Throws ConcurrentObjectUseError when another fiber already waits
  // here, or what cancel()/kill/Timeout delivers.
  [[nodiscard]] int wait(Deadline deadline = Deadline::never(), const char* what = "io");

  // Parks until one of `watchers` is ready for one of its directions (poll(2) over several
  // fds); returns how many are ready (each one's directions are then in its ready()), or 0 when
  // the deadline passed. A user of grove::wait_any (hub/wait_any.h), with its rules: one
  // waiting fiber per watcher (ConcurrentObjectUseError), kills and Timeouts thrown, and
  // cancel() on any of the watchers throws its error out of this call.
  [[nodiscard]] static int wait_any(IoWatcher* const* watchers, std::size_t count,
                                    Deadline deadline = Deadline::never(),
                                    const char* what = "io");

  // Throws `error` out of the waiting fiber's wait(); false if nobody waits.
  bool cancel(std::exception_ptr error) noexcept;

  // `fd` is about to be closed (or replaced by dup2): every watcher of this thread's hub that is
  // registered on it leaves the poller, and registers afresh if it waits again (for whatever
  // file has the number by then). A fiber waiting on one of them is woken as if the fd were
  // ready in the watched directions, so that its next call on the fd fails (EBADF) instead of
  // waiting forever; owners that want a better error cancel() their own waiters first. Call it
  // before close(2); no-op on a thread without a hub. Costs a lookup by fd, no syscall.
  static void closing(int fd) noexcept;

  int fd() const noexcept { return fd_; }
  // The directions reported ready and not yet consumed by a wait (set by wait_any).
  int ready() const noexcept { return ready_ & events_; }
  // Returns ready() and forgets it: the next wait_any waits for the poller to report the fd
  // again (level-triggered: at once if it still is ready).
  int take_ready() noexcept {
    const int r = ready_ & events_;
    ready_ = 0;
    return r;
  }
  int events() const noexcept { return events_; }
  bool has_waiter() const noexcept { return waiter_ != nullptr; }
  // Whether the poller watches the fd now (see the header comment for when it does).
  bool watching() const noexcept { return active_; }

 private:
  friend struct internal::WaitAnyAccess;
  friend class Reactor;
  static void on_ready(struct ev_loop* loop, struct ev_io* w, int revents);
  // wait_any's registration: `w` becomes the waiting fiber's waiter (ConcurrentObjectUseError
  // if there is one) and the poller watches the fd; `gone` is set if this watcher is destroyed
  // before detach().
  void attach(Waiter& w, bool* gone);
  void detach() noexcept;
  // The poller watches the fd and the loop counts it as something a fiber waits for.
  void arm() noexcept;
  // Nobody waits any more: a read-only watcher stays registered without keeping the loop alive;
  // one with kIoWrite stops.
  void disarm_idle() noexcept;
  bool stays_armed() const noexcept { return events_ == kIoRead; }
  // The hub's registry of registered watchers by fd (Reactor::io_by_fd_), kept while active_.
  void link(Hub& hub);
  void unlink() noexcept;
  // Called by ~Reactor before its loop is destroyed: stops every watcher still registered.
  static void hub_ending(Reactor& reactor) noexcept;

  alignas(8) unsigned char io_[64];  // the ev_io (checked in io.cc)
  int fd_ = -1;
  int events_ = 0;
  int ready_ = 0;  // readiness reported by the poller and not taken yet
  bool active_ = false;      // ev_io started
  bool referenced_ = false;  // while active: counted in the loop's liveness (a fiber waits)
  // While active: the hub whose loop watches the fd, and the neighbours in its list for the fd.
  Hub* hub_ = nullptr;
  void* loop_ = nullptr;
  IoWatcher* prev_on_fd_ = nullptr;
  IoWatcher* next_on_fd_ = nullptr;
  Waiter* waiter_ = nullptr;
  bool* gone_ = nullptr;  // set by the destructor, read by the wait in progress
};

}  // namespace grove
