// examples/kv/connection.cc — the connection and listener actors (see connection.h).
#include "examples/kv/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>

#include "examples/kv/resp.h"

namespace kv {
namespace {

constexpr std::size_t kReadBufferSize = 16 * 1024;

// Every byte for the client goes through here, from the connection's replies and from its
// subscriber actor's pushes, so they never interleave mid-reply: while one fiber is waiting for
// the socket to drain, another's bytes are queued behind and sent by the one already writing.
class ConnectionOutput final : public PushSink {
 public:
  explicit ConnectionOutput(std::shared_ptr<grove::net::Socket> socket)
      : socket_(std::move(socket)) {}

  void send(std::string_view bytes) {
    if (writing_) {
      queued_.append(bytes);
      return;
    }
    writing_ = true;
    struct Done {
      bool& flag;
      ~Done() { flag = false; }
    } done{writing_};
    socket_->sendall(bytes);
    while (!queued_.empty()) {
      std::string next;
      next.swap(queued_);
      socket_->sendall(next);
    }
  }

  void push(std::string_view resp) override {
    try {
      send(resp);
    } catch (const grove::net::SocketError&) {
      socket_->close();  // the connection's own read then ends it
    }
  }

 private:
  std::shared_ptr<grove::net::Socket> socket_;
  bool writing_ = false;
  std::string queued_;
};

}  // namespace

void connection_main(Server& server, std::shared_ptr<grove::net::Socket> socket,
                     grove::net::Address peer) {
  socket->set_nodelay(true);
  auto output = std::make_shared<ConnectionOutput>(socket);
  ClientInfo info;
  info.id = server.next_client_id++;
  info.addr = peer.to_string();
  info.laddr = socket->getsockname().to_string();
  info.fd = socket->fileno();
  info.created_ms = unix_ms();
  ++server.connections_received;
  Session session(server, std::move(info), output);

  RequestParser parser(ParserLimits{.max_bulk_length = server.config.proto_max_bulk_len,
                                    .max_multibulk_count = server.config.max_multibulk_count});
  Request request;
  std::vector<char> buffer(kReadBufferSize);
  std::size_t begin = 0;  // first unparsed byte
  std::size_t end = 0;    // one past the last byte read
  std::string replies;
  bool open = true;

  try {
    while (open) {
      if (end == buffer.size()) {
        // Full: slide the unparsed tail to the front, or grow for one big request.
        if (begin > 0) {
          std::memmove(buffer.data(), buffer.data() + begin, end - begin);
          end -= begin;
          begin = 0;
        } else {
          buffer.resize(buffer.size() * 2);
        }
      }
      const std::size_t got = socket->recv_into(buffer.data() + end, buffer.size() - end);
      if (got == 0) break;  // the client closed
      end += got;
      session.start_batch();

      while (begin < end) {
        const ParseResult r =
            parser.next(std::string_view(buffer.data() + begin, end - begin), request);
        if (r.status == ParseStatus::kNeedMore) break;
        if (r.status == ParseStatus::kError) {
          ReplyWriter(replies).error("ERR " + r.error);
          open = false;
          break;
        }
        begin += r.consumed;
        if (!request.args.empty() && !session.execute(request.args, replies)) {
          open = false;
          break;
        }
      }
      if (begin == end) begin = end = 0;

      if (server.aof && server.aof->has_pending()) {
        server.aof->write_pending();
        if (server.aof->policy() == FsyncPolicy::kAlways) server.aof->wait_durable();
      }
      if (!replies.empty()) {
        output->send(replies);
        replies.clear();
      }
    }
  } catch (const grove::net::SocketError& e) {
    spdlog::debug("client {}: {}", session.info().addr, e.what());
  }
}

void listener_main(Server& server, grove::net::Socket& listening,
                   const std::function<grove::Supervisor()>& connections) {
  (void)server;
  for (;;) {
    grove::net::Accepted accepted = listening.accept();
    auto socket = std::make_shared<grove::net::Socket>(std::move(accepted.socket));
    grove::net::Address peer = accepted.peer;
    connections().start_child([&server, socket, peer] {
      grove::ActorOptions options;
      options.name = "client " + peer.to_string();
      return grove::ActorRef(
          grove::spawn_opt(std::move(options), connection_main, std::ref(server), socket, peer));
    });
  }
}

}  // namespace kv
