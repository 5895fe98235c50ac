// examples/kv/blocking.cc — blocked clients and how they are served (see blocking.h).
#include "examples/kv/blocking.h"

#include <sys/socket.h>

#include <cerrno>

#include "hub/hub.h"
#include "hub/io.h"

namespace kv {

struct BlockedClient::Watch {
  BlockedClient* client;  // null once the block ended
};

BlockedClient::BlockedClient(Blocking& registry, std::vector<std::string> keys_, int fd,
                             std::function<bool(std::string_view key)> serve_)
    : keys(std::move(keys_)), serve(std::move(serve_)), registry_(registry) {
  if (fd < 0) {
    registry_.add(*this);
    return;
  }
  watch_ = std::make_shared<Watch>(Watch{this});
  watcher_ = grove::spawn_fiber([watch = watch_, fd] {
    // Its own watcher on the fd: the connection's socket keeps its own for later reads.
    grove::IoWatcher readable(fd, grove::kIoRead);
    (void)readable.wait(grove::Deadline::never(), "blocked client close watch");
    BlockedClient* client = watch->client;
    if (client == nullptr || client->served) return;
    char byte;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))) {
      return;  // requests pipelined behind the blocking one: they wait for it
    }
    client->closed = true;
    client->registry_.remove(*client);
    client->waiter.wake();
  });
  registry_.add(*this);  // last: nothing above may leave a registration behind when it throws
}

BlockedClient::~BlockedClient() {
  registry_.remove(*this);
  if (watch_) {
    watch_->client = nullptr;
    if (!watcher_->dead()) watcher_->kill();
  }
}

void Blocking::add(BlockedClient& client) {
  client.positions_.reserve(client.keys.size());
  for (const std::string& key : client.keys) {
    auto& queue = by_key_[key];
    client.positions_.push_back(queue.insert(queue.end(), &client));
  }
  client.registered_ = true;
  ++store_->blocked_clients;
}

void Blocking::remove(BlockedClient& client) {
  if (!client.registered_) return;
  for (std::size_t i = 0; i < client.keys.size(); ++i) {
    auto it = by_key_.find(client.keys[i]);
    it->second.erase(client.positions_[i]);
    if (it->second.empty()) by_key_.erase(it);
  }
  client.positions_.clear();
  client.registered_ = false;
  --store_->blocked_clients;
}

void Blocking::serve_ready() {
  // Serving may make more keys ready (BLMOVE creates its destination): loop until none is.
  while (!store_->ready_keys.empty()) {
    std::vector<std::string> ready;
    ready.swap(store_->ready_keys);
    for (const std::string& key : ready) {
      for (;;) {
        auto it = by_key_.find(key);
        if (it == by_key_.end()) break;
        // The first client, in blocking order, that this key's list can serve now.
        BlockedClient* next = nullptr;
        for (BlockedClient* client : it->second) {
          if (client->serve(key)) {
            next = client;
            break;
          }
          const Entry* e = store_->find(key, unix_ms());
          // Gone: nothing left for anyone. Still there: a client of the other kind (a BLPOP
          // behind a BZPOPMIN, or the reverse) may be next.
          if (e == nullptr) break;
        }
        if (next == nullptr) break;
        next->served = true;
        remove(*next);
        next->waiter.wake();
      }
    }
  }
}

}  // namespace kv
