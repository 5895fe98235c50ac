// servers/signals.cc — signalfd read by a fiber.
#include "servers/signals.h"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <spdlog/spdlog.h>

#include "hub/hub.h"
#include "hub/io.h"

namespace grove::servers {

SignalWatch::SignalWatch(std::initializer_list<int> signals,
                         std::function<void(int signo)> on_signal) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : signals) sigaddset(&mask, s);
  if (pthread_sigmask(SIG_BLOCK, &mask, &old_mask_) != 0) {
    throw std::system_error(errno, std::generic_category(), "pthread_sigmask");
  }
  fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) {
    const int e = errno;
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    throw std::system_error(e, std::generic_category(), "signalfd");
  }
  reader_ = spawn_fiber([fd = fd_, on_signal = std::move(on_signal)] {
    IoWatcher readable(fd, kIoRead);
    for (;;) {
      signalfd_siginfo info;
      const ssize_t n = ::read(fd, &info, sizeof info);
      if (n == static_cast<ssize_t>(sizeof info)) {
        on_signal(static_cast<int>(info.ssi_signo));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        spdlog::error("signalfd read: {}", std::strerror(errno));
        return;
      }
      (void)readable.wait(Deadline::never(), "signal");
    }
  });
}

SignalWatch::~SignalWatch() {
  if (reader_ && !reader_->dead()) {
    reader_->kill();
    (void)reader_->join();
  }
  ::close(fd_);
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace grove::servers
