// servers/datagram_server.cc — the receive loop.
#include "servers/datagram_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "actors/actor.h"
#include "actors/event.h"
#include "actors/group.h"
#include "hub/hub.h"
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
};

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

void DatagramServer::start() {
  State& s = *state_;
  if (s.started) return;
  if (!s.socket.is_open()) {
    s.socket = net::Socket::create(s.bind_to->family(), SOCK_DGRAM);
    s.socket.bind(*s.bind_to);
  }
  s.started = true;
  if (s.options.spawn_per_datagram) {
    s.handlers = std::make_unique<Pool>(std::max<std::size_t>(s.options.max_handlers, 1));
  }
  ActorOptions options;
  options.name = "DatagramServer receive loop";
  s.receiver = spawn_opt(std::move(options), [this, st = state_.get()] {
    std::vector<char> buffer(st->options.max_datagram);
    while (!st->closed) {
      // A full pool: receive nothing until a handler ends (the kernel holds or drops the rest).
      if (st->handlers && st->handlers->full()) (void)st->handlers->wait_available();
      auto [n, peer] = st->socket.recvfrom_into(buffer.data(), buffer.size());
      ++st->received;
      if (st->handlers) {
        // Room was made above and only this loop spawns: spawn() does not wait.
        st->handlers->spawn([this, st, data = std::string(buffer.data(), n), peer = peer] {
          st->handler(data, peer, *this);
        });
        continue;
      }
      try {
        st->handler(std::string_view(buffer.data(), n), peer, *this);
      } catch (const std::exception&) {
        Hub::current().report_error(self()->describe(), std::current_exception());
      }
    }
  });
}

void DatagramServer::serve_forever() {
  start();
  (void)state_->stopped.wait();
}

void DatagramServer::stop() {
  State& s = *state_;
  if (s.closed) return;
  s.closed = true;
  if (s.receiver && !s.receiver.dead() && !(in_actor() && self() == s.receiver)) {
    (void)s.receiver.kill_and_wait();
  }
  // Spawned handlers use this server and its state: none may outlive them.
  if (s.handlers) (void)s.handlers->kill(true, Deadline::after(5.0));
  s.socket.close();
  s.stopped.set();
}

bool DatagramServer::started() const noexcept { return state_->started && !state_->closed; }

std::size_t DatagramServer::sendto(std::string_view data, const net::Address& to) {
  return state_->socket.sendto(data, to);
}

net::Address DatagramServer::address() const {
  if (state_->socket.is_open()) return state_->socket.getsockname();
  return state_->bind_to.value_or(net::Address());
}

std::uint64_t DatagramServer::received() const noexcept { return state_->received; }

}  // namespace grove::servers
