// examples/kv/config.cc — CONFIG GET/SET, value parsing and the descriptor budget (see config.h).
#include "examples/kv/config.h"

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "examples/kv/events.h"
#include "examples/kv/glob.h"

namespace kv {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has_glob_characters(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

// "possibly related to argument" errors, as redis-server words them.
std::string set_failed(std::string_view name, std::string_view why) {
  return fmt::format("ERR CONFIG SET failed (possibly related to argument '{}') - {}", name, why);
}

// A memory setting of at least `min` bytes (at most INT64_MAX), as redis-server checks it.
std::optional<std::string> parse_memory_setting(std::string_view name, std::string_view text,
                                                std::int64_t min, std::int64_t& value) {
  std::uint64_t bytes = 0;
  if (!parse_memory(text, bytes)) return set_failed(name, "argument must be a memory value");
  // Larger than INT64_MAX reads as negative, as in redis-server: out of range.
  const auto signed_bytes = static_cast<std::int64_t>(bytes);
  if (signed_bytes < min) {
    return set_failed(name, fmt::format("argument must be between {} and {} inclusive", min,
                                        INT64_MAX));
  }
  value = signed_bytes;
  return std::nullopt;
}

std::optional<std::string> set_maxclients(std::string_view text, Config& config) {
  std::int64_t wanted = 0;
  if (!parse_int64(text, wanted)) {
    return set_failed("maxclients", "argument couldn't be parsed into an integer");
  }
  if (wanted < 1 || wanted > 4294967295LL) {
    return set_failed("maxclients", "argument must be between 1 and 4294967295 inclusive");
  }
  if (wanted > config.maxclients) {
    const std::int64_t allowed = clients_within_descriptor_limit(wanted);
    if (allowed < wanted) {
      return set_failed("maxclients",
                        fmt::format("The operating system is not able to handle the specified "
                                    "number of clients, try with {}",
                                    allowed));
    }
  }
  config.maxclients = wanted;
  return std::nullopt;
}

// An integer setting within [min, max], as redis-server checks it.
std::optional<std::string> parse_integer_setting(std::string_view name, std::string_view text,
                                                 std::int64_t min, std::int64_t max,
                                                 std::int64_t& value) {
  std::int64_t v = 0;
  if (!parse_int64(text, v)) return set_failed(name, "argument couldn't be parsed into an integer");
  if (v < min || v > max) {
    return set_failed(name, fmt::format("argument must be between {} and {} inclusive", min, max));
  }
  value = v;
  return std::nullopt;
}

// "seconds changes [seconds changes ...]" or "" (no snapshots), as redis-server accepts it.
std::optional<std::string> set_save(std::string_view text, Config& config) {
  std::vector<std::string_view> words;
  for (std::size_t start = 0; !text.empty();) {
    const std::size_t space = text.find(' ', start);
    words.push_back(text.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  bool valid = words.size() % 2 == 0;
  for (std::size_t i = 0; valid && i < words.size(); ++i) {
    std::int64_t v = 0;
    valid = parse_int64(words[i], v) && v >= (i % 2 == 0 ? 1 : 0);
  }
  if (!valid) return set_failed("save", "Invalid save parameters");
  config.save = std::string(text);
  return std::nullopt;
}

std::optional<std::string> one_of(std::string_view name, std::string_view text,
                                  std::initializer_list<const char*> choices, std::string& value) {
  const std::string lower = lowercase(text);
  for (const char* choice : choices) {
    if (lower == choice) {
      value = choice;
      return std::nullopt;
    }
  }
  std::string list;
  for (const char* choice : choices) list += (list.empty() ? "" : ", ") + std::string(choice);
  return set_failed(name, "argument(s) must be one of the following: " + list);
}

struct Parameter {
  std::string name;
  std::function<std::string(const Config&)> get;
  // Empty: CONFIG SET refuses it ("can't set immutable config").
  std::function<std::optional<std::string>(std::string_view, Config&)> set;
};

// An encoding threshold (and its older ziplist name, which reads and writes the same value).
void add_encoding(std::vector<Parameter>& table, const std::string& name, bool memory,
                  std::int64_t min, std::int64_t max) {
  auto get = [name](const Config& c) { return std::to_string(c.encodings.at(name)); };
  // `shown`: the name the errors use (the alias's own).
  auto set_as = [name, memory, min, max](std::string shown) {
    return [name, shown, memory, min, max](std::string_view text,
                                           Config& c) -> std::optional<std::string> {
      std::int64_t value = 0;
      auto error = memory ? parse_memory_setting(shown, text, 0, value)
                          : parse_integer_setting(shown, text, min, max, value);
      if (error) return error;
      c.encodings[name] = value;
      return std::nullopt;
    };
  };
  table.push_back({name, get, set_as(name)});
  const std::size_t listpack = name.find("listpack");
  if (listpack != std::string::npos) {
    std::string old = name;
    old.replace(listpack, 8, "ziplist");
    table.push_back({old, get, set_as(old)});
  }
}

const std::vector<Parameter>& parameters() {
  static const std::vector<Parameter> table = [] {
    std::vector<Parameter> t = {
      {"save", [](const Config& c) { return c.save; }, set_save},
      {"appendonly", [](const Config& c) { return std::string(c.aof_path.empty() ? "no" : "yes"); },
       [](std::string_view text, Config& c) -> std::optional<std::string> {
         const std::string v = lowercase(text);
         if (v != "yes" && v != "no") return set_failed("appendonly", "argument must be 'yes' or 'no'");
         if ((v == "yes") != !c.aof_path.empty()) {
           return set_failed("appendonly", "kv_server opens its append-only file at start (--aof)");
         }
         return std::nullopt;
       }},
      {"appendfsync", [](const Config& c) { return std::string(to_string(c.appendfsync)); },
       [](std::string_view text, Config& c) -> std::optional<std::string> {
         std::string v;
         if (auto error = one_of("appendfsync", text, {"everysec", "always", "no"}, v)) return error;
         (void)parse_fsync_policy(v, c.appendfsync);
         return std::nullopt;
       }},
      {"maxmemory", [](const Config& c) { return std::to_string(c.maxmemory); },
       [](std::string_view text, Config& c) {
         return parse_memory_setting("maxmemory", text, 0, c.maxmemory);
       }},
      {"maxmemory-policy", [](const Config& c) { return c.maxmemory_policy; },
       [](std::string_view text, Config& c) {
         return one_of("maxmemory-policy", text,
                       {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                        "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"},
                       c.maxmemory_policy);
       }},
      {"timeout", [](const Config& c) { return std::to_string(c.timeout); },
       [](std::string_view text, Config& c) {
         return parse_integer_setting("timeout", text, 0, INT_MAX, c.timeout);
       }},
      {"notify-keyspace-events",
       [](const Config& c) { return format_notify_flags(c.notify_keyspace_events); },
       [](std::string_view text, Config& c) -> std::optional<std::string> {
         const auto flags = parse_notify_flags(text);
         if (!flags) {
           return set_failed("notify-keyspace-events",
                             "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
         }
         c.notify_keyspace_events = *flags;
         return std::nullopt;
       }},
      {"appendfilename", [](const Config& c) { return c.aof_path; }, nullptr},
      {"port", [](const Config& c) { return std::to_string(c.port); }, nullptr},
      {"bind", [](const Config& c) { return c.host; }, nullptr},
      {"databases", [](const Config&) { return std::string("1"); }, nullptr},
      {"daemonize", [](const Config&) { return std::string("no"); }, nullptr},
      {"maxmemory", [](const Config&) { return std::string("0"); }, nullptr},
      {"timeout", [](const Config&) { return std::string("0"); }, nullptr},
      {"maxclients", [](const Config& c) { return std::to_string(c.maxclients); },
       set_maxclients},
      {"proto-max-bulk-len", [](const Config& c) { return std::to_string(c.proto_max_bulk_len); },
       [](std::string_view text, Config& c) {
         return parse_memory_setting("proto-max-bulk-len", text, 1024 * 1024,
                                     c.proto_max_bulk_len);
       }},
      {"client-query-buffer-limit",
       [](const Config& c) { return std::to_string(c.client_query_buffer_limit); },
       [](std::string_view text, Config& c) {
         return parse_memory_setting("client-query-buffer-limit", text, 1024 * 1024,
                                     c.client_query_buffer_limit);
       }},
      {"client-output-buffer-limit", format_output_buffer_limits,
       [](std::string_view text, Config& c) { return parse_output_buffer_limits(text, c); }},
    };
    add_encoding(t, "hash-max-listpack-entries", false, 0, INT64_MAX);
    add_encoding(t, "hash-max-listpack-value", true, 0, INT64_MAX);
    add_encoding(t, "zset-max-listpack-entries", false, 0, INT64_MAX);
    add_encoding(t, "zset-max-listpack-value", true, 0, INT64_MAX);
    add_encoding(t, "set-max-intset-entries", false, 0, INT64_MAX);
    add_encoding(t, "list-max-listpack-size", false, INT_MIN, INT_MAX);
    add_encoding(t, "list-compress-depth", false, 0, INT_MAX);
    add_encoding(t, "stream-node-max-entries", false, 0, INT64_MAX);
    add_encoding(t, "stream-node-max-bytes", true, 0, INT64_MAX);
    return t;
  }();
  return table;
}

const Parameter* find_parameter(std::string_view name) {
  const std::string lower = lowercase(name);
  for (const Parameter& p : parameters()) {
    if (lower == p.name) return &p;
  }
  return nullptr;
}

}  // namespace

bool parse_memory(std::string_view text, std::uint64_t& bytes) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string unit = lowercase(text.substr(digits));
  std::uint64_t multiplier = 0;
  if (unit.empty() || unit == "b") multiplier = 1;
  else if (unit == "k") multiplier = 1000;
  else if (unit == "kb") multiplier = 1024;
  else if (unit == "m") multiplier = 1000 * 1000;
  else if (unit == "mb") multiplier = 1024 * 1024;
  else if (unit == "g") multiplier = 1000ULL * 1000 * 1000;
  else if (unit == "gb") multiplier = 1024ULL * 1024 * 1024;
  else return false;
  // As redis-server: no digits reads as 0, and a number too large saturates (then the unit
  // multiplies modulo 2^64).
  std::uint64_t number = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (number > (UINT64_MAX - digit) / 10) {
      number = UINT64_MAX;
      break;
    }
    number = number * 10 + digit;
  }
  bytes = number * multiplier;
  return true;
}

std::string format_output_buffer_limits(const Config& config) {
  static constexpr const char* kNames[] = {"normal", "slave", "pubsub"};
  std::string text;
  for (std::size_t i = 0; i < config.client_output_buffer_limit.size(); ++i) {
    const OutputBufferLimit& l = config.client_output_buffer_limit[i];
    if (!text.empty()) text += ' ';
    text += fmt::format("{} {} {} {}", kNames[i], l.hard_bytes, l.soft_bytes, l.soft_seconds);
  }
  return text;
}

std::optional<std::string> parse_output_buffer_limits(std::string_view text, Config& config) {
  constexpr std::string_view kName = "client-output-buffer-limit";
  // Split on every single space, as redis-server does: two spaces make an empty word.
  std::vector<std::string_view> words;
  for (std::size_t start = 0; !text.empty();) {
    const std::size_t space = text.find(' ', start);
    words.push_back(text.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  if (words.size() % 4 != 0) {
    return set_failed(kName, "Wrong number of arguments in buffer limit configuration.");
  }
  std::array<OutputBufferLimit, 3> limits = config.client_output_buffer_limit;
  for (std::size_t i = 0; i < words.size(); i += 4) {
    const std::string name = lowercase(words[i]);
    ClientClass c;
    if (name == "normal") c = ClientClass::kNormal;
    else if (name == "slave" || name == "replica") c = ClientClass::kReplica;
    else if (name == "pubsub") c = ClientClass::kPubsub;
    else return set_failed(kName, "Invalid client class specified in buffer limit configuration.");
    OutputBufferLimit l;
    // The seconds are read as strtoll does (sign and all) and kept as an int, as redis-server
    // does: a value that is negative as an int is refused.
    const std::string seconds_text(words[i + 3]);
    char* end = nullptr;
    errno = 0;
    const long long seconds = std::strtoll(seconds_text.c_str(), &end, 10);
    const bool seconds_ok = end != seconds_text.c_str() || seconds_text.empty();
    l.soft_seconds = static_cast<int>(seconds);
    if (!parse_memory(words[i + 1], l.hard_bytes) || !parse_memory(words[i + 2], l.soft_bytes) ||
        !seconds_ok || *end != '\0' || l.soft_seconds < 0) {
      return set_failed(kName,
                        "Error in hard, soft or soft_seconds setting in buffer limit "
                        "configuration.");
    }
    limits[static_cast<std::size_t>(c)] = l;
  }
  config.client_output_buffer_limit = limits;
  return std::nullopt;
}

std::int64_t clients_within_descriptor_limit(std::int64_t wanted, std::int64_t* limit) {
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) != 0) {
    if (limit) *limit = 0;
    return wanted;  // no limit to respect that we can see
  }
  const rlim_t needed = static_cast<rlim_t>(wanted + kReservedDescriptors);
  if (nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur < needed) {
    rlimit raised = nofile;
    raised.rlim_cur = nofile.rlim_max == RLIM_INFINITY ? needed : std::min(needed, nofile.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) nofile = raised;
  }
  if (nofile.rlim_cur == RLIM_INFINITY) {
    if (limit) *limit = INT64_MAX;
    return wanted;
  }
  if (limit) *limit = static_cast<std::int64_t>(nofile.rlim_cur);
  return std::min(wanted, static_cast<std::int64_t>(nofile.rlim_cur) - kReservedDescriptors);
}

void config_get(const Config& config, const std::vector<std::string_view>& patterns,
                ReplyWriter& out) {
  std::vector<std::pair<std::string, std::string>> found;
  std::set<const Parameter*> seen;
  for (std::string_view pattern : patterns) {
    if (!has_glob_characters(pattern)) {
      // An exact name answers under the spelling it was asked with (redis-server does the same).
      const Parameter* p = find_parameter(pattern);
      if (p && seen.insert(p).second) found.emplace_back(std::string(pattern), p->get(config));
      continue;
    }
    const std::string lower = lowercase(pattern);
    for (const Parameter& p : parameters()) {
      if (glob_match(lower, p.name) && seen.insert(&p).second) {
        found.emplace_back(p.name, p.get(config));
      }
    }
  }
  out.array_header(found.size() * 2);
  for (const auto& [name, value] : found) {
    out.bulk(name);
    out.bulk(value);
  }
}

std::optional<std::string> config_set(Config& config,
                                      const std::vector<std::string_view>& name_values) {
  if (name_values.size() % 2 != 0) return std::string("ERR syntax error");
  // The names first, one after the other as redis-server checks them (unknown, immutable,
  // given twice), then the values, each applied to a copy: the first bad value leaves the
  // configuration unchanged. The errors name the parameter as the client spelled it.
  std::vector<const Parameter*> targets;
  for (std::size_t i = 0; i < name_values.size(); i += 2) {
    const Parameter* p = find_parameter(name_values[i]);
    if (p == nullptr) {
      return fmt::format("ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                         name_values[i]);
    }
    if (!p->set) return set_failed(name_values[i], "can't set immutable config");
    if (std::find(targets.begin(), targets.end(), p) != targets.end()) {
      return set_failed(name_values[i], "duplicate parameter");
    }
    targets.push_back(p);
  }
  Config updated = config;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (auto error = targets[i]->set(name_values[2 * i + 1], updated)) {
      const std::string named = fmt::format("argument '{}')", targets[i]->name);
      if (const std::size_t at = error->find(named); at != std::string::npos) {
        error->replace(at, named.size(), fmt::format("argument '{}')", name_values[2 * i]));
      }
      return error;
    }
  }
  config = std::move(updated);
  return std::nullopt;
}

}  // namespace kv
