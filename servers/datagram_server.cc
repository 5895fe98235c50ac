// servers/datagram_server.cc — the receive loop.
#include "servers/datagram_server.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <memory>
#include <vector>

#include "actors/actor.h"
#include "actors/event.h"
#include "actors/group.h"
#include "hub/hub.h"
#include "hub/runtime.h"
#include "net/errors.h"
#include "servers/stream_server.h"

namespace grove::servers {

struct DatagramServer::State {
  net::Socket socket;
  std::optional<net::Address> bind_to;
  DatagramHandler handler;
  DatagramServerOptions options;
  Greenlet<void> receiver;
  std::unique_ptr<Pool> handlers;  // spawn_per_datagram
  Event stopped;
  bool started = false;
  bool closed = false;
  std::uint64_t received = 0;

  void start_here(DatagramServer& front);
  void stop_here();
};

// threads > 1: shards[i] is hub i's State, touched only on that hub; released there by stop().
struct DatagramServer::Spread {
  std::unique_ptr<Runtime> runtime;
  std::vector<std::shared_ptr<State>> shards;
  std::vector<std::uint64_t> final_received;  // taken by stop()
  net::Address bound;
};

namespace {
// On a hub of a DatagramServer's Runtime: that hub's shard (each Runtime belongs to one server).
// Not found through Spread::shards, which the starting thread is still filling meanwhile.
thread_local DatagramServer::State* tls_shard = nullptr;
}  // namespace

DatagramServer::DatagramServer(std::string_view address, DatagramHandler handler,
                               DatagramServerOptions options)
    : DatagramServer(net::Socket(), std::move(handler), options) {
  state_->bind_to = parse_listen_address(address);
}

DatagramServer::DatagramServer(net::Socket socket, DatagramHandler handler,
                               DatagramServerOptions options)
    : state_(std::make_shared<State>()) {
  state_->socket = std::move(socket);
  state_->handler = std::move(handler);
  state_->options = options;
}

DatagramServer::~DatagramServer() {
  if (state_->started && Hub::current_if_exists() != nullptr) stop();
}

void DatagramServer::State::start_here(DatagramServer& front) {
  if (!socket.is_open()) {
    socket = net::Socket::create(bind_to->family(), SOCK_DGRAM);
    socket.bind(*bind_to);
  }
  started = true;
  if (options.spawn_per_datagram) {
    handlers = std::make_unique<Pool>(std::max<std::size_t>(options.max_handlers, 1));
  }
  ActorOptions actor;
  actor.name = "DatagramServer receive loop";
  receiver = spawn_opt(std::move(actor), [server = &front, st = this] {
    std::vector<char> buffer(st->options.max_datagram);
    while (!st->closed) {
      // A full pool: receive nothing until a handler ends (the kernel holds or drops the rest).
      if (st->handlers && st->handlers->full()) (void)st->handlers->wait_available();
      auto [n, peer] = st->socket.recvfrom_into(buffer.data(), buffer.size());
      ++st->received;
      if (st->handlers) {
        // Room was made above and only this loop spawns: spawn() does not wait.
        st->handlers->spawn([server, st, data = std::string(buffer.data(), n), peer = peer] {
          st->handler(data, peer, *server);
        });
        continue;
      }
      try {
        st->handler(std::string_view(buffer.data(), n), peer, *server);
      } catch (const std::exception&) {
        Hub::current().report_error(self()->describe(), std::current_exception());
      }
    }
  });
}

void DatagramServer::State::stop_here() {
  if (closed) return;
  closed = true;
  if (receiver && !receiver.dead() && !(in_actor() && self() == receiver)) {
    (void)receiver.kill_and_wait();
  }
  // Spawned handlers use this server and its state: none may outlive them.
  if (handlers) (void)handlers->kill(true, Deadline::after(5.0));
  socket.close();
  stopped.set();
}

void DatagramServer::start() {
  State& s = *state_;
  if (s.started) return;
  if (s.options.threads <= 1) {
    s.start_here(*this);
    return;
  }
  // A socket given without SO_REUSEPORT cannot have siblings on its address: every hub then
  // receives from a dup of it.
  bool share = false;
  std::optional<net::Address> bind_at = s.bind_to;
  if (s.socket.is_open()) {
    share = s.socket.getsockopt(SOL_SOCKET, SO_REUSEPORT) == 0;
    bind_at = s.socket.getsockname();
  }
  spread_ = std::make_unique<Spread>();
  Spread& sp = *spread_;
  sp.runtime = std::make_unique<Runtime>(RuntimeOptions{.threads = s.options.threads});
  try {
    for (std::size_t i = 0; i < s.options.threads; ++i) {
      int fd = -1;
      if (s.socket.is_open() && (share || i == 0)) {
        fd = ::fcntl(s.socket.fileno(), F_DUPFD_CLOEXEC, 0);
        if (fd < 0) throw net::SocketError(errno, "dup of the server's socket");
      }
      const net::Address at = i == 0 ? *bind_at : sp.bound;
      auto started = run_on(sp.runtime->hub(i), [this, fd, at, handler = s.handler,
                                                  options = s.options] {
        auto st = std::make_shared<State>();
        st->handler = handler;
        st->options = options;
        if (fd >= 0) {
          st->socket = net::Socket::adopt(fd);
        } else {
          st->socket = net::Socket::create(at.family(), SOCK_DGRAM);
          st->socket.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
          st->socket.bind(at);
        }
        const net::Address bound = st->socket.getsockname();
        tls_shard = st.get();
        st->start_here(*this);
        return std::make_pair(std::move(st), bound);
      });
      sp.shards.push_back(std::move(started.first));
      if (i == 0) sp.bound = started.second;  // the real port when 0 was asked for
    }
  } catch (...) {
    stop();
    spread_.reset();
    throw;
  }
  s.socket.close();  // the hubs hold their own
  s.started = true;
}

void DatagramServer::serve_forever() {
  start();
  (void)state_->stopped.wait();
}

void DatagramServer::stop() {
  State& s = *state_;
  if (!spread_) {
    s.stop_here();
    return;
  }
  Spread& sp = *spread_;
  if (s.closed) return;
  s.closed = true;
  sp.final_received.assign(sp.shards.size(), 0);
  std::vector<Greenlet<void>> stopping;
  for (std::size_t i = 0; i < sp.shards.size(); ++i) {
    ActorOptions on;
    on.hub = &sp.runtime->hub(i);
    on.name = "DatagramServer stop";
    // Not owning the shard: it is released on its hub below.
    stopping.push_back(spawn_opt(std::move(on), [st = sp.shards[i].get(), out = &sp.final_received[i]] {
      st->stop_here();
      *out = st->received;
    }));
  }
  for (auto& g : stopping) (void)g.join();
  for (std::size_t i = 0; i < sp.shards.size(); ++i) {
    run_on(sp.runtime->hub(i), [st = std::move(sp.shards[i])]() mutable {
      tls_shard = nullptr;
      st.reset();
    });
  }
  sp.shards.clear();
  sp.runtime->stop();
  s.stopped.set();
}

bool DatagramServer::started() const noexcept { return state_->started && !state_->closed; }

std::size_t DatagramServer::sendto(std::string_view data, const net::Address& to) {
  if (spread_ && Runtime::current() == spread_->runtime.get()) {
    return tls_shard->socket.sendto(data, to);
  }
  return state_->socket.sendto(data, to);
}

net::Address DatagramServer::address() const {
  if (spread_) return spread_->bound;
  if (state_->socket.is_open()) return state_->socket.getsockname();
  return state_->bind_to.value_or(net::Address());
}

std::uint64_t DatagramServer::received() const noexcept {
  if (!spread_) return state_->received;
  std::uint64_t n = 0;
  for (const std::uint64_t one : spread_->final_received) n += one;
  for (std::size_t i = 0; i < spread_->shards.size(); ++i) {
    const State* st = spread_->shards[i].get();
    try {
      n += run_on(spread_->runtime->hub(i), [st] { return st->received; });
    } catch (...) {
      // That hub has stopped (or the caller was killed while asking): nothing to add.
    }
  }
  return n;
}

}  // namespace grove::servers
