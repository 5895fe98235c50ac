// actors/registry.h — names for actors (OTP's register/whereis).
//
// Model: a name maps to one live actor, on any hub. Registering a name that is taken
// (by a live actor), or a second name for an actor that has one, throws std::invalid_argument
// (OTP's badarg). The name is freed when the actor dies, so whereis() never returns a dead
// actor. ActorOptions::register_as registers at spawn, before the actor can run; send(name, m)
// (actors/actor.h) throws std::invalid_argument for an unknown name instead of dropping.
//
// Thread: any thread. One name space for the whole process, shared by every hub of a Runtime
// (hub/runtime.h): an actor registered on one hub is found by name from all the others.
// registering and a named actor's death take a process-wide lock; whereis shares it.
//
//   grove::register_name("kv", keyspace);
//   grove::send(grove::whereis("kv"), Get{"x"});
#pragma once

#include <string>
#include <vector>

#include "actors/actor.h"

namespace grove {

void register_name(const std::string& name, const ActorRef& actor);
// The actor registered as `name`, or an empty handle.
ActorRef whereis(const std::string& name);
// False if `name` was not registered.
bool unregister_name(const std::string& name);
std::vector<std::string> registered_names();

}  // namespace grove
