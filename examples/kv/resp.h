// examples/kv/resp.h — the Redis wire protocol (RESP2): a parser for requests and a writer for
// replies.
//
// Requests come in two forms, both accepted on the same connection (as redis-server does):
//   - multibulk: `*<count>\r\n` then `count` times `$<length>\r\n<bytes>\r\n` (what clients send);
//   - inline: one line of words separated by spaces, with "double" and 'single' quotes and the
//     escapes \n \r \t \b \a \\ \" \xHH inside double quotes (what telnet and nc send).
//
// Model: RequestParser::next() looks at the bytes a connection has read so far and either
// returns one complete request (its arguments are string_views into those bytes, or into the
// parser's scratch for unescaped inline words — valid until the next call), says it needs more
// bytes (and how many, so the caller can grow its buffer once for a large bulk), or reports a
// protocol error with redis-server's text ("Protocol error: invalid bulk length"); after an error
// the connection must be closed. Nothing is copied for multibulk requests: a pipelined batch of
// SETs parses without allocating.
//
// Limits (redis-server's): a bulk longer than `max_bulk_length` (512 MiB) or a count above
// `max_multibulk_count` (INT_MAX) is an error, as is an inline line or a `*`/`$` header line
// longer than 64 KiB without its newline.
//
// ReplyWriter appends RESP2 replies to a std::string the connection sends in one write.
//
//   kv::RequestParser parser;
//   kv::Request request;
//   auto r = parser.next(std::string_view(buffer, length), request);
//   if (r.status == kv::ParseStatus::kComplete) { execute(request.args); consume(r.consumed); }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kv {

enum class ParseStatus { kComplete, kNeedMore, kError };

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  std::size_t consumed = 0;   // kComplete: bytes the request took (may be an empty request)
  std::size_t wanted = 0;     // kNeedMore: the buffer must hold at least this many bytes
  std::string error;          // kError: "Protocol error: ..."
};

struct Request {
  std::vector<std::string_view> args;  // empty for a blank line or `*0`: nothing to execute
};

struct ParserLimits {
  std::int64_t max_bulk_length = 512LL * 1024 * 1024;
  std::int64_t max_multibulk_count = 2147483647;
  std::size_t max_inline_length = 64 * 1024;
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}
  ParseResult next(std::string_view input, Request& request);

 private:
  ParseResult next_multibulk(std::string_view input, Request& request);
  ParseResult next_inline(std::string_view input, Request& request);
  ParserLimits limits_;
  std::vector<std::string> inline_words_;  // unescaped words of the last inline request
};

// Splits an inline request line into words the way redis-server does; false on unbalanced
// quotes. Exposed for tests.
bool split_inline_words(std::string_view line, std::vector<std::string>& words);

class ReplyWriter {
 public:
  explicit ReplyWriter(std::string& out) : out_(&out) {}
  void simple(std::string_view text);       // +text
  void error(std::string_view text);        // -text (CR/LF in text become spaces, like redis)
  void integer(std::int64_t value);         // :value
  void bulk(std::string_view value);        // $len\r\nvalue
  void null_bulk();                         // $-1
  void null_array();                        // *-1
  void array_header(std::size_t count);     // *count
  void ok() { out_->append("+OK\r\n", 5); }
  std::string& buffer() { return *out_; }

 private:
  std::string* out_;
};

// Decimal text of a signed integer, strictly as redis parses it: no spaces, no '+', no leading
// zeros, fits in int64. Used for INCRBY arguments and stored values.
bool parse_int64(std::string_view text, std::int64_t& value);

}  // namespace kv
