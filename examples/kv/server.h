// examples/kv/server.h — what every connection shares: the store, the append-only file, the
// pub/sub directory, the clients, the counters and the configuration; and Session, the per-
// connection command executor.
//
// Model: a connection actor owns one Session and feeds it every request of a batch it read
// (Session::execute appends the reply to the batch's output). Commands run directly against the
// shared Store on the connection's own greenlet: no mailbox round trip per command, exactly the
// single-threaded model of redis-server (a command never waits, so it is atomic). The actors
// around it (keyspace, expiry, persistence, pub/sub channels) own lifecycle, background work and
// fan-out; see examples/kv_server.cc for the tree and README.md for why.
//
// Thread: one hub. Lifetime: Server is created by main() before the supervision tree and
// outlives it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "actors/supervisor.h"
#include "examples/kv/aof.h"
#include "examples/kv/aof_rewrite.h"
#include "examples/kv/blocking.h"
#include "examples/kv/client_output.h"
#include "examples/kv/config.h"
#include "examples/kv/resp.h"
#include "examples/kv/store.h"
#include "examples/kv/transaction.h"

namespace kv {

class PubSub;
class Session;
struct Shards;

struct Server {
  Config config;
  std::shared_ptr<Store> store;
  Blocking blocking{store};  // clients blocked in BLPOP & co.
  std::unique_ptr<AppendOnlyFile> aof;  // null without --aof
  RewriteStatus aof_rewrite;             // BGREWRITEAOF (kv/aof_rewrite.h)
  std::unique_ptr<PubSub> pubsub;
  std::map<std::uint64_t, Session*> clients;  // by client id, for CLIENT LIST and INFO
  Watches watches;                             // WATCHed keys (kv/transaction.h)
  std::function<void()> request_shutdown;      // SHUTDOWN
  // kv_server --cluster: hands a client's PUBLISH to the other nodes (kv/cluster_bridge.h);
  // empty on a single node.
  std::function<void(std::string_view channel, std::string_view message)> forward_publish;
  std::int64_t started_ms = 0;
  // --threads N (kv/shards.h): the shards, this one's index; null with one hub.
  Shards* shards = nullptr;
  std::size_t shard_index = 0;
  std::uint64_t next_client_id = 1;
  std::uint64_t client_id_step = 1;  // N with --threads N: client ids stay unique across hubs
  std::vector<grove::ActorRef> shard_actors;  // the shards' keyspace actors, as last looked up
  std::uint64_t connections_received = 0;
  std::uint64_t rejected_connections = 0;                // over maxclients
  std::uint64_t query_buffer_limit_disconnections = 0;   // over client-query-buffer-limit
  std::uint64_t output_buffer_limit_disconnections = 0;  // over client-output-buffer-limit
  std::uint64_t commands_processed = 0;
  // instantaneous_ops_per_sec: commands_processed sampled every 100 ms by the expiry actor.
  struct OpsSample {
    std::int64_t ms = 0;
    std::uint64_t commands = 0;
  };
  std::array<OpsSample, 16> ops_samples{};
  std::size_t ops_sample_next = 0;
  std::uint64_t peak_memory = 0;  // used_memory_peak
  std::uint64_t keyspace_starts = 0;  // the keyspace actor's own count ("started"/"restarted")
  // The root supervisor's children in start order, with how often each was started (INFO
  // supervision: every start after the first is a restart).
  struct Child {
    std::string id;
    std::uint64_t starts = 0;
  };
  std::vector<Child> children;
  grove::Supervisor root;  // the tree's root, once started (DEBUG CRASH-CHILD)
};

// Applies one AOF record to the store at start-up (no replies, no logging).
void replay_request(Server& server, const std::vector<std::string_view>& args);

// The command table's name (lowercase) and arity of command `name`; false when unknown.
bool lookup_command(std::string_view name, const char*& canonical, int& arity);

struct ClientInfo {
  std::uint64_t id = 0;
  std::string addr;   // peer "127.0.0.1:50000"
  std::string laddr;  // local
  int fd = -1;
  std::int64_t created_ms = 0;
  bool internal = false;  // a shard's executor (kv/shards.h): not a client, but not a replay
};

class Session {
 public:
  // `output`: where pub/sub pushes go (null when replaying the AOF).
  Session(Server& server, ClientInfo info, std::shared_ptr<ClientOutput> output);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Reads the clock for the requests that follow (a connection calls it once per batch it read:
  // one clock_gettime per recv, not per command; expiry resolution stays 1 ms). The AOF replay
  // passes 0: like redis-server while loading, nothing expires until the file is replayed, so
  // every record applies to the state it was written against (the expiry actor and lookups
  // delete what expired afterwards).
  void start_batch(std::int64_t now = unix_ms()) { now_ = now; }
  // Runs one request and appends its reply to `out`. False: close the connection once `out` is
  // sent (QUIT, SHUTDOWN).
  bool execute(const std::vector<std::string_view>& args, std::string& out);

  // How a blocking command sends the replies of the requests before it, before it parks (the
  // connection's flush; false when the client is gone). Unset: blocking commands do not block.
  void set_flush(std::function<bool()> flush) { flush_ = std::move(flush); }

  const ClientInfo& info() const { return info_; }
  const std::string& name() const { return name_; }
  std::size_t subscriptions() const { return channels_.size(); }
  std::size_t pattern_subscriptions() const { return patterns_.size(); }
  const Transaction& transaction() const { return tx_; }
  bool no_evict() const { return no_evict_; }
  // The connection's actor (CLIENT KILL ends it); unset while replaying.
  void set_actor(grove::ActorRef actor) { actor_ = std::move(actor); }
  std::uint64_t output_bytes() const { return output_ ? output_->pending_bytes() : 0; }
  std::string last_command;  // for CLIENT LIST's cmd=
  std::int64_t last_active_ms = 0;

 private:
  friend struct Commands;
  friend struct ServerCommands;  // kv/commands_server.cc
  friend struct ShardRouter;     // kv/shards.cc
  static constexpr std::size_t kNoShard = static_cast<std::size_t>(-1);
  // Runs one checked request (EXEC's queue); no queueing, no serving of blocked clients.
  bool call(const std::vector<std::string_view>& args, std::string& out);
  Server& server_;
  ClientInfo info_;
  std::string name_;
  std::shared_ptr<ClientOutput> output_;
  std::set<std::string> channels_;  // subscribed channels
  std::set<std::string> patterns_;  // subscribed patterns (PSUBSCRIBE)
  Transaction tx_;                  // MULTI/EXEC and WATCH
  std::size_t tx_shard_ = kNoShard;  // --threads N: the shard the queued commands' keys are in
  bool no_evict_ = false;           // CLIENT NO-EVICT (shown in CLIENT LIST's flags)
  grove::ActorRef actor_;
  std::int64_t now_ = 0;            // the clock of the current command
  std::function<bool()> flush_;
};

}  // namespace kv
