// examples/kv/commands.cc — every command of the service, with redis-server's replies and errors.
//
// Layout: the helpers first, then one function per command (in the order of the command table at
// the bottom), then Session::execute, which looks the name up, checks arity the way redis-server
// does (positive: exactly that many words; negative: at least), and runs it.
//
// Persistence: a command that changed the data appends its canonical form to the AOF buffer via
// `log(...)` (relative expiries become PEXPIREAT with an absolute time); nothing else writes
// the AOF.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <unistd.h>
#include <unordered_map>

#include <fmt/format.h>

#include "actors/registry.h"
#include "examples/kv/config.h"
#include "examples/kv/glob.h"
#include "examples/kv/keyspace.h"
#include "examples/kv/pubsub.h"
#include "examples/kv/server.h"

namespace kv {

using Args = std::vector<std::string_view>;

namespace {

bool equals_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string to_text(std::int64_t v) { return std::to_string(v); }

constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
constexpr std::string_view kSyntaxError = "ERR syntax error";

// a + b, false on overflow.
bool add_overflows(std::int64_t a, std::int64_t b, std::int64_t& sum) {
  return __builtin_add_overflow(a, b, &sum);
}

}  // namespace

// The commands. A struct so it can be the Session's friend; every member is static.
struct Commands {
  using Fn = bool (*)(Session&, const Args&, ReplyWriter&);
  struct Spec {
    const char* name;
    int arity;
    Fn fn;
    const char* flags;  // for COMMAND: "write", "readonly", ...
  };

  static Store& store(Session& s) { return *s.server_.store; }
  static bool replaying(Session& s) { return s.info_.id == 0; }
  static void log(Session& s, const Args& args) {
    if (s.server_.aof && !replaying(s)) s.server_.aof->append(args);
  }
  static void log(Session& s, std::initializer_list<std::string_view> args) {
    if (s.server_.aof && !replaying(s)) s.server_.aof->append(args);
  }
  static void log_expiry(Session& s, std::string_view key, std::int64_t at) {
    if (s.server_.aof && !replaying(s)) {
      const std::string when = to_text(at);
      s.server_.aof->append({"PEXPIREAT", key, when});
    }
  }
  static void wrong_arity(ReplyWriter& out, std::string_view name) {
    out.error(fmt::format("ERR wrong number of arguments for '{}' command", name));
  }

  // --- connection ------------------------------------------------------------------------------

  static bool ping(Session& s, const Args& a, ReplyWriter& out) {
    if (a.size() > 2) {
      wrong_arity(out, "ping");
    } else if (!s.channels_.empty()) {
      out.array_header(2);
      out.bulk("pong");
      out.bulk(a.size() == 2 ? a[1] : std::string_view());
    } else if (a.size() == 2) {
      out.bulk(a[1]);
    } else {
      out.simple("PONG");
    }
    return true;
  }

  static bool echo(Session&, const Args& a, ReplyWriter& out) {
    out.bulk(a[1]);
    return true;
  }

  static bool select(Session&, const Args& a, ReplyWriter& out) {
    std::int64_t db = 0;
    if (!parse_int64(a[1], db) || db < INT_MIN || db > INT_MAX) {
      out.error(kNotInteger);
    } else if (db != 0) {
      out.error("ERR DB index is out of range");
    } else {
      out.ok();
    }
    return true;
  }

  static bool quit(Session&, const Args&, ReplyWriter& out) {
    out.ok();
    return false;
  }

  static bool shutdown(Session& s, const Args&, ReplyWriter&) {
    if (s.server_.request_shutdown) s.server_.request_shutdown();
    return false;  // like redis-server: no reply, the connection closes
  }

  // --- strings ---------------------------------------------------------------------------------

  static bool get(Session& s, const Args& a, ReplyWriter& out) {
    Store& st = store(s);
    if (Entry* e = st.find(a[1], s.now_)) {
      ++st.keyspace_hits;
      out.bulk(e->value);
    } else {
      ++st.keyspace_misses;
      out.null_bulk();
    }
    return true;
  }

  // SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
  static bool set(Session& s, const Args& a, ReplyWriter& out) {
    enum : unsigned { kNx = 1, kXx = 2, kGet = 4, kKeepTtl = 8, kEx = 16, kPx = 32, kExAt = 64,
                      kPxAt = 128 };
    constexpr unsigned kAnyExpire = kEx | kPx | kExAt | kPxAt;
    unsigned flags = 0;
    std::string_view expire_arg;
    for (std::size_t j = 3; j < a.size(); ++j) {
      const std::string_view opt = a[j];
      const bool has_next = j + 1 < a.size();
      if (equals_nocase(opt, "nx") && !(flags & kXx)) {
        flags |= kNx;
      } else if (equals_nocase(opt, "xx") && !(flags & kNx)) {
        flags |= kXx;
      } else if (equals_nocase(opt, "get")) {
        flags |= kGet;
      } else if (equals_nocase(opt, "keepttl") && !(flags & kAnyExpire)) {
        flags |= kKeepTtl;
      } else if (has_next && !(flags & (kKeepTtl | kAnyExpire)) &&
                 (equals_nocase(opt, "ex") || equals_nocase(opt, "px") ||
                  equals_nocase(opt, "exat") || equals_nocase(opt, "pxat"))) {
        flags |= equals_nocase(opt, "ex")   ? kEx
                 : equals_nocase(opt, "px") ? kPx
                 : equals_nocase(opt, "exat") ? kExAt
                                              : kPxAt;
        expire_arg = a[++j];
      } else {
        out.error(kSyntaxError);
        return true;
      }
    }
    std::int64_t expires_at = Store::kNoExpiry;
    if (flags & kAnyExpire) {
      std::int64_t v = 0;
      if (!parse_int64(expire_arg, v)) {
        out.error(kNotInteger);
        return true;
      }
      const bool seconds = flags & (kEx | kExAt);
      if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) {
        out.error("ERR invalid expire time in 'set' command");
        return true;
      }
      if (seconds) v *= 1000;
      if (flags & (kEx | kPx)) {
        if (add_overflows(v, s.now_, v)) {
          out.error("ERR invalid expire time in 'set' command");
          return true;
        }
      }
      expires_at = v;
    }
    Store& st = store(s);
    Entry* old = st.find(a[1], s.now_);
    if (flags & kGet) {
      if (old) out.bulk(old->value); else out.null_bulk();
    }
    if (((flags & kNx) && old) || ((flags & kXx) && !old)) {
      if (!(flags & kGet)) out.null_bulk();
      return true;
    }
    if ((flags & kKeepTtl) && old) expires_at = old->expires_at;
    st.set(a[1], a[2], expires_at);
    if (s.server_.aof && !replaying(s)) {
      log(s, {"SET", a[1], a[2]});
      if (expires_at != Store::kNoExpiry) log_expiry(s, a[1], expires_at);
    }
    if (!(flags & kGet)) out.ok();
    return true;
  }

  static bool getset(Session& s, const Args& a, ReplyWriter& out) {
    Store& st = store(s);
    if (Entry* old = st.find(a[1], s.now_)) out.bulk(old->value); else out.null_bulk();
    st.set(a[1], a[2], Store::kNoExpiry);
    log(s, a);
    return true;
  }

  static bool incr_by(Session& s, const Args& a, std::int64_t by, ReplyWriter& out) {
    Store& st = store(s);
    auto [e, created] = st.find_or_create(a[1], s.now_);
    std::int64_t value = 0;
    if (!created && !parse_int64(e->value, value)) {
      out.error(kNotInteger);
      return true;
    }
    if (add_overflows(value, by, value)) {
      if (created) st.erase(a[1]);
      out.error("ERR increment or decrement would overflow");
      return true;
    }
    e->value = to_text(value);
    log(s, {"SET", a[1], e->value});
    if (e->expires_at != Store::kNoExpiry) log_expiry(s, a[1], e->expires_at);
    out.integer(value);
    return true;
  }
  static bool incr(Session& s, const Args& a, ReplyWriter& out) { return incr_by(s, a, 1, out); }
  static bool decr(Session& s, const Args& a, ReplyWriter& out) { return incr_by(s, a, -1, out); }
  static bool incrby(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t by = 0;
    if (!parse_int64(a[2], by)) {
      out.error(kNotInteger);
      return true;
    }
    return incr_by(s, a, by, out);
  }
  static bool decrby(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t by = 0;
    if (!parse_int64(a[2], by)) {
      out.error(kNotInteger);
      return true;
    }
    if (by == LLONG_MIN) {
      out.error("ERR decrement would overflow");
      return true;
    }
    return incr_by(s, a, -by, out);
  }

  static bool append(Session& s, const Args& a, ReplyWriter& out) {
    Store& st = store(s);
    auto [e, created] = st.find_or_create(a[1], s.now_);
    if (static_cast<std::int64_t>(e->value.size() + a[2].size()) >
        s.server_.config.proto_max_bulk_len) {
      if (created) st.erase(a[1]);
      out.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
      return true;
    }
    e->value.append(a[2]);
    out.integer(static_cast<std::int64_t>(e->value.size()));
    log(s, a);
    return true;
  }

  static bool strlen(Session& s, const Args& a, ReplyWriter& out) {
    Entry* e = store(s).find(a[1], s.now_);
    out.integer(e ? static_cast<std::int64_t>(e->value.size()) : 0);
    return true;
  }

  static bool mget(Session& s, const Args& a, ReplyWriter& out) {
    out.array_header(a.size() - 1);
    for (std::size_t i = 1; i < a.size(); ++i) {
      if (Entry* e = store(s).find(a[i], s.now_)) out.bulk(e->value); else out.null_bulk();
    }
    return true;
  }

  static bool mset(Session& s, const Args& a, ReplyWriter& out) {
    if (a.size() % 2 == 0) {
      wrong_arity(out, "mset");
      return true;
    }
    for (std::size_t i = 1; i < a.size(); i += 2) store(s).set(a[i], a[i + 1], Store::kNoExpiry);
    log(s, a);
    out.ok();
    return true;
  }

  // --- keys ------------------------------------------------------------------------------------

  static bool del(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t deleted = 0;
    for (std::size_t i = 1; i < a.size(); ++i) {
      if (store(s).find(a[i], s.now_) && store(s).erase(a[i])) ++deleted;
    }
    if (deleted > 0) log(s, a);
    out.integer(deleted);
    return true;
  }

  static bool exists(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t found = 0;
    for (std::size_t i = 1; i < a.size(); ++i) found += store(s).find(a[i], s.now_) ? 1 : 0;
    out.integer(found);
    return true;
  }

  static bool type(Session& s, const Args& a, ReplyWriter& out) {
    out.simple(store(s).find(a[1], s.now_) ? "string" : "none");
    return true;
  }

  // EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT]
  static bool expire_generic(Session& s, const Args& a, ReplyWriter& out, bool seconds,
                             bool relative, const char* name) {
    bool nx = false, xx = false, gt = false, lt = false;
    for (std::size_t j = 3; j < a.size(); ++j) {
      if (equals_nocase(a[j], "nx")) nx = true;
      else if (equals_nocase(a[j], "xx")) xx = true;
      else if (equals_nocase(a[j], "gt")) gt = true;
      else if (equals_nocase(a[j], "lt")) lt = true;
      else {
        out.error(fmt::format("ERR Unsupported option {}", a[j]));
        return true;
      }
    }
    if (nx && (xx || gt || lt)) {
      out.error("ERR NX and XX, GT or LT options at the same time are not compatible");
      return true;
    }
    if (gt && lt) {
      out.error("ERR GT and LT options at the same time are not compatible");
      return true;
    }
    std::int64_t when = 0;
    if (!parse_int64(a[2], when)) {
      out.error(kNotInteger);
      return true;
    }
    const std::string invalid = fmt::format("ERR invalid expire time in '{}' command", name);
    if (seconds) {
      if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
        out.error(invalid);
        return true;
      }
      when *= 1000;
    }
    if (relative && add_overflows(when, s.now_, when)) {
      out.error(invalid);
      return true;
    }
    Store& st = store(s);
    Entry* e = st.find(a[1], s.now_);
    if (!e) {
      out.integer(0);
      return true;
    }
    const std::int64_t current = e->expires_at;  // 0 = persistent (an infinite TTL)
    if ((nx && current != 0) || (xx && current == 0) ||
        (gt && (current == 0 || when <= current)) || (lt && current != 0 && when >= current)) {
      out.integer(0);
      return true;
    }
    if (when <= s.now_ && !replaying(s)) {
      st.erase(a[1]);
      log(s, {"DEL", a[1]});
    } else if (when <= s.now_) {
      st.erase(a[1]);
    } else {
      st.set_expiry(a[1], *e, when);
      log_expiry(s, a[1], when);
    }
    out.integer(1);
    return true;
  }
  static bool expire(Session& s, const Args& a, ReplyWriter& o) {
    return expire_generic(s, a, o, true, true, "expire");
  }
  static bool pexpire(Session& s, const Args& a, ReplyWriter& o) {
    return expire_generic(s, a, o, false, true, "pexpire");
  }
  static bool expireat(Session& s, const Args& a, ReplyWriter& o) {
    return expire_generic(s, a, o, true, false, "expireat");
  }
  static bool pexpireat(Session& s, const Args& a, ReplyWriter& o) {
    return expire_generic(s, a, o, false, false, "pexpireat");
  }

  static bool ttl_generic(Session& s, const Args& a, ReplyWriter& out, bool seconds) {
    Entry* e = store(s).find(a[1], s.now_);
    if (!e) {
      out.integer(-2);
    } else if (e->expires_at == 0) {
      out.integer(-1);
    } else {
      const std::int64_t left = std::max<std::int64_t>(e->expires_at - s.now_, 0);
      out.integer(seconds ? (left + 500) / 1000 : left);
    }
    return true;
  }
  static bool ttl(Session& s, const Args& a, ReplyWriter& o) { return ttl_generic(s, a, o, true); }
  static bool pttl(Session& s, const Args& a, ReplyWriter& o) {
    return ttl_generic(s, a, o, false);
  }

  static bool persist(Session& s, const Args& a, ReplyWriter& out) {
    Entry* e = store(s).find(a[1], s.now_);
    if (!e || e->expires_at == 0) {
      out.integer(0);
      return true;
    }
    store(s).set_expiry(a[1], *e, Store::kNoExpiry);
    log(s, a);
    out.integer(1);
    return true;
  }

  static bool keys(Session& s, const Args& a, ReplyWriter& out) {
    const bool all = a[1] == "*";
    std::vector<const std::string*> found;
    for (const auto& [key, entry] : store(s).table()) {
      if (entry.expires_at != 0 && entry.expires_at <= s.now_) continue;
      if (all || glob_match(a[1], key)) found.push_back(&key);
    }
    out.array_header(found.size());
    for (const std::string* k : found) out.bulk(*k);
    return true;
  }

  // SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]. The cursor is a bucket index of the hash
  // table: a key present for the whole iteration is returned unless the table grew meanwhile (a
  // simplification of redis-server's reverse-binary cursor; see README.md).
  static bool scan(Session& s, const Args& a, ReplyWriter& out) {
    std::uint64_t cursor = 0;
    {
      auto [p, ec] = std::from_chars(a[1].data(), a[1].data() + a[1].size(), cursor);
      if (ec != std::errc() || p != a[1].data() + a[1].size()) {
        out.error("ERR invalid cursor");
        return true;
      }
    }
    std::string_view pattern;
    std::string_view type_filter;
    std::int64_t count = 10;
    for (std::size_t j = 2; j < a.size(); j += 2) {
      if (j + 1 >= a.size()) {
        out.error(kSyntaxError);
        return true;
      }
      if (equals_nocase(a[j], "count")) {
        if (!parse_int64(a[j + 1], count)) {
          out.error(kNotInteger);
          return true;
        }
        if (count < 1) {
          out.error(kSyntaxError);
          return true;
        }
      } else if (equals_nocase(a[j], "match")) {
        pattern = a[j + 1];
      } else if (equals_nocase(a[j], "type")) {
        type_filter = a[j + 1];
      } else {
        out.error(kSyntaxError);
        return true;
      }
    }
    const Store::Table& table = store(s).table();
    const std::size_t buckets = table.bucket_count();
    std::vector<const std::string*> found;
    std::size_t bucket = cursor;
    std::int64_t visited = 0;
    while (bucket < buckets && visited < count) {
      for (auto it = table.begin(bucket); it != table.end(bucket); ++it) {
        ++visited;
        if (it->second.expires_at != 0 && it->second.expires_at <= s.now_) continue;
        if (!pattern.empty() && !glob_match(pattern, it->first)) continue;
        if (!type_filter.empty() && !equals_nocase(type_filter, "string")) continue;
        found.push_back(&it->first);
      }
      ++bucket;
    }
    out.array_header(2);
    out.bulk(bucket >= buckets ? "0" : to_text(static_cast<std::int64_t>(bucket)));
    out.array_header(found.size());
    for (const std::string* k : found) out.bulk(*k);
    return true;
  }

  static bool dbsize(Session& s, const Args&, ReplyWriter& out) {
    out.integer(static_cast<std::int64_t>(store(s).size()));
    return true;
  }

  static bool flushdb(Session& s, const Args& a, ReplyWriter& out) {
    if (a.size() > 2 || (a.size() == 2 && !equals_nocase(a[1], "async") &&
                         !equals_nocase(a[1], "sync"))) {
      out.error(kSyntaxError);
      return true;
    }
    store(s).clear();
    log(s, {"FLUSHDB"});
    out.ok();
    return true;
  }

  // --- server ----------------------------------------------------------------------------------

  static std::string info_text(Session& s, const Args& a) {
    Server& srv = s.server_;
    std::vector<std::string> wanted;
    for (std::size_t i = 1; i < a.size(); ++i) wanted.push_back(lowercase(a[i]));
    auto want = [&](std::string_view section, bool in_default) {
      if (wanted.empty()) return in_default;
      for (const std::string& w : wanted) {
        if (w == section || w == "all" || w == "everything" || (w == "default" && in_default)) {
          return true;
        }
      }
      return false;
    };
    std::string text;
    auto section = [&](std::string_view title) {
      if (!text.empty()) text += "\r\n";
      text += fmt::format("# {}\r\n", title);
    };
    const std::int64_t uptime = (unix_ms() - srv.started_ms) / 1000;
    if (want("server", true)) {
      section("Server");
      text += fmt::format(
          "redis_version:7.0.15\r\ngrove_kv_version:0.1\r\nredis_mode:standalone\r\nos:Linux\r\n"
          "arch_bits:64\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\ntcp_port:{}\r\n"
          "uptime_in_seconds:{}\r\nuptime_in_days:{}\r\n",
          ::getpid(), srv.config.port, uptime, uptime / 86400);
    }
    if (want("clients", true)) {
      section("Clients");
      text += fmt::format("connected_clients:{}\r\nmaxclients:{}\r\n", srv.clients.size(),
                          srv.config.maxclients);
    }
    if (want("persistence", true)) {
      section("Persistence");
      text += fmt::format("aof_enabled:{}\r\n", srv.aof ? 1 : 0);
      if (srv.aof) {
        text += fmt::format("aof_appendfsync:{}\r\naof_written_bytes:{}\r\naof_synced_bytes:{}\r\n"
                            "aof_fsyncs:{}\r\n",
                            to_string(srv.aof->policy()), srv.aof->written_bytes(),
                            srv.aof->synced_bytes(), srv.aof->fsyncs());
      }
    }
    if (want("stats", true)) {
      section("Stats");
      text += fmt::format(
          "total_connections_received:{}\r\ntotal_commands_processed:{}\r\n"
          "rejected_connections:{}\r\nclient_query_buffer_limit_disconnections:{}\r\n"
          "client_output_buffer_limit_disconnections:{}\r\nexpired_keys:{}\r\n"
          "keyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\n",
          srv.connections_received, srv.commands_processed, srv.rejected_connections,
          srv.query_buffer_limit_disconnections, srv.output_buffer_limit_disconnections,
          srv.store->expired_keys,
          srv.store->keyspace_hits, srv.store->keyspace_misses,
          srv.pubsub ? srv.pubsub->channel_count() : 0);
    }
    if (want("supervision", true)) {
      section("Supervision");
      // One line per child of the root supervisor, as redis prints cmdstat_/db0 lines.
      std::uint64_t restarts = 0;
      for (const Server::Child& child : srv.children) {
        const std::uint64_t child_restarts = child.starts > 0 ? child.starts - 1 : 0;
        restarts += child_restarts;
        text += fmt::format("child_{}:starts={},restarts={}\r\n", child.id, child.starts,
                            child_restarts);
      }
      text += fmt::format("total_child_restarts:{}\r\n", restarts);
    }
    if (want("keyspace", true)) {
      section("Keyspace");
      if (srv.store->size() > 0) {
        text += fmt::format("db0:keys={},expires={},avg_ttl=0\r\n", srv.store->size(),
                            srv.store->volatile_count());
      }
    }
    return text;
  }

  static bool info(Session& s, const Args& a, ReplyWriter& out) {
    out.bulk(info_text(s, a));
    return true;
  }

  static std::string client_line(const Session& c, std::int64_t now) {
    return fmt::format(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db=0 sub={} psub=0 "
        "ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 "
        "omem={} tot-mem=0 events=r cmd={} user=default redir=-1 resp=2\n",
        c.info().id, c.info().addr, c.info().laddr, c.info().fd, c.name(),
        (now - c.info().created_ms) / 1000, (now - c.last_active_ms) / 1000,
        c.subscriptions() > 0 ? "P" : "N", c.subscriptions(), c.output_bytes(),
        c.last_command.empty() ? "NULL" : c.last_command);
  }

  static bool client(Session& s, const Args& a, ReplyWriter& out) {
    const std::string sub = lowercase(a[1]);
    if (sub == "setname") {
      if (a.size() != 3) return wrong_arity(out, "client|setname"), true;
      for (char c : a[2]) {
        if (c < '!' || c > '~') {
          out.error("ERR Client names cannot contain spaces, newlines or special characters.");
          return true;
        }
      }
      s.name_ = std::string(a[2]);
      out.ok();
    } else if (sub == "getname") {
      if (a.size() != 2) return wrong_arity(out, "client|getname"), true;
      if (s.name_.empty()) out.null_bulk(); else out.bulk(s.name_);
    } else if (sub == "id") {
      if (a.size() != 2) return wrong_arity(out, "client|id"), true;
      out.integer(static_cast<std::int64_t>(s.info_.id));
    } else if (sub == "list") {
      std::string text;
      for (const auto& [id, c] : s.server_.clients) text += client_line(*c, s.now_);
      out.bulk(text);
    } else if (sub == "info") {
      out.bulk(client_line(s, s.now_));
    } else {
      out.error(fmt::format("ERR unknown subcommand '{:.128}'. Try CLIENT HELP.", a[1]));
    }
    return true;
  }

  static const std::vector<Spec>& table();

  static void command_info(const Spec& spec, ReplyWriter& out) {
    out.array_header(10);
    out.bulk(spec.name);
    out.integer(spec.arity);
    out.array_header(1);
    out.simple(spec.flags);
    const bool has_key = std::strcmp(spec.flags, "write") == 0 ||
                         std::strcmp(spec.flags, "readonly") == 0;
    out.integer(has_key ? 1 : 0);
    out.integer(has_key ? 1 : 0);
    out.integer(has_key ? 1 : 0);
    out.array_header(0);  // ACL categories
    out.array_header(0);  // tips
    out.array_header(0);  // key specs
    out.array_header(0);  // subcommands
  }

  static bool command(Session&, const Args& a, ReplyWriter& out) {
    if (a.size() == 1) {
      out.array_header(table().size());
      for (const Spec& spec : table()) command_info(spec, out);
      return true;
    }
    const std::string sub = lowercase(a[1]);
    if (sub == "count") {
      if (a.size() != 2) return wrong_arity(out, "command|count"), true;
      out.integer(static_cast<std::int64_t>(table().size()));
    } else if (sub == "docs") {
      out.array_header(0);  // redis-cli falls back to its built-in hints
    } else if (sub == "info") {
      out.array_header(a.size() - 2);
      for (std::size_t i = 2; i < a.size(); ++i) {
        const Spec* spec = find(a[i]);
        if (spec) command_info(*spec, out); else out.null_array();
      }
    } else if (sub == "list") {
      out.array_header(table().size());
      for (const Spec& spec : table()) out.bulk(spec.name);
    } else {
      out.error(fmt::format("ERR unknown subcommand '{:.128}'. Try COMMAND HELP.", a[1]));
    }
    return true;
  }

  static bool config(Session& s, const Args& a, ReplyWriter& out) {
    const std::string sub = lowercase(a[1]);
    if (sub == "get") {
      if (a.size() < 3) return wrong_arity(out, "config|get"), true;
      config_get(s.server_.config, Args(a.begin() + 2, a.end()), out);
    } else if (sub == "resetstat") {
      s.server_.commands_processed = 0;
      s.server_.rejected_connections = 0;
      s.server_.query_buffer_limit_disconnections = 0;
      s.server_.output_buffer_limit_disconnections = 0;
      s.server_.store->keyspace_hits = s.server_.store->keyspace_misses = 0;
      out.ok();
    } else if (sub == "set") {
      if (a.size() < 4) return wrong_arity(out, "config|set"), true;
      if (auto error = config_set(s.server_.config, Args(a.begin() + 2, a.end()))) {
        out.error(*error);
      } else {
        out.ok();
      }
    } else {
      out.error(fmt::format("ERR unknown subcommand '{:.128}'. Try CONFIG HELP.", a[1]));
    }
    return true;
  }

  // DEBUG CRASH-KEYSPACE: the keyspace actor throws (its supervisor restarts it).
  // DEBUG CRASH-CONNECTION: this connection's actor throws (only this connection dies).
  // DEBUG CRASH-CHILD id: that child of the root supervisor is killed (and restarted).
  // DEBUG HELP: the list, in redis-server's form. Anything else (or a wrong number of
  // arguments) gets redis-server 7.0's DEBUG error.
  static bool debug(Session& s, const Args& a, ReplyWriter& out) {
    const std::string sub = lowercase(a[1]);
    if (a.size() == 2 && sub == "help") {
      static constexpr const char* kHelp[] = {
          "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
          "CRASH-KEYSPACE",
          "    The keyspace actor throws; its supervisor restarts it (INFO supervision counts",
          "    the restart; no acknowledged write is lost).",
          "CRASH-CONNECTION",
          "    This connection's actor throws; only this client is disconnected.",
          "CRASH-CHILD <id>",
          "    Kills the root supervisor's child <id> (persistence, keyspace, expiry, pubsub,",
          "    connections, listener); the supervisor restarts it.",
          "HELP",
          "    Prints this help.",
      };
      out.array_header(std::size(kHelp));
      for (const char* line : kHelp) out.simple(line);
    } else if (a.size() == 2 && sub == "crash-keyspace") {
      const grove::ActorRef keyspace = grove::whereis(kKeyspaceName);
      if (!keyspace) {
        out.error("ERR the keyspace actor is not running");
        return true;
      }
      grove::send(keyspace, CrashKeyspace{});
      out.ok();
    } else if (a.size() == 3 && sub == "crash-child") {
      for (const grove::ChildInfo& child : s.server_.root.which_children()) {
        if (child.id == a[2] && child.actor) {
          // The untrappable kill: a supervisor child traps exits and would take any other
          // signal from this connection for news about one of its own children.
          grove::exit(child.actor, grove::ExitReason::kill());
          out.ok();
          return true;
        }
      }
      out.error(fmt::format("ERR no running child '{:.128}' (INFO supervision lists them)", a[2]));
    } else if (a.size() == 2 && sub == "crash-connection") {
      throw std::runtime_error(fmt::format("DEBUG CRASH-CONNECTION from client {}", s.info_.id));
    } else {
      out.error(fmt::format(
          "ERR unknown subcommand or wrong number of arguments for '{:.128}'. Try DEBUG HELP.",
          a[1]));
    }
    return true;
  }

  // --- pub/sub ---------------------------------------------------------------------------------

  static bool subscribe(Session& s, const Args& a, ReplyWriter& out) {
    if (!s.output_) return true;
    s.output_->start_pushing();
    for (std::size_t i = 1; i < a.size(); ++i) {
      std::string channel(a[i]);
      if (s.channels_.insert(channel).second) s.server_.pubsub->subscribe(channel, s.output_);
      out.array_header(3);
      out.bulk("subscribe");
      out.bulk(channel);
      out.integer(static_cast<std::int64_t>(s.channels_.size()));
    }
    s.output_->set_pubsub(!s.channels_.empty());
    return true;
  }

  static void unsubscribe_one(Session& s, const std::string& channel, ReplyWriter* out) {
    if (s.channels_.erase(channel) > 0) {
      s.server_.pubsub->unsubscribe(channel, s.output_.get());
      if (s.channels_.empty()) s.output_->set_pubsub(false);
    }
    if (!out) return;
    out->array_header(3);
    out->bulk("unsubscribe");
    out->bulk(channel);
    out->integer(static_cast<std::int64_t>(s.channels_.size()));
  }

  static bool unsubscribe(Session& s, const Args& a, ReplyWriter& out) {
    if (a.size() == 1) {
      if (s.channels_.empty()) {
        out.array_header(3);
        out.bulk("unsubscribe");
        out.null_bulk();
        out.integer(0);
      }
      const std::vector<std::string> all(s.channels_.begin(), s.channels_.end());
      for (const std::string& channel : all) unsubscribe_one(s, channel, &out);
    } else {
      for (std::size_t i = 1; i < a.size(); ++i) unsubscribe_one(s, std::string(a[i]), &out);
    }
    return true;
  }

  static bool publish(Session& s, const Args& a, ReplyWriter& out) {
    out.integer(static_cast<std::int64_t>(s.server_.pubsub->publish(a[1], a[2])));
    return true;
  }

  // --- lookup ----------------------------------------------------------------------------------

  static const Spec* find(std::string_view name) {
    static const auto* index = [] {
      auto* m = new std::unordered_map<std::string, const Spec*>;
      for (const Spec& spec : table()) (*m)[spec.name] = &spec;
      return m;
    }();
    char lower[32];
    if (name.size() >= sizeof lower) return nullptr;
    for (std::size_t i = 0; i < name.size(); ++i) {
      lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
    }
    auto it = index->find(std::string(lower, name.size()));
    return it == index->end() ? nullptr : it->second;
  }
};

const std::vector<Commands::Spec>& Commands::table() {
  static const std::vector<Spec> specs = {
      {"ping", -1, &Commands::ping, "fast"},
      {"echo", 2, &Commands::echo, "fast"},
      {"select", 2, &Commands::select, "fast"},
      {"quit", -1, &Commands::quit, "fast"},
      {"shutdown", -1, &Commands::shutdown, "admin"},
      {"get", 2, &Commands::get, "readonly"},
      {"set", -3, &Commands::set, "write"},
      {"getset", 3, &Commands::getset, "write"},
      {"incr", 2, &Commands::incr, "write"},
      {"decr", 2, &Commands::decr, "write"},
      {"incrby", 3, &Commands::incrby, "write"},
      {"decrby", 3, &Commands::decrby, "write"},
      {"append", 3, &Commands::append, "write"},
      {"strlen", 2, &Commands::strlen, "readonly"},
      {"mget", -2, &Commands::mget, "readonly"},
      {"mset", -3, &Commands::mset, "write"},
      {"del", -2, &Commands::del, "write"},
      {"exists", -2, &Commands::exists, "readonly"},
      {"type", 2, &Commands::type, "readonly"},
      {"expire", -3, &Commands::expire, "write"},
      {"pexpire", -3, &Commands::pexpire, "write"},
      {"expireat", -3, &Commands::expireat, "write"},
      {"pexpireat", -3, &Commands::pexpireat, "write"},
      {"ttl", 2, &Commands::ttl, "readonly"},
      {"pttl", 2, &Commands::pttl, "readonly"},
      {"persist", 2, &Commands::persist, "write"},
      {"keys", 2, &Commands::keys, "readonly"},
      {"scan", -2, &Commands::scan, "readonly"},
      {"dbsize", 1, &Commands::dbsize, "readonly"},
      {"flushdb", -1, &Commands::flushdb, "write"},
      {"info", -1, &Commands::info, "loading"},
      {"client", -2, &Commands::client, "admin"},
      {"command", -1, &Commands::command, "loading"},
      {"config", -2, &Commands::config, "admin"},
      {"debug", -2, &Commands::debug, "admin"},
      {"subscribe", -2, &Commands::subscribe, "pubsub"},
      {"unsubscribe", -1, &Commands::unsubscribe, "pubsub"},
      {"publish", 3, &Commands::publish, "pubsub"},
  };
  return specs;
}

// --- Session -------------------------------------------------------------------------------------

Session::Session(Server& server, ClientInfo info, std::shared_ptr<ClientOutput> output)
    : server_(server), info_(std::move(info)), output_(std::move(output)) {
  if (info_.id != 0) server_.clients.emplace(info_.id, this);
  last_active_ms = info_.created_ms;
}

Session::~Session() {
  for (const std::string& channel : channels_) {
    server_.pubsub->unsubscribe(channel, output_.get());
  }
  if (output_) output_->stop();
  if (info_.id != 0) server_.clients.erase(info_.id);
}

bool Session::execute(const std::vector<std::string_view>& args, std::string& out_buffer) {
  ReplyWriter out(out_buffer);
  ++server_.commands_processed;
  const Commands::Spec* spec = Commands::find(args[0]);
  if (spec == nullptr) {
    std::string shown;
    for (std::size_t i = 1; i < args.size() && shown.size() < 128; ++i) {
      shown += fmt::format("'{}' ", args[i].substr(0, 128 - shown.size()));
    }
    out.error(fmt::format("ERR unknown command '{}', with args beginning with: {}",
                          args[0].substr(0, 128), shown));
    return true;
  }
  if ((spec->arity > 0 && static_cast<int>(args.size()) != spec->arity) ||
      static_cast<int>(args.size()) < -spec->arity) {
    Commands::wrong_arity(out, spec->name);
    return true;
  }
  if (!channels_.empty() && spec->fn != &Commands::subscribe &&
      spec->fn != &Commands::unsubscribe && spec->fn != &Commands::ping &&
      spec->fn != &Commands::quit) {
    out.error(fmt::format(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
        "are allowed in this context",
        spec->name));
    return true;
  }
  last_command = spec->name;
  if (args.size() > 1 && (spec->fn == &Commands::client || spec->fn == &Commands::config ||
                          spec->fn == &Commands::command || spec->fn == &Commands::debug)) {
    last_command += '|';
    for (char c : args[1]) last_command += static_cast<char>(std::tolower(c));
  }
  last_active_ms = now_;
  return spec->fn(*this, args, out);
}

void replay_request(Server& server, const std::vector<std::string_view>& args) {
  static std::string discarded;
  Session replayer(server, ClientInfo{}, nullptr);  // id 0: replaying, nothing is logged
  discarded.clear();
  replayer.start_batch();
  replayer.execute(args, discarded);
}

}  // namespace kv
