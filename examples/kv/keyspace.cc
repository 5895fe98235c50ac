// examples/kv/keyspace.cc — the keyspace and expiry actors (see keyspace.h).
#include "examples/kv/keyspace.h"

#include <stdexcept>

#include <spdlog/spdlog.h>

#include "actors/registry.h"
#include "examples/kv/stats.h"
#include "hub/wait.h"

namespace kv {

void keyspace_main(Server& server) {
  const std::string broken = server.store->check_invariants();
  if (!broken.empty()) {
    // A broken store cannot be repaired by restarting: fail again, so the supervisor's restart
    // budget runs out and the whole service stops instead of serving wrong data.
    throw std::runtime_error("keyspace store is inconsistent: " + broken);
  }
  ++server.keyspace_starts;
  grove::register_name(kKeyspaceName, grove::self());
  spdlog::info("keyspace actor {}: store open, {} keys ({} with an expiry)",
               server.keyspace_starts == 1 ? "started" : "restarted", server.store->size(),
               server.store->volatile_count());
  for (;;) {
    grove::receive([](CrashKeyspace) {
      throw std::runtime_error("DEBUG CRASH-KEYSPACE: injected fault in the keyspace actor");
    });
  }
}

void expiry_main(Server& server) {
  constexpr double kTickSeconds = 0.1;
  constexpr std::size_t kSamples = 20;
  constexpr double kBudgetSeconds = 0.025;
  for (;;) {
    grove::sleep(kTickSeconds);
    sample_ops(server, unix_ms());  // INFO's instantaneous_ops_per_sec
    const double started = grove::Deadline::now();
    for (;;) {
      const std::size_t expired = server.store->expire_sample(kSamples, unix_ms());
      if (expired * 4 <= kSamples || grove::Deadline::now() - started > kBudgetSeconds) break;
    }
    // --threads N: the DELs of expired keys go to the one file now, not with the next reply of
    // this hub (with one hub the persistence actor writes them).
    if (server.shards && server.aof && server.aof->has_pending()) server.aof->write_pending();
  }
}

}  // namespace kv
