// examples/kv/config.h — kv_server's settings, CONFIG GET / CONFIG SET with redis-server's names,
// value syntax and error replies, and the descriptor budget that decides maxclients.
//
// Model: one Config, owned by the Server and read by every connection at the moment it needs a
// value, so CONFIG SET applies at once to every client (as in redis-server). CONFIG SET takes
// several name/value pairs and applies all of them or none.
//
// Descriptors: like redis-server, kv_server keeps kReservedDescriptors descriptors for itself
// (listener, AOF, signalfd, epoll, ...) and serves at most `limit - 32` clients, `limit` being
// RLIMIT_NOFILE: asking for more clients first raises the soft limit as far as the hard limit
// allows. Excess clients are answered "-ERR max number of clients reached" and closed.
//
// Thread: the server's hub.
//
//   kv::Config config;
//   config.maxclients = kv::clients_within_descriptor_limit(config.maxclients);
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "examples/kv/aof.h"
#include "examples/kv/resp.h"

namespace kv {

// Descriptors kept back from maxclients (redis-server's CONFIG_MIN_RESERVED_FDS).
inline constexpr std::int64_t kReservedDescriptors = 32;

// redis's client classes for output buffer limits (kv has no replicas; the class is kept so
// the setting reads and writes as redis's does).
enum class ClientClass { kNormal = 0, kReplica = 1, kPubsub = 2 };

// One class's client-output-buffer-limit: a client holding `hard_bytes` of unsent output, or
// `soft_bytes` for more than `soft_seconds`, is closed. 0 bytes: no limit.
struct OutputBufferLimit {
  std::uint64_t hard_bytes = 0;
  std::uint64_t soft_bytes = 0;
  int soft_seconds = 0;
};

struct Config {
  std::string host = "127.0.0.1";
  int port = 6390;
  std::string aof_path;  // empty: no persistence
  std::string cluster_urls;  // --cluster: NATS URLs, comma-separated (empty: a single node)
  std::string node_name;     // --node (empty: kv-PORT)
  FsyncPolicy appendfsync = FsyncPolicy::kEverySec;
  std::int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  std::int64_t max_multibulk_count = 2147483647;
  std::int64_t client_query_buffer_limit = 1024LL * 1024 * 1024;
  std::int64_t maxclients = 10000;
  // Indexed by ClientClass; redis-server's defaults.
  std::array<OutputBufferLimit, 3> client_output_buffer_limit = {{
      {0, 0, 0},
      {256ULL * 1024 * 1024, 64ULL * 1024 * 1024, 60},
      {32ULL * 1024 * 1024, 8ULL * 1024 * 1024, 60},
  }};

  // Accepted and shown as redis-server does; kv_server does not act on them (no RDB snapshots,
  // no eviction, no idle timeout, its own encodings).
  std::string save;
  std::int64_t maxmemory = 0;
  std::string maxmemory_policy = "noeviction";
  std::int64_t timeout = 0;
  // The *-max-*-entries/-value/-size encoding thresholds, by their listpack name.
  std::map<std::string, std::int64_t, std::less<>> encodings = {
      {"hash-max-listpack-entries", 512}, {"hash-max-listpack-value", 64},
      {"zset-max-listpack-entries", 128}, {"zset-max-listpack-value", 64},
      {"set-max-intset-entries", 512},    {"list-max-listpack-size", -2},
      {"list-compress-depth", 0},         {"stream-node-max-entries", 100},
      {"stream-node-max-bytes", 4096},
  };
  // notify-keyspace-events, as kv/events.h's classes (0: off, redis's default).
  unsigned notify_keyspace_events = 0;

  const OutputBufferLimit& output_limit(ClientClass c) const {
    return client_output_buffer_limit[static_cast<std::size_t>(c)];
  }
};

// redis's memory values: decimal digits and an optional unit — b, k (1000), kb (1024), m, mb,
// g, gb, in any case. False for anything else (a sign, a fraction, an unknown unit).
bool parse_memory(std::string_view text, std::uint64_t& bytes);

// "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", as CONFIG GET shows it.
std::string format_output_buffer_limits(const Config& config);
// Applies "<class> <hard> <soft> <soft seconds>" groups (classes normal, replica/slave, pubsub)
// to `config`; on a bad value, changes nothing and returns redis's message.
std::optional<std::string> parse_output_buffer_limits(std::string_view text, Config& config);

// How many of `wanted` clients the descriptor limit lets this process serve, after raising the
// soft RLIMIT_NOFILE towards wanted + kReservedDescriptors (up to the hard limit). Less than 1
// means not even one client fits. `limit` (optional) receives the resulting RLIMIT_NOFILE.
std::int64_t clients_within_descriptor_limit(std::int64_t wanted, std::int64_t* limit = nullptr);

// CONFIG GET pattern...: every known parameter matching a glob pattern, as name/value pairs.
void config_get(const Config& config, const std::vector<std::string_view>& patterns,
                ReplyWriter& out);
// CONFIG SET name value [name value ...]: all or nothing. Returns the error reply (without the
// leading '-') when nothing was changed.
std::optional<std::string> config_set(Config& config,
                                      const std::vector<std::string_view>& name_values);

}  // namespace kv
