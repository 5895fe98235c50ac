// examples/kv/store.h — the data of the key-value service: typed values with optional expiry.
//
// Model: one hash table of key -> Entry (the value and an absolute expiry time in Unix
// milliseconds, 0 = none), plus an index of the keys that have an expiry, so the expiry actor can
// sample them at random the way redis-server does (active expiry) while every lookup deletes an
// expired key it meets (lazy expiry); either way `on_expire` hears of it.
//
// Lookups: a command that reads a key uses find_for_read(), which counts INFO's keyspace hits and
// misses and reports a miss through `on_key_miss` (the "keymiss" notification); a write uses
// find(), uncounted — redis-server's lookupKeyRead and lookupKeyWrite.
//
// Values: a Value is a variant whose alternative index is the ValueType, so TYPE and the
// WRONGTYPE checks read one byte. A string is held inline (small keys cost what they did); an
// aggregate (a list, a hash, a set or a sorted set; kv/collections.h) is held by pointer, so the Entry stays small whatever the type. As in redis-server, an aggregate never
// exists empty: the command that removes its last element deletes the key.
//
// Blocked clients: while `blocked_clients` is non-zero, creating a list or a sorted-set key records
// the key in
// `ready_keys` (redis-server's signalKeyAsReady), and the executor serves the clients blocked on
// it after the command (kv/blocking.h). With nobody blocked, that costs one comparison.
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
//   if (auto* e = store.find("greeting", kv::unix_ms()); e && e->type() == kv::ValueType::kString)
//     use(e->str());
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "examples/kv/collections.h"
#include "examples/kv/packed_list.h"

namespace kv {

// Wall-clock milliseconds (expiry times are absolute, so they survive a restart from the AOF).
std::int64_t unix_ms();

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>()(s);
  }
};

// The alternative index of Value: keep the two in the same order.
enum class ValueType : std::uint8_t { kString = 0, kList = 1, kHash = 2, kSet = 3, kZset = 4 };
// TYPE's name of a type ("string", "list", "hash", "set", "zset").
const char* type_name(ValueType type);

// A list: elements packed into chunks, like redis-server's quicklist (kv/packed_list.h).
using List = PackedList;
// A hash: field -> value. Like redis-server's listpack encoding, a small hash keeps its fields in
// insertion order in a vector (HGETALL answers in the same order as redis, and a few fields cost
// little); past 128 fields, or with a field or value over 64 bytes, it becomes a hash table
// (order unspecified, as in redis). Thread: the server's hub.
class Hash {
 public:
  static constexpr std::size_t kMaxSmallEntries = 128;  // hash-max-listpack-entries
  static constexpr std::size_t kMaxSmallValue = 64;     // hash-max-listpack-value

  Hash() = default;
  Hash(const Hash& other);
  Hash& operator=(const Hash&) = delete;

  std::string* find(std::string_view field);
  // Sets `field`; true when it is new.
  bool set(std::string_view field, std::string_view value);
  bool erase(std::string_view field);
  std::size_t size() const { return big_ ? big_->size() : small_.size(); }
  bool empty() const { return size() == 0; }
  const char* encoding() const { return big_ ? "hashtable" : "listpack"; }
  // Calls f(field, value) for every field, in insertion order while small.
  template <class F>
  void for_each(F&& f) const {
    if (big_) {
      for (const auto& [field, value] : *big_) f(field, value);
    } else {
      for (const auto& [field, value] : small_) f(field, value);
    }
  }
  using Table = std::unordered_map<std::string, std::string, StringHash, std::equal_to<>>;
  // The hash table once converted, null while small (HSCAN's cursor and HRANDFIELD's picks walk
  // its buckets).
  const Table* table() const { return big_.get(); }
  // The small form's fields in insertion order.
  const std::vector<std::pair<std::string, std::string>>& small() const { return small_; }

 private:
  std::vector<std::pair<std::string, std::string>> small_;
  std::unique_ptr<Table> big_;
};

using Value = std::variant<std::string, std::unique_ptr<List>, std::unique_ptr<Hash>,
                           std::unique_ptr<Set>, std::unique_ptr<ZSet>>;

// A fresh empty value of `type`.
Value make_value(ValueType type);
// A deep copy (COPY).
Value clone_value(const Value& value);

struct Entry {
  Value value;
  std::int64_t expires_at = 0;          // Unix ms; 0 = persistent
  std::size_t volatile_slot = 0;        // index in Store::volatile_keys_ when expires_at != 0

  ValueType type() const { return static_cast<ValueType>(value.index()); }
  // The value as that type; the caller checked type().
  std::string& str() { return std::get<std::string>(value); }
  List& list() { return *std::get<std::unique_ptr<List>>(value); }
  Hash& hash() { return *std::get<std::unique_ptr<Hash>>(value); }
  Set& set() { return *std::get<std::unique_ptr<Set>>(value); }
  ZSet& zset() { return *std::get<std::unique_ptr<ZSet>>(value); }
};

class Store {
 public:
  static constexpr std::int64_t kNoExpiry = 0;
  using Table = std::unordered_map<std::string, Entry, StringHash, std::equal_to<>>;

  Store();

  // The live entry for `key`, deleting it first if it expired at `now` (lazy expiry). This is
  // the lookup of writes and of what redis-server does not count (redis's lookupKeyWrite).
  Entry* find(std::string_view key, std::int64_t now);
  // The lookup of a command that reads `key` (redis-server's lookupKeyRead): find(), counted as
  // a keyspace hit or miss for INFO; a miss also calls on_key_miss (the "keymiss" notification)
  // unless `notify` is kQuiet (OBJECT, which redis counts but does not notify). Every read goes
  // through here, once per key it looks up, so the counters and notifications follow redis's.
  enum class Miss : bool { kNotify, kQuiet };
  Entry* find_for_read(std::string_view key, std::int64_t now, Miss notify = Miss::kNotify);
  // Creates or overwrites with a string, whatever the key held; `expires_at` kNoExpiry clears any
  // previous expiry.
  Entry& set(std::string_view key, std::string_view value, std::int64_t expires_at);
  // The live entry, or a new empty one of `type` (no expiry) when missing; and whether it was
  // created. An existing entry is returned whatever its type: the caller checks.
  std::pair<Entry*, bool> find_or_create(std::string_view key, std::int64_t now, ValueType type);
  // Creates or overwrites `key` with `value` and `expires_at` (COPY, RENAME).
  Entry& put(std::string_view key, Value value, std::int64_t expires_at);
  // Moves `from`'s entry, expiry included, to `to` (which must not exist); no copy of the value.
  void rename(std::string_view from, std::string_view to);
  bool erase(std::string_view key);
  // A random live key, or nullptr when there is none (RANDOMKEY).
  const std::string* random_key(std::int64_t now);
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

  // Called with each key that expiry deletes (a lookup or the active sampling), just before it
  // goes: the AOF records it as a DEL, so a replay — during which nothing expires — deletes the
  // key where the server did, and a later write to the same key applies to a fresh value. The
  // server also touches the key's watchers and sends the "expired" notification (kv/events.h).
  std::function<void(const std::string& key)> on_expire;
  // Called with each key that a write creates (a key that did not exist, or RENAME's
  // destination), when it is created: before the write's own notification, as redis-server's
  // dbAdd fires "new" (kv/events.h, class n).
  std::function<void(const std::string& key)> on_new_key;
  // Called with each key a read looked up and did not find (find_for_read), after its expiry if
  // that is why: the server sends the "keymiss" notification (kv/events.h, class m).
  std::function<void(std::string_view key)> on_key_miss;

  // Blocking commands (see the header comment): the blocking registry counts its clients here,
  // and takes the keys that became ready.
  std::size_t blocked_clients = 0;
  std::vector<std::string> ready_keys;

 private:
  void index_volatile(const std::string& key, Entry& entry);
  void unindex_volatile(Entry& entry);
  void added(const std::string& key) {
    if (on_new_key) on_new_key(key);
  }
  void created(const std::string& key, const Entry& entry) {
    if (blocked_clients > 0 &&
        (entry.type() == ValueType::kList || entry.type() == ValueType::kZset)) {
      ready_keys.push_back(key);
    }
  }

  Table table_;
  std::vector<const std::string*> volatile_keys_;  // keys of entries with an expiry (node-stable)
  std::minstd_rand random_;
};

}  // namespace kv
