// examples/kv/store.cc — the Store (see store.h).
#include "examples/kv/store.h"

#include <ctime>

#include <fmt/format.h>

namespace kv {

std::int64_t unix_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

const char* type_name(ValueType type) {
  switch (type) {
    case ValueType::kString: return "string";
    case ValueType::kList: return "list";
    case ValueType::kHash: return "hash";
    case ValueType::kSet: return "set";
    case ValueType::kZset: return "zset";
  }
  return "none";
}

Value make_value(ValueType type) {
  switch (type) {
    case ValueType::kString: return std::string();
    case ValueType::kList: return std::make_unique<List>();
    case ValueType::kHash: return std::make_unique<Hash>();
    case ValueType::kSet: return std::make_unique<Set>();
    case ValueType::kZset: return std::make_unique<ZSet>();
  }
  return std::string();
}

Value clone_value(const Value& value) {
  if (const auto* list = std::get_if<std::unique_ptr<List>>(&value)) {
    return std::make_unique<List>(**list);
  }
  if (const auto* hash = std::get_if<std::unique_ptr<Hash>>(&value)) {
    return std::make_unique<Hash>(**hash);
  }
  if (const auto* set = std::get_if<std::unique_ptr<Set>>(&value)) {
    return std::make_unique<Set>(**set);
  }
  if (const auto* zset = std::get_if<std::unique_ptr<ZSet>>(&value)) {
    return std::make_unique<ZSet>(**zset);
  }
  return std::get<std::string>(value);
}

Hash::Hash(const Hash& other)
    : small_(other.small_), big_(other.big_ ? std::make_unique<Table>(*other.big_) : nullptr) {}

std::string* Hash::find(std::string_view field) {
  if (big_) {
    auto it = big_->find(field);
    return it == big_->end() ? nullptr : &it->second;
  }
  for (auto& [f, v] : small_) {
    if (f == field) return &v;
  }
  return nullptr;
}

bool Hash::set(std::string_view field, std::string_view value) {
  if (!big_ && (field.size() > kMaxSmallValue || value.size() > kMaxSmallValue ||
                (small_.size() >= kMaxSmallEntries && find(field) == nullptr))) {
    big_ = std::make_unique<Table>();  // redis's conversion from listpack to a hash table
    big_->reserve(small_.size() + 1);
    for (auto& [f, v] : small_) big_->emplace(std::move(f), std::move(v));
    decltype(small_)().swap(small_);
  }
  if (std::string* v = find(field)) {
    v->assign(value);
    return false;
  }
  if (big_) big_->emplace(std::string(field), std::string(value));
  else small_.emplace_back(std::string(field), std::string(value));
  return true;
}

bool Hash::erase(std::string_view field) {
  if (big_) {
    auto it = big_->find(field);
    if (it == big_->end()) return false;
    big_->erase(it);
    return true;
  }
  for (auto it = small_.begin(); it != small_.end(); ++it) {
    if (it->first == field) {
      small_.erase(it);
      return true;
    }
  }
  return false;
}

Store::Store() : random_(0x6b76) {}

Entry* Store::find(std::string_view key, std::int64_t now) {
  auto it = table_.find(key);
  if (it == table_.end()) return nullptr;
  Entry& e = it->second;
  if (e.expires_at != 0 && e.expires_at <= now) {
    if (on_expire) on_expire(it->first);
    unindex_volatile(e);
    table_.erase(it);
    ++expired_keys;
    return nullptr;
  }
  return &e;
}

Entry* Store::find_for_read(std::string_view key, std::int64_t now, Miss notify) {
  Entry* e = find(key, now);
  if (e) {
    ++keyspace_hits;
    return e;
  }
  ++keyspace_misses;
  if (notify == Miss::kNotify && on_key_miss) on_key_miss(key);
  return nullptr;
}

Entry& Store::set(std::string_view key, std::string_view value, std::int64_t expires_at) {
  auto it = table_.find(key);
  if (it == table_.end()) {
    it = table_.emplace(std::string(key), Entry{}).first;
    added(it->first);
  }
  Entry& e = it->second;
  if (auto* str = std::get_if<std::string>(&e.value)) {
    str->assign(value.data(), value.size());  // keeps the capacity it had
  } else {
    e.value.emplace<std::string>(value);
  }
  if (e.expires_at != expires_at) set_expiry(it->first, e, expires_at);
  return e;
}

std::pair<Entry*, bool> Store::find_or_create(std::string_view key, std::int64_t now,
                                              ValueType type) {
  if (Entry* e = find(key, now)) return {e, false};
  auto it = table_.emplace(std::string(key), Entry{make_value(type)}).first;
  added(it->first);
  created(it->first, it->second);
  return {&it->second, true};
}

Entry& Store::put(std::string_view key, Value value, std::int64_t expires_at) {
  auto it = table_.find(key);
  const bool fresh = it == table_.end();
  if (fresh) {
    it = table_.emplace(std::string(key), Entry{}).first;
    added(it->first);
  }
  Entry& e = it->second;
  e.value = std::move(value);
  if (e.expires_at != expires_at) set_expiry(it->first, e, expires_at);
  created(it->first, e);
  return e;
}

void Store::rename(std::string_view from, std::string_view to) {
  auto node = table_.extract(table_.find(from));
  node.key() = std::string(to);  // the key string stays in its node: the expiry index holds
  auto it = table_.insert(std::move(node)).position;
  added(it->first);
  created(it->first, it->second);
}

const std::string* Store::random_key(std::int64_t now) {
  // Like redis-server: pick random buckets until one holds a key; an expired key met on the way
  // is deleted and the search goes on.
  while (!table_.empty()) {
    const std::size_t buckets = table_.bucket_count();
    std::size_t bucket = random_() % buckets;
    while (table_.bucket_size(bucket) == 0) bucket = random_() % buckets;
    const std::size_t pick = random_() % table_.bucket_size(bucket);
    auto it = table_.begin(bucket);
    std::advance(it, pick);
    const std::string& key = it->first;
    if (find(key, now) != nullptr) return &key;
  }
  return nullptr;
}

bool Store::erase(std::string_view key) {
  auto it = table_.find(key);
  if (it == table_.end()) return false;
  unindex_volatile(it->second);
  table_.erase(it);
  return true;
}

void Store::set_expiry(std::string_view key, Entry& entry, std::int64_t expires_at) {
  if (expires_at == entry.expires_at) return;
  if (entry.expires_at != 0) unindex_volatile(entry);
  entry.expires_at = expires_at;
  if (expires_at != 0) {
    auto it = table_.find(key);
    index_volatile(it->first, entry);
  }
}

void Store::clear() {
  table_.clear();
  volatile_keys_.clear();
}

void Store::index_volatile(const std::string& key, Entry& entry) {
  entry.volatile_slot = volatile_keys_.size();
  volatile_keys_.push_back(&key);
}

void Store::unindex_volatile(Entry& entry) {
  if (entry.expires_at == 0) return;
  const std::size_t slot = entry.volatile_slot;
  const std::string* last = volatile_keys_.back();
  volatile_keys_[slot] = last;
  volatile_keys_.pop_back();
  if (slot < volatile_keys_.size()) table_.find(*last)->second.volatile_slot = slot;
  entry.expires_at = 0;
}

std::size_t Store::expire_sample(std::size_t samples, std::int64_t now) {
  std::size_t deleted = 0;
  for (std::size_t i = 0; i < samples && !volatile_keys_.empty(); ++i) {
    const std::size_t slot = random_() % volatile_keys_.size();
    auto it = table_.find(*volatile_keys_[slot]);
    if (it->second.expires_at <= now) {
      if (on_expire) on_expire(it->first);
      unindex_volatile(it->second);
      table_.erase(it);
      ++expired_keys;
      ++deleted;
    }
  }
  return deleted;
}

std::string Store::check_invariants() const {
  std::size_t volatile_entries = 0;
  for (const auto& [key, entry] : table_) {
    if (entry.expires_at == 0) continue;
    ++volatile_entries;
    if (entry.volatile_slot >= volatile_keys_.size() ||
        volatile_keys_[entry.volatile_slot] != &key) {
      return fmt::format("key '{}' has an expiry but is not indexed at slot {}", key,
                         entry.volatile_slot);
    }
  }
  if (volatile_entries != volatile_keys_.size()) {
    return fmt::format("{} keys have an expiry but {} are indexed", volatile_entries,
                       volatile_keys_.size());
  }
  return "";
}

}  // namespace kv
