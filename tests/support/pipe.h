// tests/support/pipe.h — a non-blocking pipe that closes both ends when it goes out of scope.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

namespace grove::testing {

struct Pipe {
  int r = -1;  // read end
  int w = -1;  // write end
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    r = fds[0];
    w = fds[1];
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    ::close(r);
    ::close(w);
  }
};

}  // namespace grove::testing
