// examples/kv/store.h — the data of the key-value service: string values with optional expiry.
//
// Model: one hash table of key -> Entry (the value and an absolute expiry time in Unix
// milliseconds, 0 = none), plus an index of the keys that have an expiry, so the expiry actor can
// sample them at random the way redis-server does (active expiry) while every lookup deletes an
// expired key it meets (lazy expiry). Only string values exist, so TYPE answers "string" or
// "none".
//
// Ownership: the Store is NOT owned by any actor. main() creates it and hands a shared_ptr to the
// keyspace actor, the expiry actor and the command executor. An actor that crashes loses its
// stack, never the data: that is how a keyspace restart "loses no acknowledged write" (see
// README.md, "Where the data lives").
//
// Thread: one hub; every call is non-blocking and never switches, so a command runs atomically
// with respect to other greenlets — the single-threaded model redis-server has.
//
//   kv::Store store;
//   store.set("greeting", "hello", kv::Store::kNoExpiry);
//   if (auto* e = store.find("greeting", kv::unix_ms())) use(e->value);
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kv {

// Wall-clock milliseconds (expiry times are absolute, so they survive a restart from the AOF).
std::int64_t unix_ms();

struct Entry {
  std::string value;
  std::int64_t expires_at = 0;          // Unix ms; 0 = persistent
  std::size_t volatile_slot = 0;        // index in Store::volatile_keys_ when expires_at != 0
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>()(s);
  }
};

class Store {
 public:
  static constexpr std::int64_t kNoExpiry = 0;
  using Table = std::unordered_map<std::string, Entry, StringHash, std::equal_to<>>;

  Store();

  // The live entry for `key`, deleting it first if it expired at `now` (lazy expiry).
  Entry* find(std::string_view key, std::int64_t now);
  // Creates or overwrites; `expires_at` kNoExpiry clears any previous expiry.
  Entry& set(std::string_view key, std::string_view value, std::int64_t expires_at);
  // Inserts an empty entry when missing (no expiry); returns it and whether it was created.
  std::pair<Entry*, bool> find_or_create(std::string_view key, std::int64_t now);
  bool erase(std::string_view key);
  void set_expiry(std::string_view key, Entry& entry, std::int64_t expires_at);
  void clear();

  std::size_t size() const { return table_.size(); }
  std::size_t volatile_count() const { return volatile_keys_.size(); }
  const Table& table() const { return table_; }

  // Active expiry, one round: looks at up to `samples` random keys that have an expiry and
  // deletes the expired ones; returns how many it deleted.
  std::size_t expire_sample(std::size_t samples, std::int64_t now);

  // Checks the invariants (every volatile key indexed at its slot, and only those); returns a
  // description of the first violation or "" — run by the keyspace actor when it (re)starts.
  std::string check_invariants() const;

  // Counters for INFO.
  std::uint64_t expired_keys = 0;
  std::uint64_t keyspace_hits = 0;
  std::uint64_t keyspace_misses = 0;

 private:
  void index_volatile(const std::string& key, Entry& entry);
  void unindex_volatile(Entry& entry);

  Table table_;
  std::vector<const std::string*> volatile_keys_;  // keys of entries with an expiry (node-stable)
  std::minstd_rand random_;
};

}  // namespace kv
