// servers/stream_server.cc — the accept loop and the connection actors.
#include "servers/stream_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/event.h"
#include "hub/hub.h"
#include "hub/runtime.h"
#include "net/errors.h"

namespace grove::servers {

namespace {
// Which hub of a server with threads > 1 this thread is (set when its shard starts).
thread_local std::size_t tls_hub_index = 0;
}  // namespace

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

  void start_here();
  void close_here();
  void stop_here(double timeout);
  void accept_loop();
  void launch(net::Socket socket, net::Address peer);
  void serve_connection(net::Socket socket, const net::Address& peer);
};

// ---------------------------------------------------------------------------------------------
// Many hubs: a shard (a State of its own) on each hub of a Runtime

struct StreamServer::Spread {
  std::unique_ptr<Runtime> runtime;
  // shards[i] lives on runtime hub i and is touched only there: through run_on, or by an actor
  // placed on that hub. Emptied (each released on its own hub) by stop().
  std::vector<std::shared_ptr<State>> shards;
  net::Address bound;
  std::vector<StreamServerStats> final_stats;  // taken by stop()

  // Runs `fn(shard)` on each shard's hub in turn, waits for it (fn must not block) and
  // returns what each returned. `fn` is copied to each hub and must not refer to the caller's
  // frame: if the caller is killed while it waits, the hub still runs it.
  template <class F>
  auto collect(F fn) const {
    std::vector<std::invoke_result_t<F&, State&>> out;
    for (std::size_t i = 0; i < shards.size(); ++i) {
      State* st = shards[i].get();
      out.push_back(run_on(runtime->hub(i), [st, fn]() mutable { return fn(*st); }));
    }
    return out;
  }

  // Runs `fn(shard)` in an actor on each shard's hub (fn may block), all at once, and waits for
  // them all.
  template <class F>
  void each_blocking(F fn) const {
    std::vector<Greenlet<void>> running;
    running.reserve(shards.size());
    for (std::size_t i = 0; i < shards.size(); ++i) {
      ActorOptions on;
      on.hub = &runtime->hub(i);
      on.name = "StreamServer hub stop";
      State* st = shards[i].get();  // not owned by the actor: shards[i] is released on its hub
      running.push_back(spawn_opt(std::move(on), [st, fn] { fn(*st); }));
    }
    for (auto& g : running) (void)g.join();
  }

  // Drops each shard on its own hub (what it owns belongs to that hub), then ends the hubs.
  void release() {
    for (std::size_t i = 0; i < shards.size(); ++i) {
      try {
        run_on(runtime->hub(i), [st = std::move(shards[i])]() mutable { st.reset(); });
      } catch (const std::runtime_error&) {
        // That hub has stopped already; nothing of it is left to release.
      }
    }
    shards.clear();
    runtime->stop();
  }
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

void StreamServer::State::start_here() {
  if (!listener.is_open()) {
    if (!bind_to) throw std::logic_error("StreamServer: no listener and no address");
    listener = net::create_server(*bind_to, options.backlog);
  } else {
    // Listening already is fine; listen() again only sets the backlog.
    listener.listen(options.backlog);
  }
  tcp = listener.family() == AF_INET || listener.family() == AF_INET6;
  switch (options.spawn.kind()) {
    case SpawnPolicy::Kind::kPool:
      own_pool = std::make_unique<Pool>(options.spawn.size());
      connections = own_pool.get();
      break;
    case SpawnPolicy::Kind::kGroup:
      connections = options.spawn.group();
      break;
    default:
      connections = &own_group;
  }
  started = true;
  resumed.set();
  ActorOptions actor;
  actor.name = options.name + " accept loop";
  acceptor = spawn_opt(std::move(actor), [st = shared_from_this()] { st->accept_loop(); });
}

void StreamServer::State::close_here() {
  if (closed) return;
  closed = true;
  if (acceptor && !acceptor.dead()) {
    if (Hub::current_if_exists() != nullptr && in_actor() && self() == acceptor) {
      // close() from inside the accept loop (e.g. the handler factory): it ends on its own.
    } else {
      (void)acceptor.kill_and_wait();
    }
  }
  listener.close();
  stopped.set();
}

void StreamServer::State::stop_here(double timeout) {
  close_here();
  if (options.on_stopping) options.on_stopping();
  const Deadline deadline = Deadline::after(timeout < 0 ? 0 : timeout);
  if (!connections->join(deadline)) {
    (void)connections->kill(true, Deadline::after(5.0));
  }
}

void StreamServer::start() {
  State& s = *state_;
  if (s.started && !s.closed) return;
  if (s.closed) throw std::logic_error("StreamServer: start() after close()");
  if (s.options.threads > 1) {
    start_spread();
    return;
  }
  s.start_here();
}

void StreamServer::serve_forever() {
  start();
  (void)state_->stopped.wait();
}

void StreamServer::close() {
  if (spread_) {
    close_spread();
    return;
  }
  state_->close_here();
}

void StreamServer::stop(double timeout) {
  if (spread_) {
    stop_spread(timeout);
    return;
  }
  state_->stop_here(timeout);
}

void StreamServer::stop_accepting() {
  state_->resumed.clear();
  if (spread_) (void)spread_->collect([](State& st) {
      st.resumed.clear();
      return true;
    });
}
void StreamServer::start_accepting() {
  state_->resumed.set();
  if (spread_) (void)spread_->collect([](State& st) {
      st.resumed.set();
      return true;
    });
}
bool StreamServer::accepting() const noexcept {
  return started() && state_->resumed.is_set();
}

bool StreamServer::started() const noexcept { return state_->started && !state_->closed; }
bool StreamServer::closed() const noexcept { return state_->closed; }

net::Address StreamServer::address() const {
  if (spread_) return spread_->bound;
  if (state_->listener.is_open()) return state_->listener.getsockname();
  return state_->bind_to.value_or(net::Address());
}

std::size_t StreamServer::connection_count() const {
  if (!spread_) return state_->connections->size();
  std::size_t n = 0;
  for (const std::size_t one : spread_->collect([](State& st) { return st.connections->size(); })) {
    n += one;
  }
  return n;
}

StreamServerStats StreamServer::stats() const {
  if (!spread_) {
    StreamServerStats out = state_->stats;
    out.accepted_by_hub = {out.accepted};
    return out;
  }
  const std::vector<StreamServerStats> each =
      spread_->shards.empty() ? spread_->final_stats
                              : spread_->collect([](State& st) { return st.stats; });
  StreamServerStats out;
  for (const StreamServerStats& one : each) {
    out.accepted += one.accepted;
    out.descriptor_pauses += one.descriptor_pauses;
    out.accepted_by_hub.push_back(one.accepted);
  }
  return out;
}

std::size_t StreamServer::hub_index() noexcept { return tls_hub_index; }

void StreamServer::each_hub(std::function<void(std::size_t hub)> fn) const {
  const std::size_t n = std::max<std::size_t>(state_->options.threads, 1);
  if (!spread_ || spread_->shards.empty()) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  auto shared = std::make_shared<std::function<void(std::size_t)>>(std::move(fn));
  for (std::size_t i = 0; i < n; ++i) run_on(spread_->runtime->hub(i), [shared, i] { (*shared)(i); });
}

void StreamServer::start_spread() {
  State& s = *state_;
  const StreamServerOptions& o = s.options;
  if (o.spawn.kind() == SpawnPolicy::Kind::kGroup ||
      o.spawn.kind() == SpawnPolicy::Kind::kSupervisor) {
    throw std::invalid_argument(
        fmt::format("{}: threads = {} needs an unbounded or pool spawn policy (a Group or a "
                    "Supervisor belongs to one hub)",
                    o.name, o.threads));
  }
  auto spread = std::make_unique<Spread>();
  // A listener given without SO_REUSEPORT cannot have siblings on its address: every hub then
  // accepts from a dup of it (one queue, each hub woken by it).
  bool share = false;
  std::optional<net::Address> bind_at = s.bind_to;
  if (s.listener.is_open()) {
    s.listener.listen(o.backlog);
    share = s.listener.getsockopt(SOL_SOCKET, SO_REUSEPORT) == 0;
    spread->bound = s.listener.getsockname();
    bind_at = spread->bound;
  } else if (!bind_at) {
    throw std::logic_error("StreamServer: no listener and no address");
  }
  spread->runtime = std::make_unique<Runtime>(RuntimeOptions{.threads = o.threads});
  spread_ = std::move(spread);
  Spread& sp = *spread_;
  try {
    for (std::size_t i = 0; i < o.threads; ++i) {
      // Hub 0 takes the given listener (a dup of it); the others bind their own beside it.
      int fd = -1;
      if (s.listener.is_open() && (share || i == 0)) {
        fd = ::fcntl(s.listener.fileno(), F_DUPFD_CLOEXEC, 0);
        if (fd < 0) throw net::SocketError(errno, "dup of the listener");
      }
      const net::Address at = i == 0 ? *bind_at : sp.bound;
      auto started = run_on(sp.runtime->hub(i), [i, fd, at, handler = s.handler, options = o] {
        tls_hub_index = i;
        auto st = std::make_shared<State>();
        st->handler = handler;
        st->options = options;
        st->options.threads = 1;
        st->listener = fd >= 0 ? net::Socket::adopt(fd) : net::create_server(at, options.backlog,
                                                                              /*reuse_port=*/true);
        const net::Address bound = st->listener.getsockname();
        st->start_here();
        return std::make_pair(std::move(st), bound);
      });
      sp.shards.push_back(std::move(started.first));
      if (i == 0) sp.bound = started.second;  // the real port when 0 was asked for
    }
  } catch (...) {
    sp.each_blocking([](State& st) { st.stop_here(0); });
    sp.release();
    spread_.reset();
    throw;
  }
  s.listener.close();  // the hubs hold their own
  s.started = true;
  s.resumed.set();
}

void StreamServer::close_spread() {
  State& s = *state_;
  if (s.closed) return;
  s.closed = true;
  spread_->each_blocking([](State& st) { st.close_here(); });
  s.stopped.set();
}

void StreamServer::stop_spread(double timeout) {
  State& s = *state_;
  Spread& sp = *spread_;
  if (sp.shards.empty()) return;  // stopped already
  s.closed = true;
  sp.final_stats.assign(sp.shards.size(), StreamServerStats());
  std::vector<StreamServerStats>* stats = &sp.final_stats;
  std::vector<State*> order;
  for (auto& st : sp.shards) order.push_back(st.get());
  sp.each_blocking([timeout, stats, order](State& st) {
    st.stop_here(timeout);
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (order[i] == &st) (*stats)[i] = st.stats;
    }
  });
  sp.release();
  s.stopped.set();
}

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
