// examples/kv/glob.cc — glob matching with backtracking on the last `*` only (linear in
// practice: a later `*` supersedes the earlier one, so no exponential blow-up).
#include "examples/kv/glob.h"

#include <cstddef>

namespace kv {
namespace {

// Matches one byte `c` against the bracket expression starting after '[' at pattern[p].
// Sets `next` to the index after the closing ']' (or the end for an unclosed bracket).
bool match_bracket(std::string_view pattern, std::size_t p, char c, std::size_t& next) {
  bool negate = false;
  if (p < pattern.size() && pattern[p] == '^') {
    negate = true;
    ++p;
  }
  bool matched = false;
  while (p < pattern.size() && pattern[p] != ']') {
    if (pattern[p] == '\\' && p + 1 < pattern.size()) {
      ++p;
      if (pattern[p] == c) matched = true;
      ++p;
    } else if (p + 2 < pattern.size() && pattern[p + 1] == '-' && pattern[p + 2] != ']') {
      unsigned char lo = static_cast<unsigned char>(pattern[p]);
      unsigned char hi = static_cast<unsigned char>(pattern[p + 2]);
      if (lo > hi) std::swap(lo, hi);
      const auto u = static_cast<unsigned char>(c);
      if (u >= lo && u <= hi) matched = true;
      p += 3;
    } else {
      if (pattern[p] == c) matched = true;
      ++p;
    }
  }
  next = p < pattern.size() ? p + 1 : p;  // past ']'
  return negate ? !matched : matched;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = std::string_view::npos;  // pattern index after the last '*'
  std::size_t star_t = 0;                       // text index that '*' matched up to
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        while (p < pattern.size() && pattern[p] == '*') ++p;
        if (p == pattern.size()) return true;
        star_p = p;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        std::size_t next = 0;
        if (match_bracket(pattern, p + 1, text[t], next)) {
          p = next;
          ++t;
          continue;
        }
      } else {
        char literal = pc;
        std::size_t width = 1;
        if (pc == '\\' && p + 1 < pattern.size()) {
          literal = pattern[p + 1];
          width = 2;
        }
        if (literal == text[t]) {
          p += width;
          ++t;
          continue;
        }
      }
    }
    // Mismatch: let the last '*' swallow one more byte, or fail.
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace kv
