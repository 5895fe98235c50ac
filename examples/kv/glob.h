// examples/kv/glob.h — the glob patterns of KEYS, SCAN MATCH and PSUBSCRIBE-style matching.
//
// Syntax (as redis-server matches): `*` any run of bytes (also empty), `?` one byte, `[abc]` one
// of the listed bytes, `[^a]` any byte but those, `[a-z]` a range (a reversed range `[z-a]` means
// the same), `\x` the byte x literally (also inside brackets). An unclosed `[` takes the rest of
// the pattern as its set. Bytes are compared exactly (no case folding).
//
//   kv::glob_match("user:[0-9]*", "user:42:name");  // true
#pragma once

#include <string_view>

namespace kv {

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace kv
