// cluster/codec.cc — the process-wide table of message types, and Pid's text form.

#include "cluster/codec.h"

#include <charconv>
#include <map>
#include <mutex>
#include <typeindex>

#include <fmt/format.h>

namespace grove::cluster {

std::string to_string(const Pid& pid) {
  return fmt::format("{}/{:x}/{}", pid.node, pid.incarnation, pid.actor);
}

Pid parse_pid(std::string_view text) {
  const auto bad = [&] {
    return std::invalid_argument(fmt::format("not a pid (want node/incarnation/actor): \"{}\"", text));
  };
  const auto first = text.find('/');
  const auto second = first == std::string_view::npos ? first : text.find('/', first + 1);
  if (first == 0 || second == std::string_view::npos) throw bad();
  Pid pid;
  pid.node = std::string(text.substr(0, first));
  const std::string_view inc = text.substr(first + 1, second - first - 1);
  const std::string_view actor = text.substr(second + 1);
  if (std::from_chars(inc.data(), inc.data() + inc.size(), pid.incarnation, 16).ptr !=
          inc.data() + inc.size() ||
      inc.empty() ||
      std::from_chars(actor.data(), actor.data() + actor.size(), pid.actor).ptr !=
          actor.data() + actor.size() ||
      actor.empty()) {
    throw bad();
  }
  return pid;
}

namespace internal {
namespace {

struct Table {
  std::mutex mutex;
  // Entries are never removed, so pointers handed out stay valid.
  std::map<std::string, TypeEntry, std::less<>> by_name;
  std::map<std::type_index, const TypeEntry*> by_type;
};

Table& table() {
  static Table* t = new Table;  // outlives every hub thread that may still look up
  return *t;
}

}  // namespace

void register_type_entry(const std::type_info& type, TypeEntry entry) {
  Table& t = table();
  std::lock_guard lock(t.mutex);
  if (const auto it = t.by_type.find(type); it != t.by_type.end()) {
    if (it->second->name == entry.name) return;
    throw TypeRegistrationError(fmt::format("grove::cluster: type {} is registered as \"{}\", not \"{}\"",
                                            type.name(), it->second->name, entry.name));
  }
  if (t.by_name.count(entry.name) != 0) {
    throw TypeRegistrationError(
        fmt::format("grove::cluster: \"{}\" already names another message type", entry.name));
  }
  std::string name = entry.name;
  const auto [it, inserted] = t.by_name.emplace(std::move(name), std::move(entry));
  t.by_type.emplace(type, &it->second);
}

const TypeEntry* find_type(std::string_view name) noexcept {
  Table& t = table();
  std::lock_guard lock(t.mutex);
  const auto it = t.by_name.find(name);
  return it == t.by_name.end() ? nullptr : &it->second;
}

const TypeEntry* find_type(const std::type_info& type) noexcept {
  Table& t = table();
  std::lock_guard lock(t.mutex);
  const auto it = t.by_type.find(type);
  return it == t.by_type.end() ? nullptr : it->second;
}

}  // namespace internal
}  // namespace grove::cluster
