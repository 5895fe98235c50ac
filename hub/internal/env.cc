// hub/internal/env.cc — GROVE_* variables: parse, or refuse with a message (see env.h).
#include "hub/internal/env.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace grove::internal {
namespace {

// The variable's value; nullopt when unset or empty (both mean "the default").
std::optional<std::string_view> lookup(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string_view(value);
}

template <typename T>
void refuse(const char* name, std::string_view value, std::string_view wanted, const T& fallback) {
  spdlog::error("grove: {}={:?} is refused: it takes {}; using {}", name, value, wanted, fallback);
}

}  // namespace

std::optional<std::uint64_t> parse_count(std::string_view text, std::uint64_t min,
                                         std::uint64_t max) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || rest != end) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

std::optional<double> parse_seconds(std::string_view text, double max) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || rest != end) return std::nullopt;
  if (!std::isfinite(value) || value <= 0 || value > max) return std::nullopt;
  return value;
}

std::optional<bool> parse_flag(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return false;
  return std::nullopt;
}

std::uint64_t env_count(const char* name, std::uint64_t min, std::uint64_t max,
                        std::uint64_t fallback) {
  const auto text = lookup(name);
  if (!text) return fallback;
  if (auto value = parse_count(*text, min, max)) return *value;
  refuse(name, *text, fmt::format("a whole number from {} to {}", min, max), fallback);
  return fallback;
}

double env_seconds(const char* name, double max, double fallback) {
  const auto text = lookup(name);
  if (!text) return fallback;
  if (auto value = parse_seconds(*text, max)) return *value;
  refuse(name, *text, fmt::format("a number of seconds above 0, at most {}", max), fallback);
  return fallback;
}

bool env_flag(const char* name, bool fallback) {
  const auto text = lookup(name);
  if (!text) return fallback;
  if (auto value = parse_flag(*text)) return *value;
  refuse(name, *text, "1/0, true/false, yes/no or on/off", fallback);
  return fallback;
}

}  // namespace grove::internal
