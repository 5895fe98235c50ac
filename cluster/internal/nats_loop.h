// cluster/internal/nats_loop.h — runs one libnats connection on the hub's libev loop.
//
// libnats lets a program own the connection's socket I/O (natsOptions_SetEventLoop): it asks,
// through four callbacks, to attach a socket, to start or stop watching it for reading or
// writing, and to detach; the program calls natsConnection_ProcessReadEvent/WriteEvent when the
// socket is ready. Here one pump fiber waits on an IoWatcher with the directions libnats asked
// for and makes those calls, so the connection's I/O costs no thread of its own.
//
// libnats makes the callbacks from the hub's thread (inside a publish or a process call) and
// from its own threads (the connect call on the thread pool, the reconnect thread). What comes
// from another thread is posted to the hub's inbox and applied there, in order.
//
// Thread: create, start and close on the hub's thread; the callbacks from any thread.
#pragma once

#include <memory>

#include <nats/nats.h>

#include "hub/hub.h"
#include "hub/io.h"
#include "hub/wait.h"

namespace grove::cluster::internal {

class NatsLoop : public std::enable_shared_from_this<NatsLoop> {
 public:
  // A loop for the calling thread's hub.
  static std::shared_ptr<NatsLoop> create();
  NatsLoop(const NatsLoop&) = delete;
  NatsLoop& operator=(const NatsLoop&) = delete;
  ~NatsLoop();

  // Installs the four callbacks in `options`. The loop must outlive the connection made with
  // them (destroy the connection first).
  natsStatus install(natsOptions* options);
  // Stops the pump and forgets the socket (hub thread). Later callbacks do nothing.
  void close() noexcept;

 private:
  NatsLoop();
  static natsStatus on_attach(void** user_data, void* loop, natsConnection* nc, natsSock fd);
  static natsStatus on_read(void* user_data, bool add);
  static natsStatus on_write(void* user_data, bool add);
  static natsStatus on_detach(void* user_data);

  // Runs `change` on the hub's thread: now if called there, else through the inbox.
  template <class F>
  void on_hub(F change);
  void changed() noexcept;
  void ensure_pump();
  void run_pump();

  Hub* hub_;
  RemoteHub remote_;
  natsConnection* nc_ = nullptr;
  int fd_ = -1;
  bool want_read_ = false;
  bool want_write_ = false;
  bool closed_ = false;
  bool reattached_ = false;
  IoWatcher watcher_;
  WaitList changes_;
  FiberRef pump_;
};

}  // namespace grove::cluster::internal
