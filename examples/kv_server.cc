// examples/kv_server.cc — a supervised key-value service that speaks the Redis protocol.
//
// Try it:
//   bazel run //examples:kv_server -- --port 6390 [--aof /tmp/kv.aof] [--appendfsync everysec]
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
// Overload: at most --maxclients clients (default 10000, fewer when the descriptor limit is
// lower: `ulimit -n` minus 32, as redis-server computes it); out of descriptors, the listener
// pauses instead of failing; per-client memory is bounded by client-query-buffer-limit and
// client-output-buffer-limit (CONFIG GET/SET, redis-server's syntax). See kv/connection.h.
//
// SIGINT/SIGTERM (or SHUTDOWN): stop accepting, end the connections, write and fsync the AOF,
// exit 0.
#include <signal.h>
#include <string.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/actor.h"
#include "actors/event.h"
#include "actors/supervisor.h"
#include "examples/kv/aof.h"
#include "examples/kv/config.h"
#include "examples/kv/connection.h"
#include "examples/kv/keyspace.h"
#include "examples/kv/pubsub.h"
#include "examples/kv/server.h"
#include "hub/hub.h"
#include "net/socket.h"
#include "servers/signals.h"

namespace {

constexpr const char* kUsage = R"(usage: kv_server [options]
  --port N                   TCP port (default 6390)
  --host ADDR                address to listen on (default 127.0.0.1)
  --aof PATH                 append-only file: replayed at start, every write appended
  --appendfsync POLICY       always | everysec | no (default everysec)
  --proto-max-bulk-len N     largest bulk string accepted, bytes (default 536870912)
  --max-multibulk-count N    most arguments in one request (default 2147483647)
  --maxclients N             most clients at once (default 10000; at most ulimit -n minus 32)
  --help                     this text
)";

// Parses the command line into `config`; exits on --help or a bad option.
kv::Config parse_flags(int argc, char** argv) {
  kv::Config config;
  auto fail = [](const std::string& why) {
    std::fprintf(stderr, "kv_server: %s\n%s", why.c_str(), kUsage);
    std::exit(2);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) fail(fmt::format("{} needs a value", flag));
    const std::string value = argv[++i];
    try {
      if (flag == "--port") config.port = std::stoi(value);
      else if (flag == "--host") config.host = value;
      else if (flag == "--aof") config.aof_path = value;
      else if (flag == "--proto-max-bulk-len") config.proto_max_bulk_len = std::stoll(value);
      else if (flag == "--max-multibulk-count") config.max_multibulk_count = std::stoll(value);
      else if (flag == "--maxclients") config.maxclients = std::stoll(value);
      else if (flag == "--appendfsync") {
        if (!kv::parse_fsync_policy(value, config.appendfsync)) {
          fail("--appendfsync must be always, everysec or no");
        }
      } else {
        fail(fmt::format("unknown option {}", flag));
      }
    } catch (const std::logic_error&) {
      fail(fmt::format("bad value for {}: {}", flag, value));
    }
  }
  if (config.maxclients < 1) fail("--maxclients must be at least 1");
  return config;
}

grove::ActorOptions named(std::string name) {
  grove::ActorOptions options;
  options.name = std::move(name);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  kv::Server server;
  server.config = parse_flags(argc, argv);
  server.started_ms = kv::unix_ms();
  server.store = std::make_shared<kv::Store>();

  // Every client costs a descriptor: fit maxclients to the limit, as redis-server does.
  std::int64_t descriptor_limit = 0;
  const std::int64_t allowed =
      kv::clients_within_descriptor_limit(server.config.maxclients, &descriptor_limit);
  if (allowed < 1) {
    spdlog::critical("kv_server: a descriptor limit of {} leaves no room for clients ({} are "
                     "kept for the server); raise ulimit -n",
                     descriptor_limit, kv::kReservedDescriptors);
    return 1;
  }
  if (allowed < server.config.maxclients) {
    spdlog::warn("kv_server: maxclients {} needs {} descriptors, the limit is {} (ulimit -n): "
                 "serving at most {} clients",
                 server.config.maxclients, server.config.maxclients + kv::kReservedDescriptors,
                 descriptor_limit, allowed);
    server.config.maxclients = allowed;
  }

  // The data outlives every actor: replay the AOF into the Store before anything serves.
  if (!server.config.aof_path.empty()) {
    try {
      server.aof = kv::AppendOnlyFile::open(
          server.config.aof_path, server.config.appendfsync,
          [&](const std::vector<std::string_view>& args) { kv::replay_request(server, args); });
    } catch (const std::exception& e) {
      spdlog::critical("kv_server: {}", e.what());
      return 1;
    }
    server.commands_processed = 0;
  }

  // Bound once, here: a restarted listener keeps the port.
  grove::net::Socket listening;
  try {
    listening = grove::net::create_server(
        grove::net::Address::ip(server.config.host, static_cast<std::uint16_t>(server.config.port)),
        511);
  } catch (const std::exception& e) {
    spdlog::critical("kv_server: cannot listen on {}:{}: {}", server.config.host,
                     server.config.port, e.what());
    return 1;
  }

  grove::Event stop;
  int exit_code = 0;
  server.request_shutdown = [&] { stop.set(); };
  grove::servers::SignalWatch signals({SIGINT, SIGTERM}, [&](int signo) {
    spdlog::info("kv_server: {} received, shutting down", strsignal(signo));
    stop.set();
  });

  // --- the supervision tree --------------------------------------------------------------------
  grove::Supervisor connections;
  grove::Supervisor channels;
  auto pool_of = [](std::string name) {  // a simple_one_for_one supervisor of temporary children
    return grove::Supervisor::start(
        {.strategy = grove::Strategy::kSimpleOneForOne, .intensity = 1000000, .period = 1.0,
         .name = std::move(name)},
        {grove::ChildSpec{.id = "child", .start = nullptr, .restart = grove::Restart::kTemporary,
                          .shutdown = grove::Shutdown::brutal_kill()}});
  };
  server.pubsub = std::make_unique<kv::PubSub>(grove::Supervisor());

  std::vector<grove::ChildSpec> children;
  if (server.aof) {
    children.push_back({.id = "persistence",
                        .start = [&] {
                          return grove::ActorRef(grove::spawn_opt(
                              named("persistence"), [&] { server.aof->run_syncer(); }));
                        }});
  }
  children.push_back({.id = "keyspace", .start = [&] {
                        return grove::ActorRef(
                            grove::spawn_opt(named("keyspace"), kv::keyspace_main, std::ref(server)));
                      }});
  children.push_back({.id = "expiry", .start = [&] {
                        return grove::ActorRef(
                            grove::spawn_opt(named("expiry"), kv::expiry_main, std::ref(server)));
                      }});
  children.push_back({.id = "pubsub",
                      .start = [&] {
                        channels = pool_of("pubsub");
                        server.pubsub->set_supervisor(channels);
                        return channels.actor();
                      },
                      .type = grove::ChildType::kSupervisor});
  children.push_back({.id = "connections",
                      .start = [&] {
                        connections = pool_of("connections");
                        return connections.actor();
                      },
                      .type = grove::ChildType::kSupervisor});
  children.push_back({.id = "listener", .start = [&] {
                        return grove::ActorRef(grove::spawn_opt(named("listener"), [&] {
                          kv::listener_main(server, listening, [&] { return connections; });
                        }));
                      }});

  // Ten restarts in five seconds are a fault worth surviving; more means something is broken
  // for good, and the root gives up (the process then exits 1).
  grove::Supervisor root = grove::Supervisor::start(
      {.strategy = grove::Strategy::kOneForOne, .intensity = 10, .period = 5.0, .name = "kv"},
      std::move(children));
  root.actor().rawlink([&](const grove::ActorRef& dead) {
    if (!stop.is_set()) {
      spdlog::critical("kv_server: the root supervisor ended ({}); exiting",
                       dead.exit_reason().to_string());
      exit_code = 1;
      stop.set();
    }
  });
  spdlog::info("kv_server: ready to accept connections on {}:{}", server.config.host,
               server.config.port);

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
