// net/wait.h — gevent's wait functions: park the calling fiber until any file descriptor (socket,
// pipe, eventfd, ...) is ready, with a timeout and cancellation.
//
// Model (gevent.socket's Waiting section):
//   - wait(watcher, timeout, on_timeout) parks until the watcher's fd is ready for one of its
//     directions. When `timeout` (seconds) passes, it throws the on_timeout exception — by default
//     SocketTimeout("timed out"), like gevent's socket.timeout('timed out'); OnTimeout::silent()
//     returns 0 instead (gevent's timeout_exc=False).
//   - cancel_wait(watcher, error) throws `error` into the fiber waiting on the watcher (default
//     SocketError(EBADF, "File descriptor was closed in another greenlet")).
//   - wait_read / wait_write / wait_readwrite(fd, ...) do the same on a temporary watcher.
// A watcher admits one waiting fiber; a second gets grove::ConcurrentObjectUseError. Two
// temporary watchers on one fd (two fibers calling wait_read(fd)) are independent, as in gevent.
// All of them return the ready directions (kIoRead | kIoWrite), or 0 on a silent timeout.
//
// Cost: the temporary watcher of wait_read(fd) registers and unregisters the fd with the poller
// (two epoll_ctl) per call; keep a Watcher (or use a Socket) to wait on one fd repeatedly.
//
// Thread: hub thread only; any fiber, including the thread's main fiber.
//
//   grove::net::Watcher readable(pipe_fd, grove::net::kRead);
//   grove::spawn_fiber([&] { grove::net::cancel_wait(readable); });
//   try { grove::net::wait(readable, 5.0); } catch (const grove::net::SocketError& e) { report(e); }
#pragma once

#include <exception>
#include <optional>

#include "hub/io.h"
#include "net/errors.h"

namespace grove::net {

// gevent's "io watcher": an fd plus directions, registered with the hub's loop.
using Watcher = grove::IoWatcher;
inline constexpr int kRead = grove::kIoRead;
inline constexpr int kWrite = grove::kIoWrite;

// What a wait does when its timeout passes (gevent's timeout_exc).
class OnTimeout {
 public:
  // Throw SocketTimeout("timed out").
  OnTimeout() = default;
  // Throw this exception.
  static OnTimeout raise(std::exception_ptr error) {
    OnTimeout t;
    t.error_ = std::move(error);
    return t;
  }
  template <class E>
  static OnTimeout raise(E error) {
    return raise(std::make_exception_ptr(std::move(error)));
  }
  // Return 0 instead of throwing (gevent's timeout_exc=False).
  static OnTimeout silent() {
    OnTimeout t;
    t.silent_ = true;
    return t;
  }

  bool is_silent() const noexcept { return silent_; }
  // Throws the configured exception (never returns unless silent).
  void fire() const;

 private:
  std::exception_ptr error_;
  bool silent_ = false;
};

// Parks until `watcher` is ready. `timeout`: seconds, std::nullopt = no limit; zero or negative
// times out at once when the watcher is not ready (as in gevent).
int wait(Watcher& watcher, std::optional<double> timeout = std::nullopt,
         const OnTimeout& on_timeout = {});
int wait_read(int fd, std::optional<double> timeout = std::nullopt,
              const OnTimeout& on_timeout = {});
int wait_write(int fd, std::optional<double> timeout = std::nullopt,
               const OnTimeout& on_timeout = {});
int wait_readwrite(int fd, std::optional<double> timeout = std::nullopt,
                   const OnTimeout& on_timeout = {});

// Throws `error` into the fiber waiting on `watcher`; false when nobody waits (then nothing
// happens, as in gevent).
bool cancel_wait(Watcher& watcher, std::exception_ptr error);
bool cancel_wait(Watcher& watcher);  // SocketError(EBADF, "File descriptor was closed in another greenlet")

}  // namespace grove::net
