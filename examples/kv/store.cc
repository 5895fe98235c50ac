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

Store::Store() : random_(0x6b76) {}

Entry* Store::find(std::string_view key, std::int64_t now) {
  auto it = table_.find(key);
  if (it == table_.end()) return nullptr;
  Entry& e = it->second;
  if (e.expires_at != 0 && e.expires_at <= now) {
    unindex_volatile(e);
    table_.erase(it);
    ++expired_keys;
    return nullptr;
  }
  return &e;
}

Entry& Store::set(std::string_view key, std::string_view value, std::int64_t expires_at) {
  auto it = table_.find(key);
  if (it == table_.end()) it = table_.emplace(std::string(key), Entry{}).first;
  Entry& e = it->second;
  e.value.assign(value.data(), value.size());
  if (e.expires_at != expires_at) set_expiry(it->first, e, expires_at);
  return e;
}

std::pair<Entry*, bool> Store::find_or_create(std::string_view key, std::int64_t now) {
  if (Entry* e = find(key, now)) return {e, false};
  auto it = table_.emplace(std::string(key), Entry{}).first;
  return {&it->second, true};
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
