// examples/kv/collections.h — the set and sorted-set values of the Store (kv/store.h holds them
// in its Value variant; the commands are in commands_set.cc and commands_zset.cc).
//
// Set: a hash set of members. It also remembers the encoding redis-server 7.0 would have chosen
// (OBJECT ENCODING): "intset" while every member is an integer (redis's strict string2ll
// syntax) and there are at most 512 of them, "hashtable" from the first member that breaks
// either rule on (redis never converts back). The members are not kept in intset order: SMEMBERS
// and the like answer in hash order, which redis leaves unspecified too.
//
// ZSet: member -> score in a hash table (ZSCORE in O(1)), and the (score, member) pairs in an
// order-statistics tree (libstdc++'s policy-based red-black tree) for ranges and ranks in
// O(log n) — the roles of redis's dict and skiplist. Pairs order by score, then by member bytes
// (memcmp order), as in redis. The encoding name follows redis 7.0: "listpack" while there are
// at most 128 members of at most 64 bytes, "skiplist" afterwards. Scores are never NaN (the
// commands refuse what would make one).
//
// Thread: the server's hub; nothing here blocks or allocates more than the elements need.
//
//   kv::ZSet z;
//   z.set("a", 1.5);
//   for (auto it = z.at_rank(0); it != z.end(); ++it) use(*it->member, it->score);
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

namespace kv {

struct MemberHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>()(s);
  }
};

class Set {
 public:
  static constexpr std::size_t kMaxIntsetEntries = 512;  // set-max-intset-entries
  using Members = std::unordered_set<std::string, MemberHash, std::equal_to<>>;

  bool contains(std::string_view member) const { return members_.find(member) != members_.end(); }
  // Adds `member`; true when it is new.
  bool add(std::string_view member);
  bool erase(std::string_view member);
  std::size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  const Members& members() const { return members_; }
  // A uniformly chosen member (the set must not be empty); `random` is the caller's generator.
  const std::string& random_member(std::uint64_t random) const;
  const char* encoding() const { return intset_ ? "intset" : "hashtable"; }

 private:
  Members members_;
  bool intset_ = true;
};

class ZSet {
 public:
  static constexpr std::size_t kMaxListpackEntries = 128;  // zset-max-listpack-entries
  static constexpr std::size_t kMaxListpackValue = 64;     // zset-max-listpack-value

  // One element in the order: its score and its member (the string the hash table owns).
  // member == nullptr sorts before every member of the same score, kAfterAll after every one:
  // both only as search bounds.
  struct Item {
    double score;
    const std::string* member;
  };
  static const std::string* const kAfterAll;
  struct ItemLess {
    bool operator()(const Item& a, const Item& b) const;
  };
  using Tree = __gnu_pbds::tree<Item, __gnu_pbds::null_type, ItemLess, __gnu_pbds::rb_tree_tag,
                                __gnu_pbds::tree_order_statistics_node_update>;
  using Iterator = Tree::const_iterator;
  using Scores = std::unordered_map<std::string, double, MemberHash, std::equal_to<>>;

  ZSet() = default;
  // Empty, in the encoding redis gives a set of `size` members of at most `longest` bytes (a
  // stored result: ZRANGESTORE, ZUNIONSTORE, ...).
  ZSet(std::size_t size, std::size_t longest)
      : skiplist_(size > kMaxListpackEntries || longest > kMaxListpackValue) {}
  ZSet(const ZSet& other);
  ZSet& operator=(const ZSet&) = delete;

  // The score of `member`, or null.
  const double* score(std::string_view member) const;
  // Sets the score of `member`, adding it when missing; true when it is new.
  bool set(std::string_view member, double score);
  bool erase(std::string_view member);
  std::size_t size() const { return scores_.size(); }
  bool empty() const { return scores_.empty(); }

  // The 0-based rank of `member` in ascending order (it must be present).
  std::size_t rank(std::string_view member) const;
  // The element at `rank` (end() when past the last).
  Iterator at_rank(std::size_t rank) const { return tree_.find_by_order(rank); }
  // The first element not before `bound`.
  Iterator lower_bound(const Item& bound) const { return tree_.lower_bound(bound); }
  // How many elements sort before `bound`.
  std::size_t count_before(const Item& bound) const { return tree_.order_of_key(bound); }
  Iterator begin() const { return tree_.begin(); }
  Iterator end() const { return tree_.end(); }
  const Scores& scores() const { return scores_; }

  const char* encoding() const { return skiplist_ ? "skiplist" : "listpack"; }

 private:
  Scores scores_;
  Tree tree_;
  bool skiplist_ = false;
};

}  // namespace kv
