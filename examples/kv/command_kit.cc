// examples/kv/command_kit.cc — the kit's own helpers (see command_kit.h); the functions that
// forward to the executor are at the end of commands.cc, next to what they forward to.
#include <cctype>
#include <cerrno>
#include <climits>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <random>

#include <fmt/format.h>

#include "examples/kv/command_kit.h"

namespace kv::kit {

bool parse_double(std::string_view text, double& value) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  const std::string buffer(text);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(buffer.c_str(), &end);
  if (end != buffer.c_str() + buffer.size() || std::isnan(v) ||
      (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0))) {
    return false;
  }
  value = v;
  return true;
}

std::string format_double(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format("{:.17g}", value);
}

void reply_double(ReplyWriter& out, double value) { out.bulk(format_double(value)); }

bool parse_random_count(const Args& a, std::string_view flag, ReplyWriter& out, RandomCount& r) {
  r.has_count = a.size() >= 3;
  if (!r.has_count) return true;
  if (!parse_int64(a[2], r.count)) return out.error(kNotInteger), false;
  if (r.count == LLONG_MIN) {
    out.error(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
    return false;
  }
  if (a.size() > 4 || (a.size() == 4 && !equals_nocase(a[3], flag))) {
    return out.error(kSyntaxError), false;
  }
  r.with_flag = a.size() == 4;
  if (r.with_flag && (r.count < -LLONG_MAX / 2 || r.count > LLONG_MAX / 2)) {
    return out.error("ERR value is out of range"), false;
  }
  return true;
}

bool parse_cursor(std::string_view arg, ReplyWriter& out, std::uint64_t& cursor) {
  // strtoul's syntax, as redis-server's parseScanCursorOrReply: a sign is allowed ("-1" wraps).
  const std::string buffer(arg);
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(buffer.c_str(), &end, 10);
  if ((!buffer.empty() && std::isspace(static_cast<unsigned char>(buffer[0]))) ||
      *end != '\0' || errno == ERANGE) {
    out.error("ERR invalid cursor");
    return false;
  }
  cursor = v;
  return true;
}

bool parse_scan_options(const Args& a, ReplyWriter& out, std::string_view& pattern,
                        std::int64_t& count) {
  for (std::size_t j = 3; j < a.size(); j += 2) {
    if (j + 1 >= a.size()) {
      out.error(kSyntaxError);
      return false;
    }
    if (equals_nocase(a[j], "count")) {
      if (!parse_int64(a[j + 1], count)) {
        out.error(kNotInteger);
        return false;
      }
      if (count < 1) {
        out.error(kSyntaxError);
        return false;
      }
    } else if (equals_nocase(a[j], "match")) {
      pattern = a[j + 1] == "*" ? std::string_view() : a[j + 1];
    } else {
      out.error(kSyntaxError);
      return false;
    }
  }
  return true;
}

bool begin_scan(Session& s, const Args& a, ValueType type, ReplyWriter& out, ScanRequest& scan) {
  if (!parse_cursor(a[2], out, scan.cursor)) return false;
  scan.entry = store(s).find_for_read(a[1], now(s));
  if (!scan.entry) {
    reply_scan_cursor(out, 0);
    out.array_header(0);
    return false;
  }
  if (scan.entry->type() != type) {
    wrong_type(out);
    return false;
  }
  return parse_scan_options(a, out, scan.pattern, scan.count);
}

void reply_scan_cursor(ReplyWriter& out, std::uint64_t next) {
  out.array_header(2);
  out.bulk(fmt::format_int(next).str());
}

std::uint64_t random() {
  static std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

}  // namespace kv::kit
