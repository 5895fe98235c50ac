// net/wait.cc — gevent's wait functions over grove::IoWatcher.
#include "net/wait.h"

#include <cerrno>
#include <cmath>

namespace grove::net {

void OnTimeout::fire() const {
  if (silent_) return;
  if (error_) std::rethrow_exception(error_);
  throw SocketTimeout();
}

int wait(Watcher& watcher, std::optional<double> timeout, const OnTimeout& on_timeout) {
  // gevent: no timeout (None) waits for ever; a negative one fires at once, like 0.
  const Deadline deadline =
      (!timeout || std::isnan(*timeout)) ? Deadline::never() : Deadline::after(*timeout);
  const int ready = watcher.wait(deadline, "wait");
  if (ready != 0) return ready;
  // 0 without the deadline passing: a silent grove::Timeout scope expired; that scope decides.
  if (!deadline.is_never() && deadline.passed()) on_timeout.fire();
  return 0;
}

namespace {
int wait_fd(int fd, int events, std::optional<double> timeout, const OnTimeout& on_timeout) {
  if (fd < 0) throw SocketError(EBADF, "wait on a negative file descriptor");
  Watcher watcher(fd, events);
  return wait(watcher, timeout, on_timeout);
}
}  // namespace

int wait_read(int fd, std::optional<double> timeout, const OnTimeout& on_timeout) {
  return wait_fd(fd, kRead, timeout, on_timeout);
}

int wait_write(int fd, std::optional<double> timeout, const OnTimeout& on_timeout) {
  return wait_fd(fd, kWrite, timeout, on_timeout);
}

int wait_readwrite(int fd, std::optional<double> timeout, const OnTimeout& on_timeout) {
  return wait_fd(fd, kRead | kWrite, timeout, on_timeout);
}

bool cancel_wait(Watcher& watcher, std::exception_ptr error) {
  return watcher.cancel(std::move(error));
}

bool cancel_wait(Watcher& watcher) {
  return watcher.cancel(std::make_exception_ptr(
      SocketError(std::error_code(EBADF, std::generic_category()),
                  "File descriptor was closed in another greenlet")));
}

}  // namespace grove::net
