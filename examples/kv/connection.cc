// examples/kv/connection.cc — the connection and listener actors (see connection.h).
#include "examples/kv/connection.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "examples/kv/client_output.h"
#include "examples/kv/resp.h"
#include "examples/kv/shards.h"
#include "servers/stream_server.h"

namespace kv {
namespace {

constexpr std::size_t kQueryBufferSize = 16 * 1024;
constexpr std::size_t kRepliesFlushSize = 64 * 1024;   // send a batch's replies at this size
constexpr std::size_t kRepliesKeptCapacity = 1 << 20;  // a larger reply string is freed once sent
constexpr std::string_view kMaxClientsError = "-ERR max number of clients reached\r\n";

// The bytes read from one client and not yet consumed. It grows only when it is full of bytes
// that arrived — doubling, so a large request costs a few copies, not one per read — never by
// what a request announces, and it goes back to 16 KiB once drained, so a client that sent one
// large request does not keep its memory.
class QueryBuffer {
 public:
  QueryBuffer() { allocate(kQueryBufferSize); }

  // Room to read into: slides the unconsumed bytes to the front when that frees at least half
  // of the buffer, else doubles it.
  std::span<char> space() {
    if (end_ == capacity_) {
      const std::size_t held = end_ - begin_;
      if (begin_ >= capacity_ / 2) {
        std::memmove(data_.get(), data_.get() + begin_, held);
      } else {
        std::unique_ptr<char[]> larger(new char[capacity_ * 2]);  // not zero-filled
        std::memcpy(larger.get(), data_.get() + begin_, held);
        data_ = std::move(larger);
        capacity_ *= 2;
      }
      begin_ = 0;
      end_ = held;
    }
    return {data_.get() + end_, capacity_ - end_};
  }
  void produced(std::size_t n) { end_ += n; }
  std::string_view unconsumed() const { return {data_.get() + begin_, end_ - begin_}; }
  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ < end_) return;
    begin_ = end_ = 0;
    if (capacity_ > kQueryBufferSize) allocate(kQueryBufferSize);
  }

 private:
  void allocate(std::size_t capacity) {
    data_.reset(new char[capacity]);
    capacity_ = capacity;
    begin_ = end_ = 0;
  }
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;  // first unconsumed byte
  std::size_t end_ = 0;    // one past the last byte read
};

ParserLimits parser_limits(const Config& config) {
  return ParserLimits{.max_bulk_length = config.proto_max_bulk_len,
                      .max_multibulk_count = config.max_multibulk_count};
}

}  // namespace

void connection_main(Server& server, grove::net::Socket& accepted,
                     const grove::net::Address& peer) {
  // Shared with the client's writer actor, which may outlive this frame by a moment.
  auto socket = std::make_shared<grove::net::Socket>(std::move(accepted));
  if (server.clients.size() >= static_cast<std::size_t>(server.config.maxclients)) {
    // As redis-server: one best-effort write of the error, then close.
    ++server.rejected_connections;
    try {
      (void)socket->send(kMaxClientsError);
    } catch (const grove::net::SocketError&) {
    }
    return;
  }
  ClientInfo info;
  info.id = server.next_client_id;
  server.next_client_id += server.client_id_step;
  info.addr = peer.to_string();
  info.laddr = socket->getsockname().to_string();
  info.fd = socket->fileno();
  info.created_ms = unix_ms();
  ++server.connections_received;
  auto output = std::make_shared<ClientOutput>(server, socket,
                                               fmt::format("id={} addr={}", info.id, info.addr));
  Session session(server, std::move(info), output);
  session.set_actor(grove::self());  // CLIENT KILL ends this actor

  RequestParser parser(parser_limits(server.config));
  Request request;
  QueryBuffer buffer;
  std::string replies;
  ShardPipe pipe;  // --threads N: requests for another shard, sent together

  // Sends what the batch produced so far: the AOF records first (a reply the client has seen is
  // at least in the page cache), then the replies. False when the client is gone.
  auto flush = [&] {
    if (server.aof && server.aof->has_pending()) {
      server.aof->write_pending();
      if (server.aof->policy() == FsyncPolicy::kAlways) server.aof->wait_durable();
    }
    if (replies.empty()) return true;
    const bool sent = output->reply(replies);
    if (replies.capacity() > kRepliesKeptCapacity) {
      std::string().swap(replies);
    } else {
      replies.clear();
    }
    return sent;
  };

  session.set_flush(flush);

  try {
    bool open = true;
    while (open) {
      const std::span<char> space = buffer.space();
      const std::size_t got = socket->recv_into(space.data(), space.size());
      if (got == 0) break;  // the client closed
      buffer.produced(got);
      session.start_batch();
      parser.set_limits(parser_limits(server.config));

      while (open) {
        const ParseResult r = parser.next(buffer.unconsumed(), request);
        if (r.status == ParseStatus::kNeedMore) break;
        if (r.status == ParseStatus::kError) {
          ReplyWriter(replies).error("ERR " + r.error);
          open = false;
          break;
        }
        open = request.args.empty() ||
               (server.shards ? execute_routed(session, request.args, replies, pipe)
                              : session.execute(request.args, replies));
        buffer.consume(r.consumed);  // only now: the arguments pointed into the buffer
        if (replies.size() >= kRepliesFlushSize && !flush()) return;
      }

      if (!pipe.empty()) flush_pipe(session, pipe, replies);
      const std::string_view unfinished = buffer.unconsumed();
      if (open && unfinished.size() > static_cast<std::size_t>(server.config.client_query_buffer_limit)) {
        // As redis-server: logged, and the client closed without a reply.
        ++server.query_buffer_limit_disconnections;
        spdlog::warn(
            "Closing client that reached max query buffer length: id={} addr={} qbuf={} (qbuf "
            "initial bytes: {:?})",
            session.info().id, session.info().addr, unfinished.size(),
            unfinished.substr(0, 64));
        open = false;
      }
      if (!flush()) break;
    }
  } catch (const grove::net::SocketError& e) {
    spdlog::debug("client {}: {}", session.info().addr, e.what());
  }
}

void listener_main(Server& server, grove::net::Socket& listening,
                   std::function<grove::Supervisor()> connections) {
  // The tree's shutdown (or the supervisor's death) arrives as an Exit message: close the
  // listener in order rather than be unwound mid-wait.
  grove::trap_exit(true);
  grove::servers::StreamServerOptions options;
  options.name = "kv listener";
  options.backlog = 511;
  options.spawn = grove::servers::SpawnPolicy::supervisor(std::move(connections));
  grove::servers::StreamServer streams(
      grove::net::fromfd(listening.fileno()),  // a dup: a restarted listener reuses the port
      [&server](grove::net::Socket& socket, const grove::net::Address& peer) {
        connection_main(server, socket, peer);
      },
      std::move(options));
  streams.start();
  grove::receive([](grove::Exit) {});
  streams.close();
}

}  // namespace kv
