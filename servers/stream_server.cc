// servers/stream_server.cc — the accept loop and the connection actors.
#include "servers/stream_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/event.h"
#include "hub/hub.h"
#include "net/errors.h"

namespace grove::servers {

// ---------------------------------------------------------------------------------------------
// PlainStream

std::size_t PlainStream::read_some(void* buffer, std::size_t size, Deadline deadline) {
  if (!socket_.read_ready() && !deadline.is_never()) {
    if (!socket_.wait_readable(deadline)) {
      throw net::SocketTimeout("recv from " + socket_.describe_peer());
    }
  }
  return socket_.recv_into(buffer, size);
}

void PlainStream::write_all(std::span<const std::string_view> parts) {
  if (parts.size() == 1) {
    socket_.sendall(parts[0]);
  } else {
    socket_.sendall(parts);
  }
}

void PlainStream::shutdown_write() { socket_.shutdown(SHUT_WR); }

// ---------------------------------------------------------------------------------------------

net::Address parse_listen_address(std::string_view text) {
  if (auto a = net::Address::try_parse(text)) return *a;
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    throw std::invalid_argument(fmt::format("not a host:port address: '{}'", text));
  }
  const std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || (port = port * 10 + unsigned(c - '0')) > 65535) {
      throw std::invalid_argument(fmt::format("bad port in '{}'", text));
    }
  }
  if (port_text.empty()) throw std::invalid_argument(fmt::format("no port in '{}'", text));
  if (host.empty() || host == "*") return net::Address::ipv4("0.0.0.0", std::uint16_t(port));
  if (host == "localhost") return net::Address::ipv4("127.0.0.1", std::uint16_t(port));
  return net::Address::ip(host, std::uint16_t(port));
}

net::Address listen_address(std::string_view host, std::uint16_t port) {
  if (host.empty() || host == "*") return net::Address::ipv4("0.0.0.0", port);
  if (host == "localhost") return net::Address::ipv4("127.0.0.1", port);
  return net::Address::ip(host, port);
}

struct StreamServer::State : std::enable_shared_from_this<StreamServer::State> {
  net::Socket listener;
  std::optional<net::Address> bind_to;
  StreamHandler handler;
  StreamServerOptions options;
  Group own_group;                     // tracking for unbounded and supervisor policies
  std::unique_ptr<Pool> own_pool;      // for SpawnPolicy::pool
  Group* connections = &own_group;     // where connection actors are tracked
  Greenlet<void> acceptor;
  Event stopped;
  Event resumed;                       // set while accepting (see stop_accepting)
  bool started = false;
  bool closed = false;
  bool tcp = false;
  StreamServerStats stats;

  void accept_loop();
  void launch(net::Socket socket, net::Address peer);
  void serve_connection(net::Socket socket, const net::Address& peer);
};

namespace {
StreamHandler adapt(SocketHandler h) {
  return [h = std::move(h)](Stream& stream, const net::Address& peer) {
    h(stream.socket(), peer);
  };
}
}  // namespace

StreamServer::StreamServer(net::Socket listener, StreamHandler handler, StreamServerOptions options)
    : state_(std::make_shared<State>()) {
  state_->listener = std::move(listener);
  state_->handler = std::move(handler);
  state_->options = std::move(options);
}

StreamServer::StreamServer(std::string_view address, StreamHandler handler,
                           StreamServerOptions options)
    : StreamServer(net::Socket(), std::move(handler), std::move(options)) {
  state_->bind_to = parse_listen_address(address);
}

StreamServer::StreamServer(net::Socket listener, SocketHandler handler, StreamServerOptions options)
    : StreamServer(std::move(listener), adapt(std::move(handler)), std::move(options)) {}

StreamServer::StreamServer(std::string_view address, SocketHandler handler,
                           StreamServerOptions options)
    : StreamServer(address, adapt(std::move(handler)), std::move(options)) {}

StreamServer::~StreamServer() {
  if (state_ && state_->started && Hub::current_if_exists() != nullptr) {
    try {
      stop(0);
    } catch (...) {
      // A kill arriving while we wait for handlers: they were killed already; nothing to add.
    }
  }
}

void StreamServer::start() {
  State& s = *state_;
  if (s.started && !s.closed) return;
  if (s.closed) throw std::logic_error("StreamServer: start() after close()");
  if (!s.listener.is_open()) {
    if (!s.bind_to) throw std::logic_error("StreamServer: no listener and no address");
    s.listener = net::create_server(*s.bind_to, s.options.backlog);
  } else {
    // Listening already is fine; listen() again only sets the backlog.
    s.listener.listen(s.options.backlog);
  }
  s.tcp = s.listener.family() == AF_INET || s.listener.family() == AF_INET6;
  switch (s.options.spawn.kind()) {
    case SpawnPolicy::Kind::kPool:
      s.own_pool = std::make_unique<Pool>(s.options.spawn.size());
      s.connections = s.own_pool.get();
      break;
    case SpawnPolicy::Kind::kGroup:
      s.connections = s.options.spawn.group();
      break;
    default:
      s.connections = &s.own_group;
  }
  s.started = true;
  s.resumed.set();
  ActorOptions options;
  options.name = s.options.name + " accept loop";
  s.acceptor = spawn_opt(std::move(options), [st = state_] { st->accept_loop(); });
}

void StreamServer::serve_forever() {
  start();
  (void)state_->stopped.wait();
}

void StreamServer::close() {
  State& s = *state_;
  if (s.closed) return;
  s.closed = true;
  if (s.acceptor && !s.acceptor.dead()) {
    if (Hub::current_if_exists() != nullptr && in_actor() && self() == s.acceptor) {
      // close() from inside the accept loop (e.g. the handler factory): it ends on its own.
    } else {
      (void)s.acceptor.kill_and_wait();
    }
  }
  s.listener.close();
  s.stopped.set();
}

void StreamServer::stop(double timeout) {
  State& s = *state_;
  close();
  if (s.options.on_stopping) s.options.on_stopping();
  const Deadline deadline = Deadline::after(timeout < 0 ? 0 : timeout);
  if (!s.connections->join(deadline)) {
    (void)s.connections->kill(true, Deadline::after(5.0));
  }
}

void StreamServer::stop_accepting() { state_->resumed.clear(); }
void StreamServer::start_accepting() { state_->resumed.set(); }
bool StreamServer::accepting() const noexcept {
  return started() && state_->resumed.is_set();
}

bool StreamServer::started() const noexcept { return state_->started && !state_->closed; }
bool StreamServer::closed() const noexcept { return state_->closed; }

net::Address StreamServer::address() const {
  if (state_->listener.is_open()) return state_->listener.getsockname();
  return state_->bind_to.value_or(net::Address());
}

std::size_t StreamServer::connection_count() const { return state_->connections->size(); }
StreamServerStats StreamServer::stats() const { return state_->stats; }

// ---------------------------------------------------------------------------------------------
// The accept loop

void StreamServer::State::accept_loop() {
  // This loop decides when to park: on the listener's readiness, or on a full pool.
  bool out_of_descriptors = false;
  while (!closed) {
    // A bounded policy stops accepting while full (gevent's pool behaviour): the kernel's
    // backlog holds the next connections.
    if (connections->full()) {
      if (auto* pool = dynamic_cast<Pool*>(connections)) {
        (void)pool->wait_available();
      }
    }
    if (!resumed.is_set()) (void)resumed.wait();
    if (!listener.read_ready()) (void)listener.wait_readable();
    int accepted = 0;
    while (accepted < options.max_accept && !closed && resumed.is_set()) {
      // accept4 directly: an EAGAIN here is the normal end of a burst, and an exception per
      // burst would cost more than the accept.
      sockaddr_storage ss;
      socklen_t len = sizeof ss;
      const int fd = ::accept4(listener.fileno(), reinterpret_cast<sockaddr*>(&ss), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK) {
          listener.mark_read_ready(false);
          break;
        }
        if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
        const net::SocketError error(e, "accept on " + listener.describe_peer());
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
          if (!out_of_descriptors) {
            out_of_descriptors = true;
            ++stats.descriptor_pauses;
            spdlog::warn("{}: {} — pausing accepts for {} s", options.name, error.what(),
                         options.emfile_pause);
          }
        } else {
          spdlog::error("{}: {}", options.name, error.what());
        }
        grove::sleep(options.emfile_pause);
        break;
      }
      // accept4 made it non-blocking, and it has the listener's family and type.
      net::Accepted client{net::Socket::adopt(fd, listener.family(), listener.type()),
                           net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len)};
      out_of_descriptors = false;
      ++accepted;
      ++stats.accepted;
      launch(std::move(client.socket), std::move(client.peer));
      if (connections->full()) break;
    }
    if (accepted == options.max_accept) grove::yield();
  }
}

void StreamServer::State::serve_connection(net::Socket socket, const net::Address& peer) {
  if (tcp && options.nodelay) {
    const int one = 1;
    (void)::setsockopt(socket.fileno(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (options.make_stream) {
    std::unique_ptr<Stream> stream = options.make_stream(std::move(socket));
    if (stream) handler(*stream, peer);
  } else {
    PlainStream stream(std::move(socket));
    handler(stream, peer);
  }
}

void StreamServer::State::launch(net::Socket socket, net::Address peer) {
  auto body = [st = shared_from_this()](net::Socket sock, net::Address from) {
    st->serve_connection(std::move(sock), from);
  };
  if (options.spawn.kind() == SpawnPolicy::Kind::kSupervisor) {
    auto shared_socket = std::make_shared<net::Socket>(std::move(socket));
    try {
      ActorRef child = options.spawn.supervisor().start_child(
          [body, shared_socket, peer]() -> ActorRef {
            return grove::spawn(body, std::move(*shared_socket), peer);
          });
      if (child) connections->add(child);
    } catch (const SupervisorError& e) {
      // No supervisor to take the connection (it is down or restarting): refuse this one
      // client, keep accepting. The socket closes with `shared_socket`.
      spdlog::error("{}: connection from {} refused: {}", options.name, peer.to_string(),
                    e.what());
    }
    return;
  }
  (void)connections->spawn(std::move(body), std::move(socket), std::move(peer));
}

}  // namespace grove::servers
