// examples/kv/shards.h — kv_server --threads N: the keyspace split into N shards, one per hub,
// shared-nothing (Dragonfly's design, not a lock around a map).
//
// Model: hub i of the runtime owns shard i: its own kv::Server (Store, blocking registry,
// WATCHes, pub/sub directory, clients), touched only by fibers of hub i. A key belongs to shard
// key_shard(key, N) — a hash of the key, or of its {hash tag} when it has one, as Redis Cluster
// does, so `{user1}:name` and `{user1}:mail` live together. A connection is served on the hub
// that accepted it (one SO_REUSEPORT listener per hub) and routes each request
// (execute_routed):
//   - no key, or every key in its own shard: executed right here, as with one hub;
//   - every key in one other shard: the request is sent to that shard's keyspace actor (an
//     actor message through the hubs' inboxes), which executes it on its hub and posts the
//     encoded reply back to the connection's hub; the connection waits cooperatively (its hub
//     serves others meanwhile), checking once a second that the actor still lives (a restarted
//     actor's lost requests answer an error instead of hanging). Consecutive requests of a
//     pipeline for the same shard travel as one message (ShardPipe);
//   - keys in several shards: MGET, MSET, DEL, UNLINK, EXISTS and TOUCH are split by shard,
//     sent to every shard concerned at once, executed there and their replies gathered in the
//     request's order; anything else answers
//     Redis Cluster's "-CROSSSLOT Keys in request don't hash to the same slot".
//   - DBSIZE, KEYS, SCAN, FLUSHDB, FLUSHALL and RANDOMKEY visit every shard (SCAN's cursor
//     carries the shard: cursor = bucket * N + shard); PUBSUB CHANNELS/NUMSUB/NUMPAT read every
//     hub's pub/sub directory (grove::run_on).
// MULTI/EXEC: the commands queued must all have their keys in one shard; EXEC runs there
// (atomically: the shard's actor runs the whole transaction without yielding). WATCH takes keys
// of the connection's own shard only. Blocking pops run only on keys of the connection's own
// shard (a shard's actor never blocks). PUBLISH reaches the subscribers of every hub (and
// answers their total count); keyspace notifications too.
//
// Persistence (--aof): one file, one total order. Each shard's AppendOnlyFile forwards its
// records (AppendOnlyFile::forwarding) to the aof-writer actor on the main hub, which appends
// them in arrival order (group commit under appendfsync always) and only then answers; a
// connection sends a reply only after its shard's records up to that reply were acknowledged by
// the writer, so every acknowledged write is in the file (kill -9 loses none). The records of
// one shard keep their order; records of different shards touch different keys, so their
// interleaving does not change what a replay rebuilds. The writer is supervised: a shard whose
// chunk it died with sends the chunk again to its successor, which drops chunks the file
// already has (they are numbered per shard), so a writer crash loses no acknowledged write
// and logs none twice.
//
// Thread: key_shard and command_keys are pure; execute_routed runs on a connection's hub;
// shard_actor_main is the body of a shard's keyspace actor; aof_writer_main runs on the main hub.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "examples/kv/aof.h"
#include "hub/hub.h"

namespace kv {

class Session;
struct Server;

struct Shards {
  std::size_t count = 1;
  std::vector<Server*> servers;    // shard i's state; touched only on hubs[i]
  std::vector<grove::Hub*> hubs;   // shard i's hub
};

// The shard of `key` among `count` (the {hash tag}, if any, is what is hashed).
std::size_t key_shard(std::string_view key, std::size_t count);

// The argument positions of the keys of request `a` (`name`: its lowercase table name, arity
// already checked); false when it names none. Commands whose key count comes from a numkeys
// argument that does not parse answer false: they only fail, the same on any shard.
bool command_keys(std::string_view name, const std::vector<std::string_view>& a,
                  std::vector<std::size_t>& positions);

// The registered name of shard i's keyspace actor.
std::string shard_actor_name(std::size_t shard);
inline constexpr const char* kAofWriterName = "aof-writer";

// A connection's requests bound for one other shard, not sent yet: consecutive requests of a
// pipelined batch for the same shard travel in one message (and come back in one reply).
struct ShardPipe {
  std::size_t shard = static_cast<std::size_t>(-1);
  std::vector<std::vector<std::string>> commands;
  bool empty() const { return commands.empty(); }
};

// Runs one request of `session` (on shard `server.shard_index`) where its keys live; appends
// its reply to `out`, or holds it in `pipe` (a request for another shard, when the requests
// before it in `pipe` go there too). False: close the connection (QUIT, SHUTDOWN).
bool execute_routed(Session& session, const std::vector<std::string_view>& args,
                    std::string& out, ShardPipe& pipe);
// Sends what `pipe` holds and appends the replies to `out` (before anything else is added to
// `out`, and before `out` is sent).
void flush_pipe(Session& session, ShardPipe& pipe, std::string& out);

// Body of shard `server`'s keyspace actor with --threads > 1: checks the store, registers
// shard_actor_name(i), then executes the requests other hubs send it.
void shard_actor_main(Server& server);

// Body of the aof-writer actor (main hub): appends the records the shards forward, in arrival
// order, then acknowledges them (after the fsync under appendfsync always).
void aof_writer_main(AppendOnlyFile& aof);

// AppendOnlyFile::forwarding's sink with --threads > 1: hands chunk `seq` of `shard` to the
// aof-writer and waits until it is written (and fsynced under appendfsync always); sends it
// again to a restarted writer if the writer dies first. False: no writer took it in 30 s.
bool forward_records(std::size_t shard, const std::string& records, std::uint64_t seq,
                     FsyncPolicy policy);

// With --threads > 1 (PUBLISH, keyspace notifications): hands PUBLISH `channel` `message` to the pub/sub of every
// other hub; with `count`, waits for them and returns how many subscribers received it there.
std::size_t publish_on_other_hubs(Server& server, std::string_view channel,
                                  std::string_view message, bool count);

}  // namespace kv
