// servers/datagram_server.h — DatagramServer: one handler call per datagram, with the sender's
// address and a way to answer it (gevent.server.DatagramServer).
//
// Model: start() binds a UDP (or Unix datagram) socket and spawns the receive loop, an actor on
// this thread's hub. For each datagram it calls `handler(data, peer, server)`; the handler
// answers with server.sendto(reply, peer). By default the handler runs inline in the receive
// loop (no spawn per datagram: the fast path for request/answer protocols such as DNS — a
// handler that blocks then delays the next datagrams); with `spawn_per_datagram` each call gets
// its own greenlet-actor, as gevent does, at most `max_handlers` at once: when that many run,
// the loop stops receiving until one ends (later datagrams wait in the socket's buffer and the
// kernel drops what does not fit), so a flood costs a bounded number of greenlets. stop() kills
// the handlers still running. A handler that throws is reported through the hub (inline: the
// error is reported and the loop goes on; spawned: its actor reports it).
//
// Many hubs (`threads` > 1): start() runs a Runtime (hub/runtime.h) of that many hub threads,
// each with its own socket bound to the same address with SO_REUSEPORT; the kernel spreads the
// datagrams over them by their source, and each is handled on the hub that received it, where
// server.sendto() answers from that hub's socket. The handler runs on every hub at once. A
// socket you pass in must have SO_REUSEPORT set before it was bound; otherwise every hub
// receives from a dup of it. stop() stops every hub and ends the Runtime's threads.
//
// Thread: create, start and stop from one hub. Lifetime: the destructor stops the server. Cost per datagram: one recvfrom,
// plus what the handler sends; the receive buffer is `max_datagram` bytes, reused.
//
//   grove::servers::DatagramServer server("127.0.0.1:9000",
//       [](std::string_view data, const grove::net::Address& peer, auto& server) {
//         server.sendto(data, peer);  // UDP echo
//       });
//   server.serve_forever();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "net/address.h"
#include "net/socket.h"

namespace grove::servers {

class DatagramServer;
using DatagramHandler =
    std::function<void(std::string_view data, const net::Address& peer, DatagramServer& server)>;

struct DatagramServerOptions {
  std::size_t max_datagram = 64 * 1024;
  bool spawn_per_datagram = false;
  std::size_t max_handlers = 1000;  // spawned handlers running at once (spawn_per_datagram)
                                    // (per hub)
  std::size_t threads = 1;          // hubs that receive and handle (see "Many hubs")
};

class DatagramServer {
 public:
  // `address`: "127.0.0.1:9000", "[::1]:0", ":9000", "localhost:9000".
  DatagramServer(std::string_view address, DatagramHandler handler,
                 DatagramServerOptions options = {});
  // A bound datagram socket you made.
  DatagramServer(net::Socket socket, DatagramHandler handler, DatagramServerOptions options = {});
  DatagramServer(const DatagramServer&) = delete;
  DatagramServer& operator=(const DatagramServer&) = delete;
  ~DatagramServer();

  void start();
  void serve_forever();
  // Stops receiving, kills the spawned handlers still running (and waits for them), closes the
  // socket.
  void stop();
  void close() { stop(); }
  bool started() const noexcept;

  // Sends one datagram from the server's socket (the calling hub's, with threads > 1).
  std::size_t sendto(std::string_view data, const net::Address& to);

  net::Address address() const;
  std::string server_host() const { return address().host(); }
  std::uint16_t server_port() const { return address().port(); }
  // Datagrams received, on every hub (with threads > 1 a message to each hub while it runs).
  std::uint64_t received() const noexcept;

  struct State;
  struct Spread;

 private:
  std::shared_ptr<State> state_;
  std::unique_ptr<Spread> spread_;  // threads > 1, once started
};

}  // namespace grove::servers
