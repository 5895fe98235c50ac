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
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <unistd.h>
#include <unordered_map>

#include <fmt/format.h>

#include "actors/registry.h"
#include "examples/kv/command_kit.h"
#include "examples/kv/commands_server.h"
#include "examples/kv/config.h"
#include "examples/kv/events.h"
#include "examples/kv/glob.h"
#include "examples/kv/keyspace.h"
#include "examples/kv/pubsub.h"
#include "examples/kv/server.h"
#include "examples/kv/shards.h"
#include "examples/kv/stats.h"
#include "hub/wait.h"

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

constexpr std::string_view kRedisVersion = "7.0.15";  // the redis-server we answer as
constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
constexpr std::string_view kSyntaxError = "ERR syntax error";
constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";

// A long double as redis-server's string2ld accepts it: no leading space, nothing after the
// number, not NaN, no overflow.
bool parse_long_double(std::string_view text, long double& value) {
  if (text.empty() || text.size() >= 5 * 1024 || std::isspace(static_cast<unsigned char>(text[0]))) {
    return false;
  }
  const std::string buffer(text);
  char* end = nullptr;
  errno = 0;
  const long double v = std::strtold(buffer.c_str(), &end);
  if (*end != '\0' || errno == EINVAL || std::isnan(v) ||
      (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0))) {
    return false;
  }
  value = v;
  return true;
}

// redis-server's "human" long double format: 17 decimals, trailing zeros (and a bare point)
// removed, "-0" printed as "0".
std::string format_long_double(long double value) {
  std::string text = fmt::format("{:.17f}", value);
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

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
  static std::int64_t now(Session& s) { return s.now_; }
  static Server& server(Session& s) { return s.server_; }
  static bool replaying(Session& s) { return s.info_.id == 0; }
  static bool logging(Session& s) { return s.server_.aof && !replaying(s); }
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
  // A write of `key`: its watchers and the keyspace notifications (kv/events.h). Called once per
  // event, in redis-server's order.
  static void changed(Session& s, std::string_view key, unsigned cls, std::string_view event) {
    if (replaying(s)) return;
    key_changed(s.server_, key, cls, event);
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

  // HELLO [protover [AUTH user pass] [SETNAME name]]: RESP2 only (HELLO 3 gets NOPROTO, as from
  // a redis-server that never had RESP3).
  static bool hello(Session& s, const Args& a, ReplyWriter& out) {
    std::size_t j = 1;
    if (a.size() >= 2) {
      std::int64_t version = 0;
      if (!parse_int64(a[1], version)) {
        out.error("ERR Protocol version is not an integer or out of range");
        return true;
      }
      if (version != 2) {
        out.error("NOPROTO unsupported protocol version");
        return true;
      }
      j = 2;
    }
    std::string_view name;
    bool set_name = false;
    for (; j < a.size(); ++j) {
      const bool has_next = j + 1 < a.size();
      if (equals_nocase(a[j], "auth") && j + 2 < a.size()) {
        if (a[j + 1] != "default") {  // the one user, without a password (redis's default)
          out.error("WRONGPASS invalid username-password pair or user is disabled.");
          return true;
        }
        j += 2;
      } else if (equals_nocase(a[j], "setname") && has_next) {
        name = a[++j];
        set_name = true;
      } else {
        out.error(fmt::format("ERR Syntax error in HELLO option '{:.128}'", a[j]));
        return true;
      }
    }
    if (set_name) {
      if (!valid_client_name(name)) {
        out.error("ERR Client names cannot contain spaces, newlines or special characters.");
        return true;
      }
      s.name_ = std::string(name);
    }
    out.array_header(14);
    out.bulk("server");
    out.bulk("redis");
    out.bulk("version");
    out.bulk(kRedisVersion);
    out.bulk("proto");
    out.integer(2);
    out.bulk("id");
    out.integer(static_cast<std::int64_t>(s.info_.id));
    out.bulk("mode");
    out.bulk("standalone");
    out.bulk("role");
    out.bulk("master");
    out.bulk("modules");
    out.array_header(0);
    return true;
  }

  static bool valid_client_name(std::string_view name) {
    for (char c : name) {
      if (c < '!' || c > '~') return false;
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

  static bool wrong_type(ReplyWriter& out) {
    out.error(kWrongType);
    return true;
  }
  // Whether `e` (null: missing) may be used as `type`.
  static bool holds(const Entry* e, ValueType type) { return e == nullptr || e->type() == type; }

  // The expiry options of SET and GETEX, parsed as redis-server's
  // parseExtendedStringArgumentsOrReply does (an option may repeat; conflicting ones may not).
  enum ExpiryFlags : unsigned {
    kNx = 1, kXx = 2, kGet = 4, kKeepTtl = 8, kEx = 16, kPx = 32, kExAt = 64, kPxAt = 128,
    kPersist = 256,
    kAnyExpire = kEx | kPx | kExAt | kPxAt,
  };
  struct ExpiryOptions {
    unsigned flags = 0;
    std::string_view expire_arg;
  };
  // False: syntax error. `for_set`: SET's options (NX, XX, GET, KEEPTTL); else GETEX's (PERSIST).
  static bool parse_expiry_options(const Args& a, std::size_t from, bool for_set,
                                   ExpiryOptions& o) {
    for (std::size_t j = from; j < a.size(); ++j) {
      const std::string_view opt = a[j];
      const bool has_next = j + 1 < a.size();
      auto expire_kind = [&](unsigned kind, std::string_view name) {
        return equals_nocase(opt, name) && has_next &&
               !(o.flags & (kKeepTtl | kPersist | (kAnyExpire & ~kind)));
      };
      if (for_set && equals_nocase(opt, "nx") && !(o.flags & kXx)) {
        o.flags |= kNx;
      } else if (for_set && equals_nocase(opt, "xx") && !(o.flags & kNx)) {
        o.flags |= kXx;
      } else if (for_set && equals_nocase(opt, "get")) {
        o.flags |= kGet;
      } else if (for_set && equals_nocase(opt, "keepttl") && !(o.flags & kAnyExpire)) {
        o.flags |= kKeepTtl;
      } else if (!for_set && equals_nocase(opt, "persist") && !(o.flags & kAnyExpire)) {
        o.flags |= kPersist;
      } else if (expire_kind(kEx, "ex") || expire_kind(kPx, "px") ||
                 expire_kind(kExAt, "exat") || expire_kind(kPxAt, "pxat")) {
        o.flags |= equals_nocase(opt, "ex")     ? kEx
                   : equals_nocase(opt, "px")   ? kPx
                   : equals_nocase(opt, "exat") ? kExAt
                                                : kPxAt;
        o.expire_arg = a[++j];
      } else {
        return false;
      }
    }
    return true;
  }

  // The absolute expiry (Unix ms) an EX/PX/EXAT/PXAT argument names, as redis-server's
  // getExpireMillisecondsOrReply computes and rejects it. False: the error was replied.
  static bool expiry_time(Session& s, std::string_view arg, unsigned kind, const char* command,
                          ReplyWriter& out, std::int64_t& at) {
    std::int64_t v = 0;
    if (!parse_int64(arg, v)) {
      out.error(kNotInteger);
      return false;
    }
    const bool seconds = kind & (kEx | kExAt);
    const std::string invalid = fmt::format("ERR invalid expire time in '{}' command", command);
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) {
      out.error(invalid);
      return false;
    }
    if (seconds) v *= 1000;
    if ((kind & (kEx | kPx)) && add_overflows(v, s.now_, v)) {
      out.error(invalid);
      return false;
    }
    at = v;
    return true;
  }

  // Logs a string write as SET plus the expiry it kept (relative times become absolute).
  static void log_string(Session& s, std::string_view key, const Entry& e) {
    if (!s.server_.aof || replaying(s)) return;
    log(s, {"SET", key, std::get<std::string>(e.value)});
    if (e.expires_at != Store::kNoExpiry) log_expiry(s, key, e.expires_at);
  }

  static bool get(Session& s, const Args& a, ReplyWriter& out) {
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!e) {
      out.null_bulk();
      return true;
    }
    if (e->type() != ValueType::kString) return wrong_type(out);
    out.bulk(e->str());
    return true;
  }

  // SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
  static bool set(Session& s, const Args& a, ReplyWriter& out) {
    ExpiryOptions o;
    if (!parse_expiry_options(a, 3, true, o)) {
      out.error(kSyntaxError);
      return true;
    }
    std::int64_t expires_at = Store::kNoExpiry;
    if ((o.flags & kAnyExpire) &&
        !expiry_time(s, o.expire_arg, o.flags & kAnyExpire, "set", out, expires_at)) {
      return true;
    }
    Store& st = store(s);
    // With GET, the old value is read (counted as a hit or a miss, as redis-server's GET is).
    Entry* old = (o.flags & kGet) ? st.find_for_read(a[1], s.now_) : st.find(a[1], s.now_);
    if (o.flags & kGet) {
      if (!holds(old, ValueType::kString)) return wrong_type(out);
      if (old) out.bulk(old->str()); else out.null_bulk();
    }
    if (((o.flags & kNx) && old) || ((o.flags & kXx) && !old)) {
      if (!(o.flags & kGet)) out.null_bulk();
      return true;
    }
    if ((o.flags & kKeepTtl) && old) expires_at = old->expires_at;
    log_string(s, a[1], st.set(a[1], a[2], expires_at));
    changed(s, a[1], kNotifyString, "set");
    if (o.flags & kAnyExpire) changed(s, a[1], kNotifyGeneric, "expire");
    if (!(o.flags & kGet)) out.ok();
    return true;
  }

  // SETNX key value
  static bool setnx(Session& s, const Args& a, ReplyWriter& out) {
    Store& st = store(s);
    if (st.find(a[1], s.now_)) {
      out.integer(0);
      return true;
    }
    log_string(s, a[1], st.set(a[1], a[2], Store::kNoExpiry));
    changed(s, a[1], kNotifyString, "set");
    out.integer(1);
    return true;
  }

  // SETEX key seconds value / PSETEX key milliseconds value
  static bool setex_generic(Session& s, const Args& a, ReplyWriter& out, unsigned kind,
                            const char* name) {
    std::int64_t at = 0;
    if (!expiry_time(s, a[2], kind, name, out, at)) return true;
    log_string(s, a[1], store(s).set(a[1], a[3], at));
    changed(s, a[1], kNotifyString, "set");
    changed(s, a[1], kNotifyGeneric, "expire");
    out.ok();
    return true;
  }
  static bool setex(Session& s, const Args& a, ReplyWriter& o) {
    return setex_generic(s, a, o, kEx, "setex");
  }
  static bool psetex(Session& s, const Args& a, ReplyWriter& o) {
    return setex_generic(s, a, o, kPx, "psetex");
  }

  // GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]
  static bool getex(Session& s, const Args& a, ReplyWriter& out) {
    ExpiryOptions o;
    if (!parse_expiry_options(a, 2, false, o)) {
      out.error(kSyntaxError);
      return true;
    }
    Store& st = store(s);
    Entry* e = st.find_for_read(a[1], s.now_);
    if (!e) {
      out.null_bulk();
      return true;
    }
    if (e->type() != ValueType::kString) return wrong_type(out);
    std::int64_t at = 0;
    const unsigned kind = o.flags & kAnyExpire;
    if (kind && !expiry_time(s, o.expire_arg, kind, "getex", out, at)) return true;
    out.bulk(e->str());
    if ((kind & (kExAt | kPxAt)) && at <= s.now_) {
      st.erase(a[1]);
      log(s, {"DEL", a[1]});
      changed(s, a[1], kNotifyGeneric, "del");
    } else if (kind) {
      st.set_expiry(a[1], *e, at);
      log_expiry(s, a[1], at);
      changed(s, a[1], kNotifyGeneric, "expire");
    } else if ((o.flags & kPersist) && e->expires_at != Store::kNoExpiry) {
      st.set_expiry(a[1], *e, Store::kNoExpiry);
      log(s, {"PERSIST", a[1]});
      changed(s, a[1], kNotifyGeneric, "persist");
    }
    return true;
  }

  static bool getdel(Session& s, const Args& a, ReplyWriter& out) {
    Store& st = store(s);
    Entry* e = st.find_for_read(a[1], s.now_);
    if (!e) {
      out.null_bulk();
      return true;
    }
    if (e->type() != ValueType::kString) return wrong_type(out);
    out.bulk(e->str());
    st.erase(a[1]);
    log(s, {"DEL", a[1]});
    changed(s, a[1], kNotifyGeneric, "del");
    return true;
  }

  static bool getset(Session& s, const Args& a, ReplyWriter& out) {
    Store& st = store(s);
    Entry* old = st.find_for_read(a[1], s.now_);
    if (!holds(old, ValueType::kString)) return wrong_type(out);
    if (old) out.bulk(old->str()); else out.null_bulk();
    st.set(a[1], a[2], Store::kNoExpiry);
    log(s, a);
    changed(s, a[1], kNotifyString, "set");
    return true;
  }

  // The string entry INCR-like commands work on: created empty when missing. Null (and the
  // error replied) when the key holds another type.
  static Entry* string_for_update(Session& s, std::string_view key, ReplyWriter& out,
                                  bool& created) {
    auto [e, fresh] = store(s).find_or_create(key, s.now_, ValueType::kString);
    created = fresh;
    if (e->type() != ValueType::kString) {
      wrong_type(out);
      return nullptr;
    }
    return e;
  }

  static bool incr_by(Session& s, const Args& a, std::int64_t by, ReplyWriter& out) {
    Store& st = store(s);
    bool created = false;
    Entry* e = string_for_update(s, a[1], out, created);
    if (!e) return true;
    std::int64_t value = 0;
    if (!created && !parse_int64(e->str(), value)) {
      out.error(kNotInteger);
      return true;
    }
    if (add_overflows(value, by, value)) {
      if (created) st.erase(a[1]);
      out.error("ERR increment or decrement would overflow");
      return true;
    }
    e->str() = to_text(value);
    log_string(s, a[1], *e);
    changed(s, a[1], kNotifyString, "incrby");
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

  // INCRBYFLOAT key increment: long double arithmetic, printed with 17 decimals less the
  // trailing zeros (redis-server's "human" long double format).
  static bool incrbyfloat(Session& s, const Args& a, ReplyWriter& out) {
    Store& st = store(s);
    Entry* e = st.find(a[1], s.now_);
    if (!holds(e, ValueType::kString)) return wrong_type(out);
    long double value = 0, by = 0;
    if ((e && !parse_long_double(e->str(), value)) || !parse_long_double(a[2], by)) {
      out.error("ERR value is not a valid float");
      return true;
    }
    value += by;
    if (std::isnan(value) || std::isinf(value)) {
      out.error("ERR increment would produce NaN or Infinity");
      return true;
    }
    const std::string text = format_long_double(value);
    Entry& updated = st.set(a[1], text, e ? e->expires_at : Store::kNoExpiry);
    log_string(s, a[1], updated);
    changed(s, a[1], kNotifyString, "incrbyfloat");
    out.bulk(text);
    return true;
  }

  static bool append(Session& s, const Args& a, ReplyWriter& out) {
    Store& st = store(s);
    bool created = false;
    Entry* e = string_for_update(s, a[1], out, created);
    if (!e) return true;
    if (!fits_string(s, e->str().size() + a[2].size(), out)) {
      if (created) st.erase(a[1]);
      return true;
    }
    e->str().append(a[2]);
    out.integer(static_cast<std::int64_t>(e->str().size()));
    log(s, a);
    changed(s, a[1], kNotifyString, "append");
    return true;
  }

  // Whether a string of `size` bytes is allowed (proto-max-bulk-len); replies the error if not.
  static bool fits_string(Session& s, std::uint64_t size, ReplyWriter& out) {
    if (size > static_cast<std::uint64_t>(s.server_.config.proto_max_bulk_len)) {
      out.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
      return false;
    }
    return true;
  }

  static bool strlen(Session& s, const Args& a, ReplyWriter& out) {
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!holds(e, ValueType::kString)) return wrong_type(out);
    out.integer(e ? static_cast<std::int64_t>(e->str().size()) : 0);
    return true;
  }

  // SETRANGE key offset value
  static bool setrange(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t offset = 0;
    if (!parse_int64(a[2], offset)) {
      out.error(kNotInteger);
      return true;
    }
    if (offset < 0) {
      out.error("ERR offset is out of range");
      return true;
    }
    Store& st = store(s);
    Entry* e = st.find(a[1], s.now_);
    if (!holds(e, ValueType::kString)) return wrong_type(out);
    const std::string_view value = a[3];
    if (value.empty()) {
      out.integer(e ? static_cast<std::int64_t>(e->str().size()) : 0);
      return true;
    }
    if (!fits_string(s, static_cast<std::uint64_t>(offset) + value.size(), out)) return true;
    if (!e) e = st.find_or_create(a[1], s.now_, ValueType::kString).first;
    std::string& str = e->str();
    const std::size_t end = static_cast<std::size_t>(offset) + value.size();
    if (str.size() < end) str.resize(end, '\0');
    str.replace(static_cast<std::size_t>(offset), value.size(), value);
    out.integer(static_cast<std::int64_t>(str.size()));
    log(s, a);
    changed(s, a[1], kNotifyString, "setrange");
    return true;
  }

  // GETRANGE key start end (and SUBSTR)
  static bool getrange(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t start = 0, end = 0;
    if (!parse_int64(a[2], start) || !parse_int64(a[3], end)) {
      out.error(kNotInteger);
      return true;
    }
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!e) {
      out.bulk("");
      return true;
    }
    if (e->type() != ValueType::kString) return wrong_type(out);
    const std::string& str = e->str();
    const auto len = static_cast<std::int64_t>(str.size());
    if (start < 0 && end < 0 && start > end) {
      out.bulk("");
      return true;
    }
    if (start < 0) start = std::max<std::int64_t>(len + start, 0);
    if (end < 0) end = std::max<std::int64_t>(len + end, 0);
    if (end >= len) end = len - 1;
    if (start > end || len == 0) {
      out.bulk("");
    } else {
      out.bulk(std::string_view(str).substr(static_cast<std::size_t>(start),
                                            static_cast<std::size_t>(end - start + 1)));
    }
    return true;
  }

  // The bit offset of SETBIT/GETBIT: non-negative and inside proto-max-bulk-len bytes.
  static bool bit_offset(Session& s, std::string_view arg, ReplyWriter& out,
                         std::uint64_t& offset) {
    std::int64_t v = 0;
    if (!parse_int64(arg, v) || v < 0 ||
        (v >> 3) >= s.server_.config.proto_max_bulk_len) {
      out.error("ERR bit offset is not an integer or out of range");
      return false;
    }
    offset = static_cast<std::uint64_t>(v);
    return true;
  }
  static int bit_at(std::string_view str, std::uint64_t bit) {
    const std::uint64_t byte = bit >> 3;
    if (byte >= str.size()) return 0;
    return (static_cast<unsigned char>(str[byte]) >> (7 - (bit & 7))) & 1;
  }

  // SETBIT key offset 0|1
  static bool setbit(Session& s, const Args& a, ReplyWriter& out) {
    std::uint64_t offset = 0;
    if (!bit_offset(s, a[2], out, offset)) return true;
    if (a[3] != "0" && a[3] != "1") {
      out.error("ERR bit is not an integer or out of range");
      return true;
    }
    bool created = false;
    Entry* e = string_for_update(s, a[1], out, created);
    if (!e) return true;
    std::string& str = e->str();
    const std::uint64_t byte = offset >> 3;
    if (str.size() <= byte) str.resize(byte + 1, '\0');
    const int old = bit_at(str, offset);
    const auto mask = static_cast<unsigned char>(1u << (7 - (offset & 7)));
    auto& c = reinterpret_cast<unsigned char&>(str[byte]);
    c = a[3] == "1" ? (c | mask) : (c & ~mask);
    out.integer(old);
    log(s, a);
    changed(s, a[1], kNotifyString, "setbit");
    return true;
  }

  static bool getbit(Session& s, const Args& a, ReplyWriter& out) {
    std::uint64_t offset = 0;
    if (!bit_offset(s, a[2], out, offset)) return true;
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!holds(e, ValueType::kString)) return wrong_type(out);
    out.integer(e ? bit_at(e->str(), offset) : 0);
    return true;
  }

  // The bit range [first, last] of BITCOUNT/BITPOS's start/end arguments over a string of
  // `len` bytes (negative indexes count from the end; BYTE units unless `in_bits`). False when
  // the range is empty.
  static bool bit_range(std::int64_t start, std::int64_t end, std::int64_t len, bool in_bits,
                        std::int64_t& first, std::int64_t& last) {
    const std::int64_t total = in_bits ? len * 8 : len;
    if (start < 0) start = std::max<std::int64_t>(total + start, 0);
    if (end < 0) end = std::max<std::int64_t>(total + end, 0);
    if (end >= total) end = total - 1;
    if (start > end) return false;
    first = in_bits ? start : start * 8;
    last = in_bits ? end : end * 8 + 7;
    return true;
  }
  // BYTE or BIT at a[i]; false: syntax error.
  static bool parse_bit_unit(std::string_view arg, bool& in_bits) {
    if (equals_nocase(arg, "bit")) in_bits = true;
    else if (equals_nocase(arg, "byte")) in_bits = false;
    else return false;
    return true;
  }

  // BITCOUNT key [start end [BYTE|BIT]]
  static bool bitcount(Session& s, const Args& a, ReplyWriter& out) {
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!e) {
      out.integer(0);
      return true;
    }
    if (e->type() != ValueType::kString) return wrong_type(out);
    const std::string& str = e->str();
    const auto len = static_cast<std::int64_t>(str.size());
    std::int64_t start = 0, end = -1;
    bool in_bits = false;
    if (a.size() == 4 || a.size() == 5) {
      if (!parse_int64(a[2], start) || !parse_int64(a[3], end)) {
        out.error(kNotInteger);
        return true;
      }
      if (a.size() == 5 && !parse_bit_unit(a[4], in_bits)) {
        out.error(kSyntaxError);
        return true;
      }
      if (start < 0 && end < 0 && start > end) {
        out.integer(0);
        return true;
      }
    } else if (a.size() != 2) {
      out.error(kSyntaxError);
      return true;
    }
    std::int64_t first = 0, last = 0, count = 0;
    if (bit_range(start, end, len, in_bits, first, last)) {
      for (std::int64_t bit = first; bit <= last;) {
        if ((bit & 7) == 0 && bit + 7 <= last) {
          count += __builtin_popcount(static_cast<unsigned char>(str[bit >> 3]));
          bit += 8;
        } else {
          count += bit_at(str, static_cast<std::uint64_t>(bit));
          ++bit;
        }
      }
    }
    out.integer(count);
    return true;
  }

  // BITPOS key bit [start [end [BYTE|BIT]]]
  static bool bitpos(Session& s, const Args& a, ReplyWriter& out) {
    if (a[2] != "0" && a[2] != "1") {
      std::int64_t v = 0;
      out.error(parse_int64(a[2], v) ? "ERR The bit argument must be 1 or 0." : kNotInteger);
      return true;
    }
    const int wanted = a[2] == "1" ? 1 : 0;
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!e) {
      out.integer(wanted ? -1 : 0);
      return true;
    }
    if (e->type() != ValueType::kString) return wrong_type(out);
    const std::string& str = e->str();
    const auto len = static_cast<std::int64_t>(str.size());
    std::int64_t start = 0, end = -1;
    bool in_bits = false, end_given = false;
    if (a.size() >= 4 && a.size() <= 6) {
      if (!parse_int64(a[3], start)) {
        out.error(kNotInteger);
        return true;
      }
      if (a.size() == 6 && !parse_bit_unit(a[5], in_bits)) {
        out.error(kSyntaxError);
        return true;
      }
      if (a.size() >= 5) {
        if (!parse_int64(a[4], end)) {
          out.error(kNotInteger);
          return true;
        }
        end_given = true;
      }
    } else if (a.size() != 3) {
      out.error(kSyntaxError);
      return true;
    }
    std::int64_t first = 0, last = 0;
    if (!bit_range(start, end, len, in_bits, first, last)) {
      out.integer(-1);
      return true;
    }
    const char skip = wanted ? '\0' : '\xff';  // a whole byte without the bit looked for
    for (std::int64_t bit = first; bit <= last;) {
      if ((bit & 7) == 0 && bit + 7 <= last && str[bit >> 3] == skip) {
        bit += 8;
        continue;
      }
      if (bit_at(str, static_cast<std::uint64_t>(bit)) == wanted) {
        out.integer(bit);
        return true;
      }
      ++bit;
    }
    // Not found. Looking for a clear bit with no end given, the string counts as padded with
    // zeros: the first bit after it.
    out.integer(wanted == 0 && !end_given ? last + 1 : -1);
    return true;
  }

  static bool mget(Session& s, const Args& a, ReplyWriter& out) {
    out.array_header(a.size() - 1);
    for (std::size_t i = 1; i < a.size(); ++i) {
      Entry* e = store(s).find_for_read(a[i], s.now_);
      if (e && e->type() == ValueType::kString) out.bulk(e->str()); else out.null_bulk();
    }
    return true;
  }

  // MSET/MSETNX's writes: key by key, each followed by its "set" (a created key's "new" comes
  // first, from the Store), in redis-server's order.
  static void set_each(Session& s, const Args& a) {
    log(s, a);
    for (std::size_t i = 1; i < a.size(); i += 2) {
      store(s).set(a[i], a[i + 1], Store::kNoExpiry);
      changed(s, a[i], kNotifyString, "set");
    }
  }

  static bool mset(Session& s, const Args& a, ReplyWriter& out) {
    if (a.size() % 2 == 0) {
      wrong_arity(out, "mset");
      return true;
    }
    set_each(s, a);
    out.ok();
    return true;
  }

  static bool msetnx(Session& s, const Args& a, ReplyWriter& out) {
    if (a.size() % 2 == 0) {
      wrong_arity(out, "msetnx");
      return true;
    }
    for (std::size_t i = 1; i < a.size(); i += 2) {
      if (store(s).find(a[i], s.now_)) {
        out.integer(0);
        return true;
      }
    }
    set_each(s, a);
    out.integer(1);
    return true;
  }

  // --- lists -----------------------------------------------------------------------------------

  // LEFT or RIGHT (any case); false: not a position.
  static bool parse_side(std::string_view arg, bool& left) {
    if (equals_nocase(arg, "left")) left = true;
    else if (equals_nocase(arg, "right")) left = false;
    else return false;
    return true;
  }

  // A count that must be positive (LPOP's): redis's getPositiveLongFromObjectOrReply.
  static bool positive_count(std::string_view arg, ReplyWriter& out, std::int64_t& count,
                             std::string_view error = "ERR value is out of range, must be positive") {
    if (!parse_int64(arg, count) || count < 0) {
      out.error(error);
      return false;
    }
    return true;
  }

  // Deletes `key` when its list has become empty (an empty aggregate never exists).
  static void drop_if_empty(Session& s, std::string_view key, Entry& e) {
    if (!e.list().empty()) return;
    store(s).erase(key);
    changed(s, key, kNotifyGeneric, "del");
  }

  // Removes one element from a side of `list`.
  static std::string take(List& list, bool left) {
    std::string value(left ? list.front() : list.back());
    if (left) list.pop_front(); else list.pop_back();
    return value;
  }

  // Pops up to `count` elements from a side of `key`'s list into the reply (as an array when
  // `as_array`), deleting the key when it empties. The caller checked the type.
  static void pop_reply(Session& s, std::string_view key, Entry& e, bool left,
                        std::int64_t count, bool as_array, ReplyWriter& out) {
    List& list = e.list();
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(count), list.size());
    if (as_array) out.array_header(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (left) {
        out.bulk(list.front());
        list.pop_front();
      } else {
        out.bulk(list.back());
        list.pop_back();
      }
    }
    changed(s, key, kNotifyList, left ? "lpop" : "rpop");
    drop_if_empty(s, key, e);
  }

  // LPUSH/RPUSH/LPUSHX/RPUSHX key element...
  static bool push_generic(Session& s, const Args& a, ReplyWriter& out, bool left, bool only_if_exists) {
    Store& st = store(s);
    Entry* e = st.find(a[1], s.now_);
    if (!holds(e, ValueType::kList)) return wrong_type(out);
    if (!e) {
      if (only_if_exists) {
        out.integer(0);
        return true;
      }
      e = st.find_or_create(a[1], s.now_, ValueType::kList).first;
    }
    List& list = e->list();
    for (std::size_t i = 2; i < a.size(); ++i) {
      if (left) list.push_front(a[i]); else list.push_back(a[i]);
    }
    out.integer(static_cast<std::int64_t>(list.size()));
    log(s, a);
    changed(s, a[1], kNotifyList, left ? "lpush" : "rpush");
    return true;
  }
  static bool lpush(Session& s, const Args& a, ReplyWriter& o) { return push_generic(s, a, o, true, false); }
  static bool rpush(Session& s, const Args& a, ReplyWriter& o) { return push_generic(s, a, o, false, false); }
  static bool lpushx(Session& s, const Args& a, ReplyWriter& o) { return push_generic(s, a, o, true, true); }
  static bool rpushx(Session& s, const Args& a, ReplyWriter& o) { return push_generic(s, a, o, false, true); }

  // LPOP/RPOP key [count]
  static bool pop_generic(Session& s, const Args& a, ReplyWriter& out, bool left) {
    if (a.size() > 3) {
      wrong_arity(out, left ? "lpop" : "rpop");
      return true;
    }
    std::int64_t count = 1;
    const bool has_count = a.size() == 3;
    if (has_count && !positive_count(a[2], out, count)) return true;
    Entry* e = store(s).find(a[1], s.now_);
    if (!e) {
      if (has_count) out.null_array(); else out.null_bulk();
      return true;
    }
    if (e->type() != ValueType::kList) return wrong_type(out);
    if (has_count && count == 0) {
      out.array_header(0);
      return true;
    }
    pop_reply(s, a[1], *e, left, count, has_count, out);
    log(s, a);
    return true;
  }
  static bool lpop(Session& s, const Args& a, ReplyWriter& o) { return pop_generic(s, a, o, true); }
  static bool rpop(Session& s, const Args& a, ReplyWriter& o) { return pop_generic(s, a, o, false); }

  static bool llen(Session& s, const Args& a, ReplyWriter& out) {
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!holds(e, ValueType::kList)) return wrong_type(out);
    out.integer(e ? static_cast<std::int64_t>(e->list().size()) : 0);
    return true;
  }

  // LRANGE key start stop
  static bool lrange(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t start = 0, end = 0;
    if (!parse_int64(a[2], start) || !parse_int64(a[3], end)) {
      out.error(kNotInteger);
      return true;
    }
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!holds(e, ValueType::kList)) return wrong_type(out);
    if (!e) {
      out.array_header(0);
      return true;
    }
    const List& list = e->list();
    const auto len = static_cast<std::int64_t>(list.size());
    if (start < 0) start = std::max<std::int64_t>(len + start, 0);
    if (end < 0) end += len;
    if (start > end || start >= len) {
      out.array_header(0);
      return true;
    }
    end = std::min(end, len - 1);
    const auto count = static_cast<std::size_t>(end - start + 1);
    out.array_header(count);
    list.visit(static_cast<std::size_t>(start), count, [&](std::string_view e) { out.bulk(e); });
    return true;
  }

  // The position of a redis index (negative from the tail) in `list`; false when out of range.
  static bool at_index(const List& list, std::int64_t index, std::size_t& position) {
    const auto len = static_cast<std::int64_t>(list.size());
    if (index < 0) index += len;
    if (index < 0 || index >= len) return false;
    position = static_cast<std::size_t>(index);
    return true;
  }

  static bool lindex(Session& s, const Args& a, ReplyWriter& out) {
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!e) {
      out.null_bulk();
      return true;
    }
    if (e->type() != ValueType::kList) return wrong_type(out);
    std::int64_t index = 0;
    if (!parse_int64(a[2], index)) {
      out.error(kNotInteger);
      return true;
    }
    std::size_t position = 0;
    if (at_index(e->list(), index, position)) out.bulk(e->list().at(position)); else out.null_bulk();
    return true;
  }

  static bool lset(Session& s, const Args& a, ReplyWriter& out) {
    Entry* e = store(s).find(a[1], s.now_);
    if (!e) {
      out.error("ERR no such key");
      return true;
    }
    if (e->type() != ValueType::kList) return wrong_type(out);
    std::int64_t index = 0;
    if (!parse_int64(a[2], index)) {
      out.error(kNotInteger);
      return true;
    }
    std::size_t position = 0;
    if (!at_index(e->list(), index, position)) {
      out.error("ERR index out of range");
      return true;
    }
    e->list().set(position, a[3]);
    log(s, a);
    changed(s, a[1], kNotifyList, "lset");
    out.ok();
    return true;
  }

  // LREM key count element: count > 0 from the head, < 0 from the tail, 0 all.
  static bool lrem(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t count = 0;
    if (!parse_int64(a[2], count)) {
      out.error(kNotInteger);
      return true;
    }
    Entry* e = store(s).find(a[1], s.now_);
    if (!holds(e, ValueType::kList)) return wrong_type(out);
    if (!e) {
      out.integer(0);
      return true;
    }
    List& list = e->list();
    const std::uint64_t limit = count == 0 ? UINT64_MAX
                                           : static_cast<std::uint64_t>(count < 0 ? -(count + 1) : count - 1) + 1;
    const std::uint64_t removed = list.remove(a[3], limit, count < 0);
    out.integer(static_cast<std::int64_t>(removed));
    if (removed > 0) {
      log(s, a);
      changed(s, a[1], kNotifyList, "lrem");
      drop_if_empty(s, a[1], *e);
    }
    return true;
  }

  // LTRIM key start stop
  static bool ltrim(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t start = 0, end = 0;
    if (!parse_int64(a[2], start) || !parse_int64(a[3], end)) {
      out.error(kNotInteger);
      return true;
    }
    Entry* e = store(s).find(a[1], s.now_);
    if (!holds(e, ValueType::kList)) return wrong_type(out);
    if (!e) {
      out.ok();
      return true;
    }
    List& list = e->list();
    const auto len = static_cast<std::int64_t>(list.size());
    if (start < 0) start = std::max<std::int64_t>(len + start, 0);
    if (end < 0) end += len;
    if (start > end || start >= len) {
      list.clear();
    } else {
      end = std::min(end, len - 1);
      list.erase(static_cast<std::size_t>(end) + 1, list.size());
      list.erase(0, static_cast<std::size_t>(start));
    }
    log(s, a);
    changed(s, a[1], kNotifyList, "ltrim");
    drop_if_empty(s, a[1], *e);
    out.ok();
    return true;
  }

  // LINSERT key BEFORE|AFTER pivot element
  static bool linsert(Session& s, const Args& a, ReplyWriter& out) {
    bool after = false;
    if (equals_nocase(a[2], "after")) after = true;
    else if (!equals_nocase(a[2], "before")) return out.error(kSyntaxError), true;
    Entry* e = store(s).find(a[1], s.now_);
    if (!holds(e, ValueType::kList)) return wrong_type(out);
    if (!e) {
      out.integer(0);
      return true;
    }
    List& list = e->list();
    std::size_t pivot = list.size();
    list.visit_forward(0, [&](std::size_t i, std::string_view element) {
      if (element != a[3]) return true;
      pivot = i;
      return false;
    });
    if (pivot == list.size()) {
      out.integer(-1);
      return true;
    }
    list.insert(after ? pivot + 1 : pivot, a[4]);
    log(s, a);
    changed(s, a[1], kNotifyList, "linsert");
    out.integer(static_cast<std::int64_t>(list.size()));
    return true;
  }

  // LPOS key element [RANK rank] [COUNT n] [MAXLEN len]
  static bool lpos(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t rank = 1, count = -1, maxlen = 0;
    for (std::size_t j = 3; j < a.size(); ++j) {
      const bool has_next = j + 1 < a.size();
      if (equals_nocase(a[j], "rank") && has_next) {
        if (!parse_int64(a[++j], rank) || rank == LLONG_MIN) {
          out.error(rank == LLONG_MIN
                        ? "ERR value is out of range, value must between -9223372036854775807 "
                          "and 9223372036854775807"
                        : kNotInteger);
          return true;
        }
        if (rank == 0) {
          out.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    "second ... or use negative to start from the end of the list");
          return true;
        }
      } else if (equals_nocase(a[j], "count") && has_next) {
        if (!positive_count(a[++j], out, count, "ERR COUNT can't be negative")) return true;
      } else if (equals_nocase(a[j], "maxlen") && has_next) {
        if (!positive_count(a[++j], out, maxlen, "ERR MAXLEN can't be negative")) return true;
      } else {
        out.error(kSyntaxError);
        return true;
      }
    }
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!holds(e, ValueType::kList)) return wrong_type(out);
    std::vector<std::int64_t> found;
    if (e) {
      const List& list = e->list();
      const auto len = static_cast<std::int64_t>(list.size());
      const bool backwards = rank < 0;
      std::int64_t skip = (backwards ? -rank : rank) - 1;
      const std::int64_t wanted = count == 0 ? len : (count < 0 ? 1 : count);
      std::int64_t seen = 0;
      auto match = [&](std::size_t i, std::string_view element) {
        if (maxlen != 0 && seen >= maxlen) return false;
        ++seen;
        if (element != a[2]) return true;
        if (skip > 0) {
          --skip;
          return true;
        }
        found.push_back(static_cast<std::int64_t>(i));
        return static_cast<std::int64_t>(found.size()) < wanted;
      };
      if (backwards) {
        list.visit_backward(static_cast<std::size_t>(len - 1), match);
      } else {
        list.visit_forward(0, match);
      }
    }
    if (count >= 0) {
      out.array_header(found.size());
      for (std::int64_t i : found) out.integer(i);
    } else if (found.empty()) {
      out.null_bulk();
    } else {
      out.integer(found.front());
    }
    return true;
  }

  // Moves one element from a side of `from` to a side of `to` (both lists; `from` non-empty),
  // creating `to` and deleting an emptied `from`; returns the element. Logged by the caller.
  static std::string move_element(Session& s, std::string_view from, std::string_view to,
                                  bool from_left, bool to_left) {
    Store& st = store(s);
    Entry* source = st.find(from, s.now_);
    std::string value = take(source->list(), from_left);
    const bool emptied = source->list().empty();
    if (emptied) st.erase(from);
    Entry* dest = st.find_or_create(to, s.now_, ValueType::kList).first;
    if (to_left) dest->list().push_front(value); else dest->list().push_back(value);
    // redis-server's order: the push, the pop, then the source's deletion.
    changed(s, to, kNotifyList, to_left ? "lpush" : "rpush");
    changed(s, from, kNotifyList, from_left ? "lpop" : "rpop");
    if (emptied) changed(s, from, kNotifyGeneric, "del");
    return value;
  }

  // LMOVE source destination LEFT|RIGHT LEFT|RIGHT (and RPOPLPUSH source destination)
  static bool lmove_generic(Session& s, std::string_view from, std::string_view to,
                            bool from_left, bool to_left, ReplyWriter& out) {
    Store& st = store(s);
    Entry* source = st.find(from, s.now_);
    if (!source) {
      out.null_bulk();
      return true;
    }
    if (source->type() != ValueType::kList) return wrong_type(out);
    if (!holds(st.find(to, s.now_), ValueType::kList)) return wrong_type(out);
    out.bulk(move_element(s, from, to, from_left, to_left));
    log(s, {"LMOVE", from, to, from_left ? "LEFT" : "RIGHT", to_left ? "LEFT" : "RIGHT"});
    return true;
  }
  static bool lmove(Session& s, const Args& a, ReplyWriter& out) {
    bool from_left = false, to_left = false;
    if (!parse_side(a[3], from_left) || !parse_side(a[4], to_left)) {
      out.error(kSyntaxError);
      return true;
    }
    return lmove_generic(s, a[1], a[2], from_left, to_left, out);
  }
  static bool rpoplpush(Session& s, const Args& a, ReplyWriter& out) {
    return lmove_generic(s, a[1], a[2], false, true, out);
  }

  // The arguments of LMPOP (from index 1) and BLMPOP (from index 2): numkeys key... LEFT|RIGHT
  // [COUNT n]. False: the error was replied.
  struct MultiPop {
    std::vector<std::string_view> keys;
    bool left = true;
    std::int64_t count = 1;
  };
  static bool parse_multi_pop(const Args& a, std::size_t numkeys_at, ReplyWriter& out,
                              MultiPop& m) {
    std::int64_t numkeys = 0;
    if (!parse_int64(a[numkeys_at], numkeys) || numkeys < 1) {
      out.error("ERR numkeys should be greater than 0");
      return false;
    }
    const std::size_t keys_at = numkeys_at + 1;
    if (static_cast<std::uint64_t>(numkeys) >= a.size() - keys_at) {
      out.error(kSyntaxError);
      return false;
    }
    const std::size_t side_at = keys_at + static_cast<std::size_t>(numkeys);
    if (!parse_side(a[side_at], m.left)) {
      out.error(kSyntaxError);
      return false;
    }
    bool has_count = false;
    for (std::size_t j = side_at + 1; j < a.size(); ++j) {
      if (!has_count && equals_nocase(a[j], "count") && j + 1 < a.size()) {
        has_count = true;
        if (!parse_int64(a[++j], m.count) || m.count < 1) {
          out.error("ERR count should be greater than 0");
          return false;
        }
      } else {
        out.error(kSyntaxError);
        return false;
      }
    }
    m.keys.assign(a.begin() + keys_at, a.begin() + side_at);
    return true;
  }

  // Pops from the first non-empty list of `m.keys` into the reply ([key, [elements]]) and logs
  // it as LPOP/RPOP key count. False when every list is missing (nothing replied).
  static bool multi_pop(Session& s, const MultiPop& m, ReplyWriter& out, bool& wrong) {
    wrong = false;
    for (std::string_view key : m.keys) {
      Entry* e = store(s).find(key, s.now_);
      if (!e) continue;
      if (e->type() != ValueType::kList) {
        wrong = true;
        wrong_type(out);
        return true;
      }
      out.array_header(2);
      out.bulk(key);
      pop_reply(s, key, *e, m.left, m.count, true, out);
      const std::string count = to_text(m.count);
      log(s, {m.left ? "LPOP" : "RPOP", key, count});
      return true;
    }
    return false;
  }

  // LMPOP numkeys key... LEFT|RIGHT [COUNT n]
  static bool lmpop(Session& s, const Args& a, ReplyWriter& out) {
    MultiPop m;
    if (!parse_multi_pop(a, 1, out, m)) return true;
    bool wrong = false;
    if (!multi_pop(s, m, out, wrong)) out.null_array();
    return true;
  }

  // --- blocking lists --------------------------------------------------------------------------

  // A blocking command's timeout in seconds (a float; 0 = forever), as redis-server parses it.
  // False: the error was replied.
  static bool block_timeout(std::string_view arg, ReplyWriter& out, grove::Deadline& deadline) {
    long double seconds = 0;
    if (!parse_long_double(arg, seconds)) {
      out.error("ERR timeout is not a float or out of range");
      return false;
    }
    const long double ms = seconds * 1000;
    // redis converts to long long: past its range (infinity included) that gives LLONG_MIN on
    // x86-64, hence "negative".
    if (ms <= -1 || ms >= 9223372036854775808.0L) {
      out.error("ERR timeout is negative");
      return false;
    }
    const auto whole_ms = static_cast<std::int64_t>(ms);
    if (whole_ms > LLONG_MAX - unix_ms()) {
      out.error("ERR timeout is out of range");
      return false;
    }
    deadline = whole_ms == 0 ? grove::Deadline::never()
                             : grove::Deadline::after(static_cast<double>(whole_ms) / 1000.0);
    return true;
  }

  // Parks the session until `serve` (called by Blocking::serve_ready when one of `keys` gets a
  // list) writes its reply, or the deadline passes (null array), or the client closes (false:
  // close the connection). The replies before this command are sent first.
  static bool block(Session& s, std::vector<std::string> keys, grove::Deadline deadline,
                    const char* what, std::function<bool(BlockedClient&, std::string_view)> serve,
                    ReplyWriter& out) {
    if (!s.flush_ || replaying(s) || s.tx_.executing) {  // nothing to wait on (inside EXEC
                                                           // too, as in redis-server)
      out.null_array();
      return true;
    }
    if (!s.flush_()) return false;
    BlockedClient blocked(s.server_.blocking, std::move(keys), s.info_.fd, nullptr);
    blocked.serve = [&blocked, serve = std::move(serve)](std::string_view key) {
      return serve(blocked, key);
    };
    while (!blocked.served && !blocked.closed) {
      if (blocked.waiter.wait(deadline, what) == grove::WaitStatus::kTimedOut) break;
    }
    s.now_ = unix_ms();  // the clock moved while parked
    if (blocked.closed) return false;
    if (blocked.served) {
      out.raw(blocked.reply);
    } else {
      out.null_array();
    }
    return true;
  }

  // BLPOP/BRPOP key... timeout
  static bool bpop_generic(Session& s, const Args& a, ReplyWriter& out, bool left) {
    grove::Deadline deadline;
    if (!block_timeout(a.back(), out, deadline)) return true;
    const Args keys(a.begin() + 1, a.end() - 1);
    for (std::string_view key : keys) {
      Entry* e = store(s).find(key, s.now_);
      if (!e) continue;
      if (e->type() != ValueType::kList) return wrong_type(out);
      out.array_header(2);
      out.bulk(key);
      pop_reply(s, key, *e, left, 1, false, out);
      log(s, {left ? "LPOP" : "RPOP", key});
      return true;
    }
    return block(s, std::vector<std::string>(keys.begin(), keys.end()), deadline,
                 left ? "BLPOP" : "BRPOP",
                 [&s, left](BlockedClient& b, std::string_view key) {
                   Entry* e = store(s).find(key, unix_ms());
                   if (!e || e->type() != ValueType::kList) return false;
                   ReplyWriter reply(b.reply);
                   reply.array_header(2);
                   reply.bulk(key);
                   pop_reply(s, key, *e, left, 1, false, reply);
                   log(s, {left ? "LPOP" : "RPOP", key});
                   return true;
                 },
                 out);
  }
  static bool blpop(Session& s, const Args& a, ReplyWriter& o) { return bpop_generic(s, a, o, true); }
  static bool brpop(Session& s, const Args& a, ReplyWriter& o) { return bpop_generic(s, a, o, false); }

  // BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout (and BRPOPLPUSH source destination
  // timeout)
  static bool blmove_generic(Session& s, std::string_view from, std::string_view to,
                             bool from_left, bool to_left, std::string_view timeout,
                             ReplyWriter& out) {
    grove::Deadline deadline;
    if (!block_timeout(timeout, out, deadline)) return true;
    Entry* source = store(s).find(from, s.now_);
    if (source) return lmove_generic(s, from, to, from_left, to_left, out);
    return block(s, {std::string(from)}, deadline, "BLMOVE",
                 [&s, to = std::string(to), from_left, to_left](BlockedClient& b,
                                                                 std::string_view key) {
                   Store& st = store(s);
                   const std::int64_t now = unix_ms();
                   Entry* e = st.find(key, now);
                   if (!e || e->type() != ValueType::kList) return false;
                   if (!holds(st.find(to, now), ValueType::kList)) return false;  // waits on
                   ReplyWriter(b.reply).bulk(move_element(s, key, to, from_left, to_left));
                   log(s, {"LMOVE", key, to, from_left ? "LEFT" : "RIGHT",
                           to_left ? "LEFT" : "RIGHT"});
                   return true;
                 },
                 out);
  }
  static bool blmove(Session& s, const Args& a, ReplyWriter& out) {
    bool from_left = false, to_left = false;
    if (!parse_side(a[3], from_left) || !parse_side(a[4], to_left)) {
      out.error(kSyntaxError);
      return true;
    }
    return blmove_generic(s, a[1], a[2], from_left, to_left, a[5], out);
  }
  static bool brpoplpush(Session& s, const Args& a, ReplyWriter& out) {
    return blmove_generic(s, a[1], a[2], false, true, a[3], out);
  }

  // BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n]
  static bool blmpop(Session& s, const Args& a, ReplyWriter& out) {
    MultiPop m;
    if (!parse_multi_pop(a, 2, out, m)) return true;
    grove::Deadline deadline;
    if (!block_timeout(a[1], out, deadline)) return true;
    bool wrong = false;
    if (multi_pop(s, m, out, wrong)) return true;
    return block(s, std::vector<std::string>(m.keys.begin(), m.keys.end()), deadline, "BLMPOP",
                 [&s, left = m.left, count = m.count](BlockedClient& b, std::string_view key) {
                   MultiPop one;
                   one.keys = {key};
                   one.left = left;
                   one.count = count;
                   ReplyWriter reply(b.reply);
                   bool wrong_type_found = false;
                   const bool popped = multi_pop(s, one, reply, wrong_type_found);
                   if (wrong_type_found) b.reply.clear();
                   return popped && !wrong_type_found;
                 },
                 out);
  }

  // --- hashes ----------------------------------------------------------------------------------

  // HSET key field value [field value ...] (and HMSET, which answers OK)
  static bool hset_generic(Session& s, const Args& a, ReplyWriter& out, bool hmset) {
    if (a.size() % 2 != 0) {
      wrong_arity(out, hmset ? "hmset" : "hset");
      return true;
    }
    Store& st = store(s);
    Entry* e = st.find(a[1], s.now_);
    if (!holds(e, ValueType::kHash)) return wrong_type(out);
    if (!e) e = st.find_or_create(a[1], s.now_, ValueType::kHash).first;
    std::int64_t created = 0;
    for (std::size_t i = 2; i < a.size(); i += 2) created += e->hash().set(a[i], a[i + 1]) ? 1 : 0;
    if (hmset) out.ok(); else out.integer(created);
    log(s, a);
    changed(s, a[1], kNotifyHash, "hset");
    return true;
  }
  static bool hset(Session& s, const Args& a, ReplyWriter& o) { return hset_generic(s, a, o, false); }
  static bool hmset(Session& s, const Args& a, ReplyWriter& o) { return hset_generic(s, a, o, true); }

  static bool hsetnx(Session& s, const Args& a, ReplyWriter& out) {
    Store& st = store(s);
    Entry* e = st.find(a[1], s.now_);
    if (!holds(e, ValueType::kHash)) return wrong_type(out);
    if (e && e->hash().find(a[2])) {
      out.integer(0);
      return true;
    }
    if (!e) e = st.find_or_create(a[1], s.now_, ValueType::kHash).first;
    e->hash().set(a[2], a[3]);
    log(s, a);
    changed(s, a[1], kNotifyHash, "hset");
    out.integer(1);
    return true;
  }

  // The hash at `key` for reading: null when missing; `wrong` when it holds another type (the
  // error replied).
  static Hash* hash_for_read(Session& s, std::string_view key, ReplyWriter& out, bool& wrong) {
    Entry* e = store(s).find_for_read(key, s.now_);
    wrong = !holds(e, ValueType::kHash);
    if (wrong) wrong_type(out);
    return e && !wrong ? &e->hash() : nullptr;
  }

  static bool hget(Session& s, const Args& a, ReplyWriter& out) {
    bool wrong = false;
    Hash* h = hash_for_read(s, a[1], out, wrong);
    if (wrong) return true;
    const std::string* v = h ? h->find(a[2]) : nullptr;
    if (v) out.bulk(*v); else out.null_bulk();
    return true;
  }

  static bool hmget(Session& s, const Args& a, ReplyWriter& out) {
    bool wrong = false;
    Hash* h = hash_for_read(s, a[1], out, wrong);
    if (wrong) return true;
    out.array_header(a.size() - 2);
    for (std::size_t i = 2; i < a.size(); ++i) {
      const std::string* v = h ? h->find(a[i]) : nullptr;
      if (v) out.bulk(*v); else out.null_bulk();
    }
    return true;
  }

  static bool hdel(Session& s, const Args& a, ReplyWriter& out) {
    Entry* e = store(s).find(a[1], s.now_);
    if (!holds(e, ValueType::kHash)) return wrong_type(out);
    std::int64_t deleted = 0;
    for (std::size_t i = 2; e && i < a.size(); ++i) deleted += e->hash().erase(a[i]) ? 1 : 0;
    out.integer(deleted);
    if (deleted > 0) {
      log(s, a);
      changed(s, a[1], kNotifyHash, "hdel");
      if (e->hash().empty()) {
        store(s).erase(a[1]);
        changed(s, a[1], kNotifyGeneric, "del");
      }
    }
    return true;
  }

  static bool hlen(Session& s, const Args& a, ReplyWriter& out) {
    bool wrong = false;
    Hash* h = hash_for_read(s, a[1], out, wrong);
    if (!wrong) out.integer(h ? static_cast<std::int64_t>(h->size()) : 0);
    return true;
  }

  static bool hexists(Session& s, const Args& a, ReplyWriter& out) {
    bool wrong = false;
    Hash* h = hash_for_read(s, a[1], out, wrong);
    if (!wrong) out.integer(h && h->find(a[2]) ? 1 : 0);
    return true;
  }

  static bool hstrlen(Session& s, const Args& a, ReplyWriter& out) {
    bool wrong = false;
    Hash* h = hash_for_read(s, a[1], out, wrong);
    if (wrong) return true;
    const std::string* v = h ? h->find(a[2]) : nullptr;
    out.integer(v ? static_cast<std::int64_t>(v->size()) : 0);
    return true;
  }

  // HGETALL / HKEYS / HVALS
  static bool hgetall_generic(Session& s, const Args& a, ReplyWriter& out, bool fields,
                              bool values) {
    bool wrong = false;
    Hash* h = hash_for_read(s, a[1], out, wrong);
    if (wrong) return true;
    if (!h) {
      out.array_header(0);
      return true;
    }
    out.array_header(h->size() * ((fields ? 1 : 0) + (values ? 1 : 0)));
    h->for_each([&](const std::string& field, const std::string& value) {
      if (fields) out.bulk(field);
      if (values) out.bulk(value);
    });
    return true;
  }
  static bool hgetall(Session& s, const Args& a, ReplyWriter& o) {
    return hgetall_generic(s, a, o, true, true);
  }
  static bool hkeys(Session& s, const Args& a, ReplyWriter& o) {
    return hgetall_generic(s, a, o, true, false);
  }
  static bool hvals(Session& s, const Args& a, ReplyWriter& o) {
    return hgetall_generic(s, a, o, false, true);
  }

  // HINCRBY key field increment
  static bool hincrby(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t by = 0;
    if (!parse_int64(a[3], by)) {
      out.error(kNotInteger);
      return true;
    }
    Store& st = store(s);
    Entry* e = st.find(a[1], s.now_);
    if (!holds(e, ValueType::kHash)) return wrong_type(out);
    std::int64_t value = 0;
    const std::string* old = e ? e->hash().find(a[2]) : nullptr;
    if (old && !parse_int64(*old, value)) {
      out.error("ERR hash value is not an integer");
      return true;
    }
    if (add_overflows(value, by, value)) {
      out.error("ERR increment or decrement would overflow");
      return true;
    }
    if (!e) e = st.find_or_create(a[1], s.now_, ValueType::kHash).first;
    e->hash().set(a[2], to_text(value));
    log(s, a);
    changed(s, a[1], kNotifyHash, "hincrby");
    out.integer(value);
    return true;
  }

  // HINCRBYFLOAT key field increment (logged as the HSET of the result, as redis does)
  static bool hincrbyfloat(Session& s, const Args& a, ReplyWriter& out) {
    long double by = 0;
    if (!parse_long_double(a[3], by)) {
      out.error("ERR value is not a valid float");
      return true;
    }
    if (std::isinf(by)) {
      out.error("ERR value is NaN or Infinity");
      return true;
    }
    Store& st = store(s);
    Entry* e = st.find(a[1], s.now_);
    if (!holds(e, ValueType::kHash)) return wrong_type(out);
    long double value = 0;
    const std::string* old = e ? e->hash().find(a[2]) : nullptr;
    if (old && !parse_long_double(*old, value)) {
      out.error("ERR hash value is not a float");
      return true;
    }
    value += by;
    if (std::isnan(value) || std::isinf(value)) {
      out.error("ERR increment would produce NaN or Infinity");
      return true;
    }
    const std::string text = format_long_double(value);
    if (!e) e = st.find_or_create(a[1], s.now_, ValueType::kHash).first;
    e->hash().set(a[2], text);
    log(s, {"HSET", a[1], a[2], text});
    changed(s, a[1], kNotifyHash, "hincrbyfloat");
    out.bulk(text);
    return true;
  }

  // --- keys ------------------------------------------------------------------------------------

  static bool del(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t deleted = 0;
    for (std::size_t i = 1; i < a.size(); ++i) {
      if (store(s).find(a[i], s.now_) && store(s).erase(a[i])) {
        ++deleted;
        changed(s, a[i], kNotifyGeneric, "del");
      }
    }
    if (deleted > 0) log(s, a);
    out.integer(deleted);
    return true;
  }
  static bool unlink(Session& s, const Args& a, ReplyWriter& out) { return del(s, a, out); }

  static bool exists(Session& s, const Args& a, ReplyWriter& out) {
    std::int64_t found = 0;
    for (std::size_t i = 1; i < a.size(); ++i) found += store(s).find_for_read(a[i], s.now_) ? 1 : 0;
    out.integer(found);
    return true;
  }

  static bool type(Session& s, const Args& a, ReplyWriter& out) {
    const Entry* e = store(s).find_for_read(a[1], s.now_);
    out.simple(e ? type_name(e->type()) : "none");
    return true;
  }

  // TOUCH key...: how many exist (there is no LRU clock to update).
  static bool touch(Session& s, const Args& a, ReplyWriter& out) { return exists(s, a, out); }

  static bool randomkey(Session& s, const Args&, ReplyWriter& out) {
    if (const std::string* key = store(s).random_key(s.now_)) out.bulk(*key); else out.null_bulk();
    return true;
  }

  // RENAME key newkey / RENAMENX key newkey: the value and its expiry move, nothing is copied.
  static bool rename_generic(Session& s, const Args& a, ReplyWriter& out, bool nx) {
    Store& st = store(s);
    if (!st.find(a[1], s.now_)) {
      out.error("ERR no such key");
      return true;
    }
    if (a[1] == a[2]) {
      if (nx) out.integer(0); else out.ok();
      return true;
    }
    if (st.find(a[2], s.now_)) {
      if (nx) {
        out.integer(0);
        return true;
      }
      st.erase(a[2]);
    }
    st.rename(a[1], a[2]);
    log(s, {"RENAME", a[1], a[2]});
    changed(s, a[1], kNotifyGeneric, "rename_from");
    changed(s, a[2], kNotifyGeneric, "rename_to");
    if (nx) out.integer(1); else out.ok();
    return true;
  }
  static bool rename(Session& s, const Args& a, ReplyWriter& o) {
    return rename_generic(s, a, o, false);
  }
  static bool renamenx(Session& s, const Args& a, ReplyWriter& o) {
    return rename_generic(s, a, o, true);
  }

  // COPY source destination [DB db] [REPLACE]: a deep copy, expiry included.
  static bool copy(Session& s, const Args& a, ReplyWriter& out) {
    bool replace = false;
    for (std::size_t j = 3; j < a.size(); ++j) {
      if (equals_nocase(a[j], "replace")) {
        replace = true;
      } else if (equals_nocase(a[j], "db") && j + 1 < a.size()) {
        std::int64_t db = 0;
        if (!parse_int64(a[++j], db) || db < INT_MIN || db > INT_MAX) {
          out.error(kNotInteger);
          return true;
        }
        if (db != 0) {
          out.error("ERR DB index is out of range");
          return true;
        }
      } else {
        out.error(kSyntaxError);
        return true;
      }
    }
    if (a[1] == a[2]) {
      out.error("ERR source and destination objects are the same");
      return true;
    }
    Store& st = store(s);
    const Entry* source = st.find_for_read(a[1], s.now_);
    if (!source) {
      out.integer(0);
      return true;
    }
    if (st.find(a[2], s.now_)) {
      if (!replace) {
        out.integer(0);
        return true;
      }
      st.erase(a[2]);
      source = st.find(a[1], s.now_);  // an erase may move nothing, but do not rely on it
    }
    st.put(a[2], clone_value(source->value), source->expires_at);
    log(s, {"COPY", a[1], a[2], "REPLACE"});
    changed(s, a[2], kNotifyGeneric, "copy_to");
    out.integer(1);
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
      changed(s, a[1], kNotifyGeneric, "del");
    } else if (when <= s.now_) {
      st.erase(a[1]);
    } else {
      st.set_expiry(a[1], *e, when);
      log_expiry(s, a[1], when);
      changed(s, a[1], kNotifyGeneric, "expire");
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
    Entry* e = store(s).find_for_read(a[1], s.now_);
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
  // EXPIRETIME / PEXPIRETIME: the absolute expiry, -1 without one, -2 for a missing key.
  static bool expiretime_generic(Session& s, const Args& a, ReplyWriter& out, bool seconds) {
    Entry* e = store(s).find_for_read(a[1], s.now_);
    if (!e) out.integer(-2);
    else if (e->expires_at == 0) out.integer(-1);
    else out.integer(seconds ? (e->expires_at + 500) / 1000 : e->expires_at);
    return true;
  }
  static bool expiretime(Session& s, const Args& a, ReplyWriter& o) {
    return expiretime_generic(s, a, o, true);
  }
  static bool pexpiretime(Session& s, const Args& a, ReplyWriter& o) {
    return expiretime_generic(s, a, o, false);
  }
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
    changed(s, a[1], kNotifyGeneric, "persist");
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
    if (!kit::parse_cursor(a[1], out, cursor)) return true;
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
    std::vector<const std::string*> found;
    const std::uint64_t next =
        kit::scan_buckets(store(s).table(), cursor, count, [&](const auto& key_entry) {
          const auto& [key, entry] = key_entry;
          if (entry.expires_at != 0 && entry.expires_at <= s.now_) return;
          if (!pattern.empty() && !glob_match(pattern, key)) return;
          if (!type_filter.empty() && !equals_nocase(type_filter, type_name(entry.type()))) return;
          found.push_back(&key);
        });
    kit::reply_scan_cursor(out, next);
    out.array_header(found.size());
    for (const std::string* k : found) out.bulk(*k);
    return true;
  }

  static bool dbsize(Session& s, const Args&, ReplyWriter& out) {
    out.integer(static_cast<std::int64_t>(store(s).size()));
    return true;
  }

  // FLUSHDB / FLUSHALL [ASYNC|SYNC]: one database, so both empty the Store.
  static bool flushdb(Session& s, const Args& a, ReplyWriter& out) {
    if (a.size() > 2 || (a.size() == 2 && !equals_nocase(a[1], "async") &&
                         !equals_nocase(a[1], "sync"))) {
      out.error(kSyntaxError);
      return true;
    }
    s.server_.watches.touch_existing(store(s), s.now_);
    if (s.server_.aof) s.server_.aof->note_flush();
    store(s).clear();
    log(s, {"FLUSHDB"});
    out.ok();
    return true;
  }
  static bool flushall(Session& s, const Args& a, ReplyWriter& out) { return flushdb(s, a, out); }

  // FUNCTION FLUSH [ASYNC|SYNC] is accepted (there are no functions); the rest is unknown.
  static bool function(Session&, const Args& a, ReplyWriter& out) {
    if (!equals_nocase(a[1], "flush")) {
      out.error(fmt::format("ERR unknown subcommand '{:.128}'. Try FUNCTION HELP.", a[1]));
    } else if (a.size() > 3 || (a.size() == 3 && !equals_nocase(a[2], "async") &&
                                !equals_nocase(a[2], "sync"))) {
      out.error(a.size() > 3 ? fmt::format("ERR unknown subcommand or wrong number of arguments "
                                           "for '{:.128}'. Try FUNCTION HELP.", a[1])
                             : "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    } else {
      out.ok();
    }
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
          "redis_version:{}\r\ngrove_kv_version:0.1\r\nredis_mode:standalone\r\nos:Linux\r\n"
          "arch_bits:64\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\ntcp_port:{}\r\n"
          "uptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:10\r\nconfigured_hz:10\r\n",
          kRedisVersion, ::getpid(), srv.config.port, uptime, uptime / 86400);
    }
    if (want("clients", true)) {
      section("Clients");
      std::size_t watching = 0;
      for (const auto& [id, client] : srv.clients) watching += client->tx_.watched.empty() ? 0 : 1;
      text += fmt::format("connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\n"
                          "blocked_clients:{}\r\ntracking_clients:0\r\n"
                          "clients_in_timeout_table:0\r\nwatching_clients:{}\r\n"
                          "total_watched_keys:{}\r\n",
                          srv.clients.size(), srv.config.maxclients, srv.blocking.clients(),
                          watching, srv.watches.keys());
    }
    if (want("memory", true)) {
      section("Memory");
      const ProcessMemory memory = process_memory();
      srv.peak_memory = std::max(srv.peak_memory, memory.used);
      text += fmt::format(
          "used_memory:{}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\n"
          "used_memory_rss_human:{}\r\nused_memory_peak:{}\r\nused_memory_peak_human:{}\r\n"
          "used_memory_peak_perc:{:.2f}%\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\n"
          "maxmemory_policy:{}\r\nmem_fragmentation_ratio:{:.2f}\r\nmem_allocator:libc\r\n",
          memory.used, bytes_to_human(memory.used), memory.rss, bytes_to_human(memory.rss),
          srv.peak_memory, bytes_to_human(srv.peak_memory),
          srv.peak_memory ? 100.0 * static_cast<double>(memory.used) /
                                static_cast<double>(srv.peak_memory)
                          : 0.0,
          srv.config.maxmemory, bytes_to_human(static_cast<std::uint64_t>(srv.config.maxmemory)),
          srv.config.maxmemory_policy,
          memory.used ? static_cast<double>(memory.rss) / static_cast<double>(memory.used) : 0.0);
    }
    if (want("persistence", true)) {
      section("Persistence");
      text += fmt::format("loading:0\r\nrdb_bgsave_in_progress:0\r\naof_enabled:{}\r\n",
                          srv.aof ? 1 : 0);
      if (srv.aof) {
        text += fmt::format("aof_appendfsync:{}\r\naof_written_bytes:{}\r\naof_synced_bytes:{}\r\n"
                            "aof_fsyncs:{}\r\n",
                            to_string(srv.aof->policy()), srv.aof->written_bytes(),
                            srv.aof->synced_bytes(), srv.aof->fsyncs());
      }
      const RewriteStatus& rw = srv.aof_rewrite;
      text += fmt::format(
          "aof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:0\r\naof_rewrites:{}\r\n"
          "aof_last_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\n",
          rw.in_progress ? 1 : 0, rw.rewrites,
          rw.last_duration_ms < 0 ? -1 : rw.last_duration_ms / 1000, rw.last_ok ? "ok" : "err");
      if (srv.aof) {
        text += fmt::format("aof_current_size:{}\r\naof_base_size:{}\r\n",
                            srv.aof->file_size(), srv.aof->base_size());
      }
    }
    if (want("stats", true)) {
      section("Stats");
      text += fmt::format(
          "total_connections_received:{}\r\ntotal_commands_processed:{}\r\n"
          "rejected_connections:{}\r\nclient_query_buffer_limit_disconnections:{}\r\n"
          "client_output_buffer_limit_disconnections:{}\r\nexpired_keys:{}\r\n"
          "keyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\n"
          "pubsub_patterns:{}\r\ninstantaneous_ops_per_sec:{}\r\nevicted_keys:0\r\n",
          srv.connections_received, srv.commands_processed, srv.rejected_connections,
          srv.query_buffer_limit_disconnections, srv.output_buffer_limit_disconnections,
          srv.store->expired_keys,
          srv.store->keyspace_hits, srv.store->keyspace_misses,
          srv.pubsub ? srv.pubsub->channel_count() : 0,
          srv.pubsub ? srv.pubsub->pattern_count() : 0, instantaneous_ops_per_sec(srv));
    }
    if (want("replication", true)) {
      section("Replication");
      text += "role:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n";
    }
    if (want("cpu", true)) {
      section("CPU");
      const CpuTimes cpu = cpu_times();
      text += fmt::format("used_cpu_sys:{:.6f}\r\nused_cpu_user:{:.6f}\r\n"
                          "used_cpu_sys_children:{:.6f}\r\nused_cpu_user_children:{:.6f}\r\n",
                          cpu.sys, cpu.user, cpu.children_sys, cpu.children_user);
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

  // One CLIENT LIST line, with redis-server 7.0's fields in its order. flags: P subscribed,
  // x in MULTI, d a watched key was written, e NO-EVICT, N none of these.
  static std::string client_line(const Session& c, std::int64_t now) {
    const Transaction& tx = c.transaction();
    std::string flags;
    if (c.subscriptions() + c.pattern_subscriptions() > 0) flags += 'P';
    if (tx.active) flags += 'x';
    if (tx.dirty) flags += 'd';
    if (c.no_evict()) flags += 'e';
    if (flags.empty()) flags = "N";
    std::size_t multi_mem = 0;
    for (const auto& request : tx.queued) {
      for (const std::string& arg : request) multi_mem += arg.size();
    }
    return fmt::format(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db=0 sub={} psub={} "
        "ssub=0 multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem={} rbs=16384 rbp=0 obl=0 oll=0 "
        "omem={} tot-mem=0 events=r cmd={} user=default redir=-1 resp=2\n",
        c.info().id, c.info().addr, c.info().laddr, c.info().fd, c.name(),
        (now - c.info().created_ms) / 1000, (now - c.last_active_ms) / 1000, flags,
        c.subscriptions(), c.pattern_subscriptions(),
        tx.active ? static_cast<std::int64_t>(tx.queued.size()) : -1, multi_mem,
        c.output_bytes(), c.last_command.empty() ? "NULL" : c.last_command);
  }

  static bool client(Session& s, const Args& a, ReplyWriter& out) {
    const std::string sub = lowercase(a[1]);
    if (sub == "setname") {
      if (a.size() != 3) return wrong_arity(out, "client|setname"), true;
      if (!valid_client_name(a[2])) {
        out.error("ERR Client names cannot contain spaces, newlines or special characters.");
        return true;
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
    } else if (sub == "kill") {
      if (a.size() < 3) return wrong_arity(out, "client|kill"), true;
      return ServerCommands::client_kill(s, a, out);
    } else if (sub == "no-evict") {
      return ServerCommands::client_no_evict(s, a, out);
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
        if (s.server_.aof && s.server_.aof->policy() != s.server_.config.appendfsync) {
          s.server_.aof->set_policy(s.server_.config.appendfsync);
        }
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
          "SLEEP <seconds>",
          "    This connection sleeps <seconds> (others are served meanwhile), then replies OK.",
          "HELP",
          "    Prints this help.",
      };
      out.array_header(std::size(kHelp));
      for (const char* line : kHelp) out.simple(line);
    } else if (a.size() == 2 && sub == "crash-keyspace") {
      const grove::ActorRef keyspace = grove::whereis(
          s.server_.shards ? shard_actor_name(s.server_.shard_index) : kKeyspaceName);
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
      // A child of the supervisor on the main hub that registers its name (kv_server --threads
      // N: the aof-writer).
      if (const grove::ActorRef named = grove::whereis(std::string(a[2]))) {
        grove::exit(named, grove::ExitReason::kill());
        out.ok();
        return true;
      }
      out.error(fmt::format("ERR no running child '{:.128}' (INFO supervision lists them)", a[2]));
    } else if (a.size() == 3 && sub == "sleep") {
      long double seconds = 0;
      if (!parse_long_double(a[2], seconds) || seconds < 0) {
        out.error("ERR value is not a valid float");
        return true;
      }
      // Inside EXEC it does not sleep: nothing may run in the middle of a transaction.
      if (!s.tx_.executing) grove::sleep(static_cast<double>(seconds));
      s.now_ = unix_ms();  // the clock moved while asleep
      out.ok();
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
      out.integer(static_cast<std::int64_t>(s.channels_.size() + s.patterns_.size()));
    }
    s.output_->set_pubsub(!s.channels_.empty() || !s.patterns_.empty());
    return true;
  }

  static void unsubscribe_one(Session& s, const std::string& channel, ReplyWriter* out) {
    if (s.channels_.erase(channel) > 0) {
      s.server_.pubsub->unsubscribe(channel, s.output_.get());
      if (s.channels_.empty() && s.patterns_.empty()) s.output_->set_pubsub(false);
    }
    if (!out) return;
    out->array_header(3);
    out->bulk("unsubscribe");
    out->bulk(channel);
    out->integer(static_cast<std::int64_t>(s.channels_.size() + s.patterns_.size()));
  }

  static bool unsubscribe(Session& s, const Args& a, ReplyWriter& out) {
    if (a.size() == 1) {
      if (s.channels_.empty()) {
        out.array_header(3);
        out.bulk("unsubscribe");
        out.null_bulk();
        out.integer(static_cast<std::int64_t>(s.patterns_.size()));
      }
      const std::vector<std::string> all(s.channels_.begin(), s.channels_.end());
      for (const std::string& channel : all) unsubscribe_one(s, channel, &out);
    } else {
      for (std::size_t i = 1; i < a.size(); ++i) unsubscribe_one(s, std::string(a[i]), &out);
    }
    return true;
  }

  static bool publish(Session& s, const Args& a, ReplyWriter& out) {
    std::size_t receivers = s.server_.pubsub->publish(a[1], a[2]);
    // --threads N: the subscribers of the other hubs too (counted, unless inside EXEC, which
    // must not wait).
    if (s.server_.shards) {
      receivers += publish_on_other_hubs(s.server_, a[1], a[2], !s.tx_.executing);
    }
    out.integer(static_cast<std::int64_t>(receivers));
    if (s.server_.forward_publish) s.server_.forward_publish(a[1], a[2]);
    return true;
  }

  // --- lookup ----------------------------------------------------------------------------------

  static const Spec* find(std::string_view name) {
    static const auto* index = [] {
      // Keys view the names in table(), which lives as long as the program.
      auto* m = new std::unordered_map<std::string_view, const Spec*>;
      for (const Spec& spec : table()) (*m)[std::string_view(spec.name)] = &spec;
      return m;
    }();
    // Looked up once per command: lowered in place (ASCII, as redis compares names), no copy.
    char lower[32];
    if (name.size() >= sizeof lower) return nullptr;
    for (std::size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    auto it = index->find(std::string_view(lower, name.size()));
    return it == index->end() ? nullptr : it->second;
  }
};

const std::vector<Commands::Spec>& Commands::table() {
  static const std::vector<Spec> specs = {
      {"ping", -1, &Commands::ping, "fast"},
      {"echo", 2, &Commands::echo, "fast"},
      {"select", 2, &Commands::select, "fast"},
      {"hello", -1, &Commands::hello, "fast"},
      {"quit", -1, &Commands::quit, "fast"},
      {"shutdown", -1, &Commands::shutdown, "admin"},
      {"get", 2, &Commands::get, "readonly"},
      {"set", -3, &Commands::set, "write"},
      {"getset", 3, &Commands::getset, "write"},
      {"setnx", 3, &Commands::setnx, "write"},
      {"setex", 4, &Commands::setex, "write"},
      {"psetex", 4, &Commands::psetex, "write"},
      {"getex", -2, &Commands::getex, "write"},
      {"getdel", 2, &Commands::getdel, "write"},
      {"incrbyfloat", 3, &Commands::incrbyfloat, "write"},
      {"setrange", 4, &Commands::setrange, "write"},
      {"getrange", 4, &Commands::getrange, "readonly"},
      {"substr", 4, &Commands::getrange, "readonly"},
      {"setbit", 4, &Commands::setbit, "write"},
      {"getbit", 3, &Commands::getbit, "readonly"},
      {"bitcount", -2, &Commands::bitcount, "readonly"},
      {"bitpos", -3, &Commands::bitpos, "readonly"},
      {"msetnx", -3, &Commands::msetnx, "write"},
      {"incr", 2, &Commands::incr, "write"},
      {"decr", 2, &Commands::decr, "write"},
      {"incrby", 3, &Commands::incrby, "write"},
      {"decrby", 3, &Commands::decrby, "write"},
      {"append", 3, &Commands::append, "write"},
      {"strlen", 2, &Commands::strlen, "readonly"},
      {"mget", -2, &Commands::mget, "readonly"},
      {"mset", -3, &Commands::mset, "write"},
      {"lpush", -3, &Commands::lpush, "write"},
      {"rpush", -3, &Commands::rpush, "write"},
      {"lpushx", -3, &Commands::lpushx, "write"},
      {"rpushx", -3, &Commands::rpushx, "write"},
      {"lpop", -2, &Commands::lpop, "write"},
      {"rpop", -2, &Commands::rpop, "write"},
      {"llen", 2, &Commands::llen, "readonly"},
      {"lrange", 4, &Commands::lrange, "readonly"},
      {"lindex", 3, &Commands::lindex, "readonly"},
      {"lset", 4, &Commands::lset, "write"},
      {"lrem", 4, &Commands::lrem, "write"},
      {"ltrim", 4, &Commands::ltrim, "write"},
      {"linsert", 5, &Commands::linsert, "write"},
      {"lpos", -3, &Commands::lpos, "readonly"},
      {"lmove", 5, &Commands::lmove, "write"},
      {"rpoplpush", 3, &Commands::rpoplpush, "write"},
      {"lmpop", -4, &Commands::lmpop, "write"},
      {"blpop", -3, &Commands::blpop, "write"},
      {"brpop", -3, &Commands::brpop, "write"},
      {"blmove", 6, &Commands::blmove, "write"},
      {"brpoplpush", 4, &Commands::brpoplpush, "write"},
      {"blmpop", -5, &Commands::blmpop, "write"},
      {"hset", -4, &Commands::hset, "write"},
      {"hmset", -4, &Commands::hmset, "write"},
      {"hsetnx", 4, &Commands::hsetnx, "write"},
      {"hget", 3, &Commands::hget, "readonly"},
      {"hmget", -3, &Commands::hmget, "readonly"},
      {"hdel", -3, &Commands::hdel, "write"},
      {"hlen", 2, &Commands::hlen, "readonly"},
      {"hexists", 3, &Commands::hexists, "readonly"},
      {"hstrlen", 3, &Commands::hstrlen, "readonly"},
      {"hgetall", 2, &Commands::hgetall, "readonly"},
      {"hkeys", 2, &Commands::hkeys, "readonly"},
      {"hvals", 2, &Commands::hvals, "readonly"},
      {"hincrby", 4, &Commands::hincrby, "write"},
      {"hincrbyfloat", 4, &Commands::hincrbyfloat, "write"},
      {"sadd", -3, &set_commands::sadd, "write"},
      {"srem", -3, &set_commands::srem, "write"},
      {"smembers", 2, &set_commands::smembers, "readonly"},
      {"sismember", 3, &set_commands::sismember, "readonly"},
      {"smismember", -3, &set_commands::smismember, "readonly"},
      {"scard", 2, &set_commands::scard, "readonly"},
      {"spop", -2, &set_commands::spop, "write"},
      {"srandmember", -2, &set_commands::srandmember, "readonly"},
      {"smove", 4, &set_commands::smove, "write"},
      {"sinter", -2, &set_commands::sinter, "readonly"},
      {"sinterstore", -3, &set_commands::sinterstore, "write"},
      {"sunion", -2, &set_commands::sunion, "readonly"},
      {"sunionstore", -3, &set_commands::sunionstore, "write"},
      {"sdiff", -2, &set_commands::sdiff, "readonly"},
      {"sdiffstore", -3, &set_commands::sdiffstore, "write"},
      {"sintercard", -3, &set_commands::sintercard, "readonly"},
      {"sscan", -3, &set_commands::sscan, "readonly"},
      {"zadd", -4, &zset_commands::zadd, "write"},
      {"zincrby", 4, &zset_commands::zincrby, "write"},
      {"zrem", -3, &zset_commands::zrem, "write"},
      {"zscore", 3, &zset_commands::zscore, "readonly"},
      {"zmscore", -3, &zset_commands::zmscore, "readonly"},
      {"zcard", 2, &zset_commands::zcard, "readonly"},
      {"zcount", 4, &zset_commands::zcount, "readonly"},
      {"zlexcount", 4, &zset_commands::zlexcount, "readonly"},
      {"zrank", 3, &zset_commands::zrank, "readonly"},
      {"zrevrank", 3, &zset_commands::zrevrank, "readonly"},
      {"zrange", -4, &zset_commands::zrange, "readonly"},
      {"zrangestore", -5, &zset_commands::zrangestore, "write"},
      {"zrangebyscore", -4, &zset_commands::zrangebyscore, "readonly"},
      {"zrevrangebyscore", -4, &zset_commands::zrevrangebyscore, "readonly"},
      {"zrevrange", -4, &zset_commands::zrevrange, "readonly"},
      {"zrangebylex", -4, &zset_commands::zrangebylex, "readonly"},
      {"zrevrangebylex", -4, &zset_commands::zrevrangebylex, "readonly"},
      {"zremrangebyrank", 4, &zset_commands::zremrangebyrank, "write"},
      {"zremrangebyscore", 4, &zset_commands::zremrangebyscore, "write"},
      {"zremrangebylex", 4, &zset_commands::zremrangebylex, "write"},
      {"zpopmin", -2, &zset_commands::zpopmin, "write"},
      {"zpopmax", -2, &zset_commands::zpopmax, "write"},
      {"bzpopmin", -3, &zset_commands::bzpopmin, "write"},
      {"bzpopmax", -3, &zset_commands::bzpopmax, "write"},
      {"zmpop", -4, &zset_commands::zmpop, "write"},
      {"bzmpop", -5, &zset_commands::bzmpop, "write"},
      {"zrandmember", -2, &zset_commands::zrandmember, "readonly"},
      {"zunion", -3, &zset_commands::zunion, "readonly"},
      {"zinter", -3, &zset_commands::zinter, "readonly"},
      {"zdiff", -3, &zset_commands::zdiff, "readonly"},
      {"zunionstore", -4, &zset_commands::zunionstore, "write"},
      {"zinterstore", -4, &zset_commands::zinterstore, "write"},
      {"zdiffstore", -4, &zset_commands::zdiffstore, "write"},
      {"zintercard", -3, &zset_commands::zintercard, "readonly"},
      {"zscan", -3, &zset_commands::zscan, "readonly"},
      {"lcs", -3, &extra_commands::lcs, "readonly"},
      {"hrandfield", -2, &extra_commands::hrandfield, "readonly"},
      {"hscan", -3, &extra_commands::hscan, "readonly"},
      {"object", -2, &extra_commands::object, "readonly"},
      {"del", -2, &Commands::del, "write"},
      {"unlink", -2, &Commands::unlink, "write"},
      {"touch", -2, &Commands::touch, "readonly"},
      {"rename", 3, &Commands::rename, "write"},
      {"renamenx", 3, &Commands::renamenx, "write"},
      {"copy", -3, &Commands::copy, "write"},
      {"randomkey", 1, &Commands::randomkey, "readonly"},
      {"exists", -2, &Commands::exists, "readonly"},
      {"type", 2, &Commands::type, "readonly"},
      {"expire", -3, &Commands::expire, "write"},
      {"pexpire", -3, &Commands::pexpire, "write"},
      {"expireat", -3, &Commands::expireat, "write"},
      {"pexpireat", -3, &Commands::pexpireat, "write"},
      {"ttl", 2, &Commands::ttl, "readonly"},
      {"pttl", 2, &Commands::pttl, "readonly"},
      {"expiretime", 2, &Commands::expiretime, "readonly"},
      {"pexpiretime", 2, &Commands::pexpiretime, "readonly"},
      {"persist", 2, &Commands::persist, "write"},
      {"keys", 2, &Commands::keys, "readonly"},
      {"scan", -2, &Commands::scan, "readonly"},
      {"dbsize", 1, &Commands::dbsize, "readonly"},
      {"flushdb", -1, &Commands::flushdb, "write"},
      {"flushall", -1, &Commands::flushall, "write"},
      {"function", -2, &Commands::function, "admin"},
      {"info", -1, &Commands::info, "loading"},
      {"client", -2, &Commands::client, "admin"},
      {"command", -1, &Commands::command, "loading"},
      {"config", -2, &Commands::config, "admin"},
      {"debug", -2, &Commands::debug, "admin"},
      {"subscribe", -2, &Commands::subscribe, "pubsub"},
      {"unsubscribe", -1, &Commands::unsubscribe, "pubsub"},
      {"publish", 3, &Commands::publish, "pubsub"},
      {"psubscribe", -2, &ServerCommands::psubscribe, "pubsub"},
      {"punsubscribe", -1, &ServerCommands::punsubscribe, "pubsub"},
      {"pubsub", -2, &ServerCommands::pubsub, "pubsub"},
      {"multi", 1, &ServerCommands::multi, "fast"},
      {"exec", 1, &ServerCommands::exec, "slow"},
      {"discard", 1, &ServerCommands::discard, "fast"},
      {"watch", -2, &ServerCommands::watch, "fast"},
      {"unwatch", 1, &ServerCommands::unwatch, "fast"},
      {"bgrewriteaof", 1, &ServerCommands::bgrewriteaof, "admin"},
  };
  return specs;
}

// --- Session -------------------------------------------------------------------------------------

Session::Session(Server& server, ClientInfo info, std::shared_ptr<ClientOutput> output)
    : server_(server), info_(std::move(info)), output_(std::move(output)) {
  if (info_.id != 0 && !info_.internal) server_.clients.emplace(info_.id, this);
  last_active_ms = info_.created_ms;
}

Session::~Session() {
  ServerCommands::unsubscribe_all(*this);
  server_.watches.unwatch_all(tx_);
  if (output_) output_->stop();
  if (info_.id != 0 && !info_.internal) server_.clients.erase(info_.id);
}

bool Session::execute(const std::vector<std::string_view>& args, std::string& out_buffer) {
  ReplyWriter out(out_buffer);
  ++server_.commands_processed;
  const Commands::Spec* spec = Commands::find(args[0]);
  // Refused before running (redis-server's processCommand order); inside MULTI a refusal
  // aborts the transaction (kv/commands_server.h).
  if (spec == nullptr) {
    std::string shown;
    for (std::size_t i = 1; i < args.size() && shown.size() < 128; ++i) {
      shown += fmt::format("'{}' ", args[i].substr(0, 128 - shown.size()));
    }
    ServerCommands::refused(*this, "",
                            fmt::format("ERR unknown command '{}', with args beginning with: {}",
                                        args[0].substr(0, 128), shown),
                            out);
    return true;
  }
  if ((spec->arity > 0 && static_cast<int>(args.size()) != spec->arity) ||
      static_cast<int>(args.size()) < -spec->arity) {
    ServerCommands::refused(
        *this, spec->name,
        fmt::format("ERR wrong number of arguments for '{}' command", spec->name), out);
    return true;
  }
  if ((!channels_.empty() || !patterns_.empty()) && spec->fn != &Commands::subscribe &&
      spec->fn != &Commands::unsubscribe && spec->fn != &ServerCommands::psubscribe &&
      spec->fn != &ServerCommands::punsubscribe && spec->fn != &Commands::ping &&
      spec->fn != &Commands::quit) {
    ServerCommands::refused(
        *this, spec->name,
        fmt::format("ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                    "QUIT / RESET are allowed in this context",
                    spec->name),
        out);
    return true;
  }
  if (tx_.active && !ServerCommands::runs_inside_multi(spec->name)) {
    tx_.queued.emplace_back(args.begin(), args.end());
    out.simple("QUEUED");
    return true;
  }
  last_command = spec->name;
  if (args.size() > 1 && (spec->fn == &Commands::client || spec->fn == &Commands::config ||
                          spec->fn == &Commands::command || spec->fn == &Commands::debug)) {
    last_command += '|';
    for (char c : args[1]) last_command += static_cast<char>(std::tolower(c));
  }
  last_active_ms = now_;
  const bool keep_open = spec->fn(*this, args, out);
  // After the whole command (after the whole EXEC): clients blocked on keys it pushed to.
  if (!server_.store->ready_keys.empty()) server_.blocking.serve_ready();
  return keep_open;
}

// --- the kit of the other command files (command_kit.h) ------------------------------------------

namespace kit {

Store& store(Session& s) { return Commands::store(s); }
std::int64_t now(Session& s) { return Commands::now(s); }
void log(Session& s, const Args& args) { Commands::log(s, args); }
void log(Session& s, std::initializer_list<std::string_view> args) { Commands::log(s, args); }
bool logging(Session& s) { return Commands::logging(s); }
void changed(Session& s, std::string_view key, unsigned cls, std::string_view event) {
  Commands::changed(s, key, cls, event);
}
const Config& config(Session& s) { return Commands::server(s).config; }
bool wrong_type(ReplyWriter& out) { return Commands::wrong_type(out); }
void wrong_arity(ReplyWriter& out, std::string_view command) {
  Commands::wrong_arity(out, command);
}
bool equals_nocase(std::string_view a, std::string_view b) { return kv::equals_nocase(a, b); }
bool block_timeout(std::string_view arg, ReplyWriter& out, grove::Deadline& deadline) {
  return Commands::block_timeout(arg, out, deadline);
}
bool block(Session& s, std::vector<std::string> keys, grove::Deadline deadline, const char* what,
           std::function<bool(BlockedClient&, std::string_view)> serve, ReplyWriter& out) {
  return Commands::block(s, std::move(keys), deadline, what, std::move(serve), out);
}

}  // namespace kit


bool Session::call(const std::vector<std::string_view>& args, std::string& out_buffer) {
  ReplyWriter out(out_buffer);
  ++server_.commands_processed;
  const Commands::Spec* spec = Commands::find(args[0]);  // checked when it was queued
  return spec->fn(*this, args, out);
}

bool lookup_command(std::string_view name, const char*& canonical, int& arity) {
  const Commands::Spec* spec = Commands::find(name);
  if (spec == nullptr) return false;
  canonical = spec->name;
  arity = spec->arity;
  return true;
}

void replay_request(Server& server, const std::vector<std::string_view>& args) {
  static std::string discarded;
  Session replayer(server, ClientInfo{}, nullptr);  // id 0: replaying, nothing is logged
  discarded.clear();
  replayer.start_batch(0);
  replayer.execute(args, discarded);
}

}  // namespace kv
