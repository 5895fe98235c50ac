// examples/kv/client_output.h — every byte kv_server sends one client, and what it may hold back
// for a client that does not read (redis-server's client-output-buffer-limit).
//
// Model: two kinds of bytes go to a client.
//   - Replies come from its connection actor, which waits in reply() until they are written
//     before it reads further requests: a client that sends without reading is simply not read
//     any more (TCP's flow control then stops the sender), so replies never pile up beyond one
//     batch.
//   - Pushes (pub/sub messages) come from channel actors, which must never wait for one slow
//     subscriber: push() queues the message here and returns at once; the client's writer actor
//     (linked to the connection, started by start_pushing() at the first SUBSCRIBE) writes the
//     queue out, as many pushes per system call as are waiting.
// The bytes accepted and not yet written, less the first 16 KiB (redis-server's per-client reply
// buffer, which its limits do not count either), are the client's output buffer. Its limit is
// the one of the client's class — pubsub while it has subscriptions, normal otherwise — read
// from the Config at every check, so CONFIG SET applies at once. As in redis-server: a client over the
// hard limit, or over the soft limit for longer than the soft seconds, is closed at once — the
// queue is freed and its pages given back to the system, the socket closes, so the writer and
// the connection end — and one warning is logged. Replies and pushes never interleave
// mid-message: whoever writes holds the socket's write lock.
//
// Thread: the server's hub. Lifetime: shared by the connection, its writer and the channels the
// client subscribes to; the socket stays open while any of them holds it.
//
//   auto output = std::make_shared<kv::ClientOutput>(server, socket, "id=7 addr=127.0.0.1:5000");
//   if (!output->reply("+OK\r\n")) return;       // closed (gone, or over its limit)
//   output->start_pushing();                      // SUBSCRIBE
//   output->push(std::make_shared<const std::string>(resp));  // from a channel actor
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "actors/actor.h"
#include "actors/event.h"
#include "actors/semaphore.h"
#include "examples/kv/config.h"
#include "net/socket.h"

namespace kv {

struct Server;

class ClientOutput : public std::enable_shared_from_this<ClientOutput> {
 public:
  // `description`: how the warning names the client ("id=7 addr=127.0.0.1:5000").
  ClientOutput(Server& server, std::shared_ptr<grove::net::Socket> socket, std::string description);
  ClientOutput(const ClientOutput&) = delete;
  ClientOutput& operator=(const ClientOutput&) = delete;

  // Writes the connection's replies and returns once the kernel has them. False when the
  // client is gone or was closed for its output limit (nothing more should be sent or read).
  // Greenlet only; parks while the socket is full or the writer is writing.
  bool reply(std::string_view bytes);
  // Queues a push for the writer actor. Never blocks. Ignored once the client is closed, or
  // before start_pushing().
  void push(std::shared_ptr<const std::string> message);
  // Starts the writer actor, linked to the calling actor, unless it runs already.
  void start_pushing();
  // The limit class: pubsub while the client has subscriptions.
  void set_pubsub(bool on) { pubsub_ = on; }
  // Ends the writer (the connection is ending); pending pushes are dropped.
  void stop();

  // Bytes accepted and not yet written (CLIENT LIST's omem).
  std::uint64_t pending_bytes() const { return pending_; }
  bool closed() const { return closed_; }

 private:
  // Counts `more` pending bytes and applies the limit; false (and the client closed) when over.
  bool admit(std::uint64_t more);
  void close_for_limit();
  void writer_main();

  Server& server_;
  std::shared_ptr<grove::net::Socket> socket_;
  std::string description_;
  grove::Semaphore write_lock_{1};
  grove::ActorRef writer_;
  std::deque<std::shared_ptr<const std::string>> queued_;  // pushes not yet written
  grove::Event has_queued_;
  std::uint64_t pending_ = 0;
  std::int64_t soft_limit_since_ms_ = 0;  // 0: under the soft limit
  bool pubsub_ = false;
  bool closed_ = false;
};

}  // namespace kv
