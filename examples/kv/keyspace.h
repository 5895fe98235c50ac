// examples/kv/keyspace.h — the keyspace actor and the expiry actor: the two permanent workers
// that look after the Store.
//
// The keyspace actor is the store's guardian, not its gatekeeper: connections read and write the
// Store directly (one hub, no locks, no mailbox hop — see README.md). The actor
//   - on every (re)start checks the Store's invariants before declaring it open (its start is
//     counted in INFO's Supervision section, as every root child's) and registers the name
//     "keyspace";
//   - serves the keyspace's control messages: CrashKeyspace (fault injection for DEBUG
//     CRASH-KEYSPACE and the tests: it throws, its supervisor restarts it).
// Because the data lives in the Store and not on the actor's stack, a crash loses nothing.
//
// The expiry actor is redis-server's active expiry: ten times a second it samples 20 keys that
// have an expiry and deletes the expired ones, repeating at once while more than a quarter of a
// sample was expired (up to a time budget of 25 ms per tick), so memory is reclaimed even for
// keys nobody reads again. Lookups expire keys lazily as well.
//
// Thread: both run on the server's hub as children of the root supervisor (examples/kv_server.cc).
#pragma once

#include "examples/kv/server.h"

namespace kv {

inline constexpr const char* kKeyspaceName = "keyspace";

// Sent to the keyspace actor to make it crash (fault injection).
struct CrashKeyspace {};

// Body of the keyspace actor.
void keyspace_main(Server& server);
// Body of the expiry actor.
void expiry_main(Server& server);

}  // namespace kv
