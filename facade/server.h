// facade/server.h — gevent.server: StreamServer and DatagramServer with gevent's handler shapes,
// over servers/stream_server.h and servers/datagram_server.h.
//
//   StreamServer(listener, handle, spawn)  listener: a (host, port) pair, "host:port", or a
//       socket you bound; handle(socket, address) runs in its own greenlet per connection and the
//       connection closes when it returns; spawn: a size (a Pool of that many: the server stops
//       accepting while it is full), a gevent::pool::Pool or Group you own, or Spawn() (no limit,
//       gevent's 'default').
//   start(), serve_forever(), stop(timeout) (close, wait up to `timeout` for the handlers, kill
//       the rest), close(), started(), closed(), server_host(), server_port(), address(),
//       start_accepting()/stop_accepting() (the listener stays open), set_spawn(...) before
//       start(), and the settings `backlog` and `max_accept`.
//   DatagramServer(listener, handle, spawn)  handle(data, address) per datagram, each in its own
//       greenlet as in gevent (at most `spawn` at once, default 1000); answer with
//       server.sendto(data, address).
//   BaseServer<Derived, Core>  gevent.baseserver.BaseServer: what both (and pywsgi's WSGIServer)
//       share — the listener, spawn, serve_forever(), started(), address(), server_host/port().
//
// Differences from gevent: spawn=None (handling inline in the accept loop) is not offered for
// StreamServer (a handler that blocks would stop accepting); the DatagramServer's spawn=None is
// Spawn::inline_(). The handler receives the socket by reference (it closes when handle returns);
// move it out to keep the connection. Settings made after start() apply at the next start.
//
//   gevent::server::StreamServer server({"127.0.0.1", 16000}, [](auto& sock, const auto&) {
//     sock.sendall("Welcome to the echo server! Type quit to exit.\r\n");
//     for (std::string data; !(data = sock.recv(4096)).empty();) sock.sendall(data);
//   });
//   server.serve_forever();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "facade/pool.h"
#include "facade/socket.h"
#include "net/address.h"
#include "net/socket.h"
#include "servers/datagram_server.h"
#include "servers/stream_server.h"

namespace gevent::server {

// gevent's `spawn` argument: a size, a pool or group of yours, or nothing (no limit).
class Spawn {
 public:
  Spawn() = default;  // 'default': one greenlet per connection, no limit
  Spawn(std::size_t size) : size_(size) {}                     // NOLINT: Pool(size)
  Spawn(int size) : size_(static_cast<std::size_t>(size)) {}   // NOLINT
  Spawn(pool::Pool& pool) : group_(&pool) {}                   // NOLINT
  Spawn(pool::Group& group) : group_(&group) {}                // NOLINT
  // DatagramServer only: handle each datagram in the receive loop itself (gevent's spawn=None).
  static Spawn inline_() {
    Spawn s;
    s.inline_handling_ = true;
    return s;
  }

  grove::servers::SpawnPolicy policy() const {
    if (group_ != nullptr) return grove::servers::SpawnPolicy::group(*group_);
    if (size_) return grove::servers::SpawnPolicy::pool(*size_);
    return grove::servers::SpawnPolicy::unbounded();
  }
  std::optional<std::size_t> size() const { return size_; }
  bool is_inline() const { return inline_handling_; }

 private:
  std::optional<std::size_t> size_;
  grove::Group* group_ = nullptr;
  bool inline_handling_ = false;
};

using socket::HostPort;

// Where a server listens: a (host, port) pair, "host:port", or a socket you bound.
class Listener {
 public:
  Listener(const HostPort& address)  // NOLINT(google-explicit-constructor)
      : address_(grove::servers::listen_address(address.first, address.second)) {}
  Listener(std::string_view host, std::uint16_t port)  // {host, port}
      : address_(grove::servers::listen_address(host, port)) {}
  Listener(const char* address)  // NOLINT
      : address_(grove::servers::parse_listen_address(address)) {}
  Listener(std::string_view address)  // NOLINT
      : address_(grove::servers::parse_listen_address(address)) {}
  Listener(grove::net::Socket sock)  // NOLINT
      : socket_(std::make_shared<grove::net::Socket>(std::move(sock))) {}

  const grove::net::Address& address() const { return address_; }
  // The socket, once: the server takes it.
  grove::net::Socket take_socket() { return socket_ ? std::move(*socket_) : grove::net::Socket(); }
  bool has_socket() const { return socket_ && socket_->is_open(); }

 private:
  grove::net::Address address_;
  std::shared_ptr<grove::net::Socket> socket_;
};

// gevent.baseserver.BaseServer: what StreamServer, DatagramServer and pywsgi's WSGIServer share
// — where to listen, the spawn setting, and the core server `Core` once started. `Derived`
// provides start(), which builds its handler and options and calls start_core().
template <class Derived, class Core>
class BaseServer {
 public:
  BaseServer(const BaseServer&) = delete;
  BaseServer& operator=(const BaseServer&) = delete;

  // Before start(); a later change applies at the next start.
  void set_spawn(Spawn spawn) { spawn_ = spawn; }
  void serve_forever() {
    static_cast<Derived*>(this)->start();
    server_->serve_forever();
  }
  bool started() const { return server_ && server_->started(); }
  socket::Address address() const { return server_ ? server_->address() : listener_.address(); }
  std::string server_host() const { return address().host(); }
  std::uint16_t server_port() const { return address().port(); }
  // The server of the core, once started (connection counts, stats).
  Core* core() const { return server_.get(); }

 protected:
  BaseServer(Listener listener, Spawn spawn) : listener_(std::move(listener)), spawn_(spawn) {}
  ~BaseServer() = default;

  // Builds the core server on the socket given, or bound to the address, and starts it.
  template <class Handler, class Options>
  void start_core(Handler handler, const Options& options) {
    if (listener_.has_socket()) {
      server_ = std::make_unique<Core>(listener_.take_socket(), std::move(handler), options);
    } else {
      server_ =
          std::make_unique<Core>(listener_.address().to_string(), std::move(handler), options);
    }
    server_->start();
  }

  Listener listener_;
  Spawn spawn_;
  std::unique_ptr<Core> server_;
};

class StreamServer : public BaseServer<StreamServer, grove::servers::StreamServer> {
 public:
  using Handle = std::function<void(socket::socket& sock, const socket::Address& address)>;

  int backlog = 128;
  int max_accept = 100;

  template <class F>
  StreamServer(Listener listener, F handle, Spawn spawn = Spawn())
      : BaseServer(std::move(listener), spawn), handle_(adapt(std::move(handle))) {}

  void set_handle(Handle handle) { handle_ = std::move(handle); }

  // Binds (or takes the socket given), listens and starts accepting. Throws socket::error.
  void start() {
    if (started()) return;
    grove::servers::StreamServerOptions options;
    options.backlog = backlog;
    options.max_accept = max_accept;
    options.spawn = spawn_.policy();
    options.name = "gevent.server.StreamServer";
    grove::servers::SocketHandler handler = [h = handle_](grove::net::Socket& conn,
                                                         const grove::net::Address& peer) {
      socket::socket sock(std::move(conn));
      h(sock, peer);
    };
    start_core(std::move(handler), options);
  }
  void stop(std::optional<double> timeout = std::nullopt) {
    if (server_) server_->stop(timeout.value_or(1.0));
  }
  void close() {
    if (server_) server_->close();
  }
  void start_accepting() {
    if (server_) server_->start_accepting();
  }
  void stop_accepting() {
    if (server_) server_->stop_accepting();
  }
  bool closed() const { return server_ && server_->closed(); }

 private:
  template <class F>
  static Handle adapt(F handle) {
    if constexpr (std::is_invocable_v<F&, socket::socket&, const socket::Address&>) {
      return Handle(std::move(handle));
    } else {
      // handle(socket) without the address.
      return [handle = std::move(handle)](socket::socket& s, const socket::Address&) mutable {
        handle(s);
      };
    }
  }

  Handle handle_;
};

class DatagramServer : public BaseServer<DatagramServer, grove::servers::DatagramServer> {
 public:
  using Handle = std::function<void(std::string_view data, const socket::Address& address)>;

  std::size_t max_datagram = 64 * 1024;

  DatagramServer(Listener listener, Handle handle, Spawn spawn = Spawn())
      : BaseServer(std::move(listener), spawn), handle_(std::move(handle)) {}

  void start() {
    if (started()) return;
    grove::servers::DatagramServerOptions options;
    options.max_datagram = max_datagram;
    options.spawn_per_datagram = !spawn_.is_inline();
    if (spawn_.size()) options.max_handlers = *spawn_.size();
    grove::servers::DatagramHandler handler =
        [h = handle_](std::string_view data, const grove::net::Address& peer,
                      grove::servers::DatagramServer&) { h(data, peer); };
    start_core(std::move(handler), options);
  }
  void stop(std::optional<double> /*timeout*/ = std::nullopt) {
    if (server_) server_->stop();
  }
  void close() { stop(); }
  std::size_t sendto(std::string_view data, const socket::Address& to) {
    return server_->sendto(data, to);
  }

 private:
  Handle handle_;
};

}  // namespace gevent::server

namespace gevent {
namespace baseserver {
using server::BaseServer;
}  // namespace baseserver
using server::DatagramServer;
using server::StreamServer;
}  // namespace gevent
