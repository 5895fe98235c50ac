// examples/kv/commands_zset.cc — the sorted-set commands, with redis-server 7.0's replies and
// errors: ZADD (NX XX GT LT CH INCR), ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD, ZCOUNT, ZLEXCOUNT,
// ZRANK/ZREVRANK, ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES), ZRANGESTORE, ZRANGEBYSCORE,
// ZREVRANGEBYSCORE, ZREVRANGE, ZRANGEBYLEX, ZREVRANGEBYLEX, ZREMRANGEBYRANK/SCORE/LEX,
// ZPOPMIN/ZPOPMAX, BZPOPMIN/BZPOPMAX, ZMPOP/BZMPOP, ZUNION/ZINTER/ZDIFF(STORE) (WEIGHTS,
// AGGREGATE), ZINTERCARD, ZRANDMEMBER, ZSCAN.
//
// Scores: doubles, printed as redis 7.0 prints them in RESP2 (kit::reply_double: "inf", "-inf",
// else %.17g). Ranges follow redis's syntax: "(" makes a score bound exclusive; lex bounds are
// "[x", "(x", "-" and "+". Like redis, a BYLEX range assumes the members share one score.
//
// Blocking: BZPOPMIN/BZPOPMAX/BZMPOP park through kit::block (kv/blocking.h), first blocked first
// served; a ZADD that creates the key serves them right after it runs.
//
// Persistence: writes log themselves as given (they are deterministic); a blocked pop that is
// served logs the ZPOPMIN/ZPOPMAX it performed, and a store whose result is empty logs DEL.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <climits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "examples/kv/command_kit.h"
#include "examples/kv/glob.h"

namespace kv::zset_commands {

namespace {

using Item = ZSet::Item;
using Iterator = ZSet::Iterator;

// The sorted set a lookup found: null when missing; `wrong` (and the error replied) when the key
// holds another type.
ZSet* as_zset(Entry* e, ReplyWriter& out, bool& wrong) {
  wrong = e != nullptr && e->type() != ValueType::kZset;
  if (wrong) kit::wrong_type(out);
  return e && !wrong ? &e->zset() : nullptr;
}

// The sorted set at `key` for a command that reads it (a keyspace hit or miss, see Store::find_for_read).
ZSet* zset_for_read(Session& s, std::string_view key, ReplyWriter& out, bool& wrong) {
  return as_zset(kit::store(s).find_for_read(key, kit::now(s)), out, wrong);
}

// The sorted set at `key` for a command that changes it (not counted, as redis's lookupKeyWrite).
ZSet* zset_for_write(Session& s, std::string_view key, ReplyWriter& out, bool& wrong) {
  return as_zset(kit::store(s).find(key, kit::now(s)), out, wrong);
}

// Deletes `key` when its sorted set has become empty; true if it did.
bool drop_if_empty(Session& s, std::string_view key, const ZSet& z) {
  if (!z.empty()) return false;
  kit::store(s).erase(key);
  return true;
}

// --- ranges --------------------------------------------------------------------------------------

// A score interval, parsed as redis's zslParseRange: strtod over the text (so "" is 0 and a
// leading space is accepted), "(" for an open end, NaN refused.
struct ScoreRange {
  double min = 0, max = 0;
  bool minex = false, maxex = false;

  bool gte_min(double v) const { return minex ? v > min : v >= min; }
  bool lte_max(double v) const { return maxex ? v < max : v <= max; }
  bool empty() const { return min > max || (min == max && (minex || maxex)); }
  // The first element inside (ascending), and the last one (descending), or end().
  Iterator first(const ZSet& z) const { return z.lower_bound(Item{min, minex ? ZSet::kAfterAll : nullptr}); }
  Iterator last(const ZSet& z) const {
    Iterator it = z.lower_bound(Item{max, maxex ? nullptr : ZSet::kAfterAll});
    return it == z.begin() ? z.end() : --it;
  }
  std::size_t count(const ZSet& z) const {
    const std::size_t before = z.count_before(Item{min, minex ? ZSet::kAfterAll : nullptr});
    const std::size_t upto = z.count_before(Item{max, maxex ? nullptr : ZSet::kAfterAll});
    return upto > before ? upto - before : 0;
  }
};

bool parse_score_bound(std::string_view arg, double& value, bool& exclusive) {
  exclusive = !arg.empty() && arg[0] == '(';
  const std::string buffer(exclusive ? arg.substr(1) : arg);
  char* end = nullptr;
  value = std::strtod(buffer.c_str(), &end);
  return *end == '\0' && !std::isnan(value);
}

bool parse_score_range(std::string_view min, std::string_view max, ScoreRange& range) {
  return parse_score_bound(min, range.min, range.minex) &&
         parse_score_bound(max, range.max, range.maxex);
}

// A lexicographic interval: "[x" / "(x" / "-" (below everything) / "+" (above everything).
struct LexBound {
  enum Kind { kMinusInf, kValue, kPlusInf } kind = kValue;
  std::string value;
  bool exclusive = false;
};

bool parse_lex_bound(std::string_view arg, LexBound& bound) {
  if (arg.empty()) return false;
  switch (arg[0]) {
    case '+':
    case '-':
      if (arg.size() != 1) return false;
      bound.kind = arg[0] == '+' ? LexBound::kPlusInf : LexBound::kMinusInf;
      bound.exclusive = true;
      return true;
    case '(':
    case '[':
      bound.kind = LexBound::kValue;
      bound.value = std::string(arg.substr(1));
      bound.exclusive = arg[0] == '(';
      return true;
    default:
      return false;
  }
}

// <0, 0, >0 as redis's sdscmplex: "-" below and "+" above every string.
int compare_lex(std::string_view member, const LexBound& bound) {
  if (bound.kind == LexBound::kMinusInf) return 1;
  if (bound.kind == LexBound::kPlusInf) return -1;
  const int c = member.compare(bound.value);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

struct LexRange {
  LexBound min, max;

  bool gte_min(std::string_view m) const {
    const int c = compare_lex(m, min);
    return min.exclusive ? c > 0 : c >= 0;
  }
  bool lte_max(std::string_view m) const {
    const int c = compare_lex(m, max);
    return max.exclusive ? c < 0 : c <= 0;
  }
  bool empty() const {
    int c = 0;
    if (min.kind != max.kind) {
      c = min.kind < max.kind ? -1 : 1;
    } else if (min.kind == LexBound::kValue) {
      c = min.value.compare(max.value);
    }
    return c > 0 || (c == 0 && (min.exclusive || max.exclusive));
  }
  // Ranks by binary search, trusting the members to ascend with the ranks (one score).
  std::size_t first_rank(const ZSet& z) const {
    std::size_t lo = 0, hi = z.size();
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (gte_min(*z.at_rank(mid)->member)) hi = mid; else lo = mid + 1;
    }
    return lo;
  }
  std::size_t end_rank(const ZSet& z) const {  // one past the last member <= max
    std::size_t lo = 0, hi = z.size();
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (lte_max(*z.at_rank(mid)->member)) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
};

bool parse_lex_range(std::string_view min, std::string_view max, LexRange& range) {
  return parse_lex_bound(min, range.min) && parse_lex_bound(max, range.max);
}

constexpr std::string_view kNotFloatRange = "ERR min or max is not a float";
constexpr std::string_view kNotLexRange = "ERR min or max not valid string range item";

// A rank interval [start, end] sanitized as redis does (negative from the end); false when it
// selects nothing.
bool sanitize_ranks(std::int64_t& start, std::int64_t& end, std::int64_t size) {
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  if (start > end || start >= size) return false;
  if (end >= size) end = size - 1;
  return true;
}

// --- replies and results ---------------------------------------------------------------------------

// Elements of a result: member and score (pointers into a set that does not change until the
// result is used).
using Picked = std::vector<Item>;

void reply_items(const Picked& items, bool with_scores, ReplyWriter& out) {
  out.array_header(items.size() * (with_scores ? 2 : 1));
  for (const Item& item : items) {
    out.bulk(*item.member);
    if (with_scores) kit::reply_double(out, item.score);
  }
}

// Replaces `key` with a sorted set of `items` (deleted when there are none) and replies its size;
// `record` is what the AOF keeps when the key is written.
// `event` is the notification of a written key ("zrangestore", "zunionstore", ...); a deleted
// one fires "del".
void store_items(Session& s, std::string_view key, const Picked& items, const Args& record,
                 std::string_view event, ReplyWriter& out) {
  Store& st = kit::store(s);
  if (items.empty()) {
    if (st.find(key, kit::now(s)) != nullptr) {
      st.erase(key);
      kit::log(s, {"DEL", key});
      kit::changed(s, key, kNotifyGeneric, "del");
    }
    out.integer(0);
    return;
  }
  std::size_t longest = 0;
  for (const Item& item : items) longest = std::max(longest, item.member->size());
  auto result = std::make_unique<ZSet>(items.size(), longest);
  for (const Item& item : items) result->set(*item.member, item.score);
  const auto size = static_cast<std::int64_t>(result->size());
  st.put(key, std::move(result), Store::kNoExpiry);  // the items may point into the old value
  kit::log(s, record);
  kit::changed(s, key, kNotifyZset, event);
  out.integer(size);
}

// --- ZADD --------------------------------------------------------------------------------------

enum ZaddFlags : unsigned { kNx = 1, kXx = 2, kGt = 4, kLt = 8, kCh = 16, kIncr = 32 };

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]; ZINCRBY is ZADD with INCR
// and its arguments from index 2.
bool zadd_generic(Session& s, const Args& a, unsigned flags, std::size_t scores_at,
                  ReplyWriter& out) {
  std::size_t j = scores_at;
  for (; j < a.size(); ++j) {
    if (kit::equals_nocase(a[j], "nx")) flags |= kNx;
    else if (kit::equals_nocase(a[j], "xx")) flags |= kXx;
    else if (kit::equals_nocase(a[j], "ch")) flags |= kCh;
    else if (kit::equals_nocase(a[j], "incr")) flags |= kIncr;
    else if (kit::equals_nocase(a[j], "gt")) flags |= kGt;
    else if (kit::equals_nocase(a[j], "lt")) flags |= kLt;
    else break;
  }
  const std::size_t elements = a.size() - j;
  if (elements == 0 || elements % 2 != 0) {
    out.error(kit::kSyntaxError);
    return true;
  }
  if ((flags & kNx) && (flags & kXx)) {
    out.error("ERR XX and NX options at the same time are not compatible");
    return true;
  }
  if (((flags & kGt) && (flags & kNx)) || ((flags & kLt) && (flags & kNx)) ||
      ((flags & kGt) && (flags & kLt))) {
    out.error("ERR GT, LT, and/or NX options at the same time are not compatible");
    return true;
  }
  if ((flags & kIncr) && elements > 2) {
    out.error("ERR INCR option supports a single increment-element pair");
    return true;
  }
  std::vector<double> scores(elements / 2);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!kit::parse_double(a[j + 2 * i], scores[i])) {
      out.error(kit::kNotFloat);
      return true;
    }
  }
  Store& st = kit::store(s);
  Entry* e = st.find(a[1], kit::now(s));
  if (e && e->type() != ValueType::kZset) return kit::wrong_type(out);
  std::int64_t added = 0, updated = 0;
  bool processed = false;
  double result = 0;
  if (e || !(flags & kXx)) {
    if (!e) e = st.find_or_create(a[1], kit::now(s), ValueType::kZset).first;
    ZSet& z = e->zset();
    for (std::size_t i = 0; i < scores.size(); ++i) {
      const std::string_view member = a[j + 2 * i + 1];
      double score = scores[i];
      if (const double* current = z.score(member)) {
        if (flags & kNx) continue;
        if (flags & kIncr) {
          score += *current;
          if (std::isnan(score)) {
            out.error("ERR resulting score is not a number (NaN)");
            drop_if_empty(s, a[1], z);
            return true;
          }
        }
        if (((flags & kLt) && score >= *current) || ((flags & kGt) && score <= *current)) {
          continue;
        }
        processed = true;
        result = score;
        if (score != *current) {
          z.set(member, score);
          ++updated;
        }
      } else {
        if (flags & kXx) continue;
        z.set(member, score);
        ++added;
        processed = true;
        result = score;
      }
    }
    drop_if_empty(s, a[1], z);  // nothing added to a key created for it
  }
  if (added + updated > 0) {
    kit::log(s, a);
    kit::changed(s, a[1], kNotifyZset, (flags & kIncr) ? "zincr" : "zadd");
  }
  if (flags & kIncr) {
    if (processed) kit::reply_double(out, result); else out.null_bulk();
  } else {
    out.integer((flags & kCh) ? added + updated : added);
  }
  return true;
}

// --- ZRANGE and its family -----------------------------------------------------------------------

enum class RangeBy { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

// What every ZRANGE form does (redis's zrangeGenericCommand): the source key at a[key_at], its
// two bounds after it, the options after them; `store`: ZRANGESTORE into a[1].
bool zrange_generic(Session& s, const Args& a, std::size_t key_at, bool store, RangeBy by,
                    Direction direction, ReplyWriter& out) {
  bool with_scores = false;
  std::int64_t offset = 0, limit = -1;
  bool has_limit = false;
  for (std::size_t j = key_at + 3; j < a.size(); ++j) {
    const std::size_t left = a.size() - j - 1;
    if (!store && kit::equals_nocase(a[j], "withscores")) {
      with_scores = true;
    } else if (kit::equals_nocase(a[j], "limit") && left >= 2) {
      if (!parse_int64(a[j + 1], offset) || !parse_int64(a[j + 2], limit)) {
        out.error(kit::kNotInteger);
        return true;
      }
      has_limit = true;
      j += 2;
    } else if (direction == Direction::kAuto && kit::equals_nocase(a[j], "rev")) {
      direction = Direction::kReverse;
    } else if (by == RangeBy::kAuto && kit::equals_nocase(a[j], "bylex")) {
      by = RangeBy::kLex;
    } else if (by == RangeBy::kAuto && kit::equals_nocase(a[j], "byscore")) {
      by = RangeBy::kScore;
    } else {
      out.error(kit::kSyntaxError);
      return true;
    }
  }
  if (direction == Direction::kAuto) direction = Direction::kForward;
  if (by == RangeBy::kAuto) by = RangeBy::kRank;
  if (has_limit && limit != -1 && by == RangeBy::kRank) {  // redis tells LIMIT by its count
    out.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or "
              "BYLEX");
    return true;
  }
  if (with_scores && by == RangeBy::kLex) {
    out.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return true;
  }
  const bool reverse = direction == Direction::kReverse;
  std::string_view min = a[key_at + 1], max = a[key_at + 2];
  if (reverse && by != RangeBy::kRank) std::swap(min, max);  // given as max, min
  std::int64_t start = 0, end = 0;
  ScoreRange scores;
  LexRange lex;
  switch (by) {
    case RangeBy::kAuto:
    case RangeBy::kRank:
      if (!parse_int64(min, start) || !parse_int64(max, end)) {
        out.error(kit::kNotInteger);
        return true;
      }
      break;
    case RangeBy::kScore:
      if (!parse_score_range(min, max, scores)) {
        out.error(kNotFloatRange);
        return true;
      }
      break;
    case RangeBy::kLex:
      if (!parse_lex_range(min, max, lex)) {
        out.error(kNotLexRange);
        return true;
      }
      break;
  }
  bool wrong = false;
  ZSet* z = zset_for_read(s, a[key_at], out, wrong);
  if (wrong) return true;
  Picked picked;
  if (z) {
    if (by == RangeBy::kRank) {
      const auto size = static_cast<std::int64_t>(z->size());
      if (sanitize_ranks(start, end, size)) {
        const std::int64_t n = end - start + 1;
        picked.reserve(static_cast<std::size_t>(n));
        Iterator it = z->at_rank(static_cast<std::size_t>(reverse ? size - 1 - start : start));
        for (std::int64_t i = 0; i < n; ++i) {
          picked.push_back(*it);
          if (reverse) --it; else ++it;
        }
      }
    } else {
      // Score or lex: the first element inside the range in the direction of travel, then
      // elements while they stay inside; LIMIT skips `offset` of them and takes `limit` (a
      // negative limit: all; a negative offset: none, as in redis).
      Iterator it = z->end();
      if (by == RangeBy::kScore && !scores.empty()) {
        it = reverse ? scores.last(*z) : scores.first(*z);
      } else if (by == RangeBy::kLex && !lex.empty()) {
        if (reverse) {
          const std::size_t end_rank = lex.end_rank(*z);
          it = end_rank == 0 ? z->end() : z->at_rank(end_rank - 1);
        } else {
          it = z->at_rank(lex.first_rank(*z));
        }
      }
      auto inside = [&](const Item& item) {
        if (by == RangeBy::kScore) {
          return reverse ? scores.gte_min(item.score) : scores.lte_max(item.score);
        }
        return reverse ? lex.gte_min(*item.member) : lex.lte_max(*item.member);
      };
      auto advance = [&] {
        if (!reverse) {
          ++it;
        } else if (it == z->begin()) {
          it = z->end();
        } else {
          --it;
        }
      };
      if (offset < 0) it = z->end();
      for (std::int64_t skip = offset; it != z->end() && skip > 0 && inside(*it); --skip) advance();
      for (std::int64_t taken = 0; it != z->end() && inside(*it) && (limit < 0 || taken < limit);
           ++taken) {
        picked.push_back(*it);
        advance();
      }
    }
  }
  if (store) {
    store_items(s, a[1], picked, a, "zrangestore", out);
  } else {
    reply_items(picked, with_scores, out);
  }
  return true;
}

// ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX key min max
bool zremrange_generic(Session& s, const Args& a, RangeBy by, ReplyWriter& out) {
  std::int64_t start = 0, end = 0;
  ScoreRange scores;
  LexRange lex;
  if (by == RangeBy::kRank && (!parse_int64(a[2], start) || !parse_int64(a[3], end))) {
    out.error(kit::kNotInteger);
    return true;
  }
  if (by == RangeBy::kScore && !parse_score_range(a[2], a[3], scores)) {
    out.error(kNotFloatRange);
    return true;
  }
  if (by == RangeBy::kLex && !parse_lex_range(a[2], a[3], lex)) {
    out.error(kNotLexRange);
    return true;
  }
  bool wrong = false;
  ZSet* z = zset_for_write(s, a[1], out, wrong);
  if (wrong) return true;
  std::size_t first = 0, last = 0;  // ranks [first, last)
  if (z) {
    if (by == RangeBy::kRank) {
      if (sanitize_ranks(start, end, static_cast<std::int64_t>(z->size()))) {
        first = static_cast<std::size_t>(start);
        last = static_cast<std::size_t>(end) + 1;
      }
    } else if (by == RangeBy::kScore && !scores.empty()) {
      first = z->count_before(Item{scores.min, scores.minex ? ZSet::kAfterAll : nullptr});
      last = std::max(first, first + scores.count(*z));
    } else if (by == RangeBy::kLex && !lex.empty()) {
      first = lex.first_rank(*z);
      last = std::max(first, lex.end_rank(*z));
    }
  }
  std::vector<std::string> doomed;
  doomed.reserve(last - first);
  for (Iterator it = z ? z->at_rank(first) : Iterator(); doomed.size() < last - first; ++it) {
    doomed.push_back(*it->member);
  }
  for (const std::string& m : doomed) z->erase(m);
  if (!doomed.empty()) {
    kit::log(s, a);
    const bool emptied = drop_if_empty(s, a[1], *z);
    kit::changed(s, a[1], kNotifyZset,
                 by == RangeBy::kRank    ? "zremrangebyrank"
                 : by == RangeBy::kScore ? "zremrangebyscore"
                                         : "zremrangebylex");
    if (emptied) kit::changed(s, a[1], kNotifyGeneric, "del");
  }
  out.integer(static_cast<std::int64_t>(doomed.size()));
  return true;
}

// --- pops --------------------------------------------------------------------------------------

// How a pop replies: ZPOPMIN's [member, score, ...], BZPOPMIN's [key, member, score], or
// ZMPOP/BZMPOP's [key, [[member, score], ...]].
enum class PopShape { kFlat, kKeyed, kNested };

// Pops up to `count` elements from the low (min) or high end of `key`'s set into `out` in
// `shape`, deleting an emptied key and logging the pop (as ZPOPMIN/ZPOPMAX key count, which is
// what redis-server propagates for every pop command). The caller checked the type and that the
// set is not empty.
void pop_into(Session& s, std::string_view key, ZSet& z, bool min, std::int64_t count,
              PopShape shape, ReplyWriter& out) {
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(count), z.size());
  switch (shape) {
    case PopShape::kFlat: out.array_header(n * 2); break;
    case PopShape::kKeyed: out.array_header(n * 2 + 1); out.bulk(key); break;
    case PopShape::kNested: out.array_header(2); out.bulk(key); out.array_header(n); break;
  }
  for (std::size_t i = 0; i < n; ++i) {
    Iterator it = min ? z.begin() : z.at_rank(z.size() - 1);
    const std::string member = *it->member;
    if (shape == PopShape::kNested) out.array_header(2);
    out.bulk(member);
    kit::reply_double(out, it->score);
    z.erase(member);
  }
  const std::string count_text = std::to_string(n);
  kit::log(s, {min ? "ZPOPMIN" : "ZPOPMAX", key, count_text});
  const bool emptied = drop_if_empty(s, key, z);
  kit::changed(s, key, kNotifyZset, min ? "zpopmin" : "zpopmax");
  if (emptied) kit::changed(s, key, kNotifyGeneric, "del");
}

// ZPOPMIN / ZPOPMAX key [count]
bool zpop_generic(Session& s, const Args& a, bool min, ReplyWriter& out) {
  if (a.size() > 3) {
    out.error(kit::kSyntaxError);
    return true;
  }
  std::int64_t count = 1;
  if (a.size() == 3) {
    if (!parse_int64(a[2], count) || count < 0) {
      out.error("ERR value is out of range, must be positive");
      return true;
    }
  }
  bool wrong = false;
  ZSet* z = zset_for_write(s, a[1], out, wrong);
  if (wrong) return true;
  if (!z || count == 0) {
    out.array_header(0);
    return true;
  }
  pop_into(s, a[1], *z, min, count, PopShape::kFlat, out);
  return true;
}

// BZPOPMIN / BZPOPMAX key... timeout
bool bzpop_generic(Session& s, const Args& a, bool min, ReplyWriter& out) {
  grove::Deadline deadline;
  if (!kit::block_timeout(a.back(), out, deadline)) return true;
  const Args keys(a.begin() + 1, a.end() - 1);
  for (std::string_view key : keys) {
    bool wrong = false;
    ZSet* z = zset_for_write(s, key, out, wrong);
    if (wrong) return true;
    if (!z) continue;
    pop_into(s, key, *z, min, 1, PopShape::kKeyed, out);
    return true;
  }
  return kit::block(s, std::vector<std::string>(keys.begin(), keys.end()), deadline,
                    min ? "BZPOPMIN" : "BZPOPMAX",
                    [&s, min](BlockedClient& b, std::string_view key) {
                      Entry* e = kit::store(s).find(key, unix_ms());
                      if (!e || e->type() != ValueType::kZset) return false;
                      ReplyWriter reply(b.reply);
                      pop_into(s, key, e->zset(), min, 1, PopShape::kKeyed, reply);
                      return true;
                    },
                    out);
}

// ZMPOP numkeys key... MIN|MAX [COUNT count] (from a[1]) and BZMPOP timeout numkeys ... (from
// a[2]), parsed in redis-server's zmpopGenericCommand order: numkeys, then MIN|MAX, then COUNT.
struct MultiPop {
  Args keys;
  bool min = true;
  std::int64_t count = 1;
};
bool parse_multi_pop(const Args& a, std::size_t numkeys_at, ReplyWriter& out, MultiPop& m) {
  std::int64_t numkeys = 0;
  if (!parse_int64(a[numkeys_at], numkeys) || numkeys < 1) {
    out.error("ERR numkeys should be greater than 0");
    return false;
  }
  const std::size_t left = a.size() - numkeys_at - 1;  // arguments after numkeys
  if (static_cast<std::uint64_t>(numkeys) >= left) {
    out.error(kit::kSyntaxError);
    return false;
  }
  const std::size_t where_at = numkeys_at + 1 + static_cast<std::size_t>(numkeys);
  if (kit::equals_nocase(a[where_at], "min")) {
    m.min = true;
  } else if (kit::equals_nocase(a[where_at], "max")) {
    m.min = false;
  } else {
    out.error(kit::kSyntaxError);
    return false;
  }
  bool counted = false;
  for (std::size_t j = where_at + 1; j < a.size(); ++j) {
    if (!counted && kit::equals_nocase(a[j], "count") && j + 1 < a.size()) {
      ++j;
      if (!parse_int64(a[j], m.count) || m.count < 1) {
        out.error("ERR count should be greater than 0");
        return false;
      }
      counted = true;
    } else {
      out.error(kit::kSyntaxError);
      return false;
    }
  }
  m.keys.assign(a.begin() + static_cast<std::ptrdiff_t>(numkeys_at) + 1,
                a.begin() + static_cast<std::ptrdiff_t>(where_at));
  return true;
}

// Pops from the first of `m.keys` holding a sorted set. False: none does (nothing replied), or
// `wrong` when a key before one holds another type (WRONGTYPE replied).
bool multi_pop(Session& s, const MultiPop& m, ReplyWriter& out, bool& wrong) {
  for (std::string_view key : m.keys) {
    ZSet* z = zset_for_write(s, key, out, wrong);
    if (wrong) return false;
    if (!z) continue;
    pop_into(s, key, *z, m.min, m.count, PopShape::kNested, out);
    return true;
  }
  return false;
}

// --- ZUNION / ZINTER / ZDIFF ---------------------------------------------------------------------

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// One input: a sorted set, or a set (every score 1), or nothing (a missing key).
struct Source {
  const ZSet* zset = nullptr;
  const Set* set = nullptr;
  double weight = 1;

  std::size_t size() const { return zset ? zset->size() : set ? set->size() : 0; }
  bool find(std::string_view member, double& score) const {
    if (zset) {
      const double* v = zset->score(member);
      if (v) score = *v;
      return v != nullptr;
    }
    score = 1;
    return set && set->contains(member);
  }
  template <class F>
  void for_each(F&& f) const {
    if (zset) {
      for (const Item& item : *zset) f(*item.member, item.score);
    } else if (set) {
      for (const std::string& m : set->members()) f(m, 1.0);
    }
  }
};

void aggregate_into(double& target, double value, Aggregate how) {
  switch (how) {
    case Aggregate::kSum:
      target += value;
      if (std::isnan(target)) target = 0;
      break;
    case Aggregate::kMin: target = value < target ? value : target; break;
    case Aggregate::kMax: target = value > target ? value : target; break;
  }
}

// ZUNION/ZINTER/ZDIFF numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES], their
// STORE forms (destination at a[1]) and ZINTERCARD numkeys key... [LIMIT n]: redis's
// zunionInterDiffGenericCommand.
bool combine(Session& s, const Args& a, SetOp op, bool store, bool cardinality_only,
             const char* name, ReplyWriter& out) {
  const std::size_t numkeys_at = store ? 2 : 1;
  std::int64_t numkeys = 0;
  if (!parse_int64(a[numkeys_at], numkeys)) {
    out.error(kit::kNotInteger);
    return true;
  }
  if (numkeys < 1) {
    out.error(fmt::format("ERR at least 1 input key is needed for '{}' command", name));
    return true;
  }
  if (numkeys > static_cast<std::int64_t>(a.size() - numkeys_at - 1)) {
    out.error(kit::kSyntaxError);
    return true;
  }
  std::vector<Source> sources(static_cast<std::size_t>(numkeys));
  std::size_t j = numkeys_at + 1;
  for (Source& source : sources) {
    Entry* e = kit::store(s).find_for_read(a[j++], kit::now(s));
    if (!e) continue;
    if (e->type() == ValueType::kZset) source.zset = &e->zset();
    else if (e->type() == ValueType::kSet) source.set = &e->set();
    else return kit::wrong_type(out);
  }
  Aggregate how = Aggregate::kSum;
  bool with_scores = false;
  std::int64_t limit = 0;
  while (j < a.size()) {
    const std::size_t remaining = a.size() - j;
    if (op != SetOp::kDiff && !cardinality_only && remaining >= sources.size() + 1 &&
        kit::equals_nocase(a[j], "weights")) {
      ++j;
      for (Source& source : sources) {
        if (!kit::parse_double(a[j++], source.weight)) {
          out.error("ERR weight value is not a float");
          return true;
        }
      }
    } else if (op != SetOp::kDiff && !cardinality_only && remaining >= 2 &&
               kit::equals_nocase(a[j], "aggregate")) {
      const std::string_view what = a[j + 1];
      if (kit::equals_nocase(what, "sum")) how = Aggregate::kSum;
      else if (kit::equals_nocase(what, "min")) how = Aggregate::kMin;
      else if (kit::equals_nocase(what, "max")) how = Aggregate::kMax;
      else {
        out.error(kit::kSyntaxError);
        return true;
      }
      j += 2;
    } else if (!store && !cardinality_only && kit::equals_nocase(a[j], "withscores")) {
      with_scores = true;
      ++j;
    } else if (cardinality_only && remaining >= 2 && kit::equals_nocase(a[j], "limit")) {
      if (!parse_int64(a[j + 1], limit) || limit < 0) {
        out.error("ERR LIMIT can't be negative");
        return true;
      }
      j += 2;
    } else {
      out.error(kit::kSyntaxError);
      return true;
    }
  }

  // The result, member -> score, in the order members were first met.
  ZSet::Scores result;
  std::vector<const std::string*> order;
  auto add = [&](const std::string& member, double score) {
    auto [it, fresh] = result.emplace(member, score);
    if (fresh) order.push_back(&it->first);
    return std::pair{it, fresh};
  };
  if (op == SetOp::kUnion) {
    for (const Source& source : sources) {
      source.for_each([&](const std::string& member, double value) {
        double score = source.weight * value;
        if (std::isnan(score)) score = 0;
        auto [it, fresh] = add(member, score);
        if (!fresh) aggregate_into(it->second, score, how);
      });
    }
  } else if (op == SetOp::kInter) {
    std::vector<const Source*> by_size;
    for (const Source& source : sources) by_size.push_back(&source);
    std::stable_sort(by_size.begin(), by_size.end(),
                     [](const Source* x, const Source* y) { return x->size() < y->size(); });
    const Source& smallest = *by_size[0];
    std::size_t counted = 0;
    smallest.for_each([&](const std::string& member, double value) {
      if (cardinality_only && limit != 0 && counted >= static_cast<std::size_t>(limit)) return;
      double score = smallest.weight * value;
      if (std::isnan(score)) score = 0;
      for (std::size_t i = 1; i < by_size.size(); ++i) {
        double other = 0;
        if (!by_size[i]->find(member, other)) return;
        aggregate_into(score, other * by_size[i]->weight, how);
      }
      ++counted;
      if (!cardinality_only) add(member, score);
    });
    if (cardinality_only) {
      out.integer(static_cast<std::int64_t>(counted));
      return true;
    }
  } else {
    const Source& first = sources[0];
    first.for_each([&](const std::string& member, double value) {
      for (std::size_t i = 1; i < sources.size(); ++i) {
        double ignored = 0;
        if (sources[i].find(member, ignored)) return;
      }
      add(member, value);
    });
  }

  Picked items;
  items.reserve(result.size());
  for (const std::string* member : order) items.push_back(Item{result.find(*member)->second, member});
  std::sort(items.begin(), items.end(), ZSet::ItemLess());
  if (store) {
    store_items(s, a[1], items, a, name, out);
  } else {
    reply_items(items, with_scores, out);
  }
  return true;
}

}  // namespace

bool zadd(Session& s, const Args& a, ReplyWriter& out) { return zadd_generic(s, a, 0, 2, out); }

bool zincrby(Session& s, const Args& a, ReplyWriter& out) {
  return zadd_generic(s, a, kIncr, 2, out);
}

// ZREM key member...
bool zrem(Session& s, const Args& a, ReplyWriter& out) {
  bool wrong = false;
  ZSet* z = zset_for_write(s, a[1], out, wrong);
  if (wrong) return true;
  std::int64_t removed = 0;
  for (std::size_t i = 2; z && i < a.size(); ++i) removed += z->erase(a[i]) ? 1 : 0;
  if (removed > 0) {
    kit::log(s, a);
    const bool emptied = drop_if_empty(s, a[1], *z);
    kit::changed(s, a[1], kNotifyZset, "zrem");
    if (emptied) kit::changed(s, a[1], kNotifyGeneric, "del");
  }
  out.integer(removed);
  return true;
}

bool zscore(Session& s, const Args& a, ReplyWriter& out) {
  bool wrong = false;
  ZSet* z = zset_for_read(s, a[1], out, wrong);
  if (wrong) return true;
  const double* score = z ? z->score(a[2]) : nullptr;
  if (score) kit::reply_double(out, *score); else out.null_bulk();
  return true;
}

bool zmscore(Session& s, const Args& a, ReplyWriter& out) {
  bool wrong = false;
  ZSet* z = zset_for_read(s, a[1], out, wrong);
  if (wrong) return true;
  out.array_header(a.size() - 2);
  for (std::size_t i = 2; i < a.size(); ++i) {
    const double* score = z ? z->score(a[i]) : nullptr;
    if (score) kit::reply_double(out, *score); else out.null_bulk();
  }
  return true;
}

bool zcard(Session& s, const Args& a, ReplyWriter& out) {
  bool wrong = false;
  ZSet* z = zset_for_read(s, a[1], out, wrong);
  if (!wrong) out.integer(z ? static_cast<std::int64_t>(z->size()) : 0);
  return true;
}

// ZCOUNT key min max
bool zcount(Session& s, const Args& a, ReplyWriter& out) {
  ScoreRange range;
  if (!parse_score_range(a[2], a[3], range)) {
    out.error(kNotFloatRange);
    return true;
  }
  bool wrong = false;
  ZSet* z = zset_for_read(s, a[1], out, wrong);
  if (wrong) return true;
  out.integer(z && !range.empty() ? static_cast<std::int64_t>(range.count(*z)) : 0);
  return true;
}

// ZLEXCOUNT key min max
bool zlexcount(Session& s, const Args& a, ReplyWriter& out) {
  LexRange range;
  if (!parse_lex_range(a[2], a[3], range)) {
    out.error(kNotLexRange);
    return true;
  }
  bool wrong = false;
  ZSet* z = zset_for_read(s, a[1], out, wrong);
  if (wrong) return true;
  std::int64_t n = 0;
  if (z && !range.empty()) {
    const std::size_t first = range.first_rank(*z), end = range.end_rank(*z);
    n = end > first ? static_cast<std::int64_t>(end - first) : 0;
  }
  out.integer(n);
  return true;
}

// ZRANK / ZREVRANK key member
bool zrank_generic(Session& s, const Args& a, bool reverse, ReplyWriter& out) {
  bool wrong = false;
  ZSet* z = zset_for_read(s, a[1], out, wrong);
  if (wrong) return true;
  if (!z || !z->score(a[2])) {
    out.null_bulk();
    return true;
  }
  const std::size_t rank = z->rank(a[2]);
  out.integer(static_cast<std::int64_t>(reverse ? z->size() - 1 - rank : rank));
  return true;
}
bool zrank(Session& s, const Args& a, ReplyWriter& o) { return zrank_generic(s, a, false, o); }
bool zrevrank(Session& s, const Args& a, ReplyWriter& o) { return zrank_generic(s, a, true, o); }

bool zrange(Session& s, const Args& a, ReplyWriter& o) {
  return zrange_generic(s, a, 1, false, RangeBy::kAuto, Direction::kAuto, o);
}
bool zrangestore(Session& s, const Args& a, ReplyWriter& o) {
  return zrange_generic(s, a, 2, true, RangeBy::kAuto, Direction::kAuto, o);
}
bool zrangebyscore(Session& s, const Args& a, ReplyWriter& o) {
  return zrange_generic(s, a, 1, false, RangeBy::kScore, Direction::kForward, o);
}
bool zrevrangebyscore(Session& s, const Args& a, ReplyWriter& o) {
  return zrange_generic(s, a, 1, false, RangeBy::kScore, Direction::kReverse, o);
}
bool zrevrange(Session& s, const Args& a, ReplyWriter& o) {
  return zrange_generic(s, a, 1, false, RangeBy::kRank, Direction::kReverse, o);
}
bool zrangebylex(Session& s, const Args& a, ReplyWriter& o) {
  return zrange_generic(s, a, 1, false, RangeBy::kLex, Direction::kForward, o);
}
bool zrevrangebylex(Session& s, const Args& a, ReplyWriter& o) {
  return zrange_generic(s, a, 1, false, RangeBy::kLex, Direction::kReverse, o);
}

bool zremrangebyrank(Session& s, const Args& a, ReplyWriter& o) {
  return zremrange_generic(s, a, RangeBy::kRank, o);
}
bool zremrangebyscore(Session& s, const Args& a, ReplyWriter& o) {
  return zremrange_generic(s, a, RangeBy::kScore, o);
}
bool zremrangebylex(Session& s, const Args& a, ReplyWriter& o) {
  return zremrange_generic(s, a, RangeBy::kLex, o);
}

bool zpopmin(Session& s, const Args& a, ReplyWriter& o) { return zpop_generic(s, a, true, o); }

// ZMPOP numkeys key... MIN|MAX [COUNT count]: a null array when every key is missing.
bool zmpop(Session& s, const Args& a, ReplyWriter& out) {
  MultiPop m;
  if (!parse_multi_pop(a, 1, out, m)) return true;
  bool wrong = false;
  if (!multi_pop(s, m, out, wrong) && !wrong) out.null_array();
  return true;
}

// BZMPOP timeout numkeys key... MIN|MAX [COUNT count]: the arguments are checked before the
// timeout, as redis-server does; then as ZMPOP, or blocks until a key gets a sorted set (served
// with up to COUNT elements of it) or the timeout passes (a null array).
bool bzmpop(Session& s, const Args& a, ReplyWriter& out) {
  MultiPop m;
  if (!parse_multi_pop(a, 2, out, m)) return true;
  grove::Deadline deadline;
  if (!kit::block_timeout(a[1], out, deadline)) return true;
  bool wrong = false;
  if (multi_pop(s, m, out, wrong) || wrong) return true;
  return kit::block(s, std::vector<std::string>(m.keys.begin(), m.keys.end()), deadline, "BZMPOP",
                    [&s, min = m.min, count = m.count](BlockedClient& b, std::string_view key) {
                      Entry* e = kit::store(s).find(key, unix_ms());
                      if (!e || e->type() != ValueType::kZset) return false;
                      ReplyWriter reply(b.reply);
                      pop_into(s, key, e->zset(), min, count, PopShape::kNested, reply);
                      return true;
                    },
                    out);
}
bool zpopmax(Session& s, const Args& a, ReplyWriter& o) { return zpop_generic(s, a, false, o); }
bool bzpopmin(Session& s, const Args& a, ReplyWriter& o) { return bzpop_generic(s, a, true, o); }
bool bzpopmax(Session& s, const Args& a, ReplyWriter& o) { return bzpop_generic(s, a, false, o); }

bool zunion(Session& s, const Args& a, ReplyWriter& o) {
  return combine(s, a, SetOp::kUnion, false, false, "zunion", o);
}
bool zinter(Session& s, const Args& a, ReplyWriter& o) {
  return combine(s, a, SetOp::kInter, false, false, "zinter", o);
}
bool zdiff(Session& s, const Args& a, ReplyWriter& o) {
  return combine(s, a, SetOp::kDiff, false, false, "zdiff", o);
}
bool zunionstore(Session& s, const Args& a, ReplyWriter& o) {
  return combine(s, a, SetOp::kUnion, true, false, "zunionstore", o);
}
bool zinterstore(Session& s, const Args& a, ReplyWriter& o) {
  return combine(s, a, SetOp::kInter, true, false, "zinterstore", o);
}
bool zdiffstore(Session& s, const Args& a, ReplyWriter& o) {
  return combine(s, a, SetOp::kDiff, true, false, "zdiffstore", o);
}
bool zintercard(Session& s, const Args& a, ReplyWriter& o) {
  return combine(s, a, SetOp::kInter, false, true, "zintercard", o);
}

// ZRANDMEMBER key [count [WITHSCORES]], as redis-server 7.0's zrandmemberWithCountCommand: the
// count is checked before the key; a negative count may repeat members (in random order); a
// count at least the size answers the whole set from the highest element down; a smaller one
// distinct members in random order.
bool zrandmember(Session& s, const Args& a, ReplyWriter& out) {
  kit::RandomCount r;
  if (!kit::parse_random_count(a, "withscores", out, r)) return true;
  const bool has_count = r.has_count;
  const std::int64_t count = r.count;
  const bool with_scores = r.with_flag;
  bool wrong = false;
  const ZSet* z = zset_for_read(s, a[1], out, wrong);
  if (wrong) return true;
  if (!has_count) {
    if (z) out.bulk(*z->at_rank(kit::random() % z->size())->member); else out.null_bulk();
    return true;
  }
  if (!z || count == 0) {
    out.array_header(0);
    return true;
  }
  const std::size_t size = z->size();
  if (count < 0 || count == 1) {
    const std::uint64_t n = count < 0 ? static_cast<std::uint64_t>(-count) : 1;
    out.array_header(n * (with_scores ? 2 : 1));
    for (std::uint64_t i = 0; i < n; ++i) {
      const Iterator it = z->at_rank(kit::random() % size);
      out.bulk(*it->member);
      if (with_scores) kit::reply_double(out, it->score);
    }
    return true;
  }
  Picked picked;
  if (static_cast<std::uint64_t>(count) >= size) {
    for (std::size_t rank = size; rank-- > 0;) picked.push_back(*z->at_rank(rank));
  } else {
    // `count` distinct ranks: a partial Fisher-Yates shuffle of 0..size-1, whose swaps are kept
    // in a map so it costs O(count), not O(size).
    std::unordered_map<std::size_t, std::size_t> swapped;
    const auto rank_at = [&](std::size_t i) {
      const auto found = swapped.find(i);
      return found == swapped.end() ? i : found->second;
    };
    for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) {
      const std::size_t j = i + kit::random() % (size - i);
      const std::size_t chosen = rank_at(j);
      swapped[j] = rank_at(i);
      picked.push_back(*z->at_rank(chosen));
    }
  }
  reply_items(picked, with_scores, out);
  return true;
}

// ZSCAN key cursor [MATCH pattern] [COUNT n]: a small set (redis's listpack) answers whole, in
// order; a large one by buckets of its hash table, as SCAN.
bool zscan(Session& s, const Args& a, ReplyWriter& out) {
  kit::ScanRequest scan;
  if (!kit::begin_scan(s, a, ValueType::kZset, out, scan)) return true;
  const ZSet& z = scan.entry->zset();
  const auto matches = [&](const std::string& member) {
    return scan.pattern.empty() || glob_match(scan.pattern, member);
  };
  Picked found;
  std::uint64_t next = 0;
  if (std::string_view(z.encoding()) == "listpack") {
    for (const Item& item : z) {
      if (matches(*item.member)) found.push_back(item);
    }
  } else {
    next = kit::scan_buckets(z.scores(), scan.cursor, scan.count, [&](const auto& member_score) {
      if (matches(member_score.first)) found.push_back(Item{member_score.second, &member_score.first});
    });
  }
  kit::reply_scan_cursor(out, next);
  reply_items(found, true, out);
  return true;
}

}  // namespace kv::zset_commands
