// examples/kv/shards.cc — routing requests to the shard that owns their keys (see shards.h).
#include "examples/kv/shards.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/call.h"
#include "actors/registry.h"
#include "examples/kv/aof.h"
#include "examples/kv/command_kit.h"
#include "examples/kv/commands_server.h"
#include "examples/kv/keyspace.h"
#include "examples/kv/pubsub.h"
#include "examples/kv/resp.h"
#include "examples/kv/server.h"
#include "hub/runtime.h"

namespace kv {

using Args = std::vector<std::string_view>;

namespace {

constexpr std::string_view kCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot";
constexpr double kShardCallTimeout = 60.0;
// How long a shard goes on sending a chunk while no aof-writer takes it (restarts included).
constexpr double kWriterGoneSeconds = 30.0;
constexpr std::size_t kMaxHeld = 256;  // requests held for one shard before they are sent

// Where a shard's replies go: the caller's hub sets `done` when they arrive.
struct ShardReply {
  std::string replies;
  bool done = false;
  grove::WaitList waiters;  // the caller, on its hub
  grove::RemoteHub back;    // the caller's hub
};
// What a connection sends a shard's keyspace actor: requests to execute there, in order; the
// reply is their replies, concatenated. One message there, one back (no watch per request: the
// caller checks that the actor still lives while it waits).
struct ShardBatch {
  std::vector<std::vector<std::string>> commands;
  std::shared_ptr<ShardReply> reply;
};
// What a shard forwards to the aof-writer: its records, in RESP, in its order; `seq` numbers the
// shard's chunks (a resend to a restarted writer carries the same number).
struct AofChunk {
  std::string records;
  std::size_t shard;
  std::uint64_t seq;
  FsyncPolicy policy;  // the shard's (CONFIG SET appendfsync reaches every shard)
};

// The size of the one RESP value at the start of `r` (a whole, well-formed reply of ours).
std::size_t value_size(std::string_view r) {
  const std::size_t line_end = r.find("\r\n");
  const std::size_t header = line_end + 2;
  switch (r[0]) {
    case '$': {
      const long long n = std::strtoll(std::string(r.substr(1, line_end - 1)).c_str(), nullptr, 10);
      return n < 0 ? header : header + static_cast<std::size_t>(n) + 2;
    }
    case '*': {
      const long long n = std::strtoll(std::string(r.substr(1, line_end - 1)).c_str(), nullptr, 10);
      std::size_t at = header;
      for (long long i = 0; i < n; ++i) at += value_size(r.substr(at));
      return at;
    }
    default:  // + - :
      return header;
  }
}

std::int64_t integer_of(std::string_view r) {
  return std::strtoll(std::string(r.substr(1, r.find("\r\n") - 1)).c_str(), nullptr, 10);
}

// The elements of an array reply, each as its encoded bytes.
std::vector<std::string_view> elements_of(std::string_view r) {
  std::vector<std::string_view> out;
  const std::size_t line_end = r.find("\r\n");
  const long long n = std::strtoll(std::string(r.substr(1, line_end - 1)).c_str(), nullptr, 10);
  std::size_t at = line_end + 2;
  for (long long i = 0; i < n; ++i) {
    const std::size_t size = value_size(r.substr(at));
    out.push_back(r.substr(at, size));
    at += size;
  }
  return out;
}

bool is_blocking(std::string_view name) {
  return name == "blpop" || name == "brpop" || name == "blmove" || name == "brpoplpush" ||
         name == "blmpop" || name == "bzpopmin" || name == "bzpopmax" || name == "bzmpop";
}

// The commands that visit every shard.
bool is_every_shard(std::string_view name) {
  return name == "dbsize" || name == "keys" || name == "scan" || name == "flushdb" ||
         name == "flushall" || name == "randomkey";
}

// The multi-key commands split by shard.
bool is_splittable(std::string_view name) {
  return name == "mget" || name == "mset" || name == "del" || name == "unlink" ||
         name == "exists" || name == "touch";
}

std::vector<std::vector<std::string>> copy_of(const Args& args) {
  std::vector<std::vector<std::string>> batch(1);
  batch[0].assign(args.begin(), args.end());
  return batch;
}

}  // namespace

std::size_t key_shard(std::string_view key, std::size_t count) {
  // Redis Cluster's hash tag: the part between the first '{' and the next '}', if not empty.
  const std::size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const std::size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  // FNV-1a, then a multiplicative mix: independent of the Store's bucket hash.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  h *= 0x9E3779B97F4A7C15ULL;
  return static_cast<std::size_t>((h >> 32) % count);
}

bool command_keys(std::string_view name, const Args& a, std::vector<std::size_t>& positions) {
  positions.clear();
  const std::size_t n = a.size();
  auto range = [&](std::size_t first, std::size_t end, std::size_t step = 1) {
    for (std::size_t i = first; i < end && i < n; i += step) positions.push_back(i);
  };
  // numkeys at `at`, keys right after it.
  auto counted = [&](std::size_t at) {
    std::int64_t numkeys = 0;
    if (at >= n || !parse_int64(a[at], numkeys) || numkeys < 1 ||
        static_cast<std::uint64_t>(numkeys) > n - at - 1) {
      return;
    }
    range(at + 1, at + 1 + static_cast<std::size_t>(numkeys));
  };
  static const std::unordered_map<std::string_view, int> kinds = [] {
    std::unordered_map<std::string_view, int> m;
    for (const char* c :
         {"get", "set", "getset", "setnx", "setex", "psetex", "getex", "getdel", "incrbyfloat",
          "setrange", "getrange", "substr", "setbit", "getbit", "bitcount", "bitpos", "incr",
          "decr", "incrby", "decrby", "append", "strlen", "lpush", "rpush", "lpushx", "rpushx",
          "lpop", "rpop", "llen", "lrange", "lindex", "lset", "lrem", "ltrim", "linsert", "lpos",
          "hset", "hmset", "hsetnx", "hget", "hmget", "hdel", "hlen", "hexists", "hstrlen",
          "hgetall", "hkeys", "hvals", "hincrby", "hincrbyfloat", "sadd", "srem", "smembers",
          "sismember", "smismember", "scard", "spop", "srandmember", "sscan", "zadd", "zincrby",
          "zrem", "zscore", "zmscore", "zcard", "zcount", "zlexcount", "zrank", "zrevrank",
          "zrange", "zrangebyscore", "zrevrangebyscore", "zrevrange", "zrangebylex",
          "zrevrangebylex", "zremrangebyrank", "zremrangebyscore", "zremrangebylex", "zpopmin",
          "zpopmax", "zrandmember", "zscan", "hrandfield", "hscan", "type", "expire", "pexpire",
          "expireat", "pexpireat", "ttl", "pttl", "expiretime", "pexpiretime", "persist"}) {
      m[c] = 1;  // one key, at 1
    }
    for (const char* c : {"mget", "del", "unlink", "touch", "exists", "sinter", "sunion", "sdiff",
                          "watch", "sinterstore", "sunionstore", "sdiffstore"}) {
      m[c] = 2;  // every argument
    }
    for (const char* c : {"mset", "msetnx"}) m[c] = 3;  // key value pairs
    for (const char* c : {"lmove", "rpoplpush", "smove", "rename", "renamenx", "lcs", "blmove",
                          "brpoplpush", "zrangestore", "copy"}) {
      m[c] = 4;  // two keys, at 1 and 2
    }
    for (const char* c : {"blpop", "brpop", "bzpopmin", "bzpopmax"}) m[c] = 5;  // all but last
    for (const char* c : {"lmpop", "zmpop", "sintercard", "zintercard", "zunion", "zinter",
                          "zdiff"}) {
      m[c] = 6;  // numkeys at 1
    }
    for (const char* c : {"zunionstore", "zinterstore", "zdiffstore"}) m[c] = 7;  // dest, numkeys
    for (const char* c : {"blmpop", "bzmpop"}) m[c] = 8;  // timeout, numkeys at 2
    m["object"] = 9;                                      // OBJECT sub key
    return m;
  }();
  auto it = kinds.find(name);
  if (it == kinds.end()) return false;
  switch (it->second) {
    case 1: range(1, 2); break;
    case 2: range(1, n); break;
    case 3: range(1, n, 2); break;
    case 4: range(1, 3); break;
    case 5: range(1, n - 1); break;
    case 6: counted(1); break;
    case 7: range(1, 2); counted(2); break;
    case 8: counted(2); break;
    case 9: range(2, 3); break;
  }
  return !positions.empty();
}

std::string shard_actor_name(std::size_t shard) { return fmt::format("keyspace-{}", shard); }

// The router: a friend of Session (server.h), so it sees the session's transaction and
// subscriptions.
struct ShardRouter {
  Session& s;
  Server& server;
  const Shards& shards;
  std::size_t home;

  explicit ShardRouter(Session& session)
      : s(session), server(session.server_), shards(*server.shards), home(server.shard_index) {}

  // A batch sent to another shard's keyspace actor, its replies not read yet. Keeps this hub
  // running while a reply from another thread may come.
  struct Pending {
    std::size_t shard = 0;
    std::size_t count = 0;
    grove::ActorRef actor;
    std::shared_ptr<ShardReply> reply;  // null: not sent (no actor)
    grove::Hub* hub = nullptr;
    Pending() = default;
    Pending(Pending&& other) noexcept
        : shard(other.shard), count(other.count), actor(std::move(other.actor)),
          reply(std::move(other.reply)), hub(std::exchange(other.hub, nullptr)) {}
    Pending& operator=(Pending&&) = delete;
    ~Pending() {
      if (hub) hub->unref_external();
    }
  };

  // Sends `batch` to shard `shard` (another hub); finish() waits for its replies.
  Pending start(std::size_t shard, std::vector<std::vector<std::string>> batch) {
    Pending p;
    p.shard = shard;
    p.count = batch.size();
    // The shard's actor as this hub last saw it; looked up again once it died (restarted).
    if (server.shard_actors.size() != shards.count) server.shard_actors.resize(shards.count);
    grove::ActorRef& actor = server.shard_actors[shard];
    if (!actor || actor.dead()) actor = grove::whereis(shard_actor_name(shard));
    if (!actor || actor.dead()) return p;
    grove::Hub& here = grove::Hub::current();
    p.actor = actor;
    p.reply = std::make_shared<ShardReply>();
    p.reply->back = here.remote();
    here.ref_external();
    p.hub = &here;
    grove::send(actor, ShardBatch{std::move(batch), p.reply});
    return p;
  }

  std::string finish(Pending& p) {
    if (p.reply) {
      const grove::Deadline give_up = grove::Deadline::after(kShardCallTimeout);
      while (!p.reply->done) {
        if (p.reply->waiters.wait(grove::Deadline::after(1.0), "shard reply") ==
                grove::WaitStatus::kTimedOut &&
            (p.actor.dead() || give_up.passed())) {
          break;
        }
      }
      if (p.reply->done) return std::move(p.reply->replies);
    }
    std::string out;
    ReplyWriter w(out);
    for (std::size_t i = 0; i < p.count; ++i) {
      w.error(fmt::format("ERR shard {} did not answer (its keyspace actor restarted?)", p.shard));
    }
    return out;
  }

  // Executes `batch` on shard `shard` (another hub) and returns its replies.
  std::string remote(std::size_t shard, std::vector<std::vector<std::string>> batch) {
    Pending p = start(shard, std::move(batch));
    return finish(p);
  }

  // requests[i] (when not empty) on shard i, the other shards' all sent before any is waited
  // for; the replies by shard.
  std::vector<std::string> run_everywhere(const std::vector<Args>& requests) {
    std::vector<Pending> pending;
    for (std::size_t shard = 0; shard < shards.count; ++shard) {
      if (shard != home && !requests[shard].empty()) {
        pending.push_back(start(shard, copy_of(requests[shard])));
      }
    }
    std::vector<std::string> replies(shards.count);
    if (!requests[home].empty()) (void)s.execute(requests[home], replies[home]);
    for (Pending& p : pending) replies[p.shard] = finish(p);
    return replies;
  }

  // Sends the held requests.
  void flush(ShardPipe& pipe, std::string& out) {
    if (pipe.empty()) return;
    out += remote(pipe.shard, std::move(pipe.commands));
    pipe.commands.clear();
  }

  // One request on `shard`, here or there; its reply.
  std::string run_at(std::size_t shard, const Args& args) {
    std::string reply;
    if (shard == home) {
      (void)s.execute(args, reply);
    } else {
      reply = remote(shard, copy_of(args));
    }
    return reply;
  }

  bool refuse(std::string_view name, std::string_view error, std::string& out) {
    ReplyWriter w(out);
    ServerCommands::refused(s, name, error, w);
    return true;
  }

  bool route(const Args& args, std::string& out, ShardPipe& pipe) {
    const char* canonical = nullptr;
    int arity = 0;
    if (!lookup_command(args[0], canonical, arity) ||
        (arity > 0 && static_cast<int>(args.size()) != arity) ||
        static_cast<int>(args.size()) < -arity || !s.channels_.empty() || !s.patterns_.empty()) {
      flush(pipe, out);
      return s.execute(args, out);  // refused, or subscribed: the same on every shard
    }
    const std::string_view name = canonical;
    std::vector<std::size_t> positions;
    const bool keyed = command_keys(name, args, positions);
    std::size_t target = home;
    bool spread = false;
    if (keyed) {
      target = key_shard(args[positions[0]], shards.count);
      for (std::size_t p : positions) {
        if (key_shard(args[p], shards.count) != target) spread = true;
      }
    }
    // The common case of a pipeline: a plain request for another shard joins the held ones.
    if (keyed && !spread && target != home && !s.tx_.active && !is_blocking(name) &&
        name != "watch") {
      if (pipe.shard != target) flush(pipe, out);
      pipe.shard = target;
      pipe.commands.emplace_back(args.begin(), args.end());
      s.last_command = std::string(name);
      if (pipe.commands.size() >= kMaxHeld) flush(pipe, out);
      return true;
    }
    flush(pipe, out);  // whatever comes next, its reply follows theirs

    // Between MULTI and EXEC: queue, keeping every key of the transaction in one shard.
    if (s.tx_.active && !ServerCommands::runs_inside_multi(name)) {
      if (is_every_shard(name)) {
        return refuse(name, fmt::format("ERR '{}' inside MULTI is not supported by kv_server "
                                        "--threads > 1 (it visits every shard)", name), out);
      }
      if (keyed) {
        if (spread || (s.tx_shard_ != Session::kNoShard && s.tx_shard_ != target) ||
            (target != home && !s.tx_.watched.empty())) {
          return refuse(name, kCrossSlot, out);
        }
        s.tx_shard_ = target;
      }
      return s.execute(args, out);
    }
    if (name == "exec" && s.tx_.active && !s.tx_.aborted && s.tx_shard_ != Session::kNoShard &&
        s.tx_shard_ != home) {
      // The whole transaction runs on its shard, in one message: atomic there.
      std::vector<std::vector<std::string>> batch;
      batch.push_back({"MULTI"});
      for (auto& queued : s.tx_.queued) batch.push_back(std::move(queued));
      batch.push_back({"EXEC"});
      const std::string replies = remote(s.tx_shard_, std::move(batch));
      // MULTI's +OK, a QUEUED per command, then EXEC's reply: keep the last.
      std::size_t at = 0;
      std::string_view last;
      const std::string_view all = replies;
      while (at < all.size()) {
        const std::size_t size = value_size(all.substr(at));
        last = all.substr(at, size);
        at += size;
      }
      out.append(last);
      s.tx_.reset();
      s.tx_shard_ = Session::kNoShard;
      s.last_command = "exec";
      return true;
    }
    if (name == "multi" || name == "exec" || name == "discard") {
      const bool open = s.execute(args, out);
      if (!s.tx_.active) s.tx_shard_ = Session::kNoShard;
      return open;
    }
    if (name == "watch" && !s.tx_.active) {
      for (std::size_t p : positions) {
        if (key_shard(args[p], shards.count) != home) {
          ReplyWriter(out).error(
              "ERR WATCH takes keys of this connection's own shard only (kv_server --threads > "
              "1); see README, Differences");
          return true;
        }
      }
      return s.execute(args, out);
    }

    if (is_every_shard(name)) return every_shard(name, args, out);
    if (name == "pubsub" && !s.tx_.active) {
      if ((kit::equals_nocase(args[1], "channels") && args.size() <= 3) ||
          kit::equals_nocase(args[1], "numsub") ||
          (kit::equals_nocase(args[1], "numpat") && args.size() == 2)) {
        return pubsub_everywhere(args, out);
      }
    }
    if (name == "bgrewriteaof") {
      ReplyWriter(out).error("ERR BGREWRITEAOF is not supported by kv_server --threads > 1");
      return true;
    }
    if (name == "config" && kit::equals_nocase(args[1], "set")) {
      // Every shard holds the configuration: set it on all, answer as this one did.
      const std::size_t before = out.size();
      const bool open = s.execute(args, out);
      if (std::string_view(out).substr(before) == "+OK\r\n") {
        for (std::size_t shard = 0; shard < shards.count; ++shard) {
          if (shard != home) (void)remote(shard, copy_of(args));
        }
      }
      return open;
    }
    if (!keyed || (!spread && target == home)) return s.execute(args, out);
    if (!spread) {
      if (is_blocking(name)) {
        ReplyWriter(out).error(
            "ERR blocking commands take keys of this connection's own shard only (kv_server "
            "--threads > 1); see README, Differences");
        return true;
      }
      s.last_command = std::string(name);
      out += remote(target, copy_of(args));
      return true;
    }
    if ((name == "mset" || name == "msetnx") && args.size() % 2 == 0) {
      return s.execute(args, out);  // its arity error, before any shard is asked
    }
    if (!is_splittable(name)) {
      ReplyWriter(out).error(kCrossSlot);
      return true;
    }
    return split(name, args, positions, out);
  }

  // MGET, MSET, DEL, UNLINK, EXISTS, TOUCH over keys of several shards.
  bool split(std::string_view name, const Args& args, const std::vector<std::size_t>& positions,
             std::string& out) {
    const bool pairs = name == "mset";
    // Per shard: the request with its keys (and values), and where each key came from.
    std::vector<Args> requests(shards.count);
    std::vector<std::vector<std::size_t>> origin(shards.count);
    for (std::size_t i = 0; i < positions.size(); ++i) {
      const std::size_t p = positions[i];
      const std::size_t shard = key_shard(args[p], shards.count);
      if (requests[shard].empty()) requests[shard].push_back(args[0]);
      requests[shard].push_back(args[p]);
      if (pairs) requests[shard].push_back(args[p + 1]);
      origin[shard].push_back(i);
    }
    const std::vector<std::string> replies = run_everywhere(requests);
    s.last_command = std::string(name);
    for (const std::string& r : replies) {
      if (!r.empty() && r[0] == '-') {
        out += r;  // the first shard's error (none is expected of these commands)
        return true;
      }
    }
    ReplyWriter w(out);
    if (name == "mset") {
      w.ok();
    } else if (name == "mget") {
      std::vector<std::string_view> values(positions.size());
      for (std::size_t shard = 0; shard < shards.count; ++shard) {
        if (requests[shard].empty()) continue;
        const std::vector<std::string_view> got = elements_of(replies[shard]);
        for (std::size_t j = 0; j < got.size() && j < origin[shard].size(); ++j) {
          values[origin[shard][j]] = got[j];
        }
      }
      w.array_header(values.size());
      for (std::string_view v : values) w.raw(v);
    } else {  // counts
      std::int64_t total = 0;
      for (const std::string& r : replies) {
        if (!r.empty()) total += integer_of(r);
      }
      w.integer(total);
    }
    return true;
  }

  // PUBSUB CHANNELS / NUMSUB / NUMPAT over the subscriptions of every hub.
  bool pubsub_everywhere(const Args& args, std::string& out) {
    s.last_command = "pubsub";
    // What hub j's pub/sub says, read on hub j (its directory is touched only there).
    auto on_hub = [&](std::size_t j, auto fn) {
      Server* there = shards.servers[j];
      if (j == home) return fn(*there->pubsub);
      return grove::run_on(*shards.hubs[j], [there, fn] { return fn(*there->pubsub); });
    };
    ReplyWriter w(out);
    if (kit::equals_nocase(args[1], "numsub")) {
      std::vector<std::string> channels(args.begin() + 2, args.end());
      std::vector<std::int64_t> counts(channels.size(), 0);
      for (std::size_t j = 0; j < shards.count; ++j) {
        const std::vector<std::int64_t> here = on_hub(j, [channels](const PubSub& p) {
          std::vector<std::int64_t> n;
          for (const std::string& c : channels) n.push_back(static_cast<std::int64_t>(p.subscribers(c)));
          return n;
        });
        for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += here[i];
      }
      w.array_header(channels.size() * 2);
      for (std::size_t i = 0; i < channels.size(); ++i) {
        w.bulk(channels[i]);
        w.integer(counts[i]);
      }
      return true;
    }
    const bool patterns = kit::equals_nocase(args[1], "numpat");
    const std::string pattern = args.size() == 3 ? std::string(args[2]) : std::string("*");
    std::set<std::string> names;
    for (std::size_t j = 0; j < shards.count; ++j) {
      const std::vector<std::string> here = on_hub(j, [patterns, pattern](const PubSub& p) {
        return patterns ? p.active_patterns() : p.active_channels(pattern);
      });
      names.insert(here.begin(), here.end());
    }
    if (patterns) {
      w.integer(static_cast<std::int64_t>(names.size()));
    } else {
      w.array_header(names.size());
      for (const std::string& n : names) w.bulk(n);
    }
    return true;
  }

  // DBSIZE, KEYS, SCAN, FLUSHDB, FLUSHALL, RANDOMKEY: every shard.
  bool every_shard(std::string_view name, const Args& args, std::string& out) {
    s.last_command = std::string(name);
    ReplyWriter w(out);
    if (name == "dbsize") {
      std::int64_t total = 0;
      for (const std::string& r : run_everywhere(std::vector<Args>(shards.count, args))) {
        total += integer_of(r);
      }
      w.integer(total);
    } else if (name == "keys") {
      const std::vector<std::string> replies =
          run_everywhere(std::vector<Args>(shards.count, args));
      std::size_t count = 0;
      for (const std::string& r : replies) count += elements_of(r).size();
      w.array_header(count);
      for (const std::string& r : replies) w.raw(std::string_view(r).substr(r.find("\r\n") + 2));
    } else if (name == "flushdb" || name == "flushall") {
      const std::string first = run_at(home, args);  // a syntax error stops here
      if (first[0] == '-') {
        out += first;
        return true;
      }
      std::vector<Args> others(shards.count, args);
      others[home].clear();
      (void)run_everywhere(others);
      w.ok();
    } else if (name == "randomkey") {
      thread_local std::minstd_rand random{std::random_device{}()};
      const std::size_t start = random() % shards.count;
      for (std::size_t i = 0; i < shards.count; ++i) {
        const std::string r = run_at((start + i) % shards.count, args);
        if (r != "$-1\r\n") {
          out += r;
          return true;
        }
      }
      w.null_bulk();
    } else {  // scan: cursor = bucket * count + shard
      std::string ignored;
      ReplyWriter quiet(ignored);
      std::uint64_t cursor = 0;
      if (!kit::parse_cursor(args[1], quiet, cursor)) return s.execute(args, out);  // its error
      // A shard whose walk ended hands over to the next one in the same call (so a small
      // keyspace comes back whole with cursor 0, as from redis-server).
      std::size_t shard = cursor % shards.count;
      std::uint64_t bucket = cursor / shards.count;
      std::vector<std::string> replies;
      std::vector<std::string_view> keys;
      std::uint64_t global = 0;
      for (;;) {
        const std::string text = std::to_string(bucket);
        Args sub = args;
        sub[1] = text;
        replies.push_back(run_at(shard, sub));
        const std::string& r = replies.back();
        if (r[0] == '-') {
          out += r;
          return true;
        }
        const std::vector<std::string_view> parts = elements_of(r);
        const std::string_view next_text = parts[0].substr(parts[0].find("\r\n") + 2);
        const std::uint64_t next = std::strtoull(
            std::string(next_text.substr(0, next_text.size() - 2)).c_str(), nullptr, 10);
        for (std::string_view key : elements_of(parts[1])) keys.push_back(key);
        if (next != 0) {
          global = next * shards.count + shard;
          break;
        }
        if (++shard == shards.count) break;  // global 0: the end
        bucket = 0;
      }
      w.array_header(2);
      w.bulk(std::to_string(global));
      w.array_header(keys.size());
      for (std::string_view key : keys) w.raw(key);
    }
    return true;
  }
};

bool execute_routed(Session& session, const Args& args, std::string& out, ShardPipe& pipe) {
  return ShardRouter(session).route(args, out, pipe);
}

void flush_pipe(Session& session, ShardPipe& pipe, std::string& out) {
  ShardRouter(session).flush(pipe, out);
}

void shard_actor_main(Server& server) {
  const std::string broken = server.store->check_invariants();
  if (!broken.empty()) throw std::runtime_error("keyspace store is inconsistent: " + broken);
  ++server.keyspace_starts;
  grove::register_name(shard_actor_name(server.shard_index), grove::self());
  spdlog::info("keyspace actor of shard {} {}: {} keys ({} with an expiry)", server.shard_index,
               server.keyspace_starts == 1 ? "started" : "restarted", server.store->size(),
               server.store->volatile_count());
  ClientInfo info;
  info.id = std::numeric_limits<std::uint64_t>::max() - server.shard_index;
  info.internal = true;  // not a client: not listed, but its writes are logged
  info.addr = info.laddr = fmt::format("shard-{}", server.shard_index);
  Session executor(server, std::move(info), nullptr);
  std::vector<std::string_view> views;
  for (;;) {
    grove::receive(
        [](CrashKeyspace) {
          throw std::runtime_error("DEBUG CRASH-KEYSPACE: injected fault in the keyspace actor");
        },
        [&](ShardBatch batch) {
          std::string out;
          executor.start_batch();
          for (const std::vector<std::string>& command : batch.commands) {
            views.assign(command.begin(), command.end());
            (void)executor.execute(views, out);
          }
          // The records of these writes reach the file before the caller sees a reply.
          if (server.aof && server.aof->has_pending()) server.aof->write_pending();
          const std::shared_ptr<ShardReply>& reply = batch.reply;
          (void)reply->back.post([reply, out = std::move(out)]() mutable {
            reply->replies = std::move(out);
            reply->done = true;
            reply->waiters.wake_all();
          });
        });
  }
}

void aof_writer_main(AppendOnlyFile& aof) {
  grove::register_name(kAofWriterName, grove::self());
  std::vector<grove::Request<AofChunk, bool>> batch;
  auto take = [&](grove::Request<AofChunk, bool> r) { batch.push_back(std::move(r)); };
  for (;;) {
    grove::receive(take);
    // Whatever else arrived meanwhile joins this write (and this fsync): group commit.
    while (grove::receive_until(grove::Deadline::after(0.0), take)) {
    }
    // A chunk this file already has (its writer died before answering) is not logged twice;
    // what a dead writer appended but did not write goes out with this write.
    for (const auto& r : batch) (void)aof.take_forwarded(r.body.shard, r.body.seq, r.body.records);
    if (batch.back().body.policy != aof.policy()) aof.set_policy(batch.back().body.policy);
    aof.write_pending();
    if (aof.policy() == FsyncPolicy::kAlways) aof.wait_durable();
    for (const auto& r : batch) r.reply(true);
    batch.clear();
  }
}

// The forwarding half, used by AppendOnlyFile::forwarding (kv_server.cc). The writer is a
// supervised actor: if it dies with the chunk (or does not answer in time), the chunk goes
// again, to whichever writer is registered by then, until kWriterGoneSeconds have passed
// without one taking it.
bool forward_records(std::size_t shard, const std::string& records, std::uint64_t seq,
                     FsyncPolicy policy) {
  const grove::Deadline give_up = grove::Deadline::after(kWriterGoneSeconds);
  for (;;) {
    if (const grove::ActorRef writer = grove::whereis(kAofWriterName)) {
      try {
        return grove::call<bool>(writer, AofChunk{records, shard, seq, policy},
                                 kShardCallTimeout);
      } catch (const grove::CallError& e) {
        spdlog::warn("append-only file: the aof-writer did not take chunk {} of shard {} ({}); "
                     "sending it again",
                     seq, shard, e.what());
      }
    }
    if (give_up.passed()) {
      spdlog::error("append-only file: no aof-writer took chunk {} of shard {} in {} s", seq,
                    shard, kWriterGoneSeconds);
      return false;
    }
    grove::sleep(0.005);  // its supervisor restarts it
  }
}

std::size_t publish_on_other_hubs(Server& server, std::string_view channel,
                                  std::string_view message, bool count) {
  const Shards& shards = *server.shards;
  std::size_t total = 0;
  for (std::size_t j = 0; j < shards.count; ++j) {
    if (j == server.shard_index) continue;
    Server* there = shards.servers[j];
    auto publish = [there, channel = std::string(channel), message = std::string(message)] {
      return there->pubsub ? there->pubsub->publish(channel, message) : 0;
    };
    if (count) {
      total += grove::run_on(*shards.hubs[j], publish);
    } else {
      (void)grove::Hub::remote_of(shards.hubs[j]).post([publish] { (void)publish(); });
    }
  }
  return total;
}

}  // namespace kv
