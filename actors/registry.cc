// actors/registry.cc — one name space for every hub of the process.
#include "actors/registry.h"

#include <fmt/format.h>

#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <unordered_map>

namespace grove {
namespace internal {
void set_registered(ActorBase& a, bool on);
}  // namespace internal

namespace {
// Names to actors and back. Registering, unregistering and an actor's death take the lock
// exclusively; whereis shares it. The map holds counted handles; a dead actor's name is erased
// by the actor itself as it dies (from its own hub), so a name never names a dead actor for long.
struct Registry {
  std::shared_mutex mutex;
  std::unordered_map<std::string, ActorRef> by_name;
  std::unordered_map<const ActorBase*, std::string> by_actor;
};

Registry& registry() {
  static auto* r = new Registry();  // never destroyed: hubs may still die at process exit
  return *r;
}
}  // namespace

void register_name(const std::string& name, const ActorRef& actor) {
  if (name.empty()) throw std::invalid_argument("register_name: empty name");
  if (!actor || actor.dead()) {
    throw std::invalid_argument(fmt::format("register_name(\"{}\"): the actor is not alive", name));
  }
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  if (auto it = r.by_actor.find(actor.get()); it != r.by_actor.end()) {
    throw std::invalid_argument(fmt::format("register_name(\"{}\"): {} is already registered as \"{}\"",
                                            name, actor->describe(), it->second));
  }
  auto [it, inserted] = r.by_name.try_emplace(name, actor);
  if (!inserted) {
    if (!it->second.dead()) {
      throw std::invalid_argument(
          fmt::format("register_name(\"{}\"): the name is taken by {}", name, it->second->describe()));
    }
    r.by_actor.erase(it->second.get());
    it->second = actor;
  }
  r.by_actor.emplace(actor.get(), name);
  internal::set_registered(*actor.get(), true);
}

ActorRef whereis(const std::string& name) {
  Registry& r = registry();
  std::shared_lock lock(r.mutex);
  auto it = r.by_name.find(name);
  if (it == r.by_name.end() || it->second.dead()) return ActorRef();
  return it->second;
}

bool unregister_name(const std::string& name) {
  Registry& r = registry();
  ActorRef released;  // let go of the handle outside the lock
  std::unique_lock lock(r.mutex);
  auto it = r.by_name.find(name);
  if (it == r.by_name.end()) return false;
  internal::set_registered(*it->second.get(), false);
  r.by_actor.erase(it->second.get());
  released = std::move(it->second);
  r.by_name.erase(it);
  return true;
}

namespace internal {
// Called by `actor` as it dies: frees its name.
void forget_registered(const ActorBase* actor) {
  Registry& r = registry();
  ActorRef released;
  std::unique_lock lock(r.mutex);
  auto it = r.by_actor.find(actor);
  if (it == r.by_actor.end()) return;
  if (auto named = r.by_name.find(it->second); named != r.by_name.end() &&
                                               named->second.get() == actor) {
    released = std::move(named->second);
    r.by_name.erase(named);
  }
  r.by_actor.erase(it);
}
}  // namespace internal

std::vector<std::string> registered_names() {
  Registry& r = registry();
  std::shared_lock lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& [name, actor] : r.by_name) {
    if (!actor.dead()) out.push_back(name);
  }
  return out;
}

}  // namespace grove
