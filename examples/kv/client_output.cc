// examples/kv/client_output.cc — replies, pushes and the output buffer limit (see
// client_output.h).
#include "examples/kv/client_output.h"

#include <malloc.h>

#include <span>
#include <vector>

#include <spdlog/spdlog.h>

#include "examples/kv/server.h"

namespace kv {
namespace {

// Pushes written in one system call at most.
constexpr std::size_t kPushesPerWrite = 64;
// Pending bytes the limits do not count (redis-server's per-client reply buffer).
constexpr std::uint64_t kReplyBufferSize = 16 * 1024;

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
  queued_.push_back(std::move(message));
  has_queued_.set();
}

void ClientOutput::start_pushing() {
  if (writer_ && !writer_.dead()) return;
  grove::ActorOptions options;
  options.name = "writer " + description_;
  options.link = true;  // a writer that fails takes its connection with it, and the reverse
  writer_ = grove::spawn_opt(std::move(options), [self = shared_from_this()] { self->writer_main(); });
}

void ClientOutput::stop() {
  queued_.clear();
  if (writer_) writer_.kill();
  writer_ = grove::ActorRef();
}

bool ClientOutput::admit(std::uint64_t more) {
  pending_ += more;
  // As in redis-server, the first 16 KiB are the client's reply buffer, not counted: only what
  // overflows it is the "output buffer" the limits speak of.
  const std::uint64_t used = pending_ > kReplyBufferSize ? pending_ - kReplyBufferSize : 0;
  const OutputBufferLimit& limit =
      server_.config.output_limit(pubsub_ ? ClientClass::kPubsub : ClientClass::kNormal);
  bool over = limit.hard_bytes != 0 && used >= limit.hard_bytes;
  if (limit.soft_bytes != 0 && used >= limit.soft_bytes) {
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
  // The queue held up to the hard limit: free it now, and give the pages back to the system
  // (malloc would keep them otherwise; the point of the limit is that the server shrinks back).
  // malloc_trim walks the free lists once — fine for an event this rare.
  queued_.clear();
  ::malloc_trim(0);
  // Wakes whoever waits on the socket: a writer in the middle of a write ends, and the
  // connection's read fails, which ends the connection.
  socket_->close();
  has_queued_.set();
}

void ClientOutput::writer_main() {
  std::vector<std::shared_ptr<const std::string>> batch;
  std::vector<std::string_view> parts;
  try {
    while (!closed_) {
      if (queued_.empty()) {
        has_queued_.clear();
        (void)has_queued_.wait();
        continue;
      }
      // Take what is queued (up to a limit), write it in one go.
      while (!queued_.empty() && batch.size() < kPushesPerWrite) {
        batch.push_back(std::move(queued_.front()));
        queued_.pop_front();
      }
      std::uint64_t bytes = 0;
      for (const auto& message : batch) {
        parts.emplace_back(*message);
        bytes += message->size();
      }
      {
        PendingBytes written(pending_, bytes);
        grove::Semaphore::Guard held(write_lock_);
        if (!closed_) socket_->sendall(std::span<const std::string_view>(parts));
      }
      batch.clear();
      parts.clear();
    }
  } catch (const grove::net::SocketError& e) {
    // The client went away, or was closed for its limit: end normally. The connection's own
    // read notices and ends the connection.
    spdlog::debug("client {} writer: {}", description_, e.what());
  }
}

}  // namespace kv
