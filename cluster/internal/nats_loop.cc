// cluster/internal/nats_loop.cc — libnats' event-loop callbacks over an IoWatcher and a pump
// fiber (see nats_loop.h).

#include "cluster/internal/nats_loop.h"

#include <utility>

#include "hub/wait_any.h"

namespace grove::cluster::internal {

std::shared_ptr<NatsLoop> NatsLoop::create() { return std::shared_ptr<NatsLoop>(new NatsLoop()); }

NatsLoop::NatsLoop() : hub_(&Hub::current()), remote_(hub_->remote()) {}

NatsLoop::~NatsLoop() = default;

natsStatus NatsLoop::install(natsOptions* options) {
  return natsOptions_SetEventLoop(options, this, &NatsLoop::on_attach, &NatsLoop::on_read,
                                  &NatsLoop::on_write, &NatsLoop::on_detach);
}

template <class F>
void NatsLoop::on_hub(F change) {
  if (Hub::current_if_exists() == hub_) {
    if (!closed_) change(*this);
    return;
  }
  std::weak_ptr<NatsLoop> weak = weak_from_this();
  (void)remote_.post([weak, change = std::move(change)]() mutable {
    if (std::shared_ptr<NatsLoop> self = weak.lock(); self && !self->closed_) change(*self);
  });
}

void NatsLoop::changed() noexcept { changes_.wake_all(); }

// Called for the first connection and again, with the same user data, after each reconnect
// (from the reconnect thread, with the new socket).
natsStatus NatsLoop::on_attach(void** user_data, void* loop, natsConnection* nc, natsSock fd) {
  auto* self = static_cast<NatsLoop*>(loop);
  *user_data = self;
  self->on_hub([nc, fd](NatsLoop& l) {
    l.nc_ = nc;
    l.fd_ = fd;
    l.reattached_ = true;  // a new socket, maybe under the old number: re-register it
    l.want_read_ = true;  // libnats expects reads to be watched from the start
    l.ensure_pump();
    l.changed();
  });
  return NATS_OK;
}

natsStatus NatsLoop::on_read(void* user_data, bool add) {
  static_cast<NatsLoop*>(user_data)->on_hub([add](NatsLoop& l) {
    l.want_read_ = add;
    l.changed();
  });
  return NATS_OK;
}

natsStatus NatsLoop::on_write(void* user_data, bool add) {
  static_cast<NatsLoop*>(user_data)->on_hub([add](NatsLoop& l) {
    l.want_write_ = add;
    l.changed();
  });
  return NATS_OK;
}

natsStatus NatsLoop::on_detach(void* user_data) {
  static_cast<NatsLoop*>(user_data)->on_hub([](NatsLoop& l) {
    l.fd_ = -1;
    l.want_read_ = l.want_write_ = false;
    l.changed();
  });
  return NATS_OK;
}

void NatsLoop::close() noexcept {
  closed_ = true;
  fd_ = -1;
  nc_ = nullptr;
  watcher_.stop();
  changed();
  // The pump holds this loop until it ends; holding it back would make a cycle.
  pump_ = FiberRef();
}

void NatsLoop::ensure_pump() {
  if (pump_ && !pump_->dead()) return;
  pump_ = spawn_fiber([self = shared_from_this()] { self->run_pump(); });
}

void NatsLoop::run_pump() {
  struct StopWatching {
    IoWatcher& w;
    ~StopWatching() { w.stop(); }
  } stop_watching{watcher_};
  while (!closed_) {
    const int events = (want_read_ ? kIoRead : 0) | (want_write_ ? kIoWrite : 0);
    if (fd_ < 0 || events == 0) {
      watcher_.stop();
      (void)changes_.wait(Deadline::never(), "nats: idle");
      continue;
    }
    if (reattached_ || watcher_.fd() != fd_ || watcher_.events() != events) {
      watcher_.reset(fd_, events);
      reattached_ = false;
    }
    const auto fired = wait_any({WaitSource(changes_, nullptr, nullptr), WaitSource(watcher_)},
                                Deadline::never(), "nats");
    if (!fired || closed_) continue;
    const int ready = watcher_.take_ready();
    // A callback made inside these calls (read or write interest, a detach) only records the
    // change; the next turn of the loop applies it.
    if ((ready & kIoRead) != 0 && nc_ != nullptr) natsConnection_ProcessReadEvent(nc_);
    if ((ready & kIoWrite) != 0 && nc_ != nullptr && !closed_) natsConnection_ProcessWriteEvent(nc_);
  }
}

}  // namespace grove::cluster::internal
