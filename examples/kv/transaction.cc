// examples/kv/transaction.cc — the watched-key registry (see transaction.h).
#include "examples/kv/transaction.h"

#include <algorithm>

namespace kv {

void Watches::watch(Transaction& tx, std::string_view key) {
  if (std::find(tx.watched.begin(), tx.watched.end(), key) != tx.watched.end()) return;
  tx.watched.emplace_back(key);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) it = by_key_.emplace(std::string(key), std::vector<Transaction*>{}).first;
  it->second.push_back(&tx);
}

void Watches::unwatch_all(Transaction& tx) {
  for (const std::string& key : tx.watched) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) continue;
    auto& watchers = it->second;
    watchers.erase(std::remove(watchers.begin(), watchers.end(), &tx), watchers.end());
    if (watchers.empty()) by_key_.erase(it);
  }
  tx.watched.clear();
  tx.dirty = false;
}

void Watches::touch_watched(std::string_view key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return;
  for (Transaction* tx : it->second) tx->dirty = true;
}

void Watches::touch_existing(Store& store, std::int64_t now) {
  for (auto& [key, watchers] : by_key_) {
    if (store.find(key, now) == nullptr) continue;
    for (Transaction* tx : watchers) tx->dirty = true;
  }
}

}  // namespace kv
