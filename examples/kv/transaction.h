// examples/kv/transaction.h — MULTI/EXEC/DISCARD and WATCH: one client's transaction, and the
// server-wide registry of watched keys.
//
// Model (redis-server's multi.c): after MULTI, a client's commands are checked (name, arity) and
// queued instead of run, each answered +QUEUED; a command refused at that point answers its
// error and marks the transaction `aborted`, so EXEC answers EXECABORT and runs nothing. EXEC
// runs the queue back to back on the connection's greenlet — no command waits, so nothing else
// runs in between — and answers one array of the replies (an error inside is that command's
// reply; the rest still run). Clients blocked on keys the transaction pushed to are served after
// EXEC, not in the middle of it.
//
// WATCH key...: the keys are registered in Watches, which every write of a key (any connection,
// the expiry of a key, FLUSHALL/FLUSHDB) touches; a touched key marks each watching transaction
// `dirty`, and its EXEC answers a null array without running anything. EXEC, DISCARD, UNWATCH
// and the client's disconnection forget its watched keys.
//
// Cost: a write touches Watches with one emptiness check while nobody watches anything.
//
// Thread: the server's hub. Lifetime: a Transaction lives in its Session; Watches in the Server,
// and a Transaction leaves it (unwatch_all) before it is destroyed.
//
//   kv::Watches watches;
//   kv::Transaction tx;
//   watches.watch(tx, "balance");
//   watches.touch("balance");   // any write
//   assert(tx.dirty);
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "examples/kv/store.h"

namespace kv {

struct Transaction {
  bool active = false;     // between MULTI and EXEC/DISCARD
  bool aborted = false;    // a command was refused while queueing: EXEC answers EXECABORT
  bool dirty = false;      // a watched key was written: EXEC answers a null array
  bool executing = false;  // EXEC is running the queue
  std::vector<std::vector<std::string>> queued;
  std::vector<std::string> watched;

  // Back to "no transaction" (the watched keys are Watches' business).
  void reset() {
    active = aborted = false;
    queued.clear();
  }
};

class Watches {
 public:
  Watches() = default;
  Watches(const Watches&) = delete;
  Watches& operator=(const Watches&) = delete;

  // Adds `key` to what `tx` watches (again: nothing changes).
  void watch(Transaction& tx, std::string_view key);
  // Forgets every key `tx` watches, and its dirty mark.
  void unwatch_all(Transaction& tx);
  // A write of `key`: every transaction watching it becomes dirty.
  void touch(std::string_view key) {
    if (!by_key_.empty()) touch_watched(key);
  }
  // Before the Store is emptied (FLUSHALL, FLUSHDB): touches the watched keys that exist.
  void touch_existing(Store& store, std::int64_t now);
  // How many keys are watched (INFO's watching_clients counts clients instead).
  std::size_t keys() const { return by_key_.size(); }

 private:
  void touch_watched(std::string_view key);
  std::unordered_map<std::string, std::vector<Transaction*>, StringHash, std::equal_to<>> by_key_;
};

}  // namespace kv
