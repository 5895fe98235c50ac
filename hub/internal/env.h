// hub/internal/env.h — the GROVE_* environment variables, read one way: unset or empty means the
// default; a value that is not what the variable takes is refused with one spdlog error naming
// the variable, the value, what it takes and the default used instead. Never ignored silently.
//
// Thread: any. Cost: a getenv and a parse per call; callers read once and keep the value.
//
//   const std::size_t workers = grove::internal::env_count("GROVE_THREADPOOL_SIZE", 1, 4096, 10);
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace grove::internal {

// A whole decimal number from `min` to `max` (no sign, no spaces, no unit).
std::optional<std::uint64_t> parse_count(std::string_view text, std::uint64_t min,
                                         std::uint64_t max);
// A decimal number of seconds, more than 0 and at most `max` ("0.05", "2", "1e-3").
std::optional<double> parse_seconds(std::string_view text, double max);
// "1", "true", "yes", "on" or "0", "false", "no", "off" (any case).
std::optional<bool> parse_flag(std::string_view text);

// The variable `name` read by the parsers above; `fallback` when unset, empty or refused.
std::uint64_t env_count(const char* name, std::uint64_t min, std::uint64_t max,
                        std::uint64_t fallback);
double env_seconds(const char* name, double max, double fallback);
bool env_flag(const char* name, bool fallback);

}  // namespace grove::internal
