// examples/kv/client_output.cc — replies, pushes and the output buffer limit (see
// client_output.h).
#include "examples/kv/client_output.h"

#include <spdlog/spdlog.h>

#include "examples/kv/server.h"

namespace kv {
namespace {

// What the writer actor receives: one push, already in RESP (shared by every subscriber).
struct Push {
  std::shared_ptr<const std::string> message;
};

// Takes `bytes` off the pending count when the write ends, whichever way it ends.
class PendingBytes {
 public:
  PendingBytes(std::uint64_t& pending, std::uint64_t bytes) : pending_(pending), bytes_(bytes) {}
  PendingBytes(const PendingBytes&) = delete;
  PendingBytes& operator=(const PendingBytes&) = delete;
  ~PendingBytes() { pending_ -= bytes_; }

 private:
  std::uint64_t& pending_;
  std::uint64_t bytes_;
};

}  // namespace

ClientOutput::ClientOutput(Server& server, std::shared_ptr<grove::net::Socket> socket,
                           std::string description)
    : server_(server), socket_(std::move(socket)), description_(std::move(description)) {}

bool ClientOutput::reply(std::string_view bytes) {
  if (closed_ || !admit(bytes.size())) return false;
  PendingBytes written(pending_, bytes.size());
  try {
    grove::Semaphore::Guard held(write_lock_);
    if (closed_) return false;
    socket_->sendall(bytes);
  } catch (const grove::net::SocketError& e) {
    spdlog::debug("client {}: {}", description_, e.what());
    return false;
  }
  return !closed_;
}

void ClientOutput::push(std::shared_ptr<const std::string> message) {
  if (closed_ || !writer_ || writer_.dead()) return;
  if (!admit(message->size())) return;
  grove::send(writer_, Push{std::move(message)});
}

void ClientOutput::start_pushing() {
  if (writer_ && !writer_.dead()) return;
  grove::ActorOptions options;
  options.name = "writer " + description_;
  options.link = true;  // a writer that fails takes its connection with it, and the reverse
  writer_ = grove::spawn_opt(std::move(options), [self = shared_from_this()] { self->writer_main(); });
}

void ClientOutput::stop() {
  if (writer_) writer_.kill();  // its mailbox, the pushes not yet written, goes with it
  writer_ = grove::ActorRef();
}

bool ClientOutput::admit(std::uint64_t more) {
  pending_ += more;
  const OutputBufferLimit& limit =
      server_.config.output_limit(pubsub_ ? ClientClass::kPubsub : ClientClass::kNormal);
  bool over = limit.hard_bytes != 0 && pending_ >= limit.hard_bytes;
  if (limit.soft_bytes != 0 && pending_ >= limit.soft_bytes) {
    const std::int64_t now = unix_ms();
    if (soft_limit_since_ms_ == 0) {
      soft_limit_since_ms_ = now;
    } else if (now - soft_limit_since_ms_ > std::int64_t{limit.soft_seconds} * 1000) {
      over = true;
    }
  } else {
    soft_limit_since_ms_ = 0;
  }
  if (!over) return true;
  pending_ -= more;
  close_for_limit();
  return false;
}

void ClientOutput::close_for_limit() {
  if (closed_) return;
  closed_ = true;
  ++server_.output_buffer_limit_disconnections;
  spdlog::warn("Client {} closed for overcoming its output buffer limit ({} bytes pending, {} "
               "class)",
               description_, pending_, pubsub_ ? "pubsub" : "normal");
  // Wakes whoever waits on the socket: a writer in the middle of a push ends, and the
  // connection's read fails, which ends the connection (and, with it, the writer's queue).
  socket_->close();
}

void ClientOutput::writer_main() {
  try {
    while (!closed_) {
      grove::receive([this](Push p) {
        PendingBytes written(pending_, p.message->size());
        if (closed_) return;
        grove::Semaphore::Guard held(write_lock_);
        if (!closed_) socket_->sendall(*p.message);
      });
    }
  } catch (const grove::net::SocketError& e) {
    // The client went away, or was closed for its limit: end normally. The connection's own
    // read notices and ends the connection.
    spdlog::debug("client {} writer: {}", description_, e.what());
  }
}

}  // namespace kv
