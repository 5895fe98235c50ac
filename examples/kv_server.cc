// examples/kv_server.cc — a supervised key-value service that speaks the Redis protocol.
//
// Try it:
//   bazel run //examples:kv_server -- --port 6390 [--aof /tmp/kv.aof] [--appendfsync everysec]
//     [--cluster nats://127.0.0.1:4222 --node a]   # nats-server -js: PUBLISH reaches every node
//     [--threads 2]                              # the keyspace in 2 shards, one per hub (thread)
//   redis-cli -p 6390 set greeting hello      # any Redis client works
//   redis-benchmark -p 6390 -t set,get -q
//
// What it shows: a real service built as an OTP-style supervision tree of greenlet-actors.
// This file is the tree; the parts live in examples/kv/:
//
//   kv (one_for_one)                          the root supervisor
//   ├── persistence   permanent worker        fsyncs the append-only file (kv/aof.h)
//   ├── keyspace      permanent worker        guards the Store: checks it on every (re)start,
//   │                                         takes DEBUG CRASH-KEYSPACE (kv/keyspace.h)
//   ├── expiry        permanent worker        active expiry, 10 samples a second (kv/keyspace.h)
//   ├── pubsub        supervisor, simple_one_for_one of temporary channel actors (kv/pubsub.h)
//   ├── cluster       permanent worker        with --cluster only: PUBLISH to and from the
//   │                                         other kv nodes (kv/cluster_bridge.h)
//   ├── connections   supervisor, simple_one_for_one of temporary connection actors
//   │                                         (kv/connection.h): a crash ends one client only
//   └── listener      permanent worker        a servers::StreamServer that starts each client
//                                             as a child of `connections`
//
// The data (kv/store.h) and the append-only file are owned here, by main, not by any actor:
// an actor that crashes is restarted with the same Store, so no acknowledged write is lost.
// Connections execute commands directly against the Store (one hub, like redis-server's one
// thread): a mailbox round trip per command would halve the throughput for nothing — see
// examples/kv/README.md.
//
// --threads N (N > 1): N hubs, each owning one shard of the keyspace with its own copy of the
// tree below minus persistence (serve_sharded, at the end of this file; kv/shards.h for the
// routing), the persistence and aof-writer actors on the main hub.
//
// Overload: at most --maxclients clients (default 10000, fewer when the descriptor limit is
// lower: `ulimit -n` minus 32, as redis-server computes it); out of descriptors, the listener
// pauses instead of failing; per-client memory is bounded by client-query-buffer-limit and
// client-output-buffer-limit (CONFIG GET/SET, redis-server's syntax). See kv/connection.h.
//
// SIGINT/SIGTERM (or SHUTDOWN): stop accepting, end the connections, write and fsync the AOF,
// exit 0.
#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/actor.h"
#include "actors/event.h"
#include "actors/supervisor.h"
#include "examples/cli.h"
#include "cluster/node.h"
#include "examples/kv/aof.h"
#include "examples/kv/cluster_bridge.h"
#include "examples/kv/config.h"
#include "examples/kv/connection.h"
#include "examples/kv/events.h"
#include "examples/kv/keyspace.h"
#include "examples/kv/pubsub.h"
#include "examples/kv/server.h"
#include "examples/kv/shards.h"
#include "hub/hub.h"
#include "hub/runtime.h"
#include "net/socket.h"
#include "servers/signals.h"

namespace {

constexpr const char* kDebugCommands = R"(

DEBUG commands (redis-cli -p PORT debug ...; DEBUG HELP lists them too):
  DEBUG CRASH-KEYSPACE     the keyspace actor throws; its supervisor restarts it (INFO supervision
                           counts the restart, no acknowledged write is lost)
  DEBUG CRASH-CONNECTION   this connection's actor throws; only this client is disconnected
  DEBUG CRASH-CHILD ID     kills the root supervisor's child ID (persistence, keyspace, expiry,
                           pubsub, connections, listener); the supervisor restarts it)";

// The command line, into `config` (exits on --help or a bad value).
kv::Config parse_flags(examples::Command& cli, int argc, char** argv) {
  kv::Config config;
  CLI::App& app = cli.app();
  std::uint16_t port = static_cast<std::uint16_t>(config.port);
  app.add_option("--port", port, "TCP port (0: any free port; the bound one is logged)")
      ->type_name("PORT")
      ->check(examples::port_number())
      ->capture_default_str();
  app.add_option("--host", config.host, "address or host name to listen on (* = every IPv4 "
                                        "interface)")
      ->type_name("HOST")
      ->capture_default_str();
  app.add_option("--aof", config.aof_path,
                 "append-only file: replayed at start, every write appended")
      ->type_name("PATH");
  std::string appendfsync = std::string(kv::to_string(config.appendfsync));
  app.add_option("--appendfsync", appendfsync, "when the AOF is fsynced")
      ->check(CLI::IsMember({"always", "everysec", "no"}))
      ->capture_default_str();
  app.add_option("--proto-max-bulk-len", config.proto_max_bulk_len,
                 "largest bulk string accepted, bytes")
      ->type_name("BYTES")
      ->check(examples::integer_in(1, INT64_MAX))
      ->capture_default_str();
  app.add_option("--max-multibulk-count", config.max_multibulk_count,
                 "most arguments in one request")
      ->type_name("N")
      ->check(examples::integer_in(1, INT64_MAX))
      ->capture_default_str();
  app.add_option("--maxclients", config.maxclients,
                 "most clients at once (at most ulimit -n minus 32)")
      ->type_name("N")
      ->check(examples::integer_in(1, 4294967295LL))
      ->capture_default_str();
  app.add_option("--cluster", config.cluster_urls,
                 "NATS server URL(s), comma-separated: join the kv nodes there (PUBLISH reaches "
                 "subscribers on every node)")
      ->type_name("URL");
  app.add_option("--node", config.node_name,
                 "this node's name in the cluster (default: kv-PORT); letters, digits, - and _")
      ->type_name("NAME");
  cli.exit_code(examples::kExitOk, "stopped by SIGINT, SIGTERM or SHUTDOWN");
  cli.exit_code(examples::kExitFailed,
                "the root supervisor gave up (more than 10 restarts in 5 s)");
  cli.exit_code(examples::kExitNoHost, "--host does not resolve");
  cli.exit_code(examples::kExitCannotListen,
                "cannot listen on --host/--port (in use, not local, not permitted)");
  cli.exit_code(examples::kExitBadFile, "the --aof file cannot be opened, read or replayed");
  cli.exit_code(examples::kExitSystem, "the descriptor limit leaves no room for a client");
  cli.exit_code(examples::kExitFailed, "--cluster: no NATS server reachable, or --node taken");
  cli.parse(argc, argv);
  config.port = port;
  (void)kv::parse_fsync_policy(appendfsync, config.appendfsync);  // IsMember admitted it
  return config;
}

grove::ActorOptions named(std::string name) {
  grove::ActorOptions options;
  options.name = std::move(name);
  return options;
}

// A simple_one_for_one supervisor of temporary children (connections, pub/sub channels).
grove::Supervisor pool_of(std::string name) {
  return grove::Supervisor::start(
      {.strategy = grove::Strategy::kSimpleOneForOne, .intensity = 1000000, .period = 1.0,
       .name = std::move(name)},
      {grove::ChildSpec{.id = "child", .start = nullptr, .restart = grove::Restart::kTemporary,
                        .shutdown = grove::Shutdown::brutal_kill()}});
}

// The pools a shard's tree starts, which the listener and pub/sub hand their actors to.
struct ShardPools {
  grove::Supervisor connections;
  grove::Supervisor channels;
};

// The children every shard's root supervises, in start order: keyspace (running
// `keyspace_body`), expiry, pubsub, then `before_connections` (one hub's --cluster bridge), then
// connections and listener. `server.pubsub` is set up here; `pools` must outlive the tree.
std::vector<grove::ChildSpec> shard_children(kv::Server& server, grove::net::Socket& listening,
                                             ShardPools& pools, void (*keyspace_body)(kv::Server&),
                                             std::vector<grove::ChildSpec> before_connections) {
  server.pubsub = std::make_unique<kv::PubSub>(grove::Supervisor());
  std::vector<grove::ChildSpec> children;
  children.push_back({.id = "keyspace", .start = [&server, keyspace_body] {
                        return grove::ActorRef(
                            grove::spawn_opt(named("keyspace"), keyspace_body, std::ref(server)));
                      }});
  children.push_back({.id = "expiry", .start = [&server] {
                        return grove::ActorRef(
                            grove::spawn_opt(named("expiry"), kv::expiry_main, std::ref(server)));
                      }});
  children.push_back({.id = "pubsub",
                      .start = [&server, &pools] {
                        pools.channels = pool_of("pubsub");
                        server.pubsub->set_supervisor(pools.channels);
                        return pools.channels.actor();
                      },
                      .type = grove::ChildType::kSupervisor});
  for (grove::ChildSpec& child : before_connections) children.push_back(std::move(child));
  children.push_back({.id = "connections",
                      .start = [&pools] {
                        pools.connections = pool_of("connections");
                        return pools.connections.actor();
                      },
                      .type = grove::ChildType::kSupervisor});
  children.push_back({.id = "listener", .start = [&server, &listening, &pools] {
                        return grove::ActorRef(grove::spawn_opt(named("listener"), [&] {
                          kv::listener_main(server, listening, [&] { return pools.connections; });
                        }));
                      }});
  return children;
}

// The Store's hooks that become keyspace notifications (kv/events.h), set after the AOF's own.
void hook_notifications(kv::Server& server) {
  // An expired key is a write: its watchers and the "expired" notification, after whatever else
  // listens (the AOF records its DEL).
  server.store->on_expire = [&server, before = std::move(server.store->on_expire)](
                                const std::string& key) {
    if (before) before(key);
    kv::key_changed(server, key, kv::kNotifyExpired, "expired");
  };
  // A created key: the "new" notification (class n), from the AOF's replay on too.
  server.store->on_new_key = [&server](const std::string& key) {
    kv::notify_keyspace_event(server, kv::kNotifyNew, "new", key);
  };
  // A read of a missing key: the "keymiss" notification (class m).
  server.store->on_key_miss = [&server](std::string_view key) {
    kv::notify_keyspace_event(server, kv::kNotifyKeyMiss, "keymiss", key);
  };
}

// INFO supervision counts how often the root started each child: every start after the first
// is a restart.
void count_starts(kv::Server& server, std::vector<grove::ChildSpec>& children) {
  for (grove::ChildSpec& child : children) {
    server.children.push_back({.id = child.id});
    child.start = [&server, index = server.children.size() - 1, start = std::move(child.start)] {
      grove::ActorRef started = start();
      ++server.children[index].starts;
      return started;
    };
  }
}

// Runs the service until SIGINT/SIGTERM/SHUTDOWN (then exits 0) or until the root supervisor
// gives up (exits 1). Start-up failures throw examples::StartupError.
// A root supervisor that gives up ends the process: exit code 1 and `stop` set, unless the
// process is already stopping (then the root's end is the shutdown itself).
void exit_when_it_ends(grove::Supervisor& root, grove::Event& stop, int& exit_code) {
  root.actor().rawlink([&stop, &exit_code](const grove::ActorRef& dead) {
    if (stop.is_set()) return;
    spdlog::critical("kv_server: the root supervisor ended ({}); exiting",
                     dead.exit_reason().to_string());
    exit_code = 1;
    stop.set();
  });
}

int serve(kv::Server& server) {
  server.started_ms = kv::unix_ms();
  server.store = std::make_shared<kv::Store>();

  // Every client costs a descriptor: fit maxclients to the limit, as redis-server does.
  std::int64_t descriptor_limit = 0;
  const std::int64_t allowed =
      kv::clients_within_descriptor_limit(server.config.maxclients, &descriptor_limit);
  if (allowed < 1) {
    throw examples::StartupError(
        examples::kExitSystem,
        fmt::format("a descriptor limit of {} leaves no room for clients ({} are kept for the "
                    "server); raise ulimit -n",
                    descriptor_limit, kv::kReservedDescriptors));
  }
  if (allowed < server.config.maxclients) {
    spdlog::warn("kv_server: maxclients {} needs {} descriptors, the limit is {} (ulimit -n): "
                 "serving at most {} clients",
                 server.config.maxclients, server.config.maxclients + kv::kReservedDescriptors,
                 descriptor_limit, allowed);
    server.config.maxclients = allowed;
  }

  // Bound once, here: a restarted listener keeps the port. --port 0 becomes the port we got, so
  // the log, INFO and CONFIG GET port all say where clients can connect.
  grove::net::Socket listening =
      examples::listen({.host = server.config.host,
                        .port = static_cast<std::uint16_t>(server.config.port)},
                       511);
  const grove::net::Address bound = listening.getsockname();
  server.config.port = bound.port();

  // The data outlives every actor: replay the AOF into the Store before anything serves.
  if (!server.config.aof_path.empty()) {
    try {
      server.aof = kv::AppendOnlyFile::open(
          server.config.aof_path, server.config.appendfsync,
          [&](const std::vector<std::string_view>& args) { kv::replay_request(server, args); });
    } catch (const std::exception& e) {
      throw examples::StartupError(examples::kExitBadFile, e.what());  // names the file
    }
    server.commands_processed = 0;
    server.store->keyspace_hits = server.store->keyspace_misses = 0;  // INFO counts clients' reads
    // From here on (not while replaying), a key deleted by expiry is recorded as its DEL.
    server.store->on_expire = [&server](const std::string& key) {
      server.aof->append({"DEL", key});
    };
  }

  hook_notifications(server);

  grove::Event stop;
  int exit_code = 0;
  server.request_shutdown = [&] { stop.set(); };
  grove::servers::SignalWatch signals({SIGINT, SIGTERM}, [&](int signo) {
    spdlog::info("kv_server: {} received, shutting down", strsignal(signo));
    stop.set();
  });

  // --cluster: this process becomes a node of the cluster (kv/cluster_bridge.h).
  std::unique_ptr<grove::cluster::Node> node;
  if (!server.config.cluster_urls.empty()) {
    grove::cluster::NodeOptions options;
    options.name = server.config.node_name.empty() ? fmt::format("kv-{}", server.config.port)
                                                   : server.config.node_name;
    for (std::size_t at = 0; at <= server.config.cluster_urls.size();) {
      const std::size_t comma =
          std::min(server.config.cluster_urls.find(',', at), server.config.cluster_urls.size());
      options.servers.push_back(server.config.cluster_urls.substr(at, comma - at));
      at = comma + 1;
    }
    kv::register_cluster_types();
    try {
      node = std::make_unique<grove::cluster::Node>(options);
    } catch (const std::exception& e) {
      throw examples::StartupError(examples::kExitFailed,
                                   fmt::format("cannot join --cluster {}: {}",
                                               server.config.cluster_urls, e.what()));
    }
  }

  // --- the supervision tree --------------------------------------------------------------------
  ShardPools pools;
  std::vector<grove::ChildSpec> before_connections;
  if (node) {
    before_connections.push_back({.id = "cluster", .start = [&] {
                                    return grove::ActorRef(grove::spawn_opt(
                                        named("cluster"), kv::cluster_bridge_main,
                                        std::ref(server), std::ref(*node)));
                                  }});
  }
  std::vector<grove::ChildSpec> children =
      shard_children(server, listening, pools, kv::keyspace_main, std::move(before_connections));
  if (server.aof) {  // first: started before the keyspace writes, stopped after it
    children.insert(children.begin(),
                    {.id = "persistence", .start = [&] {
                       return grove::ActorRef(grove::spawn_opt(
                           named("persistence"), [&] { server.aof->run_syncer(); }));
                     }});
  }
  count_starts(server, children);

  // Ten restarts in five seconds are a fault worth surviving; more means something is broken
  // for good, and the root gives up (the process then exits 1).
  grove::Supervisor root = grove::Supervisor::start(
      {.strategy = grove::Strategy::kOneForOne, .intensity = 10, .period = 5.0, .name = "kv"},
      std::move(children));
  server.root = root;
  exit_when_it_ends(root, stop, exit_code);
  if (node) {
    spdlog::info("kv_server: node {} of the cluster at {}", node->name(),
                 server.config.cluster_urls);
  }
  spdlog::info("kv_server: ready to accept connections on {}", bound.to_string());

  (void)stop.wait();

  // --- graceful shutdown: stop accepting, end the connections, make the AOF durable -----------
  if (!root.actor().dead()) {
    (void)root.terminate_child("listener");
    listening.close();
    (void)root.terminate_child("connections");
  }
  if (server.aof) server.aof->flush_and_sync();
  if (!root.actor().dead()) root.stop();
  spdlog::info("kv_server: bye");
  std::fflush(nullptr);
  std::_Exit(exit_code);  // the tree is down; skip unwinding the hub's remaining fibers
}


// --- kv_server --threads N (N > 1): a shard of the keyspace per hub (kv/shards.h) -------------
//
//   main hub                 kv (one_for_one, with --aof only)
//                            ├── persistence    fsyncs the one append-only file
//                            └── aof-writer     appends the records every shard forwards
//   hub i (of N)             hub-i: kv-i (one_for_one), the tree above for shard i:
//                            keyspace (executes the requests other hubs send shard i), expiry,
//                            pubsub, connections, listener (its own SO_REUSEPORT socket)

struct StopHub {};

// Body of hub i's first actor: runs shard `server`'s tree until StopHub, then stops it in order
// (no more accepting, the connections ended, the shard's last records forwarded).
void hub_main(kv::Server& server, grove::net::Socket& listening,
              std::function<void(int)> stop_service) {
  grove::trap_exit(true);
  ShardPools pools;
  std::vector<grove::ChildSpec> children =
      shard_children(server, listening, pools, kv::shard_actor_main, {});
  count_starts(server, children);
  grove::Supervisor root = grove::Supervisor::start(
      {.strategy = grove::Strategy::kOneForOne, .intensity = 10, .period = 5.0,
       .name = fmt::format("kv-{}", server.shard_index)},
      std::move(children));
  server.root = root;
  bool stopping = false;
  root.actor().rawlink([&stopping, stop_service](const grove::ActorRef& dead) {
    if (!stopping) {
      spdlog::critical("kv_server: a hub's root supervisor ended ({}); exiting",
                       dead.exit_reason().to_string());
      stop_service(1);
    }
  });
  grove::receive([](StopHub) {}, [](grove::Exit) {});
  stopping = true;
  if (!root.actor().dead()) {
    (void)root.terminate_child("listener");
    (void)root.terminate_child("connections");
  }
  if (server.aof && server.aof->has_pending()) server.aof->write_pending();
  if (!root.actor().dead()) root.stop();
}

int serve_sharded(kv::Config config, std::size_t threads) {
  if (!config.cluster_urls.empty()) {
    throw examples::StartupError(examples::kExitFailed,
                                 "--cluster is not supported with --threads > 1");
  }
  std::int64_t descriptor_limit = 0;
  const std::int64_t allowed =
      kv::clients_within_descriptor_limit(config.maxclients, &descriptor_limit);
  if (allowed < 1) {
    throw examples::StartupError(
        examples::kExitSystem,
        fmt::format("a descriptor limit of {} leaves no room for clients; raise ulimit -n",
                    descriptor_limit));
  }
  config.maxclients = std::min(config.maxclients, allowed);

  // One listener per hub on the same port (SO_REUSEPORT): the kernel spreads the clients.
  std::vector<grove::net::Socket> listeners;
  listeners.push_back(examples::listen(
      {.host = config.host, .port = static_cast<std::uint16_t>(config.port)}, 511, true));
  const grove::net::Address bound = listeners[0].getsockname();
  config.port = bound.port();
  for (std::size_t i = 1; i < threads; ++i) {
    listeners.push_back(examples::listen({.host = config.host, .port = bound.port()}, 511, true));
  }

  kv::Shards shards;
  shards.count = threads;
  std::vector<std::unique_ptr<kv::Server>> servers;
  for (std::size_t i = 0; i < threads; ++i) {
    auto server = std::make_unique<kv::Server>();
    server->config = config;
    server->started_ms = kv::unix_ms();
    server->store = std::make_shared<kv::Store>();
    server->shards = &shards;
    server->shard_index = i;
    server->next_client_id = i + 1;
    server->client_id_step = threads;
    shards.servers.push_back(server.get());
    servers.push_back(std::move(server));
  }

  // The one append-only file: each record replays into the shard of its key (a record without
  // one, FLUSHDB, into every shard); afterwards each shard forwards its records to the writer.
  std::unique_ptr<kv::AppendOnlyFile> aof;
  if (!config.aof_path.empty()) {
    try {
      aof = kv::AppendOnlyFile::open(
          config.aof_path, config.appendfsync, [&](const std::vector<std::string_view>& args) {
            const char* name = nullptr;
            int arity = 0;
            std::vector<std::size_t> keys;
            if (kv::lookup_command(args[0], name, arity) && kv::command_keys(name, args, keys)) {
              kv::replay_request(*servers[kv::key_shard(args[keys[0]], threads)], args);
            } else {
              for (auto& server : servers) kv::replay_request(*server, args);
            }
          });
    } catch (const std::exception& e) {
      throw examples::StartupError(examples::kExitBadFile, e.what());
    }
    for (std::size_t shard = 0; shard < servers.size(); ++shard) {
      auto& server = servers[shard];
      server->aof = kv::AppendOnlyFile::forwarding(
          config.aof_path, config.appendfsync,
          [shard](const std::string& records, std::uint64_t seq, kv::FsyncPolicy policy) {
            return kv::forward_records(shard, records, seq, policy);
          });
      server->commands_processed = 0;
      server->store->keyspace_hits = server->store->keyspace_misses = 0;
      server->store->on_expire = [s = server.get()](const std::string& key) {
        s->aof->append({"DEL", key});
      };
    }
  }
  for (auto& server : servers) hook_notifications(*server);

  grove::Event stop;
  int exit_code = 0;
  const grove::RemoteHub main_hub = grove::Hub::current().remote();
  // From any hub: stop the service (SHUTDOWN, a hub's root giving up).
  auto stop_service = [main_hub, &stop, &exit_code](int code) {
    (void)main_hub.post([&stop, &exit_code, code] {
      if (code != 0) exit_code = code;
      stop.set();
    });
  };
  grove::servers::SignalWatch signals({SIGINT, SIGTERM}, [&](int signo) {
    spdlog::info("kv_server: {} received, shutting down", strsignal(signo));
    stop.set();
  });

  grove::Supervisor root;
  if (aof) {
    kv::AppendOnlyFile* file = aof.get();
    root = grove::Supervisor::start(
        {.strategy = grove::Strategy::kOneForOne, .intensity = 10, .period = 5.0, .name = "kv"},
        {grove::ChildSpec{.id = "persistence", .start = [file] {
                            return grove::ActorRef(grove::spawn_opt(
                                named("persistence"), [file] { file->run_syncer(); }));
                          }},
         grove::ChildSpec{.id = "aof-writer", .start = [file] {
                            return grove::ActorRef(grove::spawn_opt(
                                named("aof-writer"), kv::aof_writer_main, std::ref(*file)));
                          }}});
    exit_when_it_ends(root, stop, exit_code);
  }

  // The first use of spdlog (its registry is created then) comes before any hub thread starts.
  spdlog::info("kv_server: starting {} hubs, one shard of the keyspace each", threads);
  grove::Runtime runtime({.threads = threads});
  for (std::size_t i = 0; i < threads; ++i) shards.hubs.push_back(&runtime.hub(i));
  std::vector<grove::ActorRef> hubs;
  for (std::size_t i = 0; i < threads; ++i) {
    kv::Server& server = *servers[i];
    server.request_shutdown = [stop_service] { stop_service(0); };
    grove::ActorOptions options;
    options.hub = &runtime.hub(i);
    options.name = fmt::format("hub-{}", i);
    grove::net::Socket& listening = listeners[i];
    hubs.push_back(grove::ActorRef(grove::spawn_opt(
        std::move(options), [&server, &listening, stop_service] {
          hub_main(server, listening, stop_service);
        })));
  }
  spdlog::info("kv_server: ready to accept connections on {}", bound.to_string());

  (void)stop.wait();

  // Graceful shutdown: every hub stops accepting, ends its connections and forwards its last
  // records; then the file is written and fsynced.
  for (const grove::ActorRef& hub : hubs) grove::send(hub, StopHub{});
  for (const grove::ActorRef& hub : hubs) (void)hub.join();
  if (aof) aof->flush_and_sync();
  if (aof && !root.actor().dead()) root.stop();
  spdlog::info("kv_server: bye");
  std::fflush(nullptr);
  std::_Exit(exit_code);
}

}  // namespace

int main(int argc, char** argv) {
  examples::Command cli("kv_server",
                        "A supervised key-value service that speaks the Redis protocol: "
                        "redis-cli -p PORT, redis-benchmark -p PORT.");
  cli.help_section(kDebugCommands);
  const std::size_t& threads = cli.threads_option();
  kv::Server server;
  server.config = parse_flags(cli, argc, argv);
  if (threads > 1) {
    return examples::run(cli, [&] { return serve_sharded(server.config, threads); });
  }
  return examples::run(cli, [&] { return serve(server); });
}
