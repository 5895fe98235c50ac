// examples/kv/commands_set.cc — the set commands, with redis-server 7.0's replies and errors:
// SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SRANDMEMBER, SMOVE, SINTER(STORE),
// SUNION(STORE), SDIFF(STORE), SINTERCARD, SSCAN.
//
// Order: members come out in hash order, which redis leaves unspecified too (its small integer
// sets answer sorted; see README.md). Random picks (SPOP, SRANDMEMBER) use kit::random().
//
// Persistence: a command that changed a set logs itself, except SPOP, whose random choice is
// logged as the SREM (or DEL) of what it popped, so a replay removes the same members.
#include <algorithm>
#include <climits>
#include <limits>
#include <string>
#include <vector>

#include "examples/kv/command_kit.h"
#include "examples/kv/glob.h"

namespace kv::set_commands {

namespace {

// The set a lookup found: null when missing; `wrong` (and the error replied) when the key
// holds another type.
Set* as_set(Entry* e, ReplyWriter& out, bool& wrong) {
  wrong = e != nullptr && e->type() != ValueType::kSet;
  if (wrong) kit::wrong_type(out);
  return e && !wrong ? &e->set() : nullptr;
}

// The set at `key` for a command that reads it (a keyspace hit or miss, see Store::find_for_read).
Set* set_for_read(Session& s, std::string_view key, ReplyWriter& out, bool& wrong) {
  return as_set(kit::store(s).find_for_read(key, kit::now(s)), out, wrong);
}

// The set at `key` for a command that changes it (not counted, as redis's lookupKeyWrite).
Set* set_for_write(Session& s, std::string_view key, ReplyWriter& out, bool& wrong) {
  return as_set(kit::store(s).find(key, kit::now(s)), out, wrong);
}

// Integers only, at most 512 of them: in ascending order, as redis's intset answers; otherwise
// as they are (hash order).
void intset_order(std::vector<const std::string*>& members) {
  if (members.size() > Set::kMaxIntsetEntries) return;
  std::vector<std::pair<std::int64_t, const std::string*>> numbers;
  numbers.reserve(members.size());
  for (const std::string* m : members) {
    std::int64_t v = 0;
    if (!parse_int64(*m, v)) return;
    numbers.emplace_back(v, m);
  }
  std::sort(numbers.begin(), numbers.end());
  for (std::size_t i = 0; i < numbers.size(); ++i) members[i] = numbers[i].second;
}

// The members of `set` in the order redis would list them (see intset_order).
std::vector<const std::string*> ordered(const Set& set) {
  std::vector<const std::string*> members;
  members.reserve(set.size());
  for (const std::string& m : set.members()) members.push_back(&m);
  if (std::string_view(set.encoding()) == "intset") intset_order(members);
  return members;
}

void reply_members(std::vector<const std::string*> members, ReplyWriter& out) {
  intset_order(members);
  out.array_header(members.size());
  for (const std::string* m : members) out.bulk(*m);
}

// Replaces `key` with a set of `members` (deleted when there are none, as an empty aggregate
// never exists) and replies its size: the *STORE commands.
void store_result(Session& s, std::string_view key, const std::vector<const std::string*>& members,
                  const Args& a, std::string_view event, ReplyWriter& out) {
  Store& st = kit::store(s);
  if (members.empty()) {
    const bool existed = st.find(key, kit::now(s)) != nullptr;
    if (existed) {
      st.erase(key);
      kit::log(s, {"DEL", key});
      kit::changed(s, key, kNotifyGeneric, "del");
    }
    out.integer(0);
    return;
  }
  auto result = std::make_unique<Set>();
  for (const std::string* m : members) result->add(*m);
  st.put(key, std::move(result), Store::kNoExpiry);
  kit::log(s, a);
  kit::changed(s, key, kNotifySet, event);
  out.integer(static_cast<std::int64_t>(members.size()));
}

// The sets named by a[from, to): false when one holds another type (WRONGTYPE replied). A
// missing key gives a null entry.
bool collect_sets(Session& s, const Args& a, std::size_t from, std::size_t to,
                  std::vector<Set*>& sets, ReplyWriter& out) {
  sets.reserve(to - from);
  for (std::size_t i = from; i < to; ++i) {
    bool wrong = false;
    sets.push_back(set_for_read(s, a[i], out, wrong));
    if (wrong) return false;
  }
  return true;
}

// The members of every set (an empty result when one is missing), up to `limit` (0: all).
std::vector<const std::string*> intersect(std::vector<Set*> sets, std::size_t limit = 0) {
  std::vector<const std::string*> result;
  for (Set* set : sets) {
    if (set == nullptr) return result;
  }
  // Smallest first: each candidate is looked up in the others.
  std::sort(sets.begin(), sets.end(), [](Set* x, Set* y) { return x->size() < y->size(); });
  for (const std::string& member : sets[0]->members()) {
    bool everywhere = true;
    for (std::size_t i = 1; i < sets.size() && everywhere; ++i) {
      everywhere = sets[i] == sets[0] || sets[i]->contains(member);
    }
    if (!everywhere) continue;
    result.push_back(&member);
    if (limit != 0 && result.size() >= limit) break;
  }
  return result;
}

std::vector<const std::string*> unite(const std::vector<Set*>& sets) {
  std::vector<const std::string*> result;
  Set::Members seen;
  for (Set* set : sets) {
    if (set == nullptr) continue;
    for (const std::string& member : set->members()) {
      if (seen.emplace(member).second) result.push_back(&member);
    }
  }
  return result;
}

std::vector<const std::string*> difference(const std::vector<Set*>& sets) {
  std::vector<const std::string*> result;
  if (sets[0] == nullptr) return result;
  for (const std::string& member : sets[0]->members()) {
    bool elsewhere = false;
    for (std::size_t i = 1; i < sets.size() && !elsewhere; ++i) {
      elsewhere = sets[i] != nullptr && sets[i]->contains(member);
    }
    if (!elsewhere) result.push_back(&member);
  }
  return result;
}

enum class Op { kInter, kUnion, kDiff };

std::vector<const std::string*> combine(Op op, const std::vector<Set*>& sets) {
  switch (op) {
    case Op::kInter: return intersect(sets);
    case Op::kUnion: return unite(sets);
    case Op::kDiff: return difference(sets);
  }
  return {};
}

// SINTER/SUNION/SDIFF key... and their STORE forms (destination at a[1]).
bool combine_command(Session& s, const Args& a, ReplyWriter& out, Op op, bool store) {
  const std::size_t first = store ? 2 : 1;
  std::vector<Set*> sets;
  if (!collect_sets(s, a, first, a.size(), sets, out)) return true;
  const std::vector<const std::string*> result = combine(op, sets);
  if (!store) {
    reply_members(result, out);
    return true;
  }
  // The result points into the sources, which the destination may be: copy before replacing.
  std::vector<std::string> copies;
  copies.reserve(result.size());
  for (const std::string* m : result) copies.push_back(*m);
  std::vector<const std::string*> pointers;
  pointers.reserve(copies.size());
  for (const std::string& m : copies) pointers.push_back(&m);
  const char* event = op == Op::kInter   ? "sinterstore"
                      : op == Op::kUnion ? "sunionstore"
                                         : "sdiffstore";
  store_result(s, a[1], pointers, a, event, out);
  return true;
}

}  // namespace

// SADD key member...
bool sadd(Session& s, const Args& a, ReplyWriter& out) {
  Store& st = kit::store(s);
  Entry* e = st.find(a[1], kit::now(s));
  if (e && e->type() != ValueType::kSet) return kit::wrong_type(out);
  if (!e) e = st.find_or_create(a[1], kit::now(s), ValueType::kSet).first;
  std::int64_t added = 0;
  for (std::size_t i = 2; i < a.size(); ++i) added += e->set().add(a[i]) ? 1 : 0;
  if (added > 0) {
    kit::log(s, a);
    kit::changed(s, a[1], kNotifySet, "sadd");
  }
  out.integer(added);
  return true;
}

// SREM key member...
bool srem(Session& s, const Args& a, ReplyWriter& out) {
  bool wrong = false;
  Set* set = set_for_write(s, a[1], out, wrong);
  if (wrong) return true;
  std::int64_t removed = 0;
  for (std::size_t i = 2; set && i < a.size(); ++i) removed += set->erase(a[i]) ? 1 : 0;
  if (removed > 0) {
    kit::log(s, a);
    const bool emptied = set->empty();
    if (emptied) kit::store(s).erase(a[1]);
    kit::changed(s, a[1], kNotifySet, "srem");
    if (emptied) kit::changed(s, a[1], kNotifyGeneric, "del");
  }
  out.integer(removed);
  return true;
}

bool smembers(Session& s, const Args& a, ReplyWriter& out) {
  bool wrong = false;
  Set* set = set_for_read(s, a[1], out, wrong);
  if (wrong) return true;
  reply_members(set ? ordered(*set) : std::vector<const std::string*>(), out);
  return true;
}

bool sismember(Session& s, const Args& a, ReplyWriter& out) {
  bool wrong = false;
  Set* set = set_for_read(s, a[1], out, wrong);
  if (!wrong) out.integer(set && set->contains(a[2]) ? 1 : 0);
  return true;
}

bool smismember(Session& s, const Args& a, ReplyWriter& out) {
  bool wrong = false;
  Set* set = set_for_read(s, a[1], out, wrong);
  if (wrong) return true;
  out.array_header(a.size() - 2);
  for (std::size_t i = 2; i < a.size(); ++i) out.integer(set && set->contains(a[i]) ? 1 : 0);
  return true;
}

bool scard(Session& s, const Args& a, ReplyWriter& out) {
  bool wrong = false;
  Set* set = set_for_read(s, a[1], out, wrong);
  if (!wrong) out.integer(set ? static_cast<std::int64_t>(set->size()) : 0);
  return true;
}

// SPOP key [count]
bool spop(Session& s, const Args& a, ReplyWriter& out) {
  if (a.size() > 3) {
    out.error(kit::kSyntaxError);
    return true;
  }
  const bool has_count = a.size() == 3;
  std::int64_t count = 1;
  if (has_count && (!parse_int64(a[2], count) || count < 0)) {
    out.error("ERR value is out of range, must be positive");
    return true;
  }
  bool wrong = false;
  Set* set = set_for_write(s, a[1], out, wrong);
  if (wrong) return true;
  if (!set) {
    if (has_count) out.array_header(0); else out.null_bulk();
    return true;
  }
  if (has_count && count == 0) {
    out.array_header(0);
    return true;
  }
  if (static_cast<std::uint64_t>(count) >= set->size()) {  // everything: the key goes
    if (has_count) reply_members(ordered(*set), out); else out.bulk(*set->members().begin());
    kit::store(s).erase(a[1]);
    kit::log(s, {"DEL", a[1]});
    kit::changed(s, a[1], kNotifySet, "spop");
    kit::changed(s, a[1], kNotifyGeneric, "del");
    return true;
  }
  std::vector<std::string> popped;
  popped.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    popped.push_back(set->random_member(kit::random()));
    set->erase(popped.back());
  }
  if (has_count) out.array_header(popped.size());
  for (const std::string& m : popped) out.bulk(m);
  if (kit::logging(s)) {
    Args record = {"SREM", a[1]};
    for (const std::string& m : popped) record.push_back(m);
    kit::log(s, record);
  }
  kit::changed(s, a[1], kNotifySet, "spop");
  return true;
}

// SRANDMEMBER key [count]: a negative count may repeat members.
bool srandmember(Session& s, const Args& a, ReplyWriter& out) {
  if (a.size() > 3) {
    out.error(kit::kSyntaxError);
    return true;
  }
  const bool has_count = a.size() == 3;
  std::int64_t count = 1;
  if (has_count && !parse_int64(a[2], count)) {
    out.error(kit::kNotInteger);
    return true;
  }
  if (count == LLONG_MIN) {
    out.error(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
    return true;
  }
  bool wrong = false;
  Set* set = set_for_read(s, a[1], out, wrong);
  if (wrong) return true;
  if (!has_count) {
    if (set) out.bulk(set->random_member(kit::random())); else out.null_bulk();
    return true;
  }
  if (!set || count == 0) {
    out.array_header(0);
    return true;
  }
  if (count < 0) {
    out.array_header(static_cast<std::size_t>(-count));
    for (std::int64_t i = 0; i < -count; ++i) out.bulk(set->random_member(kit::random()));
    return true;
  }
  if (static_cast<std::uint64_t>(count) >= set->size()) {
    reply_members(ordered(*set), out);
    return true;
  }
  // Distinct members: random picks until enough (count is under the size here).
  Set::Members picked;
  while (picked.size() < static_cast<std::size_t>(count)) {
    picked.insert(set->random_member(kit::random()));
  }
  out.array_header(picked.size());
  for (const std::string& m : picked) out.bulk(m);
  return true;
}

// SMOVE source destination member
bool smove(Session& s, const Args& a, ReplyWriter& out) {
  Store& st = kit::store(s);
  Entry* source = st.find(a[1], kit::now(s));
  Entry* destination = st.find(a[2], kit::now(s));
  if (!source) {
    out.integer(0);
    return true;
  }
  if (source->type() != ValueType::kSet ||
      (destination && destination->type() != ValueType::kSet)) {
    return kit::wrong_type(out);
  }
  if (source == destination) {
    out.integer(source->set().contains(a[3]) ? 1 : 0);
    return true;
  }
  if (!source->set().erase(a[3])) {
    out.integer(0);
    return true;
  }
  // redis-server's order: the source's events, then the destination created ("new") and added to.
  const bool emptied = source->set().empty();
  if (emptied) st.erase(a[1]);
  kit::log(s, a);
  kit::changed(s, a[1], kNotifySet, "srem");
  if (emptied) kit::changed(s, a[1], kNotifyGeneric, "del");
  const bool added =
      st.find_or_create(a[2], kit::now(s), ValueType::kSet).first->set().add(a[3]);
  if (added) kit::changed(s, a[2], kNotifySet, "sadd");
  out.integer(1);
  return true;
}

bool sinter(Session& s, const Args& a, ReplyWriter& o) {
  return combine_command(s, a, o, Op::kInter, false);
}
bool sinterstore(Session& s, const Args& a, ReplyWriter& o) {
  return combine_command(s, a, o, Op::kInter, true);
}
bool sunion(Session& s, const Args& a, ReplyWriter& o) {
  return combine_command(s, a, o, Op::kUnion, false);
}
bool sunionstore(Session& s, const Args& a, ReplyWriter& o) {
  return combine_command(s, a, o, Op::kUnion, true);
}
bool sdiff(Session& s, const Args& a, ReplyWriter& o) {
  return combine_command(s, a, o, Op::kDiff, false);
}
bool sdiffstore(Session& s, const Args& a, ReplyWriter& o) {
  return combine_command(s, a, o, Op::kDiff, true);
}

// SINTERCARD numkeys key... [LIMIT limit]
bool sintercard(Session& s, const Args& a, ReplyWriter& out) {
  std::int64_t numkeys = 0;
  if (!parse_int64(a[1], numkeys) || numkeys < 1) {
    out.error("ERR numkeys should be greater than 0");
    return true;
  }
  if (numkeys > static_cast<std::int64_t>(a.size()) - 2) {
    out.error("ERR Number of keys can't be greater than number of args");
    return true;
  }
  const std::size_t end = 2 + static_cast<std::size_t>(numkeys);
  std::int64_t limit = 0;
  for (std::size_t j = end; j < a.size(); ++j) {
    if (kit::equals_nocase(a[j], "limit") && j + 1 < a.size()) {
      if (!parse_int64(a[++j], limit) || limit < 0) {
        out.error("ERR LIMIT can't be negative");
        return true;
      }
    } else {
      out.error(kit::kSyntaxError);
      return true;
    }
  }
  std::vector<Set*> sets;
  if (!collect_sets(s, a, 2, end, sets, out)) return true;
  out.integer(static_cast<std::int64_t>(intersect(sets, static_cast<std::size_t>(limit)).size()));
  return true;
}

// SSCAN key cursor [MATCH pattern] [COUNT n]. A small integer set (redis's intset) answers in one
// call; otherwise the cursor is a bucket index of the hash table, as in SCAN.
bool sscan(Session& s, const Args& a, ReplyWriter& out) {
  kit::ScanRequest scan;
  if (!kit::begin_scan(s, a, ValueType::kSet, out, scan)) return true;
  const Set& set = scan.entry->set();
  const bool whole = std::string_view(set.encoding()) == "intset";
  std::vector<const std::string*> found;
  const std::uint64_t next = kit::scan_buckets(
      set.members(), whole ? 0 : scan.cursor,
      whole ? std::numeric_limits<std::int64_t>::max() : scan.count, [&](const std::string& m) {
        if (scan.pattern.empty() || glob_match(scan.pattern, m)) found.push_back(&m);
      });
  kit::reply_scan_cursor(out, next);
  reply_members(found, out);
  return true;
}

}  // namespace kv::set_commands
