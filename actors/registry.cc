#include "actors/registry.h"

#include <fmt/format.h>

#include <stdexcept>
#include <unordered_map>

namespace grove {
namespace internal {
void set_registered_name(ActorBase& a, std::string name);
const std::string& registered_name_of(ActorBase& a);
}  // namespace internal

namespace {
// Per thread (= per hub). Destroyed with the thread; handles it holds are plain refs.
std::unordered_map<std::string, ActorRef>& names() {
  thread_local std::unordered_map<std::string, ActorRef> map;
  return map;
}
}  // namespace

void register_name(const std::string& name, const ActorRef& actor) {
  if (name.empty()) throw std::invalid_argument("register_name: empty name");
  if (!actor || actor.dead()) {
    throw std::invalid_argument(fmt::format("register_name(\"{}\"): the actor is not alive", name));
  }
  if (!internal::registered_name_of(*actor.get()).empty()) {
    throw std::invalid_argument(fmt::format("register_name(\"{}\"): {} is already registered as \"{}\"",
                                            name, actor->describe(),
                                            internal::registered_name_of(*actor.get())));
  }
  auto [it, inserted] = names().try_emplace(name, actor);
  if (!inserted) {
    if (!it->second.dead()) {
      throw std::invalid_argument(
          fmt::format("register_name(\"{}\"): the name is taken by {}", name, it->second->describe()));
    }
    it->second = actor;
  }
  internal::set_registered_name(*actor.get(), name);
}

ActorRef whereis(const std::string& name) {
  auto it = names().find(name);
  if (it == names().end() || it->second.dead()) return ActorRef();
  return it->second;
}

bool unregister_name(const std::string& name) {
  auto it = names().find(name);
  if (it == names().end()) return false;
  internal::set_registered_name(*it->second.get(), "");
  names().erase(it);
  return true;
}

namespace internal {
// Called when `actor` dies: frees its name unless someone else holds it by now.
void forget_registered(const std::string& name, const ActorBase* actor) {
  auto it = names().find(name);
  if (it != names().end() && it->second.get() == actor) names().erase(it);
}
}  // namespace internal

std::vector<std::string> registered_names() {
  std::vector<std::string> out;
  for (const auto& [name, actor] : names()) {
    if (!actor.dead()) out.push_back(name);
  }
  return out;
}

}  // namespace grove
