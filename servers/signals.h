// servers/signals.h — turn SIGINT/SIGTERM (or any signals) into a call on the hub, for graceful
// server shutdown.
//
// Model: a SignalWatch blocks the given signals for the calling thread (threads created later
// inherit the mask), reads them from a signalfd in a fiber of this thread's hub, and calls
// `on_signal(signo)` from that fiber for each one — so the callback may block (stop a server,
// join handlers). Nothing runs in a signal handler. Destroying the watch stops the fiber,
// closes the signalfd and restores the old mask.
//
// Thread: create and destroy on one hub thread, from a fiber or the main fiber. Cost: one fd,
// one fiber parked on it (costs nothing while no signal arrives).
//
//   grove::servers::StreamServer server("127.0.0.1:6000", handle);
//   grove::servers::SignalWatch stop({SIGINT, SIGTERM}, [&](int) { server.stop(); });
//   server.serve_forever();  // returns after Ctrl-C, once the handlers finished
#pragma once

#include <signal.h>

#include <functional>
#include <initializer_list>

#include "hub/fiber.h"

namespace grove::servers {

class SignalWatch {
 public:
  SignalWatch(std::initializer_list<int> signals, std::function<void(int signo)> on_signal);
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;
  ~SignalWatch();

 private:
  int fd_ = -1;
  sigset_t old_mask_;
  FiberRef reader_;
};

}  // namespace grove::servers
