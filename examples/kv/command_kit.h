// examples/kv/command_kit.h — what the command files of the data types (commands_set.cc,
// commands_zset.cc, commands_extra.cc) share with the executor in commands.cc, and the commands
// they define.
//
// Model: a command is a function of (Session, arguments, reply) like every command of
// commands.cc, registered in the same table (commands.cc's Commands::table()), so arity checks,
// COMMAND and the pub/sub restrictions treat it the same way. The kit gives such a function
// what commands.cc's own commands reach through the Session: the Store, the command's clock,
// the AOF log, the blocking machinery (kv/blocking.h), and redis-server's common errors and
// number syntax. Each kit function forwards to the one commands.cc uses, so the two behave
// alike.
//
// Thread: the server's hub, inside Session::execute.
//
//   bool scard(Session& s, const Args& a, ReplyWriter& out) {
//     Entry* e = kit::store(s).find_for_read(a[1], kit::now(s));  // a read: a hit or a miss
//     if (e && e->type() != ValueType::kSet) return kit::wrong_type(out);
//     out.integer(e ? static_cast<std::int64_t>(e->set().size()) : 0);
//     return true;
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "examples/kv/blocking.h"
#include "examples/kv/config.h"
#include "examples/kv/events.h"
#include "examples/kv/resp.h"
#include "examples/kv/store.h"
#include "hub/wait.h"

namespace kv {

class Session;
using Args = std::vector<std::string_view>;

namespace kit {

inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kSyntaxError = "ERR syntax error";
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";

Store& store(Session& s);
// The clock of the current command (Unix ms; 0 while the AOF is replayed).
std::int64_t now(Session& s);
// Appends a write to the AOF (nothing without one, or while replaying).
void log(Session& s, const Args& args);
void log(Session& s, std::initializer_list<std::string_view> args);
// Whether log() records anything: lets a command skip building a record nobody keeps.
bool logging(Session& s);
// A write of `key`: one call per event redis-server fires for it, in its order (SMOVE: "srem" on
// the source, "del" if that emptied it, "sadd" on the destination). Invalidates WATCH, tells a
// running AOF rewrite to write the key again and publishes the keyspace notification (kv/events.h).
void changed(Session& s, std::string_view key, unsigned cls, std::string_view event);
const Config& config(Session& s);

// Replies WRONGTYPE; returns true (a command's "keep the connection").
bool wrong_type(ReplyWriter& out);
void wrong_arity(ReplyWriter& out, std::string_view command);
bool equals_nocase(std::string_view a, std::string_view b);

// A double as redis-server's getDoubleFromObject accepts it (strtod over the whole text, no
// leading space, no NaN, no overflow).
bool parse_double(std::string_view text, double& value);
// A score in a reply, as redis-server 7.0 prints it in RESP2: "inf", "-inf", else %.17g.
void reply_double(ReplyWriter& out, double value);
std::string format_double(double value);

// The timeout argument of a blocking command (seconds, a float; 0 = forever). False: the error
// was replied.
bool block_timeout(std::string_view arg, ReplyWriter& out, grove::Deadline& deadline);
// Parks the session until `serve` (called when one of `keys` becomes ready) writes the reply, or
// the deadline passes (a null array is replied), or the client closes (false: close the
// connection). See kv/blocking.h.
bool block(Session& s, std::vector<std::string> keys, grove::Deadline deadline, const char* what,
           std::function<bool(BlockedClient&, std::string_view)> serve, ReplyWriter& out);

// The [count [WITH<flag>]] tail of HRANDFIELD and ZRANDMEMBER from a[2], in redis-server's
// order: the count (not an integer, or LLONG_MIN: error), the flag `flag` (anything else:
// syntax error), then, with the flag, a count whose doubled reply would overflow. False: the
// error was replied. Without a count argument, `count` stays 1 and `with_flag` false.
struct RandomCount {
  bool has_count = false;
  std::int64_t count = 1;
  bool with_flag = false;
};
bool parse_random_count(const Args& a, std::string_view flag, ReplyWriter& out, RandomCount& r);

// The cursor argument of the *SCAN commands: strtoul's syntax, as redis-server's
// parseScanCursorOrReply (a sign is accepted: "-1" wraps). False: "invalid cursor" was replied.
bool parse_cursor(std::string_view arg, ReplyWriter& out, std::uint64_t& cursor);
// The [MATCH pattern] [COUNT n] options of SSCAN/HSCAN/ZSCAN from a[3]. False: the error was
// replied. MATCH * gives an empty pattern (everything matches).
bool parse_scan_options(const Args& a, ReplyWriter& out, std::string_view& pattern,
                        std::int64_t& count);

// What SSCAN/HSCAN/ZSCAN key cursor [MATCH pattern] [COUNT n] asked for.
struct ScanRequest {
  Entry* entry = nullptr;  // the key's value, of the command's type
  std::uint64_t cursor = 0;
  std::string_view pattern;  // empty: every element
  std::int64_t count = 10;
};
// The part of SSCAN/HSCAN/ZSCAN before the walk, in redis-server's order: the cursor (invalid:
// error), the key (missing: the empty scan [0, []] is replied; another type: WRONGTYPE), then the
// options (a bad one: error). True: go on and walk `scan.entry`; false: the reply was written.
bool begin_scan(Session& s, const Args& a, ValueType type, ReplyWriter& out, ScanRequest& scan);
// The head of a scan's reply: [next cursor, then the caller writes the array of elements].
void reply_scan_cursor(ReplyWriter& out, std::uint64_t next);
// Walks the buckets of an unordered container from bucket `cursor` until `count` elements were
// visited (a whole bucket at a time, as SCAN does), calling visit(element) for each; returns the
// next cursor, 0 when the walk reached the end. A cursor past the last bucket ends at once.
template <typename Table, typename Visit>
std::uint64_t scan_buckets(const Table& table, std::uint64_t cursor, std::int64_t count,
                           Visit&& visit) {
  const std::size_t buckets = table.bucket_count();
  std::uint64_t bucket = cursor;
  std::int64_t visited = 0;
  while (bucket < buckets && visited < count) {
    for (auto it = table.begin(bucket); it != table.end(bucket); ++it) {
      ++visited;
      visit(*it);
    }
    ++bucket;
  }
  return bucket < buckets ? bucket : 0;
}
// A random 64-bit number (SPOP, SRANDMEMBER, HRANDFIELD, ...).
std::uint64_t random();

}  // namespace kit

// The commands of commands_set.cc.
namespace set_commands {
bool sadd(Session& s, const Args& a, ReplyWriter& out);
bool srem(Session& s, const Args& a, ReplyWriter& out);
bool smembers(Session& s, const Args& a, ReplyWriter& out);
bool sismember(Session& s, const Args& a, ReplyWriter& out);
bool smismember(Session& s, const Args& a, ReplyWriter& out);
bool scard(Session& s, const Args& a, ReplyWriter& out);
bool spop(Session& s, const Args& a, ReplyWriter& out);
bool srandmember(Session& s, const Args& a, ReplyWriter& out);
bool smove(Session& s, const Args& a, ReplyWriter& out);
bool sinter(Session& s, const Args& a, ReplyWriter& out);
bool sinterstore(Session& s, const Args& a, ReplyWriter& out);
bool sunion(Session& s, const Args& a, ReplyWriter& out);
bool sunionstore(Session& s, const Args& a, ReplyWriter& out);
bool sdiff(Session& s, const Args& a, ReplyWriter& out);
bool sdiffstore(Session& s, const Args& a, ReplyWriter& out);
bool sintercard(Session& s, const Args& a, ReplyWriter& out);
bool sscan(Session& s, const Args& a, ReplyWriter& out);
}  // namespace set_commands

// The commands of commands_zset.cc.
namespace zset_commands {
bool zadd(Session& s, const Args& a, ReplyWriter& out);
bool zincrby(Session& s, const Args& a, ReplyWriter& out);
bool zrem(Session& s, const Args& a, ReplyWriter& out);
bool zscore(Session& s, const Args& a, ReplyWriter& out);
bool zmscore(Session& s, const Args& a, ReplyWriter& out);
bool zcard(Session& s, const Args& a, ReplyWriter& out);
bool zcount(Session& s, const Args& a, ReplyWriter& out);
bool zlexcount(Session& s, const Args& a, ReplyWriter& out);
bool zrank(Session& s, const Args& a, ReplyWriter& out);
bool zrevrank(Session& s, const Args& a, ReplyWriter& out);
bool zrange(Session& s, const Args& a, ReplyWriter& out);
bool zrangestore(Session& s, const Args& a, ReplyWriter& out);
bool zrangebyscore(Session& s, const Args& a, ReplyWriter& out);
bool zrevrangebyscore(Session& s, const Args& a, ReplyWriter& out);
bool zrevrange(Session& s, const Args& a, ReplyWriter& out);
bool zrangebylex(Session& s, const Args& a, ReplyWriter& out);
bool zrevrangebylex(Session& s, const Args& a, ReplyWriter& out);
bool zremrangebyrank(Session& s, const Args& a, ReplyWriter& out);
bool zremrangebyscore(Session& s, const Args& a, ReplyWriter& out);
bool zremrangebylex(Session& s, const Args& a, ReplyWriter& out);
bool zpopmin(Session& s, const Args& a, ReplyWriter& out);
bool zpopmax(Session& s, const Args& a, ReplyWriter& out);
bool bzpopmin(Session& s, const Args& a, ReplyWriter& out);
bool bzpopmax(Session& s, const Args& a, ReplyWriter& out);
bool zmpop(Session& s, const Args& a, ReplyWriter& out);
bool bzmpop(Session& s, const Args& a, ReplyWriter& out);
bool zrandmember(Session& s, const Args& a, ReplyWriter& out);
bool zunion(Session& s, const Args& a, ReplyWriter& out);
bool zinter(Session& s, const Args& a, ReplyWriter& out);
bool zdiff(Session& s, const Args& a, ReplyWriter& out);
bool zunionstore(Session& s, const Args& a, ReplyWriter& out);
bool zinterstore(Session& s, const Args& a, ReplyWriter& out);
bool zdiffstore(Session& s, const Args& a, ReplyWriter& out);
bool zintercard(Session& s, const Args& a, ReplyWriter& out);
bool zscan(Session& s, const Args& a, ReplyWriter& out);
}  // namespace zset_commands

// The commands of commands_extra.cc.
namespace extra_commands {
bool lcs(Session& s, const Args& a, ReplyWriter& out);
bool hrandfield(Session& s, const Args& a, ReplyWriter& out);
bool hscan(Session& s, const Args& a, ReplyWriter& out);
bool object(Session& s, const Args& a, ReplyWriter& out);
}  // namespace extra_commands

}  // namespace kv
