// examples/kv/blocking.h — clients blocked in BLPOP, BRPOP, BLMOVE, BLMPOP, BZPOPMIN and
// BZPOPMAX, and who serves them.
//
// Model: a blocking command that finds nothing to pop parks its connection's greenlet on the
// BlockedClient's own grove::Waiter (the core's one parking mechanism) after registering it,
// in arrival order, under every key it waits for. A command that creates a list (or a sorted
// set) under such a key makes it "ready" (Store::ready_keys); right after that command, and
// before the next one runs, serve_ready() goes through the ready keys and, for each, through its
// clients first blocked first served, calling each one's `serve` while the key still has
// elements: serve pops (and pushes, for BLMOVE), logs the pop to the AOF, writes the client's
// reply into `reply` and returns true, and the client is unregistered and woken. So a pushed
// element is handed to the longest waiter atomically with the push, exactly as redis-server's
// handleClientsBlockedOnKeys does; a BLMOVE that creates its destination makes that key ready
// in turn. The woken greenlet only sends `reply`.
//
// A wait ends in one of three ways, and each leaves no trace in the registry:
//   - served (above), or its timeout passed (the greenlet unregisters on return);
//   - its connection was killed: the kill is thrown out of the wait and the BlockedClient's
//     destructor unregisters it;
//   - its client closed the connection: a watcher fiber started with the block sees the socket
//     readable with nothing to read, unregisters the client at once (a later push is not spent
//     on it) and wakes it with `closed` set. If the client sends more requests while blocked,
//     the watcher stops (the requests wait, as in redis-server) and a close is seen once the
//     block ends.
//
// Thread: the server's hub. Lifetime: the Blocking registry lives in the Server; a
// BlockedClient lives on the blocked greenlet's stack.
//
//   kv::BlockedClient blocked(server.blocking, {"jobs"}, socket_fd,
//                             [&](std::string_view key) { return pop_for(blocked, key); });
//   (void)blocked.waiter.wait(deadline, "BLPOP");
//   if (blocked.served) reply(blocked.reply);
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "examples/kv/store.h"
#include "hub/fiber.h"
#include "hub/wait.h"

namespace kv {

class Blocking;

struct BlockedClient {
  // Registers the calling greenlet under `keys` (in order) and, when `fd` >= 0, starts the
  // watcher fiber that notices the client closing.
  BlockedClient(Blocking& registry, std::vector<std::string> keys, int fd,
                std::function<bool(std::string_view key)> serve);
  ~BlockedClient();  // unregisters and stops the watcher
  BlockedClient(const BlockedClient&) = delete;
  BlockedClient& operator=(const BlockedClient&) = delete;

  grove::Waiter waiter;  // the blocked greenlet parks here
  std::vector<std::string> keys;
  std::function<bool(std::string_view key)> serve;
  std::string reply;     // written by serve
  bool served = false;
  bool closed = false;   // the client closed the connection while blocked

 private:
  friend class Blocking;
  struct Watch;  // what the watcher fiber shares with this client
  Blocking& registry_;
  bool registered_ = false;
  std::vector<std::list<BlockedClient*>::iterator> positions_;  // one per key
  std::shared_ptr<Watch> watch_;
  grove::FiberRef watcher_;
};

class Blocking {
 public:
  // `store`: the Server's pointer to the Store (read at each call: main sets it after the Server
  // is built).
  explicit Blocking(const std::shared_ptr<Store>& store) : store_(store) {}
  Blocking(const Blocking&) = delete;
  Blocking& operator=(const Blocking&) = delete;

  // Serves the clients blocked on the keys that became ready; call after every command.
  void serve_ready();
  // How many clients are blocked (INFO's blocked_clients).
  std::size_t clients() const { return store_->blocked_clients; }
  // How many keys have clients blocked on them.
  std::size_t keys() const { return by_key_.size(); }

 private:
  friend struct BlockedClient;
  void add(BlockedClient& client);
  void remove(BlockedClient& client);

  const std::shared_ptr<Store>& store_;
  std::unordered_map<std::string, std::list<BlockedClient*>, StringHash, std::equal_to<>>
      by_key_;
};

}  // namespace kv
