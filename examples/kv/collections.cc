// examples/kv/collections.cc — Set and ZSet (see collections.h).
#include "examples/kv/collections.h"

#include <iterator>

#include "examples/kv/resp.h"

namespace kv {

namespace {
const std::string kAfterAllMarker;
}  // namespace

const std::string* const ZSet::kAfterAll = &kAfterAllMarker;

bool Set::add(std::string_view member) {
  const bool added = members_.emplace(member).second;
  if (added && intset_) {
    std::int64_t ignored = 0;
    if (!parse_int64(member, ignored) || members_.size() > kMaxIntsetEntries) intset_ = false;
  }
  return added;
}

bool Set::erase(std::string_view member) {
  auto it = members_.find(member);
  if (it == members_.end()) return false;
  members_.erase(it);
  return true;
}

const std::string& Set::random_member(std::uint64_t random) const {
  // A random bucket that holds members, then a random member of it (redis's dictGetFairRandomKey
  // does the same over its table).
  const std::size_t buckets = members_.bucket_count();
  std::size_t bucket = random % buckets;
  while (members_.bucket_size(bucket) == 0) bucket = (bucket + 1) % buckets;
  auto it = members_.begin(bucket);
  std::advance(it, (random / buckets) % members_.bucket_size(bucket));
  return *it;
}

bool ZSet::ItemLess::operator()(const Item& a, const Item& b) const {
  if (a.score != b.score) return a.score < b.score;
  if (a.member == b.member) return false;
  if (a.member == nullptr || b.member == kAfterAll) return true;
  if (b.member == nullptr || a.member == kAfterAll) return false;
  return *a.member < *b.member;
}

ZSet::ZSet(const ZSet& other) : scores_(other.scores_), skiplist_(other.skiplist_) {
  for (const auto& [member, score] : scores_) tree_.insert(Item{score, &member});
}

const double* ZSet::score(std::string_view member) const {
  auto it = scores_.find(member);
  return it == scores_.end() ? nullptr : &it->second;
}

bool ZSet::set(std::string_view member, double score) {
  if (score == 0 && !skiplist_) score = 0;  // a listpack keeps no sign on zero (redis prints "0")
  auto it = scores_.find(member);
  if (it != scores_.end()) {
    if (it->second != score) {
      tree_.erase(Item{it->second, &it->first});
      it->second = score;
      tree_.insert(Item{score, &it->first});
    }
    return false;
  }
  it = scores_.emplace(std::string(member), score).first;
  tree_.insert(Item{score, &it->first});
  if (scores_.size() > kMaxListpackEntries || member.size() > kMaxListpackValue) skiplist_ = true;
  return true;
}

bool ZSet::erase(std::string_view member) {
  auto it = scores_.find(member);
  if (it == scores_.end()) return false;
  tree_.erase(Item{it->second, &it->first});
  scores_.erase(it);
  return true;
}

std::size_t ZSet::rank(std::string_view member) const {
  auto it = scores_.find(member);
  return tree_.order_of_key(Item{it->second, &it->first});
}

}  // namespace kv
