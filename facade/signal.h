// facade/signal.h — gevent.signal_handler: run a function as a new greenlet each time a signal
// arrives, over servers/signals.h.
//
//   auto handle = gevent::signal_handler(SIGUSR1, [] { reload_config(); });
//   serve_until_stopped();
//   handle.cancel();  // or let it go out of scope
//
// Model: the signal is blocked for the calling thread and read from a signalfd by a greenlet of
// this thread's hub; each delivery spawns a greenlet that runs handler(args...), so the handler
// may block (sleep, join, stop a server) and nothing runs in signal context. A handler that
// throws is reported through the hub like any failed greenlet. cancel() (or destroying the
// handle) stops watching and restores the thread's signal mask.
//
// Differences from gevent: the signal is blocked for the calling thread only (threads started
// later inherit it; threads started earlier do not, so send it to the thread — raise(), or
// pthread_kill — or start workers after installing the handler); gevent installs a process-wide
// handler. cancel() restores the mask, not a previous handler.
#pragma once

#include <functional>
#include <memory>
#include <tuple>
#include <utility>

#include "facade/greenlet.h"
#include "servers/signals.h"

namespace gevent {

class SignalHandle {
 public:
  SignalHandle() = default;
  explicit SignalHandle(std::unique_ptr<grove::servers::SignalWatch> watch)
      : watch_(std::move(watch)) {}
  // Stops watching; the signal's mask is restored. Idempotent.
  void cancel() { watch_.reset(); }
  bool active() const noexcept { return watch_ != nullptr; }

 private:
  std::unique_ptr<grove::servers::SignalWatch> watch_;
};

template <class F, class... Args>
[[nodiscard]] SignalHandle signal_handler(int signum, F handler, Args... args) {
  auto run = [handler = std::move(handler), tup = std::make_tuple(std::move(args)...)](int) {
    (void)gevent::spawn([handler, tup]() mutable { std::apply(handler, tup); });
  };
  return SignalHandle(std::make_unique<grove::servers::SignalWatch>(
      std::initializer_list<int>{signum}, std::move(run)));
}

}  // namespace gevent
