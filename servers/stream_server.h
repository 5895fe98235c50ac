// servers/stream_server.h — StreamServer: accept connections and hand each to its own
// greenlet-actor (gevent.server.StreamServer).
//
// Model: start() binds and listens (or takes a listening socket you made) and spawns the accept
// loop, an actor on this thread's hub. Each accepted connection gets TCP_NODELAY (TCP only) and
// runs `handler(stream, peer)` in a new greenlet-actor; returning from the handler closes the
// connection. A handler that throws ends its actor with that exception, which the actor
// machinery reports once in gevent's form (`<Greenlet ...> failed with ...`); the server keeps
// serving.
//
// Accepting follows nginx: when the listener is readable, accept up to `max_accept` (100)
// connections in one go, then let the handlers run; an EAGAIN marks the listener not ready and
// the loop parks on it. EMFILE/ENFILE (out of descriptors) pauses accepting for `emfile_pause`
// seconds (logged once per episode): the server never spins and never dies of it.
//
// Spawn policy: unbounded (default), a Pool of N (the accept loop waits for room before
// accepting, as gevent does), a Group or Pool you own, or a simple_one_for_one Supervisor whose
// temporary children the connections become — given as the supervisor, or as a function that
// returns the current one (for a supervisor that is restarted by its own parent).
//
// Stopping: close() stops accepting and closes the listener; running handlers go on. stop(t)
// closes, waits up to `t` seconds for the handlers to finish, then kills the rest (their stacks
// unwind, their sockets close). serve_forever() returns once stop() or close() was called.
//
// TLS: set `make_stream` (servers/tls_stream.h provides one from a net::TlsContext) and the
// handler gets an encrypted Stream; handlers written against Stream serve both.
//
// Many hubs (`threads` > 1): start() runs a Runtime (hub/runtime.h) of that many hub threads
// and gives each hub its own listener on the same address with SO_REUSEPORT, so the kernel
// spreads new connections over the hubs; a connection is served on the hub that accepted it,
// and never moves. The handler is copied to every hub and runs on all of them at once: what it
// shares between connections must be safe across threads (or be an actor that it messages).
// A listener you pass in must have SO_REUSEPORT set before it was bound (net::create_server's
// `reuse_port`); one without it is shared by every hub as one accept queue (each hub accepts
// from a dup of it). The spawn policy applies per hub (pool(n): n connections per hub); a
// Group or a Supervisor belongs to one hub and is refused with `threads` > 1. close() and
// stop() act on every hub and return when every hub has done so; stop() also ends the
// Runtime (its threads are joined, whatever fibers are left there are unwound). stats() and
// connection_count() ask each hub (a message each way). With `threads` = 1 (the default)
// nothing of this exists: the server runs on the calling hub alone, as described above.
//
// Thread: create, start and stop from fibers of one hub. Lifetime: the destructor stops with a
// zero timeout. Cost: one actor (pooled stack) per connection, one setsockopt per TCP accept.
//
//   grove::servers::StreamServer server("127.0.0.1:6000", [](grove::servers::Stream& conn, const grove::net::Address&) {
//     char buf[4096];
//     while (std::size_t n = conn.read_some(buf, sizeof buf)) conn.write_all({buf, n});
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
#include <vector>

#include "actors/actor.h"
#include "actors/group.h"
#include "actors/supervisor.h"
#include "net/address.h"
#include "net/socket.h"
#include "servers/stream.h"

namespace grove::servers {

using StreamHandler = std::function<void(Stream& connection, const net::Address& peer)>;
// For handlers that want the plain socket (no TLS).
using SocketHandler = std::function<void(net::Socket& connection, const net::Address& peer)>;
// Turns an accepted socket into the stream the handler sees (TLS wraps it here). Runs in the
// connection's own actor, so it may block (a TLS handshake).
using StreamFactory = std::function<std::unique_ptr<Stream>(net::Socket accepted)>;

// Where connection actors are spawned.
class SpawnPolicy {
 public:
  // One actor per connection, no limit (gevent's spawn='default').
  static SpawnPolicy unbounded() { return SpawnPolicy(Kind::kUnbounded); }
  // At most `size` connections handled at once; the server stops accepting while full.
  static SpawnPolicy pool(std::size_t size) {
    SpawnPolicy p(Kind::kPool);
    p.size_ = size;
    return p;
  }
  // In a Group or Pool you own (it must outlive the server).
  static SpawnPolicy group(Group& group) {
    SpawnPolicy p(Kind::kGroup);
    p.group_ = &group;
    return p;
  }
  // As temporary children of a simple_one_for_one supervisor.
  static SpawnPolicy supervisor(Supervisor sup) {
    return supervisor([sup = std::move(sup)] { return sup; });
  }
  // As temporary children of the simple_one_for_one supervisor `current()` returns, asked once
  // per accepted connection: when that supervisor is itself a supervised child and gets
  // restarted, the next connection goes to the new one. A connection that finds no running
  // supervisor is closed (and logged); accepting goes on.
  static SpawnPolicy supervisor(std::function<Supervisor()> current) {
    SpawnPolicy p(Kind::kSupervisor);
    p.supervisor_ = std::move(current);
    return p;
  }

  enum class Kind { kUnbounded, kPool, kGroup, kSupervisor };
  Kind kind() const { return kind_; }
  std::size_t size() const { return size_; }
  Group* group() const { return group_; }
  // The supervisor connections start under now (kSupervisor only).
  Supervisor supervisor() const { return supervisor_ ? supervisor_() : Supervisor(); }

 private:
  explicit SpawnPolicy(Kind kind) : kind_(kind) {}
  Kind kind_;
  std::size_t size_ = 0;
  Group* group_ = nullptr;
  std::function<Supervisor()> supervisor_;
};

struct StreamServerOptions {
  int backlog = 128;
  int max_accept = 100;          // accepts per readiness before letting handlers run
  double emfile_pause = 0.1;     // seconds to stop accepting after EMFILE/ENFILE
  bool nodelay = true;           // TCP_NODELAY on accepted TCP sockets
  SpawnPolicy spawn = SpawnPolicy::unbounded();
  StreamFactory make_stream;     // empty: PlainStream
  std::string name = "StreamServer";  // for logs
  // Called by stop() after the listener closed, before it waits for the handlers: lets a
  // protocol end idle connections at once (the HTTP server does).
  // With threads > 1 it runs on every hub (hub_index() says which).
  std::function<void()> on_stopping;
  // Hubs that accept and serve (see "Many hubs" above); 1 = the calling hub only.
  std::size_t threads = 1;
};

struct StreamServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t descriptor_pauses = 0;  // EMFILE/ENFILE episodes
  std::vector<std::uint64_t> accepted_by_hub;  // one entry per hub that serves
};

class StreamServer {
 public:
  // `listener`: bound and listening, or bound only (start() listens), or unbound (then
  // `address` below is needed; use the other constructor).
  StreamServer(net::Socket listener, StreamHandler handler, StreamServerOptions options = {});
  // `address`: "127.0.0.1:8080", "[::1]:0", ":8080" (all IPv4 interfaces), "localhost:8080".
  StreamServer(std::string_view address, StreamHandler handler, StreamServerOptions options = {});
  StreamServer(net::Socket listener, SocketHandler handler, StreamServerOptions options = {});
  StreamServer(std::string_view address, SocketHandler handler, StreamServerOptions options = {});
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;
  ~StreamServer();

  // Binds/listens if needed and spawns the accept loop. Throws net::SocketError (e.g. address in
  // use). Idempotent while started.
  void start();
  // start(), then waits until stop() or close().
  void serve_forever();
  // Stops accepting, waits up to `timeout` seconds for handlers, then kills the rest.
  void stop(double timeout = 1.0);
  // Stops accepting and closes the listener; handlers go on.
  void close();
  // Pauses accepting while the listener stays open (new clients wait in the kernel's backlog),
  // and resumes it (gevent's stop_accepting/start_accepting). Both are no-ops when already so.
  void stop_accepting();
  void start_accepting();
  bool accepting() const noexcept;

  bool started() const noexcept;
  bool closed() const noexcept;
  // The bound address (the real port when 0 was asked for).
  net::Address address() const;
  std::string server_host() const { return address().host(); }
  std::uint16_t server_port() const { return address().port(); }

  // Connections being handled now.
  std::size_t connection_count() const;
  StreamServerStats stats() const;

  // Which of the server's hubs the caller runs on, from a handler or on_stopping: 0 to
  // threads - 1 (always 0 with threads = 1).
  static std::size_t hub_index() noexcept;
  // Runs `fn(i)` for each hub i of the server, in turn, on that hub (it must not block), and
  // waits for each: how per-hub state is read or changed from the caller. With threads = 1,
  // before start() or after stop() (the hub threads have ended) it runs right here. If the
  // caller is killed while it waits, `fn` still runs on the hubs it was sent to: it should
  // hold what it writes to (a shared_ptr), not point into the caller's frame.
  void each_hub(std::function<void(std::size_t hub)> fn) const;

  struct State;
  struct Spread;

 private:
  void start_spread();
  void close_spread();
  void stop_spread(double timeout);
  std::shared_ptr<State> state_;
  std::unique_ptr<Spread> spread_;  // threads > 1, once started
};

// "host:port" for servers: a literal address, with "" / "*" meaning 0.0.0.0 and "localhost"
// meaning 127.0.0.1 (no DNS). Throws std::invalid_argument.
net::Address parse_listen_address(std::string_view text);
// The same for a (host, port) pair, as gevent writes a listener; host may be an IPv6 literal.
net::Address listen_address(std::string_view host, std::uint16_t port);

}  // namespace grove::servers
